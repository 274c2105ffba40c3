"""Synthetic placed designs for IR-drop datasets: die, rows, macros, cells, power and current waveforms.

A design is what an IR-drop tool sees after placement: a die with standard-cell rows, a few hard macros
that block the lower PDN layers, and cells with position, size and power (leakage, internal and
switching) plus the time they switch inside one clock period::

    +------------------------------------------+  die (W x H µm)
    |=== row ==================================|  rows of height row_h, cells packed with gaps
    |==== [cell][cell]  [c][cell] ====+------+=|  local utilisation follows a density field
    |======= (( hotspot )) ===========| MACRO|=|  hotspots: clusters of dense, highly active cells
    |=================================+------+=|  macros: blocked rows, own (high) power density
    +------------------------------------------+

Everything is drawn from :class:`DesignParams` (one seed) and the technology of
:mod:`eda.generators.pdn_tech`; arrays are NumPy, one entry per cell, no Python object per cell.

Current model: a cell draws ``leakage / vdd`` all the time plus one triangular pulse per cycle of charge
``dynamic_power / (vdd * f)`` (the expected charge at its toggle rate), centred after its switching time;
flip-flops switch just after the (skewed) clock edge, combinational cells spread over the period with
an early-heavy distribution (logic depth).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from eda.errors import InputError
from eda.tech.generic45 import PdnTech, pdn_technology

__all__ = ["DesignParams", "Design", "make_design", "sample_design_params", "SIZES", "validated"]

#: Die side ranges (µm) of the dataset size presets (standard-cell area; dies with macros grow to hold them).
SIZES: dict[str, tuple[float, float]] = {
    "small": (70.0, 130.0),
    "medium": (280.0, 420.0),
    "large": (900.0, 1000.0),
    "contest": (200.0, 320.0),  # the ICCAD'23 cases: 204-298 um real, 205-422 um fake
}
#: Mean standard-cell power density (W/mm²) of the ``contest`` preset: the public cases draw 0.04-0.12 A/mm².
CONTEST_POWER_W_MM2 = (0.035, 0.11)


def validated(model: type[BaseModel], **kw) -> BaseModel:
    """Build a pydantic params object, turning a validation error into :class:`InputError` naming the field."""
    try:
        return model(**kw)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(params)"
        raise InputError(f"{model.__name__}.{loc}: {err['msg']} (got {err.get('input')!r})") from None


class DesignParams(BaseModel):
    """Parameters of a synthetic design (all sampled by :func:`sample_design_params`).

    Attributes:
        tech: technology name (:func:`eda.tech.get_technology`).
        width_um, height_um: die size (µm).
        utilization: mean standard-cell utilisation of the free row area.
        power_density_w_mm2: mean standard-cell power density outside hotspots (W/mm²).
        leakage_frac: leakage share of that power.
        toggle_rate: mean switching activity of combinational cells (transitions per cycle).
        seq_frac: fraction of flip-flops among cells.
        n_hotspots: number of clustered hotspots.
        hotspot_radius_frac: hotspot radius as a fraction of the shorter die side.
        hotspot_activity_gain: peak extra activity at a hotspot centre (multiplier minus one).
        hotspot_density_gain: peak extra utilisation at a hotspot centre (multiplier minus one).
        n_macros: number of hard macros.
        macro_area_frac: total macro area as a fraction of the die.
        macro_power_ratio: macro power density relative to ``power_density_w_mm2``.
        clock_ns: clock period (ns).
        slew_ps: mean switching pulse width (ps).
        seed: random seed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tech: str = "generic45"
    width_um: float = Field(100.0, gt=0, le=20000)
    height_um: float = Field(100.0, gt=0, le=20000)
    utilization: float = Field(0.6, gt=0.02, le=0.95)
    power_density_w_mm2: float = Field(0.2, gt=0, le=50)
    leakage_frac: float = Field(0.1, ge=0, lt=1)
    toggle_rate: float = Field(0.15, gt=0, le=1)
    seq_frac: float = Field(0.15, ge=0, le=0.6)
    n_hotspots: int = Field(2, ge=0, le=32)
    hotspot_radius_frac: float = Field(0.12, gt=0, le=0.5)
    hotspot_activity_gain: float = Field(4.0, ge=0, le=50)
    hotspot_density_gain: float = Field(0.5, ge=0, le=5)
    n_macros: int = Field(0, ge=0, le=16)
    macro_area_frac: float = Field(0.0, ge=0, le=0.6)
    macro_power_ratio: float = Field(1.0, ge=0, le=20)
    clock_ns: float = Field(1.0, gt=0, le=1000)
    slew_ps: float = Field(40.0, gt=0, le=5000)
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _consistent(self):
        tech = pdn_technology(self.tech)
        if self.height_um < 2 * tech.row_height_um:
            raise ValueError(f"height_um must hold at least two rows of {tech.row_height_um} um")
        if self.width_um < tech.site_width_um * tech.cell_sites[2]:
            raise ValueError("width_um is narrower than the widest cell")
        if self.slew_ps * 1e-3 >= 0.5 * self.clock_ns:
            raise ValueError("slew_ps must be well below the clock period (under half)")
        return self


@dataclass
class Design:
    """A placed synthetic design.

    Coordinates in µm, lower-left origin. Cell arrays have one entry per cell.

    Attributes:
        params: the parameters that made it. tech: its technology.
        n_rows: standard-cell rows (row ``r`` spans ``[r, r + 1) * row_height``).
        macros: ``(n_macros, 4)`` rectangles ``x0, y0, x1, y1``; macro_power: W per macro.
        hotspots: ``(n_hotspots, 4)`` ``x, y, sigma, activity_gain``.
        x, y, w, h: cell lower-left corner and size. row: row index. is_seq: flip-flop flag.
        leakage, dynamic: leakage and dynamic (internal + switching) power per cell (W); ``internal`` and
            ``switching`` split the dynamic power (``internal_frac``).
        activity: toggle rate per cell. t_switch, t_width: pulse start and width within the period (s).
        macro_t_switch, macro_t_width, macro_leak_frac: macro current pulse start, width (s) and the
            share of macro power drawn as a constant current.
    """

    params: DesignParams
    tech: PdnTech
    n_rows: int
    macros: np.ndarray
    macro_power: np.ndarray
    hotspots: np.ndarray
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    h: np.ndarray
    row: np.ndarray
    is_seq: np.ndarray
    leakage: np.ndarray
    dynamic: np.ndarray
    activity: np.ndarray
    t_switch: np.ndarray
    t_width: np.ndarray
    macro_t_switch: np.ndarray = field(default_factory=lambda: np.zeros(0))
    macro_t_width: np.ndarray = field(default_factory=lambda: np.zeros(0))
    macro_leak_frac: np.ndarray = field(default_factory=lambda: np.zeros(0))
    internal_frac: np.ndarray | None = None

    @property
    def width_um(self) -> float:
        return self.params.width_um

    @property
    def height_um(self) -> float:
        return self.params.height_um

    @property
    def n_cells(self) -> int:
        return len(self.x)

    @property
    def vdd(self) -> float:
        return self.tech.vdd

    @property
    def period(self) -> float:
        """Clock period (s)."""
        return self.params.clock_ns * 1e-9

    @property
    def internal(self) -> np.ndarray:
        """Internal power per cell (W)."""
        f = self.internal_frac if self.internal_frac is not None else np.zeros(self.n_cells)
        return self.dynamic * f

    @property
    def switching(self) -> np.ndarray:
        """Switching (load-charging) power per cell (W)."""
        return self.dynamic - self.internal

    @property
    def avg_current(self) -> np.ndarray:
        """Mean current per cell over a cycle (A)."""
        return (self.leakage + self.dynamic) / self.vdd

    @property
    def charge(self) -> np.ndarray:
        """Switching charge per cycle per cell (C)."""
        return self.dynamic / self.vdd * self.period

    @property
    def total_power(self) -> float:
        return float(self.leakage.sum() + self.dynamic.sum() + self.macro_power.sum())

    def window_currents(self, starts: np.ndarray, stops: np.ndarray, groups: list[tuple[np.ndarray, np.ndarray]],
                        n_groups: int, chunk: int | None = None) -> np.ndarray:
        """Mean cell current per window, summed into groups (e.g. the PDN nodes feeding each cell).

        The waveform is periodic with the clock period, so a window may start before 0 or end after it.

        Args:
            starts, stops: window bounds (s), ``stops > starts``.
            groups: ``(group_index, weight)`` pairs of per-cell arrays: cell ``c`` contributes
                ``weight[c]`` of its current to group ``group_index[c]`` for every pair.
            n_groups: number of groups.

        Returns:
            ``(n_windows, n_groups)`` mean currents (A).
        """
        import scipy.sparse as sp

        starts = np.asarray(starts, dtype=np.float64)
        stops = np.asarray(stops, dtype=np.float64)
        T = self.period
        n = self.n_cells
        rows = np.concatenate([g for g, _ in groups])
        cols = np.tile(np.arange(n), len(groups))
        vals = np.concatenate([w for _, w in groups])
        A = sp.csr_matrix((vals, (rows, cols)), shape=(n_groups, n))  # duplicates add up
        out = np.zeros((len(starts), n_groups))
        ileak = self.leakage / self.vdd
        q = self.charge
        dur = stops - starts
        if chunk is None:  # keep each (cells x windows) temporary near 64 MB
            chunk = max(1024, int(8e6 // max(len(starts), 1)))
        for c0 in range(0, n, chunk):
            sl = slice(c0, c0 + chunk)
            t0 = self.t_switch[sl, None]
            wd = self.t_width[sl, None]
            mass = np.zeros((len(t0), len(starts)))
            for shift in (-T, 0.0, T):  # periodic wrap of windows outside [0, T)
                mass += _tri_cdf(stops[None, :] + shift, t0, wd) - _tri_cdf(starts[None, :] + shift, t0, wd)
            cur = ileak[sl, None] + q[sl, None] * mass / dur[None, :]  # (cells, windows)
            out += (A[:, sl] @ cur).T
        return out

    def macro_window_currents(self, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """Mean current of each macro per window (periodic), shape ``(n_windows, n_macros)``."""
        starts = np.asarray(starts, dtype=np.float64)[:, None]
        stops = np.asarray(stops, dtype=np.float64)[:, None]
        T = self.period
        i_avg = self.macro_power[None, :] / self.vdd
        mass = np.zeros((starts.shape[0], len(self.macro_power)))
        for shift in (-T, 0.0, T):
            mass += (_tri_cdf(stops + shift, self.macro_t_switch[None, :], self.macro_t_width[None, :])
                     - _tri_cdf(starts + shift, self.macro_t_switch[None, :], self.macro_t_width[None, :]))
        lf = self.macro_leak_frac[None, :]
        return i_avg * lf + i_avg * (1 - lf) * T * mass / (stops - starts)

    def cell_table(self) -> dict[str, np.ndarray]:
        """Columns of the per-cell table (positions in µm, power in W, times in s)."""
        return {
            "x_um": self.x, "y_um": self.y, "w_um": self.w, "h_um": self.h, "row": self.row,
            "is_seq": self.is_seq.astype(np.int8), "leakage_w": self.leakage, "dynamic_w": self.dynamic,
            "activity": self.activity, "t_switch_s": self.t_switch, "t_width_s": self.t_width,
            "avg_current_a": self.avg_current, "internal_w": self.internal, "switching_w": self.switching,
        }


def _tri_cdf(t: np.ndarray, t0: np.ndarray, w: np.ndarray) -> np.ndarray:
    """CDF of a unit-area symmetric triangle on ``[t0, t0 + w]``."""
    u = np.clip((t - t0) / w, 0.0, 1.0)
    return np.where(u < 0.5, 2 * u * u, 1 - 2 * (1 - u) ** 2)


# ---------------------------------------------------------------------------------------------- sampling
def sample_design_params(rng: np.random.Generator, size: str = "small", tech: str = "generic45",
                         seed: int | None = None) -> DesignParams:
    """Draw design parameters for a dataset size preset (``small``, ``medium``, ``large``, ``contest``: the
    ICCAD'23 cases' die sizes and current density, few macros; see :mod:`eda.generators.contest_match`)."""
    if size not in SIZES:
        raise InputError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    t = pdn_technology(tech)
    lo, hi = SIZES[size]
    w = float(rng.uniform(lo, hi))
    h = float(np.clip(w * rng.uniform(0.75, 1.33), lo, hi))
    n_macros = int(rng.choice([0, 0, 1, 1, 2, 3, 4])) if size != "contest" else int(rng.random() < 0.2)
    macro_frac = float(rng.uniform(0.05, 0.3)) if n_macros else 0.0
    grow = 1.0 / np.sqrt(1.0 - macro_frac)  # macros come on top of the standard-cell area of the preset
    return DesignParams(
        tech=tech, width_um=round(w * grow, 2), height_um=round(h * grow, 2),
        utilization=float(rng.uniform(0.45, 0.8)),
        power_density_w_mm2=float(np.exp(rng.uniform(*np.log(t.power_density_w_mm2 if size != "contest" else
                                                             CONTEST_POWER_W_MM2)))),
        leakage_frac=float(rng.uniform(*t.leakage_frac)),
        toggle_rate=float(rng.uniform(0.05, 0.3)),
        seq_frac=float(rng.uniform(0.08, 0.25)),
        n_hotspots=int(rng.integers(0, 6)),
        hotspot_radius_frac=float(rng.uniform(0.04, 0.2) if size != "contest" else rng.uniform(0.01, 0.05)),
        hotspot_activity_gain=float(rng.uniform(1.0, 8.0)),
        hotspot_density_gain=float(rng.uniform(0.0, 0.6)),
        n_macros=n_macros,
        macro_area_frac=macro_frac,
        macro_power_ratio=float(rng.uniform(0.3, 2.5)),
        clock_ns=float(rng.uniform(*t.clock_ns)),
        slew_ps=float(rng.uniform(*t.slew_ps)),
        seed=int(seed if seed is not None else rng.integers(0, 2**31 - 1)),
    )


# ---------------------------------------------------------------------------------------------- building
def make_design(params: DesignParams | None = None, **kw) -> Design:
    """Place a synthetic design.

    Args:
        params: the parameters; or pass :class:`DesignParams` fields as keywords (validated, errors name
            the field).
    """
    p = params if params is not None else validated(DesignParams, **kw)
    tech = pdn_technology(p.tech)
    rng = np.random.default_rng(p.seed)
    W, H = p.width_um, p.height_um
    rh, sw = tech.row_height_um, tech.site_width_um
    n_rows = int(np.floor(H / rh + 1e-9))

    macros = _place_macros(rng, p, n_rows, rh)
    hot = _hotspots(rng, p, macros)

    # Row segments free of macros (a macro blocks the rows it overlaps, plus a one-site halo).
    seg_row, seg_x0, seg_x1 = [], [], []
    for r in range(n_rows):
        y0, y1 = r * rh, (r + 1) * rh
        cuts = sorted((m[0], m[2]) for m in macros if m[1] < y1 - 1e-9 and m[3] > y0 + 1e-9)
        x = 0.0
        for a, b in cuts:
            if a - sw > x:
                seg_row.append(r), seg_x0.append(x), seg_x1.append(a - sw)
            x = max(x, b + sw)
        if W - x > 0:
            seg_row.append(r), seg_x0.append(x), seg_x1.append(W)
    seg_row = np.array(seg_row, dtype=np.int64)
    seg_x0 = np.array(seg_x0)
    seg_x1 = np.array(seg_x1)
    # Work in integer sites so the packing is legal by construction.
    s0 = np.ceil(seg_x0 / sw - 1e-9).astype(np.int64)
    s1 = np.floor(seg_x1 / sw + 1e-9).astype(np.int64)
    nsite = np.maximum(s1 - s0, 0)

    lo, med, hi = tech.cell_sites
    umax = min(0.95, p.utilization * (1 + p.hotspot_density_gain))
    mean_sites = med * 1.2
    m_per = np.ceil(nsite * umax / mean_sites * 1.6 + 4).astype(np.int64)
    seg_id = np.repeat(np.arange(len(nsite)), m_per)
    n_cand = len(seg_id)
    sites = np.clip(np.round(med * np.exp(rng.normal(0.0, 0.55, n_cand))), lo, hi).astype(np.int64)
    is_seq = rng.random(n_cand) < p.seq_frac
    sites = np.where(is_seq, np.maximum(sites, 4 * lo), sites)  # flip-flops are wide cells
    expo = rng.exponential(1.0, n_cand)
    dither = rng.random(n_cand)  # stochastic rounding keeps the mean gap unbiased
    starts_idx = np.concatenate([[0], np.cumsum(m_per)[:-1]])

    def pack(util: np.ndarray) -> np.ndarray:
        gap = np.floor(sites * (1.0 / util - 1.0) * expo + dither).astype(np.int64)
        pitch = gap + sites
        c = np.cumsum(pitch)
        before = c - pitch  # exclusive cumsum
        before = before - before[starts_idx][seg_id]
        return s0[seg_id] + before + gap  # first site of each cell

    row_y = seg_row[seg_id] * rh
    first = pack(np.full(n_cand, p.utilization))
    util = _density(p, hot, (first + sites / 2) * sw, row_y + rh / 2)
    first = pack(util)
    keep = first + sites <= s1[seg_id]
    first, sites, is_seq = first[keep], sites[keep], is_seq[keep]
    row = seg_row[seg_id[keep]]
    x = first * sw
    w = sites * sw
    y = row * rh
    n = len(x)
    h = np.full(n, rh)
    xc, yc = x + w / 2, y + rh / 2

    # Power: leakage ∝ area (Vt mix spread); dynamic ∝ drive (width) × activity; flip-flops also burn
    # clock-pin power every cycle.
    area = w * h
    std_area_mm2 = (W * H - sum((m[2] - m[0]) * (m[3] - m[1]) for m in macros)) * 1e-6
    leak_w = area * np.exp(rng.normal(0.0, 0.5, n))
    leakage = leak_w * (p.power_density_w_mm2 * std_area_mm2 * p.leakage_frac / max(leak_w.sum(), 1e-30))
    base_act = np.where(is_seq, p.toggle_rate * 0.5 + 0.5, p.toggle_rate)
    base_act = base_act * np.exp(rng.normal(0.0, 0.35, n))
    gain = _activity_gain(hot, xc, yc)
    activity = np.clip(base_act * gain, 0.0, 2.0)
    drive = w * np.exp(rng.normal(0.0, 0.3, n))
    dyn_base = drive * base_act
    k = p.power_density_w_mm2 * std_area_mm2 * (1 - p.leakage_frac) / max(dyn_base.sum(), 1e-30)
    dynamic = drive * activity * k

    # Switching times: clock edge + skew growing with distance from the clock root (die centre);
    # combinational cells after a logic-depth delay (Beta, early-heavy).
    T = p.clock_ns * 1e-9
    width = np.clip(p.slew_ps * 1e-12 * np.exp(rng.normal(0.0, 0.25, n)), 5e-12, 0.4 * T)
    skew = 0.06 * T * np.hypot(xc - W / 2, yc - H / 2) / max(np.hypot(W / 2, H / 2), 1e-9)
    clk_q = T * rng.uniform(0.01, 0.04, n)
    depth = T * rng.beta(1.4, 3.2, n) * 0.8
    t_switch = skew + np.where(is_seq, clk_q, clk_q + depth)
    t_switch = np.minimum(t_switch, T - width)

    macro_power = np.array([(m[2] - m[0]) * (m[3] - m[1]) * 1e-6 * p.power_density_w_mm2 * p.macro_power_ratio
                            for m in macros]).reshape(-1)
    # Macros (memories) burn most of their power in a wide pulse after the clock edge.
    nm = len(macros)
    macro_width = T * rng.uniform(0.15, 0.35, nm)
    macro_t = np.minimum(T * rng.uniform(0.03, 0.1, nm), T - macro_width)
    macro_leak = rng.uniform(0.05, 0.2, nm)
    # Internal (short-circuit + internal nodes) share of dynamic power; flip-flops burn more inside
    # (clock pin). Drawn last so earlier draws stay as they were.
    internal_frac = np.where(is_seq, rng.uniform(0.5, 0.75, n), rng.uniform(0.2, 0.45, n))
    return Design(params=p, tech=tech, n_rows=n_rows, macros=np.array(macros, dtype=np.float64).reshape(-1, 4),
                  macro_power=macro_power, hotspots=hot, x=x, y=y, w=w, h=h, row=row,
                  is_seq=is_seq, leakage=leakage, dynamic=dynamic, activity=activity, t_switch=t_switch,
                  t_width=width, macro_t_switch=macro_t, macro_t_width=macro_width, macro_leak_frac=macro_leak,
                  internal_frac=internal_frac)


def _place_macros(rng, p: DesignParams, n_rows: int, rh: float) -> list[tuple[float, float, float, float]]:
    W, H = p.width_um, p.height_um
    out: list[tuple[float, float, float, float]] = []
    if p.n_macros == 0 or p.macro_area_frac == 0:
        return out
    each = p.macro_area_frac * W * H / p.n_macros
    halo = 2 * rh
    for _ in range(p.n_macros):
        for _try in range(200):
            a = each * rng.uniform(0.6, 1.4)
            ar = rng.uniform(0.5, 2.0)
            mw = min(np.sqrt(a * ar), 0.6 * W)
            mh = min(a / mw, 0.6 * H)
            mh = max(round(mh / rh), 2) * rh
            x0 = rng.uniform(0.03 * W, W - mw - 0.03 * W) if W - mw > 0.06 * W else 0.0
            r0 = int(rng.integers(1, max(2, n_rows - int(mh / rh))))
            y0 = r0 * rh
            box = (float(x0), float(y0), float(x0 + mw), float(min(y0 + mh, H)))
            if box[2] > W or box[3] - box[1] < rh:
                continue
            if all(box[0] > o[2] + halo or box[2] < o[0] - halo or box[1] > o[3] + halo or box[3] < o[1] - halo
                   for o in out):
                out.append(tuple(round(v, 3) for v in box))
                break
    return out


def _hotspots(rng, p: DesignParams, macros) -> np.ndarray:
    W, H = p.width_um, p.height_um
    hs = []
    for _ in range(p.n_hotspots):
        for _try in range(50):  # hotspots sit in the standard-cell area
            cx, cy = rng.uniform(0, W), rng.uniform(0, H)
            if not any(m[0] <= cx <= m[2] and m[1] <= cy <= m[3] for m in macros):
                break
        sigma = p.hotspot_radius_frac * min(W, H) * rng.uniform(0.5, 1.5)
        hs.append((cx, cy, sigma, p.hotspot_activity_gain * rng.uniform(0.5, 1.5)))
    return np.array(hs, dtype=np.float64).reshape(-1, 4)


def _bumps(hot: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per hotspot Gaussian bump value at each point, shape ``(n_hot, n)``."""
    if len(hot) == 0:
        return np.zeros((0, len(x)))
    dx = x[None, :] - hot[:, 0:1]
    dy = y[None, :] - hot[:, 1:2]
    return np.exp(-(dx * dx + dy * dy) / (2 * hot[:, 2:3] ** 2))


def _activity_gain(hot: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    b = _bumps(hot, x, y)
    return 1.0 + (hot[:, 3:4] * b).sum(axis=0) if len(hot) else np.ones(len(x))


def _density(p: DesignParams, hot: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    b = _bumps(hot, x, y)
    u = p.utilization * (1.0 + p.hotspot_density_gain * b.sum(axis=0)) if len(hot) else np.full(len(x),
                                                                                                  p.utilization)
    return np.clip(u, 0.05, 0.95)
