"""Contest maps from a PDN, and the shared metrics module."""

from __future__ import annotations

import numpy as np
import pytest

from eda.errors import InputError
from eda.pdn import maps as pm
from eda.pdn import metrics as M
from eda.pdn.grid import make_grid
from eda.pdn.parse import parse_pdn
from eda.pdn.solve import solve_static
from eda.pdn.write import write_map_csv

DECK = """\
R1 n1_m1_1000_1000 n1_m1_5000_1000 1
R2 n1_m1_5000_1000 n1_m4_5000_1000 0.5
R3 n1_m4_5000_1000 n1_m4_5000_7000 1
V1 n1_m4_5000_7000 0 1.0
I1 n1_m1_1000_1000 0 0.01
I2 n1_m1_5000_1000 0 0.02
"""


def test_maps_by_hand():
    pdn = parse_pdn(DECK)
    assert pm.map_shape(pdn) == (3, 1)  # m1 nodes only, 2000 dbu/um for contest-style names
    assert pm.map_shape(pdn, dbu_per_um=1000) == (6, 2)
    sh = (3, 4)
    res = solve_static(pdn)
    m = pm.ir_drop_map(pdn, res.drop, sh, method="tile-max", interpolate=False)
    # m1 nodes only: tile (0, 0) and (2, 0); drops 0.03*1 + 0.03*0.5 + 0.01*1 and 0.045
    assert m[0, 0] == pytest.approx(0.055) and m[2, 0] == pytest.approx(0.045)
    assert m[1, 0] == 0 and m[0, 3] == 0
    # two collinear m1 nodes: no triangle to interpolate in, so every point takes the nearest value
    for method in ("griddata", "tile-max"):
        filled = pm.ir_drop_map(pdn, res.drop, sh, method=method)
        assert set(np.round(filled.ravel(), 12)) == {0.055, 0.045}
    # contest: the first node of the m1 stripe is not among the contest generator's points
    assert set(np.round(pm.ir_drop_map(pdn, res.drop, sh).ravel(), 12)) == {0.045}
    cur = pm.current_map(pdn, sh, method="tile-sum")
    assert cur[0, 0] == pytest.approx(0.01) and cur[2, 0] == pytest.approx(0.02) and cur.sum() == pytest.approx(0.03)
    # contest: each load shared over the integer points nearest to its node (0.5 and 2.5 um on x)
    cur = pm.current_map(pdn, sh)
    assert cur[:2].ravel() == pytest.approx(np.full(8, 0.01 / 8)) and cur[2] == pytest.approx(np.full(4, 0.005))
    both = pm.current_map(pdn, sh, np.column_stack([pdn.is_value, 3 * pdn.is_value]))
    assert both.shape == (2, 3, 4) and both[1] == pytest.approx(3 * cur)
    dens = pm.pdn_density_map(pdn, sh)
    assert dens.sum() == pytest.approx(2.0 + 3.0)  # wires of 2 µm and 3 µm, the via excluded
    assert dens[1, 0] == pytest.approx(1.0) and dens[2, 2] == pytest.approx(1.0)
    eff = pm.effective_distance_map(pdn, sh)  # pad at (2.5, 3.5) um; integer points as the contest
    assert eff[2, 3] == pytest.approx(np.hypot(0.5, 0.5))
    assert eff[0, 0] == pytest.approx(np.hypot(2.5, 3.5))


def test_maps_on_grid_and_csv_round_trip(tmp_path):
    pdn = make_grid(width_um=60, height_um=40, pad_pitch_um=20, load="hotspot")
    res = solve_static(pdn)
    m = pm.ir_drop_map(pdn, res.drop)
    assert m.shape == (61, 41)
    assert m.max() == pytest.approx(res.drop[pm.contest_nodes(pdn)].max())  # the contest's m1 points
    assert m.min() > 0
    f = pm.feature_maps(pdn)
    assert f["current"].sum() == pytest.approx(pdn.is_value.sum())
    path = write_map_csv(m, tmp_path / "ir.csv")
    np.testing.assert_allclose(pm.read_map_csv(path), m, rtol=1e-8)
    (tmp_path / "bad.csv").write_text("1,2\n3,x\n")
    with pytest.raises(InputError) as e:
        pm.read_map_csv(tmp_path / "bad.csv")
    assert e.value.line == 2


def test_maps_need_coordinates():
    pdn = parse_pdn("R1 a b 1\nV1 a 0 1\nI1 b 0 1m\n")
    with pytest.raises(InputError, match="coordinates"):
        pm.map_shape(pdn)
    with pytest.raises(InputError, match="one value per node"):
        pm.ir_drop_map(parse_pdn(DECK), np.zeros(2))


def test_metrics_values():
    g = np.array([[0.0, 0.5], [0.95, 1.0]])
    p = np.array([[0.1, 0.5], [0.8, 0.92]])
    s = M.score(p, g)
    assert set(s) == set(M.KEYS)
    assert s["mae"] == pytest.approx((0.1 + 0 + 0.15 + 0.08) / 4)
    assert s["max_error"] == pytest.approx(0.15)
    assert s["nmae"] == pytest.approx(s["mae"] / 1.0)
    assert s["cc"] == pytest.approx(np.corrcoef(p.ravel(), g.ravel())[0, 1])
    # golden hotspots (> 0.9): (1,0), (1,1); predicted > 0.9: (1,1) only → P=1, R=0.5
    assert s["hotspot_f1"] == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert M.score(g, g)["hotspot_f1"] == 1.0 and M.score(g, g)["mae"] == 0
    assert M.hotspot_f1(np.zeros_like(g), g) == 0.0
    assert M.pearson_cc(np.ones_like(g), g) == 0.0
    with pytest.raises(InputError, match="shape"):
        M.mae(p[:1], g)
    with pytest.raises(InputError, match="NaN"):
        M.mae(np.full_like(g, np.nan), g)


def test_metrics_accept_torch_tensors():
    torch = pytest.importorskip("torch")
    g = torch.tensor([[0.0, 1.0]])
    assert M.mae(g + 0.5, g) == pytest.approx(0.5)


@pytest.mark.parametrize("method", ["contest", "griddata"])
def test_precomputed_map_geometry_gives_the_same_map_and_a_foreign_one_is_not_used(method):
    """The pipeline triangulates during the solve (map_geometry) and evaluates later: same map as in one go;
    a geometry made for another network, shape or scale is recomputed, not trusted."""
    pdn = make_grid(width_um=60, height_um=40, pad_pitch_um=20, load="hotspot")
    other = make_grid(width_um=60, height_um=40, pad_pitch_um=20, load="uniform", seed=3)
    drop = solve_static(pdn).drop
    want = pm.ir_drop_map(pdn, drop, method=method)
    geo = pm.map_geometry(pdn, method=method)
    np.testing.assert_array_equal(pm.ir_drop_map(pdn, drop, method=method, geometry=geo), want)
    foreign = pm.map_geometry(other, method=method)
    foreign.nodes = foreign.nodes[:3]  # would fail loudly or give a wrong map if it were used
    np.testing.assert_array_equal(pm.ir_drop_map(pdn, drop, method=method, geometry=foreign), want)
    small = pm.map_geometry(pdn, shape=(30, 20), method=method)
    assert pm.ir_drop_map(pdn, drop, method=method, geometry=small).shape == want.shape
    assert pm.map_geometry(pdn, method="tile-max") is None
    with pytest.raises(InputError, match="map method"):
        pm.map_geometry(pdn, method="bicubic")
