"""The contest map's triangulation through the system's Qhull (eda/pdn/_qhull2d.c) is SciPy's, array for array."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import Delaunay, QhullError

from eda.pdn import maps as pm
from eda.pdn import triangulate as tr

SHARED = Path(__file__).resolve().parents[2] / "shared" / "iccad23"
needs_qhull2d = pytest.mark.skipif(tr._qhull2d is None, reason="eda/pdn/_qhull2d is not built here (it needs the "
                                   "system's Qhull: apt-get install libqhull-dev, then make setup)")


def _same_as_scipy(pts: np.ndarray) -> tr.Triangulation:
    ours, theirs = tr.delaunay(pts), Delaunay(pts)
    assert isinstance(ours, tr.Triangulation)
    np.testing.assert_array_equal(ours.simplices, theirs.simplices)
    np.testing.assert_array_equal(ours.neighbors, theirs.neighbors)
    for a, b in zip(ours.vertex_neighbor_vertices, theirs.vertex_neighbor_vertices, strict=True):
        np.testing.assert_array_equal(a, b)  # the order too: the gradient sweeps sum in it
    assert ours.ncoplanar == len(theirs.coplanar)
    return ours


def _lattice(nx: int, ny: int, seed: int) -> np.ndarray:
    """A tensor grid with uneven pitches (every cell a co-circular rectangle), in a shuffled order."""
    rng = np.random.default_rng(seed)
    x, y = np.cumsum(rng.choice([1.0, 2.5, 4.0], nx)), np.cumsum(rng.choice([1.5, 3.0], ny))
    p = np.column_stack([a.ravel() for a in np.meshgrid(x, y, indexing="ij")])
    return p[rng.permutation(len(p))]


@needs_qhull2d
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_system_qhull_gives_scipys_triangulation(seed):
    rng = np.random.default_rng(seed)
    _same_as_scipy(rng.uniform(0, 100, (500, 2)))
    t = _same_as_scipy(_lattice(30, 25, seed))
    # every triangle counter-clockwise (the clockwise facets' first two vertices are swapped, as SciPy does)
    e1, e2 = (t.points[t.simplices[:, k]] - t.points[t.simplices[:, 0]] for k in (1, 2))
    assert (e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0] > 0).all()
    # the diagonals depend on the points' order (Qhull's), so a reordered lattice is its own case
    _same_as_scipy(_lattice(30, 25, seed)[::-1].copy())
    # duplicated points: Qhull keeps one as a vertex and the other as a coplanar point
    p = rng.uniform(0, 10, (60, 2))
    _same_as_scipy(np.vstack([p, p[:5]]))
    _same_as_scipy(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))


@needs_qhull2d
def test_degenerate_points_are_scipys_error_and_no_map_triangulation():
    line = np.column_stack([np.arange(10.0), 2 * np.arange(10.0)])
    with pytest.raises(RuntimeError, match="Qhull failed"):
        tr._qhull2d.delaunay(line)
    with pytest.raises(QhullError):
        tr.delaunay(line)  # SciPy's own error, with SciPy's message
    with pytest.raises(ValueError, match="float64"):
        tr._qhull2d.delaunay(np.zeros(5))
    # MapGeometry's degenerate-point guard keeps such points out of Qhull entirely
    geo = pm.MapGeometry(line[:, 0], line[:, 1] + 1e-13 * np.arange(10) ** 2, (10, 19))
    assert geo.tri is None


@needs_qhull2d
def test_triangulation_answers_scipys_other_questions():
    pts = _lattice(12, 9, 5)
    t, sp = tr.delaunay(pts), Delaunay(pts)
    q = np.random.default_rng(3).uniform(-2, 40, (300, 2))
    np.testing.assert_array_equal(t.find_simplex(q), sp.find_simplex(q))
    np.testing.assert_allclose(t.transform, sp.transform)  # SciPy's until the map's own is set
    assert isinstance(tr.delaunay(pts, system_qhull=False), Delaunay)


@needs_qhull2d
def test_the_map_triangulates_without_importing_scipy_spatial():
    """The point of the module: Qhull starts without scipy.spatial's import (0.2-0.4 s), and the map needs it
    nowhere else (the fill outside the hull scans lattice offsets)."""
    code = ("import sys, numpy as np\n"
            "from eda.pdn import maps as pm\n"
            "x, y = (a.ravel() for a in np.meshgrid(np.arange(20.0), np.arange(15.0), indexing='ij'))\n"
            "geo = pm.MapGeometry(x, y, (23, 17))\n"  # a rim outside the hull: the fill runs too
            "m = geo.interpolate(np.sin(x) + y)\n"
            "assert geo.tri is not None and np.isfinite(m).all()\n"
            "print('scipy.spatial' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == (["True"] if pm._fastmap is None else ["False"])


@needs_qhull2d
def test_contest_cases_triangulate_as_scipy_does():
    """Every complete ICCAD'23 case's m1 points (the map's): the same triangles, neighbours and vertex neighbours."""
    if not SHARED.is_dir():
        pytest.skip(f"the ICCAD'23 contest data is not at {SHARED}")
    from eda.pdn.contest import read_case

    decks = sorted(SHARED.glob("fake/*.sp")) + [d for d in sorted(SHARED.glob("real/*")) if (d / "netlist.sp").exists()]
    assert len(decks) == 28
    for deck in decks:
        case = read_case(deck)
        geo = pm.map_geometry(case.pdn, case.shape, case.dbu_per_um)
        assert isinstance(geo.tri, tr.Triangulation), deck
        _same_as_scipy(geo.pts)


@needs_qhull2d
def test_the_map_is_the_same_through_either_qhull(monkeypatch):
    p = _lattice(40, 30, 7)
    v = np.sin(p[:, 0] / 9) * np.cos(p[:, 1] / 7)
    shape = (int(p[:, 0].max()) + 3, int(p[:, 1].max()) + 2)  # a rim outside the hull: the fill too
    geo = pm.MapGeometry(p[:, 0], p[:, 1], shape)
    assert isinstance(geo.tri, tr.Triangulation)
    ours = geo.interpolate(v)
    monkeypatch.setattr(tr, "_qhull2d", None)
    scipys = pm.MapGeometry(p[:, 0], p[:, 1], shape)
    assert isinstance(scipys.tri, Delaunay)
    np.testing.assert_array_equal(ours, scipys.interpolate(v))


@needs_qhull2d
def test_fuzzed_point_sets_triangulate_as_scipy_does():
    """Random sets, integer grids full of duplicates and co-circular cells, uneven lattices, near-collinear
    slivers: the same arrays as SciPy, or an error from both."""
    rng = np.random.default_rng(11)
    for it in range(160):
        n = int(rng.integers(3, 300))
        p = [rng.uniform(0, 10, (n, 2)), rng.integers(0, 8, (n, 2)).astype(float),
             np.column_stack([rng.integers(0, 30, n) * 1.7, rng.integers(0, 20, n) * 0.3]),
             np.column_stack([rng.uniform(0, 1, n), 1e-9 * rng.uniform(0, 1, n)])][it % 4]
        try:
            Delaunay(p)
        except QhullError:
            with pytest.raises(QhullError):
                tr.delaunay(p)
            continue
        _same_as_scipy(p)
