"""ICCAD'23 contest cases and IBM power-grid decks as published: readers, scale, maps, acceptance on real data."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import shared_path
from typer.testing import CliRunner

from eda.cli import app
from eda.errors import InputError
from eda.pdn import maps as pm
from eda.pdn.check import PdnCheckError, check_pdn
from eda.pdn.contest import find_cases, read_case
from eda.pdn.metrics import score
from eda.pdn.parse import parse_pdn, read_pdn
from eda.pdn.pipeline import solve_to_dir
from eda.pdn.solve import solve_static, solve_transient
from eda.pdn.write import write_map_csv

runner = CliRunner()

# 3 x 3 m1 nodes 4 um apart (2000 dbu/um), one via up to an m4 pad
DECK = "\n".join(
    [f"R{k} n1_m1_{x * 8000}_{y * 8000} n1_m1_{(x + 1) * 8000}_{y * 8000} 1" for k, (x, y) in
     enumerate((x, y) for x in range(2) for y in range(3))]
    + [f"Rv{k} n1_m1_{x * 8000}_{y * 8000} n1_m1_{x * 8000}_{(y + 1) * 8000} 1" for k, (x, y) in
       enumerate((x, y) for x in range(3) for y in range(2))]
    + ["Rvia n1_m1_8000_8000 n1_m4_8000_8000 0.5", "V0 n1_m4_8000_8000 0 1.1"]
    + [f"I{k} n1_m1_{x * 8000}_{y * 8000} 0 1e-3" for k, (x, y) in enumerate((x, y) for x in range(3)
                                                                            for y in range(3))]
    + [".op", ".end"]) + "\n"


def _folder_case(tmp_path, shape=(9, 9), deck=DECK):
    d = tmp_path / "testcase1"
    d.mkdir()
    (d / "netlist.sp").write_text(deck)
    pdn = parse_pdn(deck)
    maps = pm.feature_maps(pdn, shape, dbu_per_um=2000)
    maps["ir_drop"] = pm.ir_drop_map(pdn, solve_static(pdn).drop, shape, dbu_per_um=2000)
    for k, f in (("current", "current_map.csv"), ("pdn_density", "pdn_density.csv"),
                 ("eff_dist", "eff_dist_map.csv"), ("ir_drop", "ir_drop_map.csv")):
        write_map_csv(maps[k], d / f)
    return d, maps


def test_read_case_both_layouts_and_dbu(tmp_path):
    d, maps = _folder_case(tmp_path)
    case = read_case(d)
    assert case.name == "testcase1" and case.complete and case.shape == (9, 9)
    assert case.dbu_per_um == 2000
    np.testing.assert_allclose(case.maps["ir_drop"], maps["ir_drop"], rtol=1e-8)
    assert read_case(d / "netlist.sp").map_paths == case.map_paths
    flat = tmp_path / "fake"
    flat.mkdir()
    shutil.copy(d / "netlist.sp", flat / "current_map07.sp")
    for k, f in (("current", "current_map.csv"), ("pdn_density", "pdn_density.csv"),
                 ("eff_dist", "eff_dist_map.csv"), ("ir_drop", "ir_drop_map.csv")):
        shutil.copy(d / f, flat / f"current_map07_{k}.csv")
    shutil.copy(d / "current_map.csv", flat / "current_map08_current.csv")  # maps-only case, incomplete
    cases = find_cases(tmp_path)
    assert [c.name for c in cases] == ["current_map07", "current_map08", "testcase1"]
    assert cases[1].deck is None and not cases[1].complete
    assert [c.name for c in find_cases(tmp_path, complete=True)] == ["current_map07", "testcase1"]
    assert read_case(flat / "current_map07.sp").shape == (9, 9)


def test_case_errors_name_the_problem(tmp_path):
    d, _ = _folder_case(tmp_path)
    with pytest.raises(InputError, match=r"given 9x9 maps.*17x17 at 1000 dbu/um"):
        _ = read_case(d, dbu_per_um=1000).dbu_per_um  # deck written at 2000
    (d / "eff_dist_map.csv").unlink()
    with pytest.raises(InputError, match="eff_dist_map.csv"):
        read_case(d)
    wide = tmp_path / "w"
    wide.mkdir()
    d2, _ = _folder_case(wide, shape=(30, 30))
    with pytest.raises(InputError) as e:
        _ = read_case(d2).dbu_per_um
    assert "30x30" in str(e.value) and "9x9 at 2000 dbu/um" in str(e.value)
    with pytest.raises(InputError, match="no such"):
        read_case(tmp_path / "absent")


def test_solve_cli_on_a_case_folder(tmp_path):
    d, maps = _folder_case(tmp_path)
    r = runner.invoke(app, ["irdrop", "solve", str(d), "--out", str(tmp_path / "o"), "--no-pictures"])
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert s["dbu_per_um"] == 2000 and s["map_shape"] == [9, 9] and s["map_method"] == "contest"
    from eda.pdn import fast

    assert s["reader"] == "compiled" if fast.available() else s["reader"] in ("numpy", "lines")  # which reader
    assert s["map_evaluator"] == ("compiled" if pm._fastmap is not None else "scipy")  # which map evaluator
    from eda.pdn.triangulate import _qhull2d

    system = _qhull2d is not None and pm._fastmap is not None
    assert pm.system_qhull() == system
    assert s["map_triangulation"] == ("libqhull_r" if system else "scipy")  # whose Qhull
    assert s["vs_given_ir_drop_map"]["mae"] < 1e-9 and s["vs_given_ir_drop_map"]["hotspot_f1"] == 1
    r = runner.invoke(app, ["irdrop", "solve", str(d), "--out", str(tmp_path / "o2"), "--dbu-per-um", "1000"])
    assert r.exit_code != 0 and "dbu" in r.output + str(r.exception)
    r = runner.invoke(app, ["irdrop", "maps", str(d), "--out", str(tmp_path / "m"), "--no-pictures"])
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert all(v["mae"] <= 1e-8 * v["max_abs_given"] for v in s["vs_given"].values())  # 9-digit CSV
    assert s["map_evaluator"] == ("compiled" if pm._fastmap is not None else "scipy")
    assert s["map_triangulation"] == ("libqhull_r" if system else "scipy")


def test_case_read_ahead_gives_the_same_outputs_and_is_never_stale(tmp_path):
    """A case loaded ahead (start_ahead, the command line's: deck read and map triangulated in a background
    thread) gives the very files of a plain run; it is taken only for the same unchanged deck, scale and map
    method, once; a deck edited after it started is read again; its errors are the command's own."""
    from eda.pdn import pipeline as pl

    d, _ = _folder_case(tmp_path)
    solve_to_dir(d, tmp_path / "plain", pictures=False)
    assert pl.start_ahead(d)
    assert pl._AHEAD[0].prepared.wait(30)  # set once Qhull runs
    s = solve_to_dir(d, tmp_path / "ahead", pictures=False)
    assert s["read_ahead"] and not pl._AHEAD
    for f in ("voltages.csv", "ir_drop_map.csv"):
        assert (tmp_path / "ahead" / f).read_bytes() == (tmp_path / "plain" / f).read_bytes(), f
    assert "read_ahead" not in solve_to_dir(d, tmp_path / "again", pictures=False)  # taken once
    pl.maps_to_dir(d, tmp_path / "mplain", pictures=False)
    assert pl.start_ahead(d / "netlist.sp")
    pl.maps_to_dir(d, tmp_path / "mahead", pictures=False)
    assert not pl._AHEAD
    for f in pl.MAP_FILES.values():
        assert (tmp_path / "mahead" / f).read_bytes() == (tmp_path / "mplain" / f).read_bytes(), f
    assert pl.start_ahead(d, map_method="griddata")  # another method: not taken
    assert "read_ahead" not in solve_to_dir(d, tmp_path / "m2", pictures=False)
    assert pl.start_ahead(d, dbu_per_um=1000)  # a scale that does not fit the maps: the command's own error
    with pytest.raises(InputError, match=r"17x17 at 1000 dbu/um"):
        solve_to_dir(d, tmp_path / "bad", dbu_per_um=1000, pictures=False)
    assert not pl._AHEAD  # it was taken
    assert pl.start_ahead(d)
    deck = d / "netlist.sp"
    deck.write_text(DECK.replace("I4 n1_m1_8000_8000 0 1e-3", "I4 n1_m1_8000_8000 0 9.5e-3"))  # edited since
    s = solve_to_dir(d, tmp_path / "edited", pictures=False)
    assert "read_ahead" not in s and s["worst_static_drop_V"] > 1.5 * json.loads(
        (tmp_path / "plain" / "summary.json").read_text())["worst_static_drop_V"]
    assert pl.start_ahead(d)
    pl._AHEAD[0].geometry.result()  # deck and maps read (the maps' identities taken before)
    golden = (d / "ir_drop_map.csv").read_text()
    (d / "ir_drop_map.csv").write_text(golden.replace("0.", "1.", 1) + "\n")  # a given map edited since
    s = solve_to_dir(d, tmp_path / "map_edited", pictures=False)
    assert "read_ahead" not in s and s["vs_given_ir_drop_map"]["mae"] > 1e-3
    (d / "ir_drop_map.csv").write_text(golden)
    deck.write_text(DECK.replace("Rv0 n1_m1_0_0 n1_m1_0_8000 1", "Rv0 n1_m1_0_0 n1_m1_0_8000 -1"))
    assert pl.start_ahead(d)
    assert pl._AHEAD[0].prepared.wait(30)  # a deck that fails to read lets the command line go on too
    with pytest.raises(InputError, match=r"netlist\.sp:7"):
        solve_to_dir(d, tmp_path / "broken", pictures=False)
    assert not pl.start_ahead(tmp_path / "absent") and not pl.start_ahead(tmp_path)


def test_read_ahead_defers_numpy_tooling_until_used(tmp_path):
    """The command line's read-ahead leaves numpy.testing and numpy.f2py (which SciPy's imports would load) as lazy
    modules, and they work as usual once used; in a process that has them already it changes nothing."""
    import subprocess
    import sys

    from eda.pdn import pipeline as pl

    deck = tmp_path / "d.sp"
    deck.write_text(DECK)
    code = "\n".join([
        "import sys", "from eda.cli import _read_ahead", f"_read_ahead(['irdrop', 'solve', {str(deck)!r}])",
        "import scipy.interpolate, scipy.sparse.linalg, scipy.spatial",
        "assert [type(sys.modules[n]).__name__ for n in ('numpy.testing', 'numpy.f2py')] == ['_LazyModule'] * 2",
        "import numpy", "numpy.testing.assert_allclose(1.0, 1.0)", "from numpy.testing import assert_array_equal",
        "from numpy import f2py", "assert callable(f2py.run_main) and callable(assert_array_equal)",
        "assert type(sys.modules['numpy.testing']) is type(sys) is type(sys.modules['numpy.f2py'])", "print('ok')"])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    import numpy.f2py  # noqa: F401 - both imported in this process
    import numpy.testing  # noqa: F401

    assert pl.defer_numpy_tooling() == []  # nothing changes


def test_read_ahead_wait_for_qhull_is_bounded(tmp_path, monkeypatch):
    """start_ahead lets the command line go on once Qhull runs, but never waits longer than PREPARE_WAIT_S."""
    import time

    from eda.pdn import pipeline as pl

    d, _ = _folder_case(tmp_path)
    monkeypatch.setattr(pl, "_load_modules", lambda *names: time.sleep(0.2))  # imports: the deck is read meanwhile
    assert pl.start_ahead(d)
    assert pl._AHEAD[0].case.done() and pl._AHEAD[0].prepared.is_set()  # waited for Qhull to start
    assert solve_to_dir(d, tmp_path / "o1", pictures=False)["read_ahead"]
    real = pm.map_geometry
    monkeypatch.setattr(pm, "map_geometry", lambda *a, **k: time.sleep(3) or real(*a, **k))
    monkeypatch.setattr(pl, "PREPARE_WAIT_S", 0.3)
    t = time.perf_counter()
    assert pl.start_ahead(d)
    assert pl._AHEAD[0].case.done() and not pl._AHEAD[0].prepared.is_set()
    assert time.perf_counter() - t < 2.0  # 0.4 s of imports + at most 0.3 s of waiting, not the 3 s of geometry
    assert solve_to_dir(d, tmp_path / "o", pictures=False)["read_ahead"]


@pytest.mark.parametrize("args, needle", [(["--method", "bogus"], "method"), (["--stop", "inf"], "finite"),
                                          (["--step", "1e-30"], "--step")])
def test_bad_solver_options_are_one_line_errors(tmp_path, args, needle):
    deck = tmp_path / "d.sp"
    deck.write_text(DECK.replace(".op", ".tran 1e-12 1e-10"))
    r = runner.invoke(app, ["irdrop", "solve", str(deck), "--out", str(tmp_path / "o"), "--mode", "dynamic", *args])
    assert r.exit_code != 0
    assert needle in (r.output + str(r.exception)) and "Traceback" not in r.output


def test_contest_map_is_cubic_griddata():
    from scipy.interpolate import griddata

    rng = np.random.default_rng(0)
    # three corners pinned: the hull covers the grid but for a sliver by (20, 15) (scipy's own cubic
    # evaluation searches every triangle for each point outside the hull, which is slow)
    x = np.r_[0.0, 20.0, 0.0, rng.uniform(0, 20, 200)]
    y = np.r_[0.0, 0.0, 15.0, rng.uniform(0, 15, 200)]
    v = np.sin(x / 5) * np.cos(y / 4) + 0.5
    got = pm._contest_interpolate(x, y, v, (21, 16), fill="node")
    gx, gy = np.meshgrid(np.arange(21.0), np.arange(16.0), indexing="ij")
    raw = griddata(np.c_[x, y], v, (gx, gy), method="cubic")
    assert np.isnan(raw).any()  # the hull fill is exercised
    near = griddata(np.c_[x, y], v, (gx, gy), method="nearest")
    np.testing.assert_allclose(got, np.maximum(np.where(np.isnan(raw), near, raw), 0), rtol=1e-12, atol=1e-15)


def _wavy(n, w, h, seed):
    rng = np.random.default_rng(seed)
    x = np.r_[0.0, w, 0.0, w, rng.uniform(0, w, n)]
    y = np.r_[0.0, 0.0, h, h, rng.uniform(0, h, n)]
    return x, y, np.cos(x / 7) * np.sin(y / 3) + 0.2


@pytest.mark.parametrize("compiled", [True, False])
def test_contest_map_evaluated_in_two_threads_is_the_same_map(monkeypatch, compiled):
    if compiled and pm._fastmap is None:
        pytest.skip("the compiled lattice evaluator (eda/pdn/_fastmap.c) is not built here")
    if not compiled:
        monkeypatch.setattr(pm, "_fastmap", None)
    x, y, v = _wavy(400, 30, 20, 3)
    one = pm._contest_interpolate(x, y, v, (31, 21))
    calls = []
    if compiled:
        real = pm._fastmap
        monkeypatch.setattr(pm, "_fastmap", type("M", (), {"gradients": staticmethod(real.gradients), "ct_lattice":
                                                           staticmethod(lambda *a: calls.append((a[-3], a[-2]))
                                                                        or real.ct_lattice(*a))}))
    else:
        from scipy.interpolate import CloughTocher2DInterpolator as CT

        real = CT.__call__
        monkeypatch.setattr(CT, "__call__", lambda self, q: calls.append(len(q)) or real(self, q))
    monkeypatch.setattr(pm, "SPLIT_EVAL_POINTS", 100)
    two = pm._contest_interpolate(x, y, v, (31, 21))
    if compiled:
        assert sorted(calls) == [(0, 15), (15, 31)]  # the rows in two halves, one per thread
    else:
        assert len(calls) == 2 and abs(calls[0] - calls[1]) <= 1
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("case", ["random", "lattice", "thin"])
def test_compiled_lattice_evaluation_is_scipys_interpolant(monkeypatch, case):
    """The scan-converted compiled evaluation against SciPy's point location and evaluator: the same points
    inside (NaN pattern before the fill) and the same values to rounding, on scattered points, a co-circular
    lattice (Qhull's merged cells, collinear hull edges, lattice points on every edge and vertex) and thin
    triangles reaching outside the map."""
    if pm._fastmap is None:
        pytest.skip("the compiled lattice evaluator (eda/pdn/_fastmap.c) is not built here")
    from scipy.interpolate import CloughTocher2DInterpolator

    if case == "random":
        x, y, v = _wavy(300, 40, 25, 5)
        shape = (45, 28)
    elif case == "lattice":
        x, y = (a.ravel() for a in np.meshgrid(np.arange(1, 12) * 2.0, np.arange(1, 9) * 3.0, indexing="ij"))
        v = np.sin(x / 4) + np.cos(y / 5) + 0.01 * np.random.default_rng(2).random(len(x))
        shape = (26, 27)
    else:
        rng = np.random.default_rng(9)
        x, y = np.r_[-3.5, 50.2, 20.0, rng.uniform(0, 48, 40)], np.r_[0.5, 1.2, 1.0, rng.uniform(0.4, 1.6, 40)]
        v = x / 10 + np.sin(y * 3)
        shape = (49, 3)
    from scipy.spatial import Delaunay

    calls = []
    geo = pm.MapGeometry(x, y, shape, on_triangulate=lambda: calls.append(1))
    assert calls == [1]  # called once, before Qhull
    sp = Delaunay(geo.pts)  # SciPy's own (the map's may come from the system's Qhull: the same triangles)
    np.testing.assert_array_equal(geo.tri.simplices, sp.simplices)
    ct = CloughTocher2DInterpolator(sp, v)
    np.testing.assert_allclose(pm._gradients(geo.tri, v), ct.grad.reshape(-1, 2), rtol=1e-12, atol=1e-15)
    inside = sp.find_simplex(geo.q) >= 0
    want = np.full(len(geo.q), np.nan)
    want[inside] = ct(geo.q[inside])
    got = np.full(len(geo.q), np.nan)
    pm._lattice_split(geo.tri, v, ct.grad.reshape(-1, 2), shape, got)
    np.testing.assert_array_equal(np.isnan(got), ~inside)
    np.testing.assert_allclose(got[inside], want[inside], rtol=1e-12, atol=1e-14 * np.abs(v).max())
    # the whole map, compiled and not
    compiled = geo.interpolate(v)
    monkeypatch.setattr(pm, "_fastmap", None)
    np.testing.assert_allclose(pm.MapGeometry(x, y, shape).interpolate(v), compiled, rtol=1e-12,
                               atol=1e-14 * np.abs(v).max())


def _inside_and_map_both_ways(monkeypatch, x, y, v, shape):
    """(points inside by SciPy's find_simplex, by the compiled scan; the map compiled; the map by SciPy)."""
    geo = pm.MapGeometry(x, y, shape)
    inside = geo.tri.find_simplex(geo.q) >= 0
    got = np.full(len(geo.q), np.nan)
    pm._lattice_split(geo.tri, v, pm._gradients(geo.tri, v), shape, got)
    compiled = geo.interpolate(v)
    with monkeypatch.context() as mp:
        mp.setattr(pm, "_fastmap", None)
        fallback = pm.MapGeometry(x, y, shape).interpolate(v)
    return inside, ~np.isnan(got), compiled, fallback


def test_compiled_lattice_evaluation_edge_cases_follow_scipy(monkeypatch):
    """Where SciPy's point location is subtle: a lattice column 1 ulp beyond the points' box (SciPy's absolute
    bounding-box test rejects it), degenerate hull slivers (NaN transforms, whose neighbours take points within a
    wider leeway), a map with no rows; and the degenerate-triangle rule is SciPy's (1-norm condition < 1000 eps)."""
    if pm._fastmap is None:
        pytest.skip("the compiled lattice evaluator (eda/pdn/_fastmap.c) is not built here")
    from scipy.spatial import Delaunay

    xm = np.nextafter(300.0, 0)
    x, y, v = np.array([0, xm, 0, xm, 150.0]), np.array([0, 0, 10, 10, 5.0]), np.array([1, 2, 3, 4, 0.0])
    inside, found, compiled, fallback = _inside_and_map_both_ways(monkeypatch, x, y, v, (301, 11))
    assert not inside.reshape(301, 11)[300].any()
    np.testing.assert_array_equal(found, inside)
    np.testing.assert_allclose(compiled, fallback, rtol=1e-12, atol=1e-14)
    # a hull of nearly collinear points: slivers, several with NaN transforms (SciPy's own, here)
    p = np.array([[-5.0, -1e-13], [-4.844634025537036, 0.7051460773138722], [5.326320009880787, -1e-12],
                  [5.662413310705363, 3e-14], [10.712203237314409, 3e-14], [12.708729468691441, 1e-12],
                  [15.51053120018631, 1e-12], [17.58932510793262, 1.1283554763697778], [21.18427625694323, -1e-12],
                  [23.002581769222857, 1.7157902454758678], [25.0, -1e-12]])
    v = np.cos(p[:, 0] / 3) + p[:, 1]
    monkeypatch.setattr(pm, "_barycentric_transforms", lambda tri: None)  # SciPy's transforms
    assert np.isnan(Delaunay(p).transform[:, 0, 0]).sum() >= 2
    inside, found, compiled, fallback = _inside_and_map_both_ways(monkeypatch, p[:, 0], p[:, 1], v, (21, 3))
    np.testing.assert_array_equal(found, inside)
    np.testing.assert_allclose(compiled, fallback, rtol=1e-12, atol=1e-14)
    monkeypatch.undo()
    # the project's own transforms mark the same simplices degenerate as SciPy's, slivers included
    rng = np.random.default_rng(1)
    for _ in range(60):
        n, h = rng.integers(4, 30), 10.0 ** rng.uniform(-16, -8)
        q = np.c_[rng.uniform(0, 20, n), np.where(rng.random(n) < 0.5, rng.uniform(-h, h, n), rng.uniform(0.5, 3, n))]
        ours, theirs = Delaunay(q), Delaunay(q)
        pm._barycentric_transforms(ours)
        np.testing.assert_array_equal(np.isnan(ours.transform[:, 0, 0]), np.isnan(theirs.transform[:, 0, 0]))
    assert pm.MapGeometry(np.array([0, 5, 0, 5.0]), np.array([0, 0, 5, 5.0]), (6, 0)).interpolate(
        np.arange(4.0)).shape == (6, 0)


def test_compiled_gradients_warn_when_they_do_not_converge(monkeypatch):
    if pm._fastmap is None:
        pytest.skip("the compiled lattice evaluator (eda/pdn/_fastmap.c) is not built here")
    x, y, v = _wavy(200, 30, 20, 4)
    geo = pm.MapGeometry(x, y, (31, 21))
    monkeypatch.setattr(pm, "GRADIENT_MAXITER", 1)
    with pytest.warns(RuntimeWarning, match="did not converge in 1 sweeps"):
        pm._gradients(geo.tri, v)


def test_compiled_lattice_evaluation_refuses_bad_arrays():
    if pm._fastmap is None:
        pytest.skip("the compiled lattice evaluator (eda/pdn/_fastmap.c) is not built here")
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    tri = np.array([[0, 1, 3]], dtype=np.int32)  # vertex 3 does not exist
    args = (pts, tri, np.full((1, 3), -1, np.int32), np.zeros((1, 3, 2)), np.zeros(3), np.zeros((3, 2)), 2)
    with pytest.raises(ValueError, match="index out of range"):
        pm._fastmap.ct_lattice(*args, 0, 2, np.full(4, np.nan))
    with pytest.raises(ValueError, match="out holds"):
        pm._fastmap.ct_lattice(*args[:1], np.zeros((1, 3), np.int32), *args[2:], 0, 3, np.full(4, np.nan))
    with pytest.raises(ValueError, match="out holds"):  # a row length whose product with the rows overflows
        pm._fastmap.ct_lattice(*args[:1], np.zeros((1, 3), np.int32), *args[2:-1], 2 ** 60 + 1, 0, 8,
                               np.full(8, np.nan))
    g = np.empty((3, 2))
    with pytest.raises(ValueError, match="neighbour index out of range"):
        pm._fastmap.gradients(pts, np.array([0, 1, 2, 3], np.int32), np.array([1, 2, 7], np.int32), np.zeros(3), 5,
                              1e-6, g)
    with pytest.raises(ValueError, match="indptr out of range"):
        pm._fastmap.gradients(pts, np.array([0, 2, 1, 3], np.int32), np.array([1, 2, 0], np.int32), np.zeros(3), 5,
                              1e-6, g)


def _fill_by_hand(z):
    """Each NaN point takes the nearest non-NaN point's value; ties: the first in row-major order."""
    out = z.copy()
    good = [(i, j) for i in range(z.shape[0]) for j in range(z.shape[1]) if not np.isnan(z[i, j])]
    for i, j in zip(*np.nonzero(np.isnan(z)), strict=True):
        best = min(good, key=lambda p: (p[0] - i) ** 2 + (p[1] - j) ** 2)  # min keeps the first of ties
        out[i, j] = z[best]
    return out


def test_contest_map_keeps_point_order_and_fills_from_pixels():
    from scipy.interpolate import griddata

    # a co-circular tensor grid like the contest's m1 (2.4 um lattice + one extra column): Qhull's diagonal
    # in each cell depends on the point order, so the map must use the order given, not a sorted one
    xs, ys = np.r_[np.arange(1, 9) * 2.4, 2.0], np.arange(6) * 2.4
    x, y = (a.ravel() for a in np.meshgrid(xs, ys, indexing="ij"))
    v = 1e-3 * (1 + np.sin(x / 3) * np.cos(y / 2) + 0.3 * np.random.default_rng(1).random(len(x)))
    shape = (21, 15)  # beyond the nodes on both axes (x = 0, 1 and x = 20, y = 13, 14): the fill runs
    gx, gy = np.meshgrid(np.arange(21.0), np.arange(15.0), indexing="ij")
    maps = []
    for order in (np.arange(len(x)), np.lexsort((y, x))):
        got = pm._contest_interpolate(x[order], y[order], v[order], shape)
        raw = griddata((x[order], y[order]), v[order], (gx, gy), method="cubic")
        assert np.isnan(raw[0]).all() and np.isnan(raw[:, 14]).all()
        np.testing.assert_allclose(got, np.maximum(_fill_by_hand(raw), 0), rtol=1e-12, atol=1e-18)
        maps.append(got)
    assert np.abs(maps[0] - maps[1]).max() > 1e-6  # the order matters on this grid
    np.testing.assert_array_equal(maps[0][0], maps[0][1])  # x = 0 copies x = 1, as in the golden maps


def _rails_deck(vertical=False):
    """m1 rails 2.4 um apart with a 2.4 um node lattice, an m4 strap crossing them at x = 2 um (transposed:
    m1 stripes along y)."""
    def n(x, y, layer="m1"):
        return f"n1_{layer}_{y}_{x}" if vertical else f"n1_{layer}_{x}_{y}"
    xs, ys = [0, 4000, 4800, 9600, 14400], [0, 4800, 9600]
    lines = [f"R{y}_{a} {n(a, y)} {n(b, y)} 0.1" for y in ys for a, b in zip(xs, xs[1:], strict=False)]
    lines += [f"Rv {n(4000, 0)} {n(4000, 0, 'm4')} 1", f"V0 {n(4000, 0, 'm4')} 0 1.1", f"I0 {n(9600, 4800)} 0 1e-3"]
    return parse_pdn("\n".join(lines) + "\n")


def test_contest_nodes_follow_the_generator():
    pdn = _rails_deck()
    names = [str(s) for s in pdn.node_names[pm.contest_nodes(pdn)]]
    lattice = [f"n1_m1_{x}_{y}" for x in (4800, 9600, 14400) for y in (0, 4800, 9600)]
    assert names == lattice + [f"n1_m1_4000_{y}" for y in (0, 4800, 9600)]  # no x = 0; lattice first
    vert = _rails_deck(vertical=True)  # m1 stripes along y: the y = 0 node of each is left out
    names = [str(s) for s in vert.node_names[pm.contest_nodes(vert)]]
    assert names == [f"n1_m1_{x}_{y}" for x in (0, 4800, 9600) for y in (4800, 9600, 14400)] + [
        f"n1_m1_{x}_4000" for x in (0, 4800, 9600)]


def test_check_pdn_catches_bad_networks():
    check_pdn(parse_pdn(DECK))
    with pytest.raises(PdnCheckError, match="negative"):
        check_pdn(parse_pdn(DECK.replace("V0 n1_m4_8000_8000 0 1.1", "V0 n1_m4_8000_8000 0 -1.1")))
    with pytest.raises(PdnCheckError, match="no pads"):
        check_pdn(parse_pdn(DECK.replace("V0 n1_m4_8000_8000 0 1.1", "")))
    with pytest.raises(PdnCheckError, match="float"):
        check_pdn(parse_pdn(DECK + "R99 n1_m1_90000_0 n1_m1_98000_0 1\n"))
    with pytest.raises(PdnCheckError, match="different voltages"):
        check_pdn(parse_pdn(DECK + "V1 n1_m1_0_0 0 1.0\nV2 n1_m1_0_0 n1_m4_8000_8000 0\n"))


def test_metrics_are_finite_on_an_all_zero_golden():
    s = score(np.full((3, 3), 1e-3), np.zeros((3, 3)))
    assert all(np.isfinite(v) for v in s.values()) and s["nmae"] == 1.0


def test_ibm_control_cards_and_print_probes():
    deck = ("* ibm\nr1 n0_0_0 n0_10_0 0.5\nv1 n0_0_0 0 1.8\ni1 n0_10_0 0 1m\nc1 n0_10_0 0 1p\n"
            ".tran 1e-12 1e-11\n.opti nopage acct\n.width out=512\n.print tran v(n0_10_0) v(n0_0_0)\n.temp 25\n"
            ".end\n")
    pdn = parse_pdn(deck, file="x.spice")
    assert pdn.print_nodes == ["n0_10_0", "n0_0_0"]
    assert any("x.spice:7: .opti ignored" in n for n in pdn.notes)
    with pytest.raises(InputError, match=r"x.spice:2.*\.foo"):
        parse_pdn("* t\n.foo bar\n", file="x.spice")


# ---------------------------------------------------------------------------------------- real data
def _acceptance(case) -> dict:
    s = solve_static(case.pdn)
    m = pm.ir_drop_map(case.pdn, s.drop, case.shape, dbu_per_um=case.dbu_per_um)
    assert m.shape == case.maps["ir_drop"].shape
    return score(m, case.maps["ir_drop"])


#: The golden CSVs keep 6 significant digits: the largest rounding error on the published maps is 6 nV.
CSV_ROUNDING_V = 1e-8


@pytest.mark.parametrize("rel", ["real/testcase11", "fake/current_map27.sp"])
def test_contest_cases_fast_subset(shared, rel):
    case = read_case(shared_path(shared, f"iccad23/{rel}"))
    assert case.dbu_per_um == 2000
    s = _acceptance(case)
    assert s["max_error"] <= CSV_ROUNDING_V and s["hotspot_f1"] == 1.0, s


def test_console_read_ahead_on_a_real_case(shared, tmp_path):
    """`eda irdrop solve` on a published case, run as a user runs it (the console entry point loads the case before
    Typer parses the line): the same map bytes as the library's plain run, and the golden map met."""
    import subprocess
    import sys

    d = shared_path(shared, "iccad23/real/testcase11")
    solve_to_dir(d, tmp_path / "plain", pictures=False)
    p = subprocess.run([sys.executable, "-c", "from eda.cli import main; main()", "irdrop", "solve", str(d), "--out",
                        str(tmp_path / "cli"), "--no-pictures"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert s["read_ahead"] is True and s["vs_given_ir_drop_map"]["hotspot_f1"] == 1.0
    assert s["vs_given_ir_drop_map"]["mae"] <= CSV_ROUNDING_V
    for f in ("ir_drop_map.csv", "voltages.csv"):
        assert (tmp_path / "cli" / f).read_bytes() == (tmp_path / "plain" / f).read_bytes(), f


@pytest.mark.slow
def test_every_complete_contest_case(shared):
    cases = find_cases(shared_path(shared, "iccad23"), complete=True)
    assert len(cases) >= 28
    for case in cases:
        s = _acceptance(case)
        # the generator's map reproduced to the CSVs' rounding; F1 0.9996 where a tile sits on the threshold
        assert s["max_error"] <= CSV_ROUNDING_V and s["hotspot_f1"] >= 0.999, (case.name, s)


def test_maps_only_case_is_refused_by_solve(shared, tmp_path):
    d = shared_path(shared, "iccad23/real/testcase17")
    with pytest.raises(InputError, match="no netlist"):
        solve_to_dir(d, tmp_path)
    assert read_case(d).shape == (566, 566)


def test_ibmpg1_static_matches_published_solution(shared):
    deck = shared_path(shared, "ibmpg/ibmpg1.spice")
    pdn = read_pdn(deck)
    v = solve_static(pdn).voltage
    names, vals = [], []
    for line in (deck.parent / "ibmpg1.solution").read_text().splitlines():
        t = line.split()
        if len(t) == 2 and t[0] != "G":  # 'G' is the solution file's ground entry
            names.append(t[0])
            vals.append(float(t[1]))
    idx = np.array([pdn.node_index(n) for n in names])
    assert len(idx) == pdn.n_nodes
    assert np.abs(v[idx] - np.array(vals)).max() < 1e-5


def _ibm_waves(path) -> dict:
    waves, cur = {}, None
    for line in path.read_text().splitlines():
        t = line.split()
        if len(t) == 2 and t[0] == "Node:":
            cur = waves.setdefault(t[1], [])
        elif len(t) == 2 and not t[0].endswith(":"):
            cur.append((float(t[0]), float(t[1])))
    return {k: np.array(v) for k, v in waves.items()}


@pytest.mark.parametrize("stop", [pytest.param(None, marks=pytest.mark.slow), 1e-9])
def test_ibmpg1t_print_probes_match_published_waveforms(shared, stop):
    deck = shared_path(shared, "ibmpg/ibmpg1t.spice")
    pdn = read_pdn(deck)  # unmodified: .opti, .width, .print accepted
    ref = _ibm_waves(deck.parent / "ibmpg1t.output")
    assert sorted(ref) == sorted(pdn.print_nodes) and len(ref) == 20
    tr = solve_transient(pdn, stop=stop, probes=pdn.print_nodes)
    for node, w in ref.items():
        w = w[w[:, 0] <= tr.times[-1] + 1e-15]
        assert np.abs(np.interp(w[:, 0], tr.times, tr.probes[node]) - w[:, 1]).max() < 1e-3, node
