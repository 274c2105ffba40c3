"""PDN solvers against dense linear algebra, analytic RC responses and ngspice."""

from __future__ import annotations

import numpy as np
import pytest

from eda.errors import InputError
from eda.pdn.grid import GridParams, make_grid
from eda.pdn.model import GROUND
from eda.pdn.ngspice import have_ngspice, ngspice_op, ngspice_tran
from eda.pdn.parse import parse_pdn
from eda.pdn.solve import ORDERINGS, solve_static, solve_transient

needs_ngspice = pytest.mark.skipif(not have_ngspice(), reason="ngspice not installed")


def dense_reference(pdn) -> np.ndarray:
    """Node voltages by plain MNA with numpy.linalg.solve (V sources as extra unknowns)."""
    n = pdn.n_nodes
    m = len(pdn.vs_value)
    A = np.zeros((n + m, n + m))
    b = np.zeros(n + m)

    def stamp(i, j, val):
        if i >= 0 and j >= 0:
            A[i, j] += val

    for a, c, r in zip(pdn.res_a, pdn.res_b, pdn.res_value, strict=True):
        g = 1 / r
        stamp(a, a, g), stamp(c, c, g), stamp(a, c, -g), stamp(c, a, -g)
    assert not len(pdn.ind_value), "the reference handles no inductors"
    for k, (a, c, v) in enumerate(zip(pdn.vs_a, pdn.vs_b, pdn.vs_value, strict=True)):
        stamp(a, n + k, 1), stamp(n + k, a, 1), stamp(c, n + k, -1), stamp(n + k, c, -1)
        b[n + k] = v
    for a, c, i in zip(pdn.is_a, pdn.is_b, pdn.is_value, strict=True):
        if a >= 0:
            b[a] -= i
        if c >= 0:
            b[c] += i
    return np.linalg.solve(A, b)[:n]


MESH = """* 3x3 mesh, two pads, a 0-V short, a resistor to ground
R1 n1_m1_0_0 n1_m1_1000_0 1
R2 n1_m1_1000_0 n1_m1_2000_0 2
R3 n1_m1_0_1000 n1_m1_1000_1000 1
R4 n1_m1_1000_1000 n1_m1_2000_1000 1.5
R5 n1_m1_0_2000 n1_m1_1000_2000 1
R6 n1_m1_1000_2000 n1_m1_2000_2000 1
R7 n1_m1_0_0 n1_m1_0_1000 1
R8 n1_m1_0_1000 n1_m1_0_2000 3
R9 n1_m1_1000_0 n1_m1_1000_1000 1
R10 n1_m1_1000_1000 n1_m1_1000_2000 1
R11 n1_m1_2000_0 n1_m1_2000_1000 1
R12 n1_m1_2000_1000 n1_m1_2000_2000 0.5
R13 n1_m1_2000_2000 0 1000
V1 n1_m1_0_0 0 1.1
V2 n1_m1_2000_2000 pad2 0
V3 pad2 0 1.1
V4 n1_m1_1000_1000 n1_m1_1000_1000x 0
I1 n1_m1_1000_1000 0 0.05
I2 n1_m1_2000_0 0 0.02
I3 0 n1_m1_0_2000 0.01
I4 n1_m1_1000_1000x 0 0.01
"""


def test_mesh_matches_dense_solve():
    pdn = parse_pdn(MESH)
    ref = dense_reference(pdn)
    for ordering in ORDERINGS:
        res = solve_static(pdn, method="direct", ordering=ordering)
        np.testing.assert_allclose(res.voltage, ref, atol=1e-12)
    res = solve_static(pdn, method="iterative")
    np.testing.assert_allclose(res.voltage, ref, atol=1e-9)
    assert res.n_unknowns == 7  # 11 nodes - 2 pad groups - 2 shorted-away nodes
    i = pdn.node_index("n1_m1_1000_1000")
    assert res.drop[i] == pytest.approx(1.1 - ref[i])
    assert res.drop[pdn.node_index("n1_m1_1000_1000x")] == res.drop[i]


def test_mutated_value_changes_answer():
    """The dense check can fail: a changed resistor moves the solution."""
    pdn = parse_pdn(MESH)
    ref = dense_reference(pdn)
    pdn.res_value[3] *= 2
    assert np.abs(solve_static(pdn).voltage - ref).max() > 1e-4


def test_vdd_and_ground_nets_in_one_deck():
    deck = """* VDD net 1 and GND net 2, one load between them
R1 n1_m1_0_0 n1_m1_1000_0 2
R2 n2_m1_0_0 n2_m1_1000_0 3
V1 n1_m1_0_0 0 1.0
V2 n2_m1_0_0 0 0
I1 n1_m1_1000_0 n2_m1_1000_0 0.01
"""
    res = solve_static(parse_pdn(deck))
    pdn = parse_pdn(deck)
    v = dict(zip(pdn.node_names, res.voltage, strict=True))
    d = dict(zip(pdn.node_names, res.drop, strict=True))
    assert v["n1_m1_1000_0"] == pytest.approx(1.0 - 0.02)
    assert v["n2_m1_1000_0"] == pytest.approx(0.03)
    assert d["n1_m1_1000_0"] == pytest.approx(0.02) and d["n2_m1_1000_0"] == pytest.approx(0.03)
    assert res.supply.tolist() == [1.0, 1.0, 0.0, 0.0]


def test_floating_subnetwork_named():
    deck = MESH + "R20 island_a island_b 1\nI9 island_a 0 1m\n"
    with pytest.raises(InputError) as e:
        solve_static(parse_pdn(deck, file="f.sp"))
    assert "island_a" in str(e.value) and "island_b" in str(e.value) and "f.sp" in str(e.value)
    solve_static(parse_pdn(deck + "R21 island_b n1_m1_0_0 1\n"))  # connected: solves


def test_node_with_only_a_capacitor_floats():
    with pytest.raises(InputError, match="float"):
        solve_static(parse_pdn(MESH + "C1 n1_m1_0_0 lonely 1p\n"))


def test_pad_conflict_reported():
    bad = MESH + "V10 extra 0 1.0\nV9 pad2 extra 0\n"
    with pytest.raises(InputError, match="different voltages") as e:
        solve_static(parse_pdn(bad))
    assert "V10 (1 V)" in str(e.value) and "V3 (1.1 V)" in str(e.value)
    with pytest.raises(InputError, match="ground"):  # a pad shorted to ground
        solve_static(parse_pdn(MESH + "V11 pad2 0 0\n"))
    solve_static(parse_pdn(MESH + "V9 pad2 n1_m1_0_0 0\n"))  # same voltage: fine


def test_no_pads_and_floating_source():
    with pytest.raises(InputError, match="no pads"):
        solve_static(parse_pdn("R1 a b 1\nI1 a 0 1m\n"))
    with pytest.raises(InputError, match="between two nodes"):
        solve_static(parse_pdn("R1 a b 1\nV1 a 0 1\nV2 a b 0.5\n"))


def test_iterative_matches_direct_on_grid():
    pdn = make_grid(width_um=80, height_um=80, pad_pitch_um=40, load="hotspot")
    d = solve_static(pdn, method="direct")
    it = solve_static(pdn, method="iterative")
    assert np.abs(d.voltage - it.voltage).max() < 1e-9
    assert it.iterations > 0 and d.worst_drop > 0


def test_inductors_are_shorts_in_dc():
    a = make_grid(width_um=40, height_um=40, pad_pitch_um=20)
    b = make_grid(width_um=40, height_um=40, pad_pitch_um=20, pad_inductance=1e-11)
    ra, rb = solve_static(a), solve_static(b)
    np.testing.assert_allclose(rb.voltage[: a.n_nodes], ra.voltage, atol=1e-13)


@needs_ngspice
def test_grid_op_matches_ngspice():
    pdn = make_grid(width_um=100, height_um=100, pad_pitch_um=50, load="hotspot", seed=3)
    assert 2000 < pdn.n_nodes < 5000
    res = solve_static(pdn)
    ref, _ = ngspice_op(pdn, timeout=120)
    assert not np.isnan(ref).any()
    assert np.abs(res.voltage - ref).max() < 1e-6
    pdn.is_value[0] += 0.01  # mutation: a different load must disagree
    assert np.abs(solve_static(pdn).voltage - ref).max() > 1e-6


# ---------------------------------------------------------------------------- transient
def rc_deck(load: str) -> str:
    return f"* RC\nR1 a p 100\nV1 p 0 1\nC1 a 0 1p\nI1 a 0 {load}\n"


@pytest.mark.parametrize("integration,order", [("be", 1), ("trap", 2)])
def test_rc_step_converges_to_analytic(integration, order):
    # 1 mA ramped on over T = 40 ps into R = 100 ohm, C = 1 pF (tau = 100 ps): superposed ramp responses.
    pdn = parse_pdn(rc_deck("pwl(0 0 40p 1m)"))
    tau, T, stop = 100e-12, 40e-12, 300e-12

    def ramp(t):
        t = np.maximum(t, 0)
        return t - tau * (1 - np.exp(-t / tau))

    def err(h):
        r = solve_transient(pdn, h, stop, integration=integration, probes=["a"])
        t = r.times
        exact = 1 - 100 * 1e-3 / T * (ramp(t) - ramp(t - T))
        return np.abs(r.probes["a"] - exact).max()

    e1, e2 = err(4e-12), err(2e-12)
    assert e2 < e1
    assert e1 / e2 == pytest.approx(2**order, rel=0.25)


def test_one_factorisation_per_step_size_and_array_loads():
    pdn = make_grid(width_um=40, height_um=40, pad_pitch_um=20, decap=1e-13)
    r = solve_transient(pdn, 1e-12, 50e-12)
    assert r.factorizations == 1 and len(r.times) == 51
    times = np.concatenate([np.arange(0, 20e-12, 1e-12), 20e-12 + np.arange(0, 31) * 2e-12])
    r2 = solve_transient(pdn, times=times)
    assert r2.factorizations == 2
    # constant per-load array waveform: the grid settles at the static solution
    n_is = len(pdn.is_value)
    lt = np.array([0.0, 1.0])
    li = np.vstack([pdn.is_value, pdn.is_value])
    r3 = solve_transient(pdn, 1e-11, 2e-9, load_waveform=(lt, li))
    np.testing.assert_allclose(r3.final_voltage, solve_static(pdn).voltage, atol=1e-12)
    with pytest.raises(InputError, match="shape"):
        solve_transient(pdn, 1e-11, 1e-10, load_waveform=(lt, li[:, : n_is - 1]))
    with pytest.raises(InputError, match="probe"):
        solve_transient(pdn, 1e-11, 1e-10, probes=["nope"])


def _tran_grid(w: float) -> GridParams:
    return GridParams(width_um=w, height_um=w, pad_pitch_um=w / 2, decap=1e-13, pad_inductance=1e-11,
                      pulse=(1e-10, 5e-11, 5e-11, 2e-10, 1e-9), seed=1)


@needs_ngspice
def test_small_grid_transient_matches_ngspice():
    pdn = make_grid(_tran_grid(24))
    probes = [str(pdn.node_names[i]) for i in (0, pdn.n_nodes // 2)]
    t, ref, _ = ngspice_tran(pdn, 1e-12, 3e-10, probes, timeout=120)
    r = solve_transient(pdn, 2.5e-13, 3e-10, probes=probes)
    for p in probes:
        assert np.abs(np.interp(t, r.times, r.probes[p]) - ref[p]).max() < 1e-6
        assert np.ptp(ref[p]) > 1e-4  # the waveform really moves
    assert r.worst_drop.max() > 0


@needs_ngspice
@pytest.mark.slow
def test_grid_transient_matches_ngspice_few_thousand_nodes():
    pdn = make_grid(_tran_grid(84))
    assert pdn.n_nodes > 2000
    probes = [str(pdn.node_names[i]) for i in (0, pdn.n_nodes // 3)]
    t, ref, _ = ngspice_tran(pdn, 1e-12, 1.2e-10, probes, timeout=1200)
    r = solve_transient(pdn, 2.5e-13, 1.2e-10, probes=probes)
    for p in probes:
        assert np.abs(np.interp(t, r.times, r.probes[p]) - ref[p]).max() < 1e-6


def test_ground_terminal_constant():
    assert GROUND == -1


def test_nested_dissection_is_a_permutation_and_matches():
    from eda.pdn.solve import nested_dissection

    pdn = make_grid(width_um=60, height_um=60, pad_pitch_um=30)
    x = np.arange(50.0)
    import scipy.sparse as sp

    A = sp.diags([np.full(49, -1.0), np.full(50, 2.0), np.full(49, -1.0)], [-1, 0, 1])
    p = nested_dissection(A, x, np.zeros(50), leaf=4)
    assert sorted(p.tolist()) == list(range(50))
    nd = solve_static(pdn, method="direct", ordering="nd")
    mmd = solve_static(pdn, method="direct", ordering="mmd")
    assert nd.ordering == "nd" and solve_static(pdn).ordering == "nd"
    assert np.abs(nd.voltage - mmd.voltage).max() < 1e-12
    ibm_like = parse_pdn("R1 a b 1\nV1 a 0 1\nI1 b 0 1m\n")
    assert solve_static(ibm_like).ordering == "mmd"  # no coordinates: minimum degree


def test_grid_params_validation_names_field():
    with pytest.raises(InputError, match="GridParams.width_um"):
        GridParams(width_um=-1)
    with pytest.raises(InputError, match="alternate"):
        from eda.pdn.grid import Layer

        GridParams(layers=(Layer("m1", "h", 2, 1), Layer("m2", "h", 2, 1)))
    with pytest.raises(InputError, match="GridParams.load"):
        GridParams(load="random")


def test_transient_needs_a_time_grid():
    with pytest.raises(InputError, match="time grid"):
        solve_transient(parse_pdn(MESH))
    with pytest.raises(InputError, match="integration"):
        solve_transient(parse_pdn(MESH), 1e-12, 1e-11, integration="gear")
