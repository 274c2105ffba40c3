"""Exact static and transient IR-drop solvers for :class:`~eda.pdn.model.PDN`.

Static: nodal analysis on the *merged-short graph* (0-V sources, and inductors in DC, merge their
nodes into one unknown), pads (voltage sources to ground) and ground as fixed voltages, and a sparse
direct solve (SuperLU in symmetric mode) after a fill-reducing ordering: geometric nested dissection when
the node names carry coordinates, minimum degree on A+Aᵀ otherwise (measured on a 130k-node grid:
factor 1.3 s with nested dissection, 3.2 s minimum degree, 2.8 s COLAMD, 158 s reverse Cuthill-McKee);
or conjugate gradients preconditioned by smoothed-aggregation AMG (``pyamg``) for very large grids.

Transient: the same unknowns with capacitor and inductor companion models (backward Euler or
trapezoidal), one factorisation per distinct step size, reused for every step of that size; starts from
the DC operating point (capacitors open, inductors shorted).

IR drop: ``supply − V`` on nets fed by positive pads, ``V`` on ground nets (pads at 0 V or shorts to
ground), ``V − supply`` on negative supplies. The supply of a node is the pad voltage of its resistive
component (ground excluded).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from eda.errors import InputError, SimulationError
from eda.pdn.check import Topology, build_topology, check_floating, drop_from, ext_index, laplacian, nominal_supply
from eda.pdn.model import PDN, WAVE_PULSE, WAVE_PWL

__all__ = ["StaticResult", "TransientResult", "solve_static", "solve_transient", "source_currents", "pulse_values",
           "DIRECT_LIMIT", "ORDERINGS"]

#: Above this many unknowns ``method="auto"`` switches from the direct solver to AMG-preconditioned CG.
#: Measured on generated 5-layer grids: the nested-dissection direct solve beats AMG-CG (rtol 1e-12) by
#: about 3x at 0.5M unknowns and stays under 3 GB at 1.6M, so the switch is set well above that.
DIRECT_LIMIT = 4_000_000

#: Fill-reducing orderings accepted by the direct solver: ``nd`` geometric nested dissection (needs
#: coordinates; ``auto`` picks it when every unknown has them, else ``mmd``), ``mmd`` minimum degree on
#: A+Aᵀ, ``colamd`` SuperLU's default column ordering, ``rcm`` reverse Cuthill-McKee, ``natural``.
ORDERINGS = ("auto", "nd", "mmd", "colamd", "rcm", "natural")


def nested_dissection(A: sp.spmatrix, x: np.ndarray, y: np.ndarray, leaf: int = 32) -> np.ndarray:
    """Geometric nested-dissection ordering of a symmetric matrix whose unknowns have coordinates.

    Every part splits at the median of its wider coordinate; the nodes of the lower half that touch the
    upper half form the separator, numbered after both halves; parts of at most ``leaf`` nodes stop.
    All parts of one level are split together with array operations (no per-part Python work), so the
    ordering costs O(edges × levels). Fill of a 2-D grid factor drops to O(n log n).

    Returns:
        The permutation (new position → old index).
    """
    A = sp.coo_matrix(A)
    n = A.shape[0]
    up = A.row < A.col
    ei, ej = A.row[up].astype(np.int64), A.col[up].astype(np.int64)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    dmax = 38  # 3**39 < 2**63: one base-3 digit per level (0 lower half, 1 upper half, 2 finished)
    final = np.zeros(n, dtype=np.int64)
    key = np.zeros(n, dtype=np.int64)
    part = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    side = np.full(n, -1, dtype=np.int8)
    gpart = np.full(n, -1, dtype=np.int64)

    def finish(nodes: np.ndarray, depth: int) -> None:
        final[nodes] = (key[nodes] * 3 + 2) * 3 ** (dmax - depth - 1)
        active[nodes] = False

    for depth in range(dmax):
        act = np.flatnonzero(active)
        if not len(act):
            break
        _, p = np.unique(part[act], return_inverse=True)
        cnt = np.bincount(p)
        small = cnt[p] <= leaf if depth < dmax - 1 else np.ones(len(act), dtype=bool)
        if small.any():
            finish(act[small], depth)
            act = act[~small]
            if not len(act):
                break
            _, p = np.unique(part[act], return_inverse=True)
            cnt = np.bincount(p)
        k = len(cnt)
        xa, ya = x[act], y[act]
        lo_x = np.full(k, np.inf)
        hi_x = np.full(k, -np.inf)
        lo_y = np.full(k, np.inf)
        hi_y = np.full(k, -np.inf)
        np.minimum.at(lo_x, p, xa)
        np.maximum.at(hi_x, p, xa)
        np.minimum.at(lo_y, p, ya)
        np.maximum.at(hi_y, p, ya)
        c = np.where(((hi_x - lo_x) >= (hi_y - lo_y))[p], xa, ya)
        o = np.lexsort((c, p))
        start = np.cumsum(cnt) - cnt
        med = c[o[start + cnt // 2]]
        lower = c < med[p]
        n_lower = np.bincount(p, weights=lower, minlength=k)
        degenerate = n_lower == 0
        if degenerate.any():  # all coordinates equal: split by rank instead
            rank = np.empty(len(act), dtype=np.int64)
            rank[o] = np.arange(len(act)) - start[p[o]]
            lower = np.where(degenerate[p], rank < (cnt // 2)[p], lower)
        side[act] = np.where(lower, 0, 1)
        gpart[act] = p
        cross = (gpart[ei] >= 0) & (gpart[ei] == gpart[ej]) & (side[ei] != side[ej])
        sep = np.unique(np.where(side[ei[cross]] == 0, ei[cross], ej[cross]))
        gpart[act] = -1
        finish(sep, depth)
        keep = active[act]
        a2 = act[keep]
        s2 = side[a2].astype(np.int64)
        key[a2] = key[a2] * 3 + s2
        part[a2] = p[keep] * 2 + s2
        side[act] = -1
    return np.lexsort((np.arange(n), final))


# ====================================================================== linear solves
class _Solver:
    """Factorised (or preconditioned) SPD system; ``solve(b)``."""

    def __init__(self, A: sp.csr_matrix, method: str, ordering: str, rtol: float,
                 coords: tuple[np.ndarray, np.ndarray] | None = None):
        self.method = method
        if ordering == "auto":
            ordering = "nd" if coords is not None and np.isfinite(coords[0]).all() else "mmd"
        self.ordering = ordering
        self.coords = coords
        self.A = A
        self.rtol = rtol
        self.iterations = 0
        n = A.shape[0]
        if n == 0:
            self._solve = lambda b: np.zeros(0)
            return
        if method == "direct":
            self._direct(A, ordering)
        elif method == "iterative":
            import pyamg

            self.ml = pyamg.smoothed_aggregation_solver(A.tocsr(), symmetry="symmetric", max_coarse=500)
            self.M = self.ml.aspreconditioner(cycle="V")
            self._solve = self._cg
        else:
            raise InputError(f"method must be 'direct' or 'iterative', got {method!r}")

    def _direct(self, A: sp.csr_matrix, ordering: str) -> None:
        sym = {"diag_pivot_thresh": 0.0, "options": {"SymmetricMode": True}}
        try:
            if ordering == "mmd":
                lu = splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", **sym)
                self._solve = lu.solve
            elif ordering == "colamd":
                lu = splu(A.tocsc(), permc_spec="COLAMD")
                self._solve = lu.solve
            elif ordering in ("rcm", "natural", "nd"):
                if ordering == "nd":
                    if self.coords is None or not np.isfinite(self.coords[0]).all():
                        raise InputError("ordering 'nd' needs coordinates for every unknown")
                    p = nested_dissection(A, *self.coords)
                elif ordering == "rcm":
                    from scipy.sparse.csgraph import reverse_cuthill_mckee

                    p = reverse_cuthill_mckee(A.tocsr(), symmetric_mode=True)
                else:
                    p = np.arange(A.shape[0])
                Ap = A.tocsr()[p][:, p].tocsc()
                lu = splu(Ap, permc_spec="NATURAL", **sym)
                inv = np.empty_like(p)
                inv[p] = np.arange(len(p))

                def solve(b, lu=lu, p=p, inv=inv):
                    return lu.solve(b[p])[inv]

                self._solve = solve
            else:
                raise InputError(f"ordering must be one of {', '.join(ORDERINGS)}, got {ordering!r}")
        except RuntimeError as e:  # SuperLU: "Factor is exactly singular"
            raise SimulationError(f"sparse factorisation failed: {e}") from None
        self.lu = lu

    def _cg(self, b: np.ndarray) -> np.ndarray:
        from scipy.sparse.linalg import cg

        it = [0]

        def cb(_x):
            it[0] += 1

        x, info = cg(self.A, b, M=self.M, rtol=self.rtol, atol=0.0, maxiter=2000, callback=cb)
        self.iterations += it[0]
        if info != 0:
            raise SimulationError(f"AMG-CG did not converge to rtol={self.rtol:g} in {it[0]} iterations")
        return x

    def solve(self, b: np.ndarray) -> np.ndarray:
        return self._solve(b)


def _group_coords(pdn: PDN, topo: Topology, u: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    if not pdn.has_coordinates:
        return None
    gx = np.full(topo.n_groups, np.nan)
    gy = np.full(topo.n_groups, np.nan)
    ok = np.isfinite(pdn.node_x)
    lab = topo.label[: pdn.n_nodes][ok]
    gx[lab] = pdn.node_x[ok]
    gy[lab] = pdn.node_y[ok]
    return gx[u], gy[u]


def _pick_method(method: str, n: int) -> str:
    if method == "auto":
        return "direct" if n <= DIRECT_LIMIT else "iterative"
    if method not in ("direct", "iterative"):
        raise InputError(f"method must be 'auto', 'direct' or 'iterative', got {method!r}")
    return method


def _injection(pdn: PDN, label: np.ndarray, n_groups: int, currents: np.ndarray) -> np.ndarray:
    n = pdn.n_nodes
    return (np.bincount(label[ext_index(pdn.is_b, n)], currents, minlength=n_groups)
            - np.bincount(label[ext_index(pdn.is_a, n)], currents, minlength=n_groups))


# ====================================================================== static
@dataclass
class StaticResult:
    """Static (DC) solution.

    Attributes:
        voltage: node voltages (volts), every node of the deck, shorts included.
        drop: IR drop per node (volts; see the module docstring for the sign convention).
        supply: supply voltage of each node's net.
        n_unknowns: size of the solved system after merging shorts and fixing pads.
        method: ``direct`` or ``iterative``; ``ordering`` for direct solves.
        seconds: wall time per phase (``build``, ``factor``, ``solve``).
        iterations: CG iterations (iterative method).
    """

    voltage: np.ndarray
    drop: np.ndarray
    supply: np.ndarray
    n_unknowns: int
    method: str
    ordering: str | None
    seconds: dict = field(default_factory=dict)
    iterations: int = 0

    @property
    def worst_drop(self) -> float:
        return float(self.drop.max()) if len(self.drop) else 0.0

    @property
    def worst_node(self) -> int:
        return int(np.argmax(self.drop))


def solve_static(pdn: PDN, method: str = "auto", ordering: str = "auto", rtol: float = 1e-12) -> StaticResult:
    """Solve the DC operating point of a PDN (capacitors open, inductors shorted).

    Args:
        pdn: the network.
        method: ``auto`` (direct up to :data:`DIRECT_LIMIT` unknowns), ``direct`` or ``iterative``.
        ordering: fill-reducing ordering of the direct solver, one of :data:`ORDERINGS`.
        rtol: relative residual target of the iterative solver.

    Raises:
        InputError: no pads, floating nodes, pads at different voltages shorted together.
        SimulationError: the linear solve failed.
    """
    t0 = time.perf_counter()
    topo = build_topology(pdn, inductors_short=True)
    check_floating(pdn, topo)
    u, f = topo.unknown, np.flatnonzero(~np.isnan(topo.fixed))
    inj = _injection(pdn, topo.label, topo.n_groups, pdn.is_value)
    G = topo.G
    Guu = G[u][:, u]
    b = inj[u] - G[u][:, f] @ topo.fixed[f]
    meth = _pick_method(method, len(u))
    t1 = time.perf_counter()
    solver = _Solver(Guu, meth, ordering, rtol, _group_coords(pdn, topo, u))
    t2 = time.perf_counter()
    x = solver.solve(b)
    t3 = time.perf_counter()
    vg = topo.fixed.copy()
    vg[u] = x
    nom_g = nominal_supply(pdn, topo)
    lab = topo.label[: pdn.n_nodes]
    v = vg[lab]
    nom = nom_g[lab]
    return StaticResult(voltage=v, drop=drop_from(v, nom), supply=nom, n_unknowns=len(u), method=meth,
                        ordering=solver.ordering if meth == "direct" else None,
                        seconds={"build": t1 - t0, "factor": t2 - t1, "solve": t3 - t2},
                        iterations=solver.iterations)


# ====================================================================== sources
def pulse_values(pulse: np.ndarray, t) -> np.ndarray:
    """Values of PULSE sources (rows ``i1 i2 td tr tf pw per`` of ``pulse``, shape ``(n, 7)``) at ``t``, as
    ngspice evaluates them: a scalar ``t`` gives ``(n,)``; times of shape ``(T, 1)`` give ``(T, n)``."""
    i1, i2, td, tr, tf, pw, per = np.asarray(pulse, dtype=np.float64).T
    tt = t - td
    rep = (per > 0) & np.isfinite(per) & (tt > per)
    tt = np.where(rep, np.fmod(tt, np.where(per > 0, per, 1.0)), tt)
    with np.errstate(divide="ignore", invalid="ignore"):
        rise = i1 + (i2 - i1) * np.where(tr > 0, tt / tr, 1.0)
        fall = i2 + (i1 - i2) * np.where(tf > 0, (tt - tr - pw) / tf, 1.0)
    return np.where(tt <= 0, i1, np.where(tt <= tr, rise, np.where(tt <= tr + pw, i2,
                                                                   np.where(tt <= tr + pw + tf, fall, i1))))


def source_currents(pdn: PDN, t: float) -> np.ndarray:
    """Current of every current source at time ``t`` (PULSE and PWL as ngspice evaluates them)."""
    out = pdn.is_value.copy()
    pm = pdn.is_kind == WAVE_PULSE
    if pm.any():
        out[pm] = pulse_values(pdn.is_pulse[pm], t)
    for k in np.flatnonzero(pdn.is_kind == WAVE_PWL):
        s, e = pdn.pwl_start[k], pdn.pwl_start[k + 1]
        out[k] = np.interp(t, pdn.pwl_t[s:e], pdn.pwl_v[s:e])
    return out


# ====================================================================== transient
@dataclass
class TransientResult:
    """Transient solution.

    Attributes:
        times: simulated time points (s), starting at 0 (the DC operating point).
        worst_drop: per node, the largest IR drop over all time points (volts).
        worst_time: per node, the time of that drop.
        final_voltage: node voltages at the last time point.
        probes: node name → voltage waveform over ``times``.
        supply: supply voltage of each node's net.
        n_unknowns: unknowns per step. factorizations: distinct step sizes factorised.
        seconds: ``dc``, ``factor``, ``steps`` wall times; ``per_step`` mean step time.
    """

    times: np.ndarray
    worst_drop: np.ndarray
    worst_time: np.ndarray
    final_voltage: np.ndarray
    probes: dict[str, np.ndarray]
    supply: np.ndarray
    n_unknowns: int
    factorizations: int
    method: str
    seconds: dict = field(default_factory=dict)

    @property
    def worst(self) -> float:
        return float(self.worst_drop.max()) if len(self.worst_drop) else 0.0


#: Largest number of time points a transient may ask for (a 1e-30 s step is a typo, not a plan).
MAX_TIME_POINTS = 10_000_000


def _time_grid(step: float, stop: float) -> np.ndarray:
    n = int(np.floor(stop / step + 1e-9))
    t = step * np.arange(n + 1)
    if stop - t[-1] > 1e-9 * step:
        t = np.append(t, stop)
    return t


def _resolve_times(pdn: PDN, step, stop, times) -> np.ndarray:
    """The time points: explicit ``times``, else a uniform grid from step/stop (default the ``.tran``)."""
    if times is None:
        if step is None or stop is None:
            if pdn.tran is None:
                raise InputError("no time grid: give step and stop, or a .tran card in the deck",
                                 file=pdn.source)
            step = step if step is not None else pdn.tran[0]
            stop = stop if stop is not None else pdn.tran[1]
        step, stop = float(step), float(stop)
        if not (np.isfinite(step) and np.isfinite(stop) and step > 0 and stop > 0):
            raise InputError(f"step and stop must be positive finite times (s), got step={step:g}, "
                             f"stop={stop:g}")
        if stop / step > MAX_TIME_POINTS:
            raise InputError(f"step {step:g} s and stop {stop:g} s make {stop / step:.3g} time points; at most "
                             f"{MAX_TIME_POINTS:.0e} (check the units: seconds)")
        times = _time_grid(step, stop)
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or len(times) < 2 or times[0] != 0 or np.any(np.diff(times) <= 0) \
            or not np.isfinite(times).all():
        raise InputError("times must be finite, increasing, start at 0 and have at least two points")
    return times


def _current_function(pdn: PDN, load_waveform):
    """``t -> currents of every current source``: the deck's waveforms, or ``load_waveform`` interpolated."""
    if load_waveform is None:
        return lambda t: source_currents(pdn, t)
    lt, li = (np.asarray(a, dtype=np.float64) for a in load_waveform)
    if li.ndim != 2 or li.shape != (len(lt), len(pdn.is_value)):
        raise InputError(f"load_waveform currents must have shape (len(t), {len(pdn.is_value)}), "
                         f"got {li.shape}")

    def currents(t):
        k = int(np.clip(np.searchsorted(lt, t, side="right") - 1, 0, len(lt) - 1))
        if k + 1 >= len(lt) or t <= lt[0]:
            return li[k] if t > lt[0] else li[0]
        w = (t - lt[k]) / (lt[k + 1] - lt[k])
        return (1 - w) * li[k] + w * li[k + 1]

    return currents


def _probe_indices(pdn: PDN, probes) -> np.ndarray:
    idx = []
    for p in probes:
        try:
            idx.append(pdn.node_index(p))
        except KeyError:
            raise InputError(f"probe node {p!r} is not in the deck", file=pdn.source) from None
    return np.array(idx, dtype=np.int64)


class _Companion:
    """Companion-model stepping (backward Euler or trapezoidal) on the merged-short groups.

    State: group voltages ``v``, capacitor history ``y`` (trap only) and inductor currents ``z`` (nodal).
    One factorisation per distinct step size, cached.
    """

    def __init__(self, pdn: PDN, topo: Topology, integration: str, method: str, ordering: str):
        n, lab, ng = pdn.n_nodes, topo.label, topo.n_groups
        self.pdn, self.topo, self.be = pdn, topo, integration == "be"
        self.Cm = laplacian(lab[ext_index(pdn.cap_a, n)], lab[ext_index(pdn.cap_b, n)], pdn.cap_value, ng)
        self.Gam = laplacian(lab[ext_index(pdn.ind_a, n)], lab[ext_index(pdn.ind_b, n)], 1.0 / pdn.ind_value,
                             ng) if len(pdn.ind_value) else sp.csr_matrix((ng, ng))
        self.u, self.f = topo.unknown, np.flatnonzero(~np.isnan(topo.fixed))
        self.method, self.ordering = _pick_method(method, len(self.u)), ordering
        self.coords = _group_coords(pdn, topo, self.u)
        self.cache: dict[float, tuple] = {}
        self.t_factor = 0.0

    def start(self, dc_voltage: np.ndarray, i0: np.ndarray) -> None:
        """Initial state from the DC operating point; inductor currents from KCL where they touch."""
        pdn, topo = self.pdn, self.topo
        n, lab, ng = pdn.n_nodes, topo.label, topo.n_groups
        v = np.zeros(ng)
        v[lab[:n]] = dc_voltage
        v[self.f] = topo.fixed[self.f]
        s = _injection(pdn, lab, ng, i0)
        touched = np.zeros(ng, dtype=bool)
        touched[lab[ext_index(pdn.ind_a, n)]] = True
        touched[lab[ext_index(pdn.ind_b, n)]] = True
        self.v, self.y, self.z = v, np.zeros(ng), np.where(touched, s - topo.G @ v, 0.0)

    def _factor(self, h: float):
        key = float(f"{h:.9e}")  # steps equal to 1e-9 relative share one factorisation
        if key not in self.cache:
            t0 = time.perf_counter()
            alpha = (1.0 if self.be else 2.0) / h
            beta = h if self.be else h / 2
            M = (self.topo.G + alpha * self.Cm + beta * self.Gam).tocsr()
            Mu = M[self.u]
            solver = _Solver(Mu[:, self.u], self.method, self.ordering, 1e-12, self.coords)
            self.cache[key] = (solver, Mu[:, self.f] @ self.topo.fixed[self.f], alpha, beta)
            self.t_factor += time.perf_counter() - t0
        return self.cache[key]

    def step(self, h: float, currents: np.ndarray) -> np.ndarray:
        """Advance by ``h`` with the given source currents at the new time; returns the new ``v``."""
        solver, fix_rhs, alpha, beta = self._factor(h)
        v, Cm, Gam = self.v, self.Cm, self.Gam
        s = _injection(self.pdn, self.topo.label, self.topo.n_groups, currents)
        if self.be:
            rhs = s + alpha * (Cm @ v) - self.z
        else:
            rhs = s + alpha * (Cm @ v) + self.y - self.z - beta * (Gam @ v)
        vn = v.copy()
        vn[self.u] = solver.solve(rhs[self.u] - fix_rhs)
        if self.be:
            self.z = self.z + beta * (Gam @ vn)
        else:
            self.y = alpha * (Cm @ (vn - v)) - self.y
            self.z = self.z + beta * (Gam @ (vn + v))
        self.v = vn
        return vn


def solve_transient(pdn: PDN, step: float | None = None, stop: float | None = None, *,
                    integration: str = "trap", times: np.ndarray | None = None,
                    probes: list[str] | tuple[str, ...] = (),
                    load_waveform: tuple[np.ndarray, np.ndarray] | None = None,
                    method: str = "auto", ordering: str = "auto", progress: bool = False) -> TransientResult:
    """Transient IR-drop analysis.

    Args:
        pdn: the network (capacitors, inductors and PULSE/PWL loads are used).
        step, stop: uniform time step and stop time; default the deck's ``.tran``.
        integration: ``trap`` (trapezoidal) or ``be`` (backward Euler).
        times: explicit increasing time points starting at 0 (overrides ``step``/``stop``).
        probes: node names whose waveforms are returned.
        load_waveform: ``(t, I)`` with ``I`` of shape ``(len(t), n_isources)``: per-load currents,
            linearly interpolated; replaces the deck's source values.
        method, ordering: linear solver choice, as in :func:`solve_static`.
        progress: show a progress bar.

    Raises:
        InputError: bad deck (as :func:`solve_static`), bad time grid, unknown probe, bad waveform shape.
    """
    if integration not in ("trap", "be"):
        raise InputError(f"integration must be 'trap' or 'be', got {integration!r}")
    times = _resolve_times(pdn, step, stop, times)
    probe_idx = _probe_indices(pdn, probes)
    currents = _current_function(pdn, load_waveform)
    _pick_method(method, 0)

    t0 = time.perf_counter()
    # DC operating point at t = 0 with the time-zero source values.
    i0 = currents(0.0)
    dc_pdn = pdn if np.array_equal(i0, pdn.is_value) else replace(pdn, is_value=i0)
    dc = solve_static(dc_pdn, method=method, ordering=ordering)
    topo = build_topology(pdn, inductors_short=False)
    n, lab = pdn.n_nodes, topo.label
    comp = _Companion(pdn, topo, integration, method, ordering)
    comp.start(dc.voltage, i0)
    nom_g = np.zeros(topo.n_groups)
    nom_g[lab[:n]] = dc.supply
    worst = drop_from(comp.v, nom_g)
    worst_t = np.zeros(topo.n_groups)
    probe_g = lab[ext_index(probe_idx, n)]
    waves = np.zeros((len(times), len(probe_g)))
    waves[0] = comp.v[probe_g]
    t_dc = time.perf_counter() - t0

    t_steps = time.perf_counter()
    it = range(1, len(times))
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="transient", unit="step")
    for k in it:
        v = comp.step(float(times[k] - times[k - 1]), currents(times[k]))
        d = drop_from(v, nom_g)
        better = d > worst
        worst = np.where(better, d, worst)
        worst_t = np.where(better, times[k], worst_t)
        waves[k] = v[probe_g]
    t_total = time.perf_counter() - t_steps
    nsteps = len(times) - 1
    node_g = lab[:n]
    return TransientResult(
        times=times, worst_drop=worst[node_g], worst_time=worst_t[node_g], final_voltage=comp.v[node_g],
        probes={p: waves[:, j] for j, p in enumerate(probes)}, supply=dc.supply, n_unknowns=len(comp.u),
        factorizations=len(comp.cache), method=comp.method,
        seconds={"dc": t_dc, "factor": comp.t_factor, "steps": t_total - comp.t_factor,
                 "per_step": (t_total - comp.t_factor) / max(nsteps, 1)})
