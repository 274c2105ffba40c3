"""The AMG behind the physics channels (graphs/pdn_amg: sa_hierarchy, spectral_radius, VCycle; the CG of
graphs/pdn_physics) and the static system shared by the pattern and level channels of one deck."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _grid_laplacian(nx: int, ny: int, seed: int = 0) -> sp.csr_matrix:
    """A resistive grid with random conductances and a few grounded nodes (an SPD M-matrix)."""
    rng = np.random.default_rng(seed)
    idx = np.arange(nx * ny).reshape(nx, ny)
    a = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    b = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    g = rng.uniform(0.2, 5.0, len(a))
    n = nx * ny
    L = sp.coo_matrix((np.r_[g, g, -g, -g], (np.r_[a, b, a, b], np.r_[a, b, b, a])), shape=(n, n)).tocsr()
    pads = rng.choice(n, 4, replace=False)
    return (L + sp.csr_matrix((np.full(4, 10.0), (pads, pads)), shape=(n, n))).tocsr()


def test_spectral_radius_matches_the_dense_eigenvalue():
    from eda.graphs.pdn_amg import spectral_radius

    A = _grid_laplacian(12, 9)
    dinv = 1.0 / A.diagonal()
    true = np.linalg.eigvals(np.diag(dinv) @ A.toarray()).real.max()
    est = spectral_radius(A, dinv)
    assert 0.97 * true <= est <= true * (1 + 1e-9)  # Ritz values stay inside the spectrum
    assert spectral_radius(A, dinv) == est  # deterministic
    assert spectral_radius(A, dinv, steps=2) < est  # a short Krylov space sees less of it


def _cg(A, b, vc, it):
    import scipy.sparse.linalg as sla

    return sla.cg(A, b, M=vc.operator(), maxiter=it, rtol=1e-14)[0]


def test_sa_hierarchy_is_multilevel_deterministic_and_converges():
    from eda.graphs.pdn_amg import VCycle, sa_hierarchy

    A = _grid_laplacian(60, 50, seed=1)
    b = np.random.default_rng(2).random(A.shape[0])
    exact = sp.linalg.spsolve(A.tocsc(), b)
    levels, coarse = sa_hierarchy(A, max_coarse=50)
    assert len(levels) >= 2 and all(sp.issparse(M) and M.format == "csr" for lv in levels for M in lv)  # CSR
    errs = []
    for it in (1, 3, 10):
        x = _cg(A, b, VCycle(levels, coarse, np.float64), it)
        errs.append(np.abs(x - exact).max() / np.abs(exact).max())
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-6
    x2 = _cg(A, b, VCycle(*sa_hierarchy(A, max_coarse=50)), 3)
    x1 = _cg(A, b, VCycle(levels, coarse), 3)
    assert np.array_equal(x1, x2)  # same deck, same features: no random start vector
    # no coarsening possible (no couplings): one level, solved directly, whatever its size
    D = sp.diags(np.linspace(1.0, 2.0, 800)).tocsr()
    x = _cg(D, np.ones(800), VCycle(*sa_hierarchy(D), np.float64), 1)
    np.testing.assert_allclose(x, 1.0 / np.linspace(1.0, 2.0, 800), rtol=1e-10)


def test_vcycle_is_pyamgs_v_cycle_without_its_residual_norms():
    """The same operations as pyamg's preconditioner on the same levels (float64: to rounding); float32 moves
    the result by ~1e-7; and the set-up's strength at θ = 0 is A itself (the same aggregates as pyamg's)."""
    from pyamg.aggregation.aggregate import standard_aggregation
    from pyamg.multilevel import MultilevelSolver
    from pyamg.relaxation.smoothing import change_smoothers
    from pyamg.strength import symmetric_strength_of_connection

    from eda.graphs.pdn_amg import VCycle, sa_hierarchy

    A = _grid_laplacian(70, 40, seed=3)
    assert (standard_aggregation(A)[0] != standard_aggregation(symmetric_strength_of_connection(A, 0.0))[0]).nnz == 0
    levels, coarse = sa_hierarchy(A, max_coarse=60)
    lvls = []
    for M, P, R in levels:
        lv = MultilevelSolver.Level()
        lv.A, lv.P, lv.R = M, P, R
        lvls.append(lv)
    lv = MultilevelSolver.Level()
    lv.A = coarse
    ml = MultilevelSolver(lvls + [lv], coarse_solver="pinv")
    sweep = ("gauss_seidel", {"sweep": "symmetric"})
    change_smoothers(ml, sweep, sweep)
    b = np.random.default_rng(4).random(A.shape[0])
    ref = ml.aspreconditioner(cycle="V") @ b
    np.testing.assert_allclose(VCycle(levels, coarse, np.float64)(b), ref, rtol=1e-12, atol=1e-14 * np.abs(ref).max())
    x32 = VCycle(levels, coarse)(b)
    assert x32.dtype == np.float64
    assert 0 < np.abs(x32 - ref).max() / np.abs(ref).max() < 1e-5
    bad = VCycle(levels[:1], levels[1][0], np.float64)  # one level fewer: a different (coarser) cycle
    assert np.abs(bad(b) - ref).max() / np.abs(ref).max() > 1e-3


def test_pcg_is_scipys_cg_and_keeps_nested_iterates():
    import scipy.sparse.linalg as sla

    from eda.graphs.pdn_amg import VCycle, sa_hierarchy
    from eda.graphs.pdn_physics import _pcg

    A = _grid_laplacian(40, 30, seed=5)
    n = A.shape[0]
    fixed = np.full(n + 2, np.nan)
    fixed[n:] = (1.0, 0.5)  # two fixed groups pulling on two nodes
    G = sp.block_diag([A, sp.identity(2)]).tolil()
    G[0, n], G[n, 0], G[7, n + 1], G[n + 1, 7] = -3.0, -3.0, -2.0, -2.0
    G = G.tocsr()
    u = np.arange(n)

    class Topo:
        unknown = u
    Topo.fixed = fixed
    Auu = G[:n][:, :n].tocsr()
    shift = G[:n][:, n:] @ fixed[n:]
    vc = VCycle(*sa_hierarchy(Auu, max_coarse=40))
    rhs = np.r_[np.random.default_rng(6).random(n) * 1e-3, 0.0, 0.0]
    x0 = np.r_[np.full(n, 0.9), fixed[n:]]
    got = _pcg(Topo, (Auu, shift, vc), rhs, x0, [2, 5])
    for k, vg in zip((2, 5), got, strict=True):
        ref, _ = sla.cg(Auu, rhs[:n] - shift, x0=x0[:n], M=vc.operator(), maxiter=k, rtol=1e-14)
        np.testing.assert_array_equal(vg[:n], ref)
        np.testing.assert_array_equal(vg[n:], fixed[n:])
    assert not np.array_equal(got[0], got[1])


def test_one_static_system_serves_pattern_step_and_static_drop():
    from eda.generators.synth_ibm import make_ibm_style_pdn
    from eda.graphs.pdn_physics import dynamic_pattern, estimate_drop, static_system, step_drop

    pdn, _ = make_ibm_style_pdn(5, max_nodes=3000)
    st = static_system(pdn)
    assert st.reduced is None  # the AMG set-up waits for the first solve
    shared = (dynamic_pattern(pdn, (8, 8), 1000.0, 4, static=st), step_drop(pdn, 6, static=st))
    assert st.reduced is not None
    alone = (dynamic_pattern(pdn, (8, 8), 1000.0, 4), step_drop(pdn, 6))
    np.testing.assert_array_equal(shared[0], alone[0])
    np.testing.assert_array_equal(shared[1], alone[1])
    np.testing.assert_array_equal(estimate_drop(pdn, 5, static=st), estimate_drop(pdn, 5))


def test_dc_drop_reuses_the_peak_solve_when_the_dc_loads_are_a_fraction_of_the_peaks():
    from eda.generators.synth_ibm import make_ibm_style_pdn
    from eda.graphs.pdn_physics import _dc_drop, estimate_drop, signed_peaks, static_system

    pdn, _ = make_ibm_style_pdn(5, max_nodes=3000)
    dc, pk = pdn.is_value.astype(np.float64), signed_peaks(pdn)
    assert np.ptp(dc / pk) < 1e-6 * np.abs(dc / pk).max()  # IBM style: PULSE from a·I to I
    st = static_system(pdn)
    st.plan = (4, 6)
    own = estimate_drop(pdn, 6, currents=dc)
    reused = _dc_drop(pdn, 6, dc, st)
    assert sorted(st.peaks) == [4, 6]  # one CG run for both counts
    np.testing.assert_allclose(reused, own, rtol=0, atol=1e-5 * np.abs(own).max())  # float32 V-cycle rounding
    np.testing.assert_array_equal(st.peaks[4], estimate_drop(pdn, 4, currents=pk))  # nested iterates
    dc2 = dc.copy()
    dc2[0] *= 3  # no longer one fraction of the peaks: a solve of its own
    np.testing.assert_array_equal(_dc_drop(pdn, 6, dc2, st), estimate_drop(pdn, 6, currents=dc2, static=st))
    assert np.abs(_dc_drop(pdn, 6, dc2, st) - reused).max() > 1e-3 * np.abs(own).max()


SMALL = """* a few nodes: grid, decap with its series resistor, package R-L, one PULSE load
R1 n1_0_0 n1_1000_0 0.5
R2 n1_0_0 _X_n1_0_0 0.05
L1 _X_n1_0_0 _Y_n1_0_0 2e-10
V1 _Y_n1_0_0 0 1.8
C1 n1_1000_0 _Z_n1_1000_0 4e-12
R3 _Z_n1_1000_0 0 0.8
I1 n1_1000_0 0 1e-3 PULSE(1e-3 4e-2 1e-10 5e-11 5e-11 2e-10 1e-9)
.tran 1e-11 2e-9
.end
"""


def test_small_transient_is_solve_transients_stepping(monkeypatch):
    """lumped_droop's dense stepping of a few-node network gives solve_transient's worst drops."""
    from eda.graphs import pdn_physics
    from eda.graphs.pdn_physics import _small_transient_worst, lumped_droop
    from eda.pdn.parse import parse_pdn
    from eda.pdn.solve import solve_transient, source_currents

    pdn = parse_pdn(SMALL)
    times = np.arange(201) * 1e-11
    wave = np.stack([source_currents(pdn, t) for t in times])
    ref = solve_transient(pdn, times=times, load_waveform=(times, wave)).worst_drop
    got = _small_transient_worst(pdn, times, wave)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)
    assert ref.max() > 1e-3  # the load's step shows
    other = _small_transient_worst(pdn, times, wave * 2)  # linear in the loads: twice the drop
    np.testing.assert_allclose(other, 2 * ref, rtol=1e-6)
    fast = lumped_droop(pdn)
    monkeypatch.setattr(pdn_physics, "_small_transient_worst", lambda p, t, w: solve_transient(
        p, times=t, load_waveform=(t, w)).worst_drop)
    assert fast > 1e-3 and abs(lumped_droop(pdn) - fast) <= 1e-9 * fast  # the sparse engine's value


def test_dynamic_graph_inputs_are_those_of_the_code_before_the_speed_work():
    """Session 8 made the graph build faster without changing what the models see: the channel sums of a small
    IBM-style deck's dynamic graph equal those of the session-7 code (commit fe83c92) to float32/AMG rounding."""
    from eda.generators.synth_ibm import make_ibm_style_pdn
    from eda.graphs.pdn_graph import GraphParams, build_pdn_graph

    pdn, _ = make_ibm_style_pdn(5, max_nodes=3000)

    def sums(step_iters=8):
        g = build_pdn_graph(pdn, {}, GraphParams(dbu_per_um=1000.0, n_slices=8, pattern_iters=4, step_iters=step_iters))
        f = g.image_fine.double().abs().numpy()
        return np.array([*f.sum(axis=(1, 2)), float(g.image.double().abs().sum()), g.lumped_v,
                         float(g["cell"].x.double().abs().sum())])

    ref = np.array([0.00023835135718286438, 1159.9170035123825, 52.9916540235281, 77.66158810560592,
                    2.320187865756452, 49.0201838126643, 0.006668462183624824, 2.8874590465924825])
    np.testing.assert_allclose(sums(), ref, rtol=1e-5)
    assert np.abs(sums(step_iters=4) / ref - 1).max() > 1e-5  # the check sees a changed channel
