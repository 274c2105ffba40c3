"""Physics features of a PDN for the learned models: a truncated multigrid solve and its fast rasterisation.

:func:`estimate_drop` runs a *fixed, small* number of conjugate-gradient iterations preconditioned by one
smoothed-aggregation AMG V-cycle each (``pyamg``) on the same nodal equations the exact solver factorises,
starting from "every node at its supply" (zero drop). It is a physics-shaped first guess whose cost is part
of every prediction's time, never the exact solution: measured against :func:`eda.pdn.solve.solve_static` on
the four complete ICCAD'23 real cases, 2 iterations leave a node MAE of 0.26–0.35 mV, 4 iterations
0.03–0.05 mV, 6 iterations 0.008–0.012 mV, 8 iterations 0.002–0.003 mV, against drops of 4–6 mV (with
:mod:`eda.graphs.pdn_amg`, session 7). The learned model corrects what the truncation and the rasterisation
leave (see :mod:`eda.predictors.pdnnet`).

:func:`rail_raster` turns node values on the lowest metal layer into a map at the contest's integer points
``(x, y) = (0 … W-1, 0 … H-1)`` µm, cheaply: the contest's m1 nodes sit on straight rails, so it
interpolates linearly along each rail, then linearly across rails (two ``np.interp`` passes, a few ms for
a 566×566 map; scipy's Clough–Tocher ``griddata`` on the same points takes 0.2–25 s on this machine, its
triangulation degenerates on collinear rails). Outside the rails values are held (nearest), as the
contest fills points outside the hull.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eda.pdn.model import GROUND, PDN

__all__ = ["estimate_drop", "rail_raster", "bottom_layer_map", "rail_direction", "lumped_droop", "PHYSICS_ITERATIONS",
           "signed_peaks", "dynamic_pattern", "step_drop", "step_length", "static_system", "StaticSystem"]

#: Default iteration budget of :func:`estimate_drop` (AMG-preconditioned CG steps).
PHYSICS_ITERATIONS = 4


def estimate_drop(pdn: PDN, iterations: int = PHYSICS_ITERATIONS, currents: np.ndarray | None = None,
                  static: StaticSystem | None = None) -> np.ndarray:
    """Approximate static IR drop of every node (V): ``iterations`` AMG-PCG steps from the zero-drop guess.

    Same equations and drop convention as :func:`eda.pdn.solve.solve_static` (shorts merged, pads fixed,
    ``supply − V`` on positive nets). ``iterations=0`` returns zeros. ``currents`` (one per current
    source) replaces the deck's DC values (e.g. the loads' peaks, :func:`dynamic_pattern`). ``static``:
    :func:`static_system` of ``pdn`` when the caller already has it (several solves of one deck).

    Raises:
        InputError: the network is not well posed (:func:`eda.pdn.check.check_pdn` conditions).
    """

    return _estimates(pdn, [iterations], currents, static)[0]


def _estimates(pdn: PDN, ks: list[int], currents: np.ndarray | None, static: StaticSystem | None
               ) -> list[np.ndarray]:
    """:func:`estimate_drop` after each of the iteration counts ``ks`` (sorted), from one CG run."""
    from eda.pdn.check import drop_from

    st = static_system(pdn) if static is None else static
    topo, nom = st.topo, st.nom
    lab = topo.label[: pdn.n_nodes]
    if max(ks) <= 0 or not len(topo.unknown):
        return [np.zeros(pdn.n_nodes) for _ in ks]
    if st.reduced is None:
        st.reduced = _reduced(topo, topo.G)
    cur = pdn.is_value if currents is None else np.asarray(currents, dtype=np.float64)
    vgs = _pcg(topo, st.reduced, _inject(pdn, topo.label, topo.n_groups, cur), nom, ks)
    return [drop_from(vg[lab], nom[lab]) if k > 0 else np.zeros(pdn.n_nodes) for k, vg in zip(ks, vgs, strict=True)]


@dataclass
class StaticSystem:
    """What :func:`estimate_drop`, :func:`dynamic_pattern` and :func:`step_drop` share for one deck: the static
    equations' topology (inductors and 0-V sources shorted), each group's nominal supply, after the first
    solve the unknowns' block with its AMG preconditioner (:func:`_reduced`), and the drops with every load at
    its peak (:meth:`peak_drop`) after each iteration count in ``plan`` (the deck's channels ask for several:
    one CG run gives them all, its iterates are nested)."""

    topo: object
    nom: np.ndarray
    reduced: tuple | None = None
    plan: tuple[int, ...] = ()
    peaks: dict = field(default_factory=dict)

    def peak_drop(self, pdn: PDN, iterations: int) -> np.ndarray:
        """:func:`estimate_drop` of ``pdn`` with :func:`signed_peaks` after ``iterations`` steps."""
        if iterations not in self.peaks:
            ks = sorted({int(iterations), *self.plan})
            self.peaks.update(zip(ks, _estimates(pdn, ks, signed_peaks(pdn), self), strict=True))
        return self.peaks[iterations]


def static_system(pdn: PDN) -> StaticSystem:
    """:class:`StaticSystem` of a deck (its AMG set-up is made by the first solve that needs it)."""
    from eda.pdn.check import build_topology, nominal_supply

    topo = build_topology(pdn, inductors_short=True)
    return StaticSystem(topo, nominal_supply(pdn, topo))


def signed_peaks(pdn: PDN) -> np.ndarray:
    """Every source's value of largest magnitude over its waveform, with its sign (DC: the value; PULSE: the
    larger-magnitude level; PWL: the largest-magnitude point)."""
    from eda.pdn.model import WAVE_PULSE, WAVE_PWL

    out = pdn.is_value.astype(np.float64).copy()
    pm = pdn.is_kind == WAVE_PULSE
    if pm.any():
        i1, i2 = pdn.is_pulse[pm, 0], pdn.is_pulse[pm, 1]
        out[pm] = np.where(np.abs(i2) > np.abs(i1), i2, i1)
    for k in np.flatnonzero((pdn.is_kind == WAVE_PWL) & (np.diff(pdn.pwl_start) > 0)):
        v = pdn.pwl_v[pdn.pwl_start[k]:pdn.pwl_start[k + 1]]
        out[k] = v[np.argmax(np.abs(v))]
    return out


def dynamic_pattern(pdn: PDN, shape: tuple[int, int], dbu_per_um: float, iterations: int = PHYSICS_ITERATIONS,
                    static: StaticSystem | None = None) -> np.ndarray:
    """Where a transient deck's worst drop sits: the static drop with every load at its peak, as a map scaled
    to a largest value of 1 (0 where nothing draws current).

    The level of a dynamic drop is set by the package and the decaps (:func:`lumped_droop`), its pattern by
    the grid's resistance between the loads and the pads: on ibmpg1t the exact static-at-peak drop map
    correlates with the exact worst-over-the-transient map at CC 0.89, and ``iterations`` AMG-PCG steps of it
    (:func:`estimate_drop`: 4 steps, CC 0.88) cost 0.1 s there, 0.7 s on a 335k-node deck. Rasterised like
    the dynamic labels (largest node drop per map pixel, ``tile-max``, lowest layer). ``static``: as in
    :func:`estimate_drop`.
    """
    from eda.pdn.maps import ir_drop_map

    d = (static_system(pdn) if static is None else static).peak_drop(pdn, iterations)
    m = ir_drop_map(pdn, d, shape, dbu_per_um, method="tile-max")
    top = float(np.abs(m).max()) if m.size else 0.0
    return m / top if top > 0 else np.zeros(shape)


def step_length(pdn: PDN) -> float:
    """Time step (s) of :func:`step_drop`: how long a load's switching peak lasts, ``(rise + top) / 2`` (median
    over the PULSE loads); PWL loads: the median spacing of their points; else the deck's ``.tran`` step
    (1 ns without one)."""
    from eda.pdn.model import WAVE_PULSE

    pm = pdn.is_kind == WAVE_PULSE
    if pm.any():
        p = pdn.is_pulse[pm]
        h = float(np.median(p[:, 3] + p[:, 5])) / 2
        if h > 0:
            return h
    if len(pdn.pwl_t) > 1:
        dt = np.diff(pdn.pwl_t)
        dt = dt[dt > 0]
        if len(dt):
            return float(np.median(dt))
    return float(pdn.tran[0]) if pdn.tran is not None and pdn.tran[0] > 0 else 1e-9


def step_drop(pdn: PDN, iterations: int = PHYSICS_ITERATIONS, h: float | None = None,
              currents: np.ndarray | None = None, static: StaticSystem | None = None) -> np.ndarray:
    """Drop of every node (V) one backward-Euler step of length ``h`` after every load jumps from its DC value
    to its peak (``currents``: the values after the jump), from the DC operating point: the dynamic level with
    the DC drop, the decaps, their series resistors, the package inductors and the grid in it.

    By linearity it is the DC drop (:func:`estimate_drop` with the DC values) plus the step of the jump from
    rest: ``(G + C/h + h·Γ) v = Δi + (C/h)·v_nominal`` (``Γ``: the inductors' ``1/L`` Laplacian; rest: every
    node at its supply, no current in the inductors), each by ``iterations`` AMG-PCG steps; ``h`` defaults to
    :func:`step_length`. Loads that stay at their peak for ``h`` draw their charge from the decaps first, so a
    deck whose decaps absorb the switching peaks (ibmpg1t: static drop at the peaks 2 V, true worst 0.24 V)
    gets a low level, a deck without decaps the static-at-peak drop, a deck of mostly DC load its DC drop.
    On ibmpg1t and 40 IBM-style training decks the largest value is 0.22-1.29x the exact transient's worst
    drop (from rest, without the DC part: 0.02-1.23x). Never the exact transient: one step, truncated.
    ``static``: as in :func:`estimate_drop`.
    """
    from eda.pdn.check import build_topology, drop_from, ext_index, laplacian

    n = pdn.n_nodes
    h = step_length(pdn) if h is None else float(h)
    static = static_system(pdn) if static is None else static  # a node's supply: through its package inductor
    nom_node = static.nom[static.topo.label[:n]]
    topo = build_topology(pdn, inductors_short=False)
    if iterations <= 0 or not len(topo.unknown):
        return np.zeros(n)
    lab, ng = topo.label, topo.n_groups
    M = topo.G
    if len(pdn.cap_value):
        Cm = laplacian(lab[ext_index(pdn.cap_a, n)], lab[ext_index(pdn.cap_b, n)], pdn.cap_value, ng)
        M = M + Cm / h
    if len(pdn.ind_value):
        M = M + h * laplacian(lab[ext_index(pdn.ind_a, n)], lab[ext_index(pdn.ind_b, n)], 1.0 / pdn.ind_value, ng)
    nom = np.zeros(ng)
    nom[lab[:n]] = nom_node
    extra = (Cm / h) @ nom if len(pdn.cap_value) else np.zeros(ng)
    cur = signed_peaks(pdn) if currents is None else np.asarray(currents, dtype=np.float64)
    dc = pdn.is_value.astype(np.float64)
    v = _pcg(topo, _reduced(topo, M), _inject(pdn, lab, ng, cur - dc) + extra, nom, [iterations])[0]
    d = drop_from(v[lab[:n]], nom_node)
    return d + _dc_drop(pdn, iterations, dc, static) if np.any(dc) else d


def _dc_drop(pdn: PDN, iterations: int, dc: np.ndarray, static: StaticSystem) -> np.ndarray:
    """:func:`estimate_drop` with the DC values ``dc``; where they are one fixed fraction ``a`` of the peaks
    (every IBM-style deck: a PULSE from ``a·I`` to ``I``; to 1e-5, the decks' own rounding) ``a`` times the
    peaks' drop after as many steps, which :meth:`StaticSystem.peak_drop` already has (CG iterates scale
    with the right-hand side)."""
    pk = signed_peaks(pdn)
    pp = float(pk @ pk)
    a = float(dc @ pk) / pp if pp > 0 else 0.0
    if a != 0.0 and np.abs(dc - a * pk).max() <= 1e-5 * np.abs(dc).max():
        return a * static.peak_drop(pdn, iterations)
    return estimate_drop(pdn, iterations, currents=dc, static=static)


def _inject(pdn: PDN, lab: np.ndarray, ng: int, cur: np.ndarray) -> np.ndarray:
    n = pdn.n_nodes
    g_a = lab[np.where(pdn.is_a < 0, n, pdn.is_a)]
    g_b = lab[np.where(pdn.is_b < 0, n, pdn.is_b)]
    return np.bincount(g_b, cur, minlength=ng) - np.bincount(g_a, cur, minlength=ng)


def _pcg(topo, reduced: tuple, rhs: np.ndarray, x0: np.ndarray, ks: list[int]) -> list[np.ndarray]:
    """AMG-preconditioned CG on the unknown groups of ``A v = rhs`` (``reduced``: :func:`_reduced` of ``A``;
    fixed groups at their pad voltage) from ``x0``: the group voltages (0 where undetermined) after each of the
    step counts ``ks`` (sorted). The arithmetic of ``scipy.sparse.linalg.cg`` (rtol 1e-14: far below any
    budget's reach, stops only at convergence, no 0/0 breakdown on tiny grids)."""
    from threadpoolctl import threadpool_limits

    u = topo.unknown
    Auu, shift, vcycle = reduced
    b = rhs[u] - shift
    x = x0[u].astype(np.float64)
    out = []

    def keep(v):
        vg = topo.fixed.copy()
        vg[u] = v
        vg[np.isnan(vg)] = 0.0
        out.append(vg)

    bnrm = float(np.linalg.norm(b))
    if bnrm == 0:  # scipy's cg returns b itself here
        x = b.copy()
    else:
        r = b - Auu @ x if x.any() else b.copy()
        p, rho_prev = None, 0.0
        with threadpool_limits(1):
            for it in range(max(ks)):
                while len(out) < len(ks) and ks[len(out)] <= it:
                    keep(x)
                if np.linalg.norm(r) < 1e-14 * bnrm:
                    break
                z = vcycle(r)
                rho = float(np.dot(r, z))
                if p is None:
                    p = z.copy()
                else:
                    p *= rho / rho_prev
                    p += z
                q = Auu @ p
                alpha = rho / float(np.dot(p, q))
                x += alpha * p
                r -= alpha * q
                rho_prev = rho
    while len(out) < len(ks):
        keep(x)
    return out


def _reduced(topo, A) -> tuple:
    """The unknowns' block ``A_uu`` of ``A``, the fixed groups' pull ``A_uf · v_f`` and the AMG V-cycle
    preconditioner of ``A_uu`` (:mod:`eda.graphs.pdn_amg`: smoothed aggregation, float32 V-cycle)."""
    import scipy.sparse as sp
    from threadpoolctl import threadpool_limits

    from eda.graphs.pdn_amg import VCycle, sa_hierarchy

    u = topo.unknown
    f = np.flatnonzero(~np.isnan(topo.fixed))
    Au = sp.csr_matrix(A)[u]
    Auu = sp.csr_matrix(Au[:, u])
    with threadpool_limits(1):  # small dense BLAS calls in the AMG setup: extra threads only spin
        pre = VCycle(*sa_hierarchy(Auu))
    return Auu, Au[:, f] @ topo.fixed[f], pre


def rail_raster(x: np.ndarray, y: np.ndarray, v: np.ndarray, shape: tuple[int, int],
                along: str = "x") -> np.ndarray:
    """Values ``v`` at points ``(x, y)`` (µm) → map ``(W, H)`` at the integer points, rail by rail.

    A rail is the set of points sharing one ``y`` (``along="x"``, the contest's horizontal m1 rails) or one
    ``x`` (``along="y"``).
    """
    x, y, v = (np.asarray(a, dtype=np.float64) for a in (x, y, v))
    if not len(v):
        return np.zeros(shape)
    if along == "y":
        return rail_raster(y, x, v, (shape[1], shape[0])).T
    ry, rail = np.unique(y, return_inverse=True)
    rail = rail.ravel()
    order = np.lexsort((x, rail))
    rail, xs, vs = rail[order], x[order], v[order]
    span = max(float(xs.max() - xs.min()), float(shape[0]), 1.0) * 2.0
    x0 = min(float(xs.min()), 0.0)
    key = rail + (xs - x0) / span
    first = np.r_[0, np.flatnonzero(np.diff(rail)) + 1]
    last = np.r_[first[1:] - 1, len(rail) - 1]
    gx = np.arange(shape[0], dtype=np.float64)
    q = np.arange(len(ry))[:, None] + (gx[None, :] - x0) / span           # (rails, W) query keys
    rows = np.interp(q.ravel(), key, vs).reshape(q.shape)
    rows = np.where(gx[None, :] <= xs[first][:, None], vs[first][:, None], rows)   # hold outside each rail
    rows = np.where(gx[None, :] >= xs[last][:, None], vs[last][:, None], rows)
    gy = np.arange(shape[1], dtype=np.float64)
    if len(ry) == 1:
        return np.repeat(rows[0][:, None], shape[1], axis=1)
    j = np.clip(np.searchsorted(ry, gy, side="right") - 1, 0, len(ry) - 2)
    w = np.clip((gy - ry[j]) / (ry[j + 1] - ry[j]), 0.0, 1.0)
    return (rows[j] * (1.0 - w[:, None]) + rows[j + 1] * w[:, None]).T


def bottom_layer_map(pdn: PDN, values: np.ndarray, shape: tuple[int, int], dbu_per_um: float) -> np.ndarray:
    """:func:`rail_raster` of per-node ``values`` over the lowest-metal-layer nodes (contest: m1)."""
    from eda.pdn.maps import lowest_layer_nodes

    nodes = lowest_layer_nodes(pdn)
    return rail_raster(pdn.node_x[nodes] / dbu_per_um, pdn.node_y[nodes] / dbu_per_um, values[nodes], shape,
                       along=rail_direction(pdn, nodes))


def rail_direction(pdn: PDN, nodes: np.ndarray) -> str:
    """``"x"`` when the wires between ``nodes`` run mostly along x (horizontal rails), else ``"y"``."""
    on = np.zeros(pdn.n_nodes, dtype=bool)
    on[nodes] = True
    a, b = pdn.res_a, pdn.res_b
    w = (a != GROUND) & (b != GROUND)
    w[w] &= on[a[w]] & on[b[w]]
    dx = np.abs(pdn.node_x[a[w]] - pdn.node_x[b[w]]).sum()
    dy = np.abs(pdn.node_y[a[w]] - pdn.node_y[b[w]]).sum()
    return "x" if dx >= dy else "y"


def _unique(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True)`` for non-negative integer keys of a small range, without a sort."""
    if not len(key) or key.max() > 8 * len(key) + 1024:
        u, inv = np.unique(key, return_inverse=True)
        return u, inv.ravel()
    used = np.zeros(int(key.max()) + 1, dtype=bool)
    used[key] = True
    return np.flatnonzero(used), (np.cumsum(used) - 1)[key]


def _prefix_kinds(names: np.ndarray) -> np.ndarray:
    """``np.unique(np.char.partition(names, "n")[:, 0], return_inverse=True)[1]`` (the name before its first
    ``n``: ``_Z_``, ``_X_``) for a few distinct prefixes, by comparing code points instead of sorting strings."""
    names = np.ascontiguousarray(names, dtype=str)
    w = names.dtype.itemsize // 4
    if not len(names) or not w:
        return np.zeros(len(names), dtype=np.int64)
    C = names.view(np.uint32).reshape(len(names), w)
    is_n = C == ord("n")
    cut = np.where(is_n.any(1), is_n.argmax(1), w)
    C = np.where(np.arange(w)[None, :] < cut[:, None], C, 0)  # the prefix, NUL-padded like numpy's strings
    inv = np.full(len(names), -1, dtype=np.int64)
    pref = []
    while (left := np.flatnonzero(inv < 0)).size:
        if len(pref) == 32:  # many prefixes: numpy's string sort
            return np.unique(np.char.partition(names, "n")[:, 0], return_inverse=True)[1].ravel()
        same = (C[left] == C[left[0]]).all(1)
        inv[left[same]] = len(pref)
        pref.append(C[left[0]].view(f"<U{w}")[0])
    rank = np.empty(len(pref), dtype=np.int64)
    rank[np.argsort(np.array(pref))] = np.arange(len(pref))
    return rank[inv]


def lumped_droop(pdn: PDN, max_steps: int = 4000) -> float:
    """Worst drop (V) of the deck's transient with the on-die grid lumped: a dynamic level estimate.

    Every grid node of one net (nodes joined by resistors and 0-V sources, names without a ``_X_`` style
    prefix) becomes one node, and the prefixed nodes (package ``_X_``/``_Y_``, decap ``_Z_``) one node per
    prefix and net, so what is left is the package (R, L per bump, in parallel), the decaps with their
    series resistors, the supply sources and every load waveform — the global droop of each net, without
    the grid's own resistance. Solved by :func:`eda.pdn.solve.solve_transient` over the deck's ``.tran``
    (a handful of unknowns: milliseconds per hundred steps). Returns 0 for a deck without ``.tran``, or
    where nothing stores energy (no capacitor, no inductor).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from eda.pdn.solve import solve_transient

    if pdn.tran is None or not (len(pdn.cap_value) or len(pdn.ind_value)):
        return 0.0
    n = pdn.n_nodes
    names = np.asarray(pdn.node_names, dtype=str)
    special = names.astype("U1") == "_"
    grid = ~special
    a = np.concatenate([pdn.res_a, pdn.vs_a[pdn.vs_value == 0]])
    b = np.concatenate([pdn.res_b, pdn.vs_b[pdn.vs_value == 0]])
    ok = (a >= 0) & (b >= 0)
    a, b = a[ok], b[ok]
    both = grid[a] & grid[b]
    _, comp = connected_components(coo_matrix((np.ones(int(both.sum())), (a[both], b[both])), shape=(n, n)),
                                   directed=False)
    comp = np.where(grid, comp, -1)
    ea = np.concatenate([pdn.res_a, pdn.cap_a, pdn.ind_a, pdn.vs_a])
    eb = np.concatenate([pdn.res_b, pdn.cap_b, pdn.ind_b, pdn.vs_b])
    k = (ea >= 0) & (eb >= 0)
    ea, eb = np.concatenate([ea[k], eb[k]]), np.concatenate([eb[k], ea[k]])
    k = special[ea]  # only a prefixed node takes a net (grid nodes have theirs): the same edges in the same order
    ea, eb = ea[k], eb[k]
    for _ in range(8):  # prefixed nodes take the net of a neighbour (decap: node-C-z; pad: node-R-x-L-y)
        take = (comp[ea] < 0) & (comp[eb] >= 0)
        if not take.any():
            break
        comp[ea[take]] = comp[eb[take]]
    # one group per (name prefix, net component): integer keys (string keys cost seconds at 300k nodes)
    kind = np.zeros(n, dtype=np.int64)
    if special.any():
        kind[special] = _prefix_kinds(names[special]) + 1
    grp = _unique(kind * (int(comp.max()) + 2) + (comp + 1))[1]
    m = int(grp.max()) + 1 if n else 0

    def remap(x):
        return np.where(x >= 0, grp[np.maximum(x, 0)], x)

    def keep2(x, y):  # drop elements that the merge puts inside one node
        return ~((x >= 0) & (y >= 0) & (remap(x) == remap(y)))

    from dataclasses import replace

    rk, ck, lk = keep2(pdn.res_a, pdn.res_b), keep2(pdn.cap_a, pdn.cap_b), keep2(pdn.ind_a, pdn.ind_b)
    vk = keep2(pdn.vs_a, pdn.vs_b)
    # loads summed per (from, to) group pair: one waveform each, sampled on the transient's own grid
    step, stop = pdn.tran
    step = max(step, stop / max_steps)
    times = np.arange(int(np.floor(stop / step + 1e-9)) + 1) * step
    from eda.graphs.pdn_waveforms import summed_waveforms

    ga, gb = remap(pdn.is_a), remap(pdn.is_b)
    base = m + 1  # (from, to) pairs by one integer key: the row-wise np.unique's order, 0.002 s instead of 0.09
    key, pinv = _unique((ga + 1) * base + (gb + 1))
    pair = np.stack([key // base - 1, key % base - 1], axis=1)
    wave = summed_waveforms(pdn, times, pinv.ravel(), len(pair))  # (T, pairs)
    npair = len(pair)
    lumped = replace(pdn, node_names=np.array([f"g{i}" for i in range(m)]), node_net=np.full(m, -1, np.int32),
                     node_layer=np.full(m, -1, np.int16), node_x=np.full(m, np.nan), node_y=np.full(m, np.nan),
                     layer_names=[], res_a=remap(pdn.res_a[rk]), res_b=remap(pdn.res_b[rk]),
                     res_value=pdn.res_value[rk], cap_a=remap(pdn.cap_a[ck]), cap_b=remap(pdn.cap_b[ck]),
                     cap_value=pdn.cap_value[ck], ind_a=remap(pdn.ind_a[lk]), ind_b=remap(pdn.ind_b[lk]),
                     ind_value=pdn.ind_value[lk], vs_a=remap(pdn.vs_a[vk]), vs_b=remap(pdn.vs_b[vk]),
                     vs_value=pdn.vs_value[vk], vs_names=pdn.vs_names[vk], is_a=pair[:, 0], is_b=pair[:, 1],
                     is_value=wave[0], is_names=np.array([f"I{i}" for i in range(npair)]),
                     is_kind=np.zeros(npair, np.int8), is_pulse=np.full((npair, 7), np.nan),
                     pwl_start=np.zeros(npair + 1, np.int64), pwl_t=np.zeros(0), pwl_v=np.zeros(0))
    if m <= 64:
        worst = _small_transient_worst(lumped, times, wave)
    else:
        worst = solve_transient(lumped, times=times, load_waveform=(times, wave)).worst_drop
    on_grid = np.unique(grp[grid])
    return float(worst[on_grid].max()) if len(on_grid) else 0.0


def _small_transient_worst(pdn: PDN, times: np.ndarray, wave: np.ndarray) -> np.ndarray:
    """Worst drop of every node of a network of a few nodes over the uniform ``times``, load currents ``wave``
    ``(T, sources)``: the trapezoidal companion stepping of :func:`eda.pdn.solve.solve_transient` (its DC
    operating point, inductor currents by KCL where they touch, one step length) on dense matrices — a few µs
    a step where the sparse engine's calls cost ~0.15 ms (:func:`lumped_droop`: 6 nodes, 600 steps). A test
    holds it to ``solve_transient``."""
    from dataclasses import replace

    from eda.pdn.check import build_topology, drop_from, ext_index, laplacian
    from eda.pdn.solve import solve_static

    n = pdn.n_nodes
    dc = solve_static(pdn if np.array_equal(wave[0], pdn.is_value) else replace(pdn, is_value=wave[0]))
    topo = build_topology(pdn, inductors_short=False)
    lab, ng = topo.label, topo.n_groups
    Cm = laplacian(lab[ext_index(pdn.cap_a, n)], lab[ext_index(pdn.cap_b, n)], pdn.cap_value, ng).toarray()
    Gam = laplacian(lab[ext_index(pdn.ind_a, n)], lab[ext_index(pdn.ind_b, n)], 1.0 / pdn.ind_value, ng).toarray()
    G = topo.G.toarray()
    u, f = topo.unknown, np.flatnonzero(~np.isnan(topo.fixed))
    h = float(times[1] - times[0])
    alpha, beta = 2.0 / h, h / 2.0
    M = G + alpha * Cm + beta * Gam
    Minv = np.linalg.inv(M[np.ix_(u, u)])
    fix = M[np.ix_(u, f)] @ topo.fixed[f]
    inj = np.zeros((ng, len(pdn.is_value)))  # group injection of each source: into b, out of a
    np.add.at(inj, (lab[ext_index(pdn.is_b, n)], np.arange(len(pdn.is_value))), 1.0)
    np.add.at(inj, (lab[ext_index(pdn.is_a, n)], np.arange(len(pdn.is_value))), -1.0)
    S = wave @ inj.T  # (T, groups)
    v = np.zeros(ng)
    v[lab[:n]] = dc.voltage
    v[f] = topo.fixed[f]
    touched = np.zeros(ng, dtype=bool)
    touched[lab[ext_index(pdn.ind_a, n)]] = True
    touched[lab[ext_index(pdn.ind_b, n)]] = True
    y, z = np.zeros(ng), np.where(touched, S[0] - G @ v, 0.0)
    nom = np.zeros(ng)
    nom[lab[:n]] = dc.supply
    worst = drop_from(v, nom)
    for k in range(1, len(times)):
        vn = v.copy()
        vn[u] = Minv @ ((S[k] + alpha * (Cm @ v) + y - z - beta * (Gam @ v))[u] - fix)
        y = alpha * (Cm @ (vn - v)) - y
        z = z + beta * (Gam @ (vn + v))
        v = vn
        worst = np.maximum(worst, drop_from(v, nom))
    return worst[lab[:n]]
