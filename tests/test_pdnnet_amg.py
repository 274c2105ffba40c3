"""The AMG set-up behind the physics channels (graphs/pdn_physics: _sa_hierarchy, _spectral_radius) and the
static system shared by the pattern and level channels of one deck."""

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
    from eda.graphs.pdn_physics import _spectral_radius

    A = _grid_laplacian(12, 9)
    dinv = 1.0 / A.diagonal()
    true = np.linalg.eigvals(np.diag(dinv) @ A.toarray()).real.max()
    est = _spectral_radius(A, dinv)
    assert 0.97 * true <= est <= true * (1 + 1e-9)  # Ritz values stay inside the spectrum
    assert _spectral_radius(A, dinv) == est  # deterministic
    assert _spectral_radius(A, dinv, steps=2) < est  # a short Krylov space sees less of it


def test_sa_hierarchy_is_multilevel_deterministic_and_converges():
    import scipy.sparse.linalg as sla

    from eda.graphs.pdn_physics import _sa_hierarchy

    A = _grid_laplacian(60, 50, seed=1)
    b = np.random.default_rng(2).random(A.shape[0])
    exact = sp.linalg.spsolve(A.tocsc(), b)
    ml = _sa_hierarchy(A, max_coarse=50)
    assert len(ml.levels) >= 3 and all(sp.isspmatrix_csr(lv.A) for lv in ml.levels)  # CSR on every level
    errs = []
    for it in (1, 3, 10):
        x, _ = sla.cg(A, b, M=ml.aspreconditioner(cycle="V"), maxiter=it, rtol=1e-14)
        errs.append(np.abs(x - exact).max() / np.abs(exact).max())
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-6
    x2, _ = sla.cg(A, b, M=_sa_hierarchy(A, max_coarse=50).aspreconditioner(cycle="V"), maxiter=3, rtol=1e-14)
    x1, _ = sla.cg(A, b, M=ml.aspreconditioner(cycle="V"), maxiter=3, rtol=1e-14)
    assert np.array_equal(x1, x2)  # same deck, same features: no random start vector
    # no coarsening possible (no couplings): one level, solved directly, whatever its size
    D = sp.diags(np.linspace(1.0, 2.0, 800)).tocsr()
    x, _ = sla.cg(D, np.ones(800), M=_sa_hierarchy(D).aspreconditioner(), maxiter=1, rtol=1e-14)
    np.testing.assert_allclose(x, 1.0 / np.linspace(1.0, 2.0, 800), rtol=1e-10)


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
