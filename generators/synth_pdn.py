"""Synthetic multi-layer power delivery networks for synthetic designs.

The PDN follows the design: one VDD rail on the rail layer (``m1``) per two standard-cell rows, straps
and meshes on alternating-direction upper layers, via arrays where stripes of adjacent layers cross,
bumps (pads) on the top layer in a ring, array or sparse pattern, and decoupling capacitance on the rail
nodes. Macros cut the layers they own (``blocked_by_macros`` in the technology) and draw their current
from the first free layer above them::

    m9  ═══●═════════════●═══   bumps: V sources on some top nodes (ring / array / sparse)
    m8     ║   ●   ║     ●      vias at every crossing of adjacent layers: R = r_cut / n_cuts
    m7  ═══●═══●═══●═════●═══
    m4     ║       ║            straps (cut over macros)
    m1  ─●─●─●─●─●─●─●─●─●─●─   rails at (2k+1)·row_h, a node every rail_tap_um; cells tap the two
                                 nearest rail nodes, split by distance

Node names follow the ICCAD'23 contest: ``n1_<layer>_<x>_<y>`` with x/y in database units
(:attr:`~eda.tech.generic45.PdnTech.dbu_per_um`). Pieces left floating by macro cuts are dropped.
Every number comes from a validated :class:`PdnParams`; :func:`sample_pdn_params` draws one from the
technology's ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.sparse.csgraph import connected_components

from eda.errors import InputError
from eda.generators.synth_design import Design, validated
from eda.pdn.model import GROUND, PDN
from eda.tech.generic45 import pdn_technology

__all__ = ["LayerParams", "PdnParams", "SynthPdn", "make_pdn", "sample_pdn_params", "PAD_PATTERNS"]

PAD_PATTERNS = ("ring", "array", "sparse")


class LayerParams(BaseModel):
    """Stripes of one PDN layer.

    Attributes:
        name: layer name; must match the technology's layer at that position.
        width_um: stripe width (µm).
        pitch_um: stripe pitch (µm); for the rail layer it must be two row heights.
        offset_um: position of the first stripe (µm).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    width_um: float = Field(gt=0)
    pitch_um: float = Field(gt=0)
    offset_um: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _fits(self):
        if self.width_um >= self.pitch_um:
            raise ValueError(f"{self.name}: width_um ({self.width_um}) must be below pitch_um ({self.pitch_um})")
        return self


class PdnParams(BaseModel):
    """Parameters of a synthetic PDN (sampled by :func:`sample_pdn_params`).

    Attributes:
        tech: technology name.
        layers: one entry per used technology layer, bottom-up: the whole stack or its lower part (the
            bumps sit on the top used layer; e.g. ``m1 m4 m7`` puts them on m7).
        rail_tap_um: spacing of nodes along the rails (µm).
        pad_pattern: ``ring`` (bumps along the die edge), ``array`` (regular bump array) or ``sparse``
            (``n_pads`` bumps at random top-layer nodes).
        pad_pitch_um: bump pitch of ``ring`` and ``array`` (µm).
        n_pads: number of bumps of ``sparse``.
        decap: add explicit decap cells in the row white space.
        decap_ff_um2: decap-cell capacitance density (fF/µm²).
        cell_cap_ff_um2: intrinsic decoupling capacitance of placed cells per area (wells, junctions; fF/µm²).
        load_cap_frac: share of each cell's switched load capacitance ``dynamic / (activity V² f)`` that
            decouples the supply while the cell does not switch.
        pad_inductance_h: package inductance per bump in the dynamic deck (H); 0 for none.
        load_model: where cells draw current: ``tap`` (the two nearest rail nodes) or ``strap`` (the two
            nearest rail nodes under a strap of the next layer, i.e. at the vias; the ICCAD'23 contest
            cases lump their loads there).
        via_cuts: cuts per via array; 0: as many as the two stripe widths hold (up to the technology's
            maximum). The ICCAD'23 cases use single cuts (15 / 9 / 1 / 1 Ω from m1 up).
        seed: random seed (pad choice of ``sparse``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tech: str = "generic45"
    layers: tuple[LayerParams, ...]
    rail_tap_um: float = Field(2.0, gt=0)
    pad_pattern: Literal["ring", "array", "sparse"] = "array"
    pad_pitch_um: float = Field(60.0, gt=0)
    n_pads: int = Field(4, ge=1)
    decap: bool = False
    decap_ff_um2: float = Field(15.0, ge=0)
    cell_cap_ff_um2: float = Field(4.0, ge=0)
    load_cap_frac: float = Field(0.7, ge=0, le=1)
    pad_inductance_h: float = Field(50e-12, ge=0)
    load_model: Literal["tap", "strap"] = "tap"
    via_cuts: int = Field(0, ge=0)
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _match_tech(self):
        tech = pdn_technology(self.tech)
        names = [ly.name for ly in tech.layers]
        got = [ly.name for ly in self.layers]
        if len(got) < 2 or got != names[:len(got)]:
            raise ValueError(f"layers must be the bottom of the technology stack {names} (at least two), got {got}")
        if abs(self.layers[0].pitch_um - 2 * tech.row_height_um) > 1e-9:
            raise ValueError(f"layers.0.pitch_um: the rail pitch is two rows, {2 * tech.row_height_um} um")
        return self


#: The ICCAD'23 cases' stripe pitches (µm; every public real and fake case uses this template), used by the
#: ``contest`` size preset with a ±5 % jitter.
CONTEST_PITCH_UM = {"m4": 14.0, "m7": 40.0, "m8": 11.2, "m9": 11.2}
#: Stripe widths (µm) that give the cases' wire resistance per µm with this technology's sheet resistances
#: (m1 2.23, m4 0.58, m7 0.053, m8 0.011, m9 0.0086 Ω/µm in every public case).
CONTEST_WIDTH_UM = {"m1": 0.17, "m4": 0.36, "m7": 1.41, "m8": 7.0, "m9": 3.49}


def _contest_params(design: Design, rng: np.random.Generator) -> PdnParams:
    """The contest template: the full m1-m4-m7-m8-m9 stack at the cases' pitches, a 2x2 (some 3x3) bump array,
    loads lumped at the m1-m4 vias."""
    tech = design.tech
    layers = []
    for i, ly in enumerate(tech.layers):
        width = CONTEST_WIDTH_UM.get(ly.name, float(np.mean(ly.width_um))) * float(rng.uniform(0.95, 1.05))
        if i == 0:
            layers.append(LayerParams(name=ly.name, width_um=round(width, 3), pitch_um=2 * tech.row_height_um,
                                      offset_um=tech.row_height_um))
            continue
        pitch = max(CONTEST_PITCH_UM.get(ly.name, float(np.mean(ly.pitch_um))) * float(rng.uniform(0.95, 1.05)),
                    1.5 * width)
        layers.append(LayerParams(name=ly.name, width_um=round(width, 3), pitch_um=round(pitch, 3),
                                  offset_um=round(float(rng.uniform(0.1, 0.6)) * pitch, 3)))
    return PdnParams(
        layers=tuple(layers), tech=tech.name, rail_tap_um=round(float(rng.uniform(*tech.rail_tap_um["medium"])), 3),
        pad_pattern="array", pad_pitch_um=round(min(design.width_um, design.height_um) * float(
            rng.uniform(0.5, 0.56) if rng.random() < 0.8 else rng.uniform(0.27, 0.33)), 2),  # 2x2, some 3x3
        decap=bool(rng.random() < 0.5), decap_ff_um2=float(rng.uniform(*tech.decap_ff_um2)),
        cell_cap_ff_um2=float(rng.uniform(*tech.cell_cap_ff_um2)), load_cap_frac=float(rng.uniform(0.4, 1.0)),
        pad_inductance_h=float(np.exp(rng.uniform(*np.log(tech.pad_inductance_h)))), load_model="strap",
        via_cuts=1, seed=int(rng.integers(0, 2**31 - 1)))


def sample_pdn_params(design: Design, rng: np.random.Generator, size: str = "small",
                      pad_pattern: str | None = None) -> PdnParams:
    """Draw PDN parameters for a design from its technology's ranges (``contest``: the contest template)."""
    if size == "contest" and pad_pattern is None:
        return _contest_params(design, rng)
    tech = design.tech
    W, H = design.width_um, design.height_um
    layers = []
    for i, ly in enumerate(tech.layers):
        width = float(np.exp(rng.uniform(*np.log(ly.width_um))))
        if i == 0:
            layers.append(LayerParams(name=ly.name, width_um=round(width, 3), pitch_um=2 * tech.row_height_um,
                                      offset_um=tech.row_height_um))
            continue
        extent = W if ly.direction == "v" else H
        hi = min(ly.pitch_um[1], extent / 2.2)  # at least two stripes
        lo = min(ly.pitch_um[0], hi)
        pitch = max(float(rng.uniform(lo, hi)), 1.5 * width)
        layers.append(LayerParams(name=ly.name, width_um=round(width, 3), pitch_um=round(pitch, 3),
                                  offset_um=round(float(rng.uniform(0.1, 0.6)) * pitch, 3)))
    taps = tech.rail_tap_um.get("medium" if size == "contest" else size)
    if taps is None:
        raise InputError(f"size must be one of {', '.join(tech.rail_tap_um)}, got {size!r}")
    pattern = pad_pattern or str(rng.choice(PAD_PATTERNS, p=[0.3, 0.5, 0.2]))
    if pattern not in PAD_PATTERNS:
        raise InputError(f"pad_pattern must be one of {', '.join(PAD_PATTERNS)}, got {pattern!r}")
    pp_lo, pp_hi = tech.pad_pitch_um
    pad_pitch = float(rng.uniform(pp_lo, min(pp_hi, max(pp_lo, min(W, H) / 1.5))))
    if pattern == "ring":
        pad_pitch = pad_pitch / 2  # peripheral bonds sit closer than area bumps
    kw = dict(
        tech=tech.name,
        rail_tap_um=round(float(rng.uniform(*taps)), 3),
        pad_pattern=pattern, pad_pitch_um=round(pad_pitch, 2), n_pads=int(rng.integers(1, 5)),
        decap=bool(rng.random() < 0.5),
        decap_ff_um2=float(rng.uniform(*tech.decap_ff_um2)),
        cell_cap_ff_um2=float(rng.uniform(*tech.cell_cap_ff_um2)),
        load_cap_frac=float(rng.uniform(0.4, 1.0)),
        pad_inductance_h=float(np.exp(rng.uniform(*np.log(tech.pad_inductance_h)))),
        load_model="strap" if rng.random() < 0.4 else "tap",
        seed=int(rng.integers(0, 2**31 - 1)),
    )
    return PdnParams(layers=tuple(layers[:_stack_depth(rng, len(layers))]), **kw)


def _stack_depth(rng: np.random.Generator, n: int) -> int:
    """Used layers: mostly the full stack, sometimes bumps on a lower mesh layer (m7 or m8)."""
    return int(rng.choice([n - 2, n - 1, n], p=[0.25, 0.15, 0.6])) if n >= 4 else n


@dataclass
class SynthPdn:
    """A PDN built for a design, with its loads and the cell → node relation.

    Attributes:
        design, params: what made it.
        names, x, y, layer: node names, coordinates (database units), layer index into the tech stack.
        res_a, res_b, res_value: resistors (wires and vias); ``is_via`` marks vias.
        pads: node indices of the bumps.
        load_nodes: node index of each load (one current source per load).
        cell_load: ``(2, n_cells)`` load index of the two rail nodes each cell taps;
            cell_weight: ``(2, n_cells)`` share of the cell current drawn from each.
        macro_load, macro_weight: per macro, the load indices and shares feeding it (flattened,
            ``macro_start`` CSR offsets).
        cap_node, cap_value: decoupling capacitors to ground (F).
    """

    design: Design
    params: PdnParams
    names: np.ndarray
    x: np.ndarray
    y: np.ndarray
    layer: np.ndarray
    res_a: np.ndarray
    res_b: np.ndarray
    res_value: np.ndarray
    is_via: np.ndarray
    pads: np.ndarray
    load_nodes: np.ndarray
    cell_load: np.ndarray
    cell_weight: np.ndarray
    macro_load: np.ndarray
    macro_weight: np.ndarray
    macro_start: np.ndarray
    cap_node: np.ndarray
    cap_value: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.names)

    @property
    def n_loads(self) -> int:
        return len(self.load_nodes)

    def window_currents(self, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """Mean current of every load over each window (s), shape ``(n_windows, n_loads)``."""
        d = self.design
        groups = [(self.cell_load[0], self.cell_weight[0]), (self.cell_load[1], self.cell_weight[1])]
        out = d.window_currents(starts, stops, groups, self.n_loads)
        if len(d.macro_power):
            mc = d.macro_window_currents(starts, stops)  # (n_windows, n_macros)
            counts = np.diff(self.macro_start)
            macro_of = np.repeat(np.arange(len(counts)), counts)
            for k in range(len(out)):
                out[k] += np.bincount(self.macro_load, mc[k, macro_of] * self.macro_weight, minlength=self.n_loads)
        return out

    def average_currents(self) -> np.ndarray:
        """Cycle-average current per load (A)."""
        return self.window_currents(np.array([0.0]), np.array([self.design.period]))[0]

    def load_waveforms(self, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        """Load currents sampled on ``n_steps + 1`` points over one period (each the mean over a step)."""
        T = self.design.period
        t = np.linspace(0.0, T, n_steps + 1)
        dt = T / n_steps
        return t, self.window_currents(t - dt / 2, t + dt / 2)

    def _pdn(self, currents: np.ndarray, dynamic: bool) -> PDN:
        d = self.design
        n = self.n_nodes
        el: dict = dict(res_a=self.res_a, res_b=self.res_b, res_value=self.res_value)
        npad = len(self.pads)
        names = self.names
        vs_nodes = self.pads
        if dynamic:
            if self.params.pad_inductance_h > 0:
                names = np.concatenate([names, np.char.add("_X_", self.names[self.pads])])
                xidx = n + np.arange(npad)
                el.update(ind_a=xidx, ind_b=self.pads, ind_value=np.full(npad, self.params.pad_inductance_h))
                vs_nodes = xidx
            el.update(cap_a=self.cap_node, cap_b=np.full(len(self.cap_node), GROUND), cap_value=self.cap_value)
        el.update(vs_a=vs_nodes, vs_b=np.full(npad, GROUND), vs_value=np.full(npad, d.vdd),
                  vs_names=np.array([f"V{i}" for i in range(npad)]))
        nl = self.n_loads
        el.update(is_a=self.load_nodes, is_b=np.full(nl, GROUND), is_value=np.asarray(currents, dtype=np.float64),
                  is_names=np.array([f"I{i}" for i in range(nl)]))
        # Node attributes are known here: skip decoding the names again (what PDN.from_names would do).
        nx = len(names) - n
        lay = np.concatenate([self.layer, self.layer[self.pads][:nx]]).astype(np.int16)
        xs = np.concatenate([self.x, self.x[self.pads][:nx]]).astype(np.float64)
        ys = np.concatenate([self.y, self.y[self.pads][:nx]]).astype(np.float64)
        n_is = len(el["is_a"])
        pdn = PDN(node_names=names, node_net=np.ones(len(names), dtype=np.int32), node_layer=lay, node_x=xs,
                  node_y=ys, layer_names=[ly.name for ly in self.params.layers],
                  is_kind=np.zeros(n_is, dtype=np.int8), is_pulse=np.full((n_is, 7), np.nan),
                  pwl_start=np.zeros(n_is + 1, dtype=np.int64), **el)
        pdn._normalise()
        kind = "dynamic" if dynamic else "static"
        pdn.title = (f"eda synthetic PDN ({kind}), {d.width_um:g}x{d.height_um:g} um, {d.n_cells} cells, "
                     f"design seed {d.params.seed}, pdn seed {self.params.seed}")
        return pdn

    def static_pdn(self) -> PDN:
        """Contest-style static deck: resistors, bumps at VDD, cycle-average DC loads."""
        return self._pdn(self.average_currents(), dynamic=False)

    def dynamic_pdn(self, n_steps: int) -> tuple[PDN, tuple[np.ndarray, np.ndarray]]:
        """Dynamic deck (decaps, package inductors, ``.tran``) and the per-load waveforms over one period.

        The deck's DC load values are the cycle averages; the waveforms are passed to
        :func:`eda.pdn.solve.solve_transient` as ``load_waveform``.
        """
        t, cur = self.load_waveforms(n_steps)
        pdn = self._pdn(self.average_currents(), dynamic=True)
        pdn.tran = (float(t[1] - t[0]), float(t[-1]))
        return pdn, (t, cur)


# ---------------------------------------------------------------------------------------------- build
def make_pdn(design: Design, params: PdnParams | None = None, **kw) -> SynthPdn:
    """Build the PDN of a design.

    Args:
        design: the placed design.
        params: PDN parameters (or :class:`PdnParams` fields as keywords).

    Raises:
        InputError: parameters that do not fit the design (more pads than top-layer nodes, a technology
            other than the design's).
    """
    p = params if params is not None else validated(PdnParams, **kw)
    tech = pdn_technology(p.tech)
    if tech.name != design.tech.name:
        raise InputError(f"PdnParams.tech: {p.tech!r} differs from the design's technology {design.tech.name!r}")
    dbu = tech.dbu_per_um
    W, H = design.width_um, design.height_um
    Wd, Hd = int(round(W * dbu)), int(round(H * dbu))
    L = len(p.layers)
    tl = tech.layers[:L]  # the used part of the stack
    macros = design.macros * dbu

    # Stripe positions (across the stripe direction), database units.
    stripes = []
    for lp, lt in zip(p.layers, tl, strict=True):
        extent = Hd if lt.direction == "h" else Wd
        k = np.arange(int(np.floor((extent / dbu - lp.offset_um) / lp.pitch_um + 1e-9)) + 1)
        s = np.round((lp.offset_um + k * lp.pitch_um) * dbu).astype(np.int64)
        stripes.append(s[(s >= 0) & (s <= extent)])
    for i, s in enumerate(stripes):
        if len(s) == 0:
            raise InputError(f"PdnParams.layers.{i}: no {p.layers[i].name} stripe fits the die "
                             f"(offset {p.layers[i].offset_um} um)")
    taps = np.round(np.arange(0.0, W + 1e-9, p.rail_tap_um) * dbu).astype(np.int64)
    taps = np.unique(np.concatenate([taps, [Wd]]))

    # Full grids per layer: along (node positions on a stripe) × across (stripes).
    xs, ys, lays, keep_l, base = [], [], [], [], []
    grids = []
    nb = 0
    for li, lt in enumerate(tl):
        parts = [stripes[j] for j in (li - 1, li + 1) if 0 <= j < L]
        if li == 0:
            parts.append(taps)
        along = np.unique(np.concatenate(parts))
        across = stripes[li]
        A, C = np.meshgrid(along, across)  # (n_across, n_along)
        x, y = (A, C) if lt.direction == "h" else (C, A)
        x, y = x.ravel(), y.ravel()
        keep = np.ones(len(x), dtype=bool)
        if lt.blocked_by_macros and len(macros):
            keep &= ~_inside(macros, x, y)
        xs.append(x), ys.append(y), lays.append(np.full(len(x), li, dtype=np.int64)), keep_l.append(keep)
        grids.append((along, across, nb))
        base.append(nb)
        nb += len(x)
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    layer = np.concatenate(lays)
    keep = np.concatenate(keep_l)

    res_a, res_b, res_v, is_via = _resistors(p, tech, tl, grids, stripes, keep, x, y, macros)

    # Pads on the top layer.
    top = np.flatnonzero(keep & (layer == L - 1))
    pads_full = _pads(p, top, x, y, Wd, Hd, dbu)

    # Keep what a pad reaches (macro cuts can strand rail pieces).
    g = sp.coo_matrix((np.ones(len(res_a)), (res_a, res_b)), shape=(nb, nb))
    _, comp = connected_components(g, directed=False)
    good = np.zeros(comp.max() + 1, dtype=bool)
    good[comp[pads_full]] = True
    keep &= good[comp]
    new = np.full(nb, -1, dtype=np.int64)
    new[keep] = np.arange(int(keep.sum()))
    ok = keep[res_a] & keep[res_b]
    res_a, res_b, res_v, is_via = new[res_a[ok]], new[res_b[ok]], res_v[ok], is_via[ok]
    x, y, layer = x[keep], y[keep], layer[keep]
    pads = new[pads_full]
    names = _names(x, y, layer, [ly.name for ly in tl])

    node_l, node_r, wl, wr = _cell_taps(design, p, tech, x, y, layer, stripes, tl, Wd)
    m_nodes_a, m_w, m_start = _macro_taps(macros, tl, x, y, layer)
    d = design

    load_nodes, inv = np.unique(np.concatenate([node_l, node_r, m_nodes_a]), return_inverse=True)
    nc = d.n_cells
    cell_load = np.vstack([inv[:nc], inv[nc:2 * nc]])
    cell_weight = np.vstack([wl, wr])
    macro_load = inv[2 * nc:]

    # Decoupling: intrinsic cell capacitance at the nodes the cells tap, decap cells in the white space.
    nn = len(names)
    cell_area = np.bincount(node_l, d.w * d.h * wl, minlength=nn) + np.bincount(node_r, d.w * d.h * wr, minlength=nn)
    c_load_ff = d.dynamic / (np.maximum(d.activity, 0.02) * d.vdd**2 / d.period) * 1e15  # switched load cap
    c_cell = p.cell_cap_ff_um2 * d.w * d.h + p.load_cap_frac * c_load_ff
    cap = np.bincount(node_l, c_cell * wl, minlength=nn) + np.bincount(node_r, c_cell * wr, minlength=nn)
    if p.decap:
        share = p.rail_tap_um * 2 * tech.row_height_um
        cap = cap + p.decap_ff_um2 * np.maximum(share - cell_area, 0.0) * (layer == 0)
    cap_node = np.flatnonzero(cap > 0)
    return SynthPdn(design=design, params=p, names=names, x=x, y=y, layer=layer, res_a=res_a, res_b=res_b,
                    res_value=res_v, is_via=is_via, pads=pads, load_nodes=load_nodes, cell_load=cell_load,
                    cell_weight=cell_weight, macro_load=macro_load,
                    macro_weight=np.concatenate(m_w) if m_w else np.zeros(0),
                    macro_start=np.array(m_start, dtype=np.int64), cap_node=cap_node,
                    cap_value=cap[cap_node] * 1e-15)


def _resistors(p: PdnParams, tech, tl, grids, stripes, keep, x, y, macros):
    """Wire segments along every stripe and via arrays at the crossings of adjacent layers.

    Returns:
        ``(res_a, res_b, res_value, is_via)`` over the full-grid node numbering (``grids``).
    """
    dbu = tech.dbu_per_um
    L = len(p.layers)

    def gidx(li, xx, yy):
        along, across, b = grids[li]
        a, c = (xx, yy) if tl[li].direction == "h" else (yy, xx)
        return b + np.searchsorted(across, c) * len(along) + np.searchsorted(along, a)

    ra, rb, rv, rvia = [], [], [], []
    for li, (lp, lt) in enumerate(zip(p.layers, tl, strict=True)):
        along, across, b = grids[li]
        ids = b + np.arange(len(along) * len(across)).reshape(len(across), len(along))
        a0, a1 = ids[:, :-1].ravel(), ids[:, 1:].ravel()
        seg_um = np.tile(np.diff(along), len(across)) / dbu
        ok = keep[a0] & keep[a1]
        if lt.blocked_by_macros and len(macros):
            ok &= ~_inside(macros, (x[a0] + x[a1]) / 2, (y[a0] + y[a1]) / 2)
        ra.append(a0[ok]), rb.append(a1[ok]), rv.append(lt.sheet_res * seg_um[ok] / lp.width_um)
        rvia.append(np.zeros(int(ok.sum()), dtype=bool))
    for li in range(L - 1):
        lo = tl[li]
        s_lo, s_hi = stripes[li], stripes[li + 1]
        X, Y = np.meshgrid(s_hi, s_lo) if lo.direction == "h" else np.meshgrid(s_lo, s_hi)
        X, Y = X.ravel(), Y.ravel()
        i0, i1 = gidx(li, X, Y), gidx(li + 1, X, Y)
        ok = keep[i0] & keep[i1]
        v = tech.vias[li]
        n_cuts = (max(int(p.layers[li].width_um / v.cut_pitch_um), 1)
                  * max(int(p.layers[li + 1].width_um / v.cut_pitch_um), 1))
        n_cuts = min(n_cuts, v.max_cuts) if not p.via_cuts else p.via_cuts
        ra.append(i0[ok]), rb.append(i1[ok]), rv.append(np.full(int(ok.sum()), v.r_cut / n_cuts))
        rvia.append(np.ones(int(ok.sum()), dtype=bool))
    return np.concatenate(ra), np.concatenate(rb), np.concatenate(rv), np.concatenate(rvia)


def _cell_taps(d: Design, p: PdnParams, tech, x, y, layer, stripes, tl, Wd: int):
    """Rail nodes and weights each cell draws its current from: ``(node_l, node_r, wl, wr)``.

    Cells tap the two nearest rail nodes of their VDD rail (rail k serves rows 2k and 2k+1); with the
    strap load model only rail nodes under a strap of the next layer (the via sites) count.
    """
    dbu = tech.dbu_per_um
    rail_nodes = np.flatnonzero(layer == 0)
    if p.load_model == "strap":
        at_via = np.isin(x[rail_nodes] if tl[1].direction == "v" else y[rail_nodes], stripes[1])
        if at_via.any():
            rail_nodes = rail_nodes[at_via]
    rail_k = np.searchsorted(stripes[0], y[rail_nodes])
    key = rail_k * (Wd + 1) + x[rail_nodes]
    order = np.argsort(key)
    key, rail_nodes = key[order], rail_nodes[order]
    rail_x = x[rail_nodes]
    rail_of_key = key // (Wd + 1)
    ck = np.minimum(d.row // 2, len(stripes[0]) - 1)
    cx = np.round((d.x + d.w / 2) * dbu).astype(np.int64)
    q = ck * (Wd + 1) + cx
    j = np.searchsorted(key, q)
    jl, jr = np.clip(j - 1, 0, len(key) - 1), np.clip(j, 0, len(key) - 1)
    vl = (j - 1 >= 0) & (rail_of_key[jl] == ck)
    vr = (j < len(key)) & (rail_of_key[jr] == ck)
    span = np.maximum(rail_x[jr] - rail_x[jl], 1)
    wr = np.where(vl & vr, (cx - rail_x[jl]) / span, np.where(vr, 1.0, 0.0))
    wr = np.clip(wr, 0.0, 1.0)
    wl = np.where(vl, 1.0 - wr, 0.0)
    node_l, node_r = rail_nodes[jl], rail_nodes[jr]
    lost = ~(vl | vr)
    if lost.any():  # rail piece dropped: use the nearest surviving rail node
        from scipy.spatial import cKDTree

        tree = cKDTree(np.column_stack([x[rail_nodes], y[rail_nodes]]).astype(np.float64))
        cy = np.round((ck[lost] * 2 + 1) * tech.row_height_um * dbu)
        _, nn = tree.query(np.column_stack([cx[lost], cy]).astype(np.float64))
        node_l[lost] = node_r[lost] = rail_nodes[nn]
        wl[lost], wr[lost] = 1.0, 0.0

    return node_l, node_r, wl, wr


def _macro_taps(macros: np.ndarray, tl, x, y, layer):
    """Nodes (concatenated), weights and CSR starts of the macros' taps on the first layer they do not block."""
    free_li = next((i for i, lt in enumerate(tl) if not lt.blocked_by_macros), None)
    if free_li is None and len(macros):
        raise InputError(f"PdnParams.layers: the design has macros, which need a PDN layer above "
                         f"{tl[-1].name} to draw from")
    m_nodes, m_w, m_start = [], [], [0]
    cand = np.flatnonzero(layer == free_li)
    for m in macros:
        inside = cand[_inside(m[None, :], x[cand], y[cand], strict=False)]
        if len(inside) == 0:
            dist = np.hypot(x[cand] - (m[0] + m[2]) / 2, y[cand] - (m[1] + m[3]) / 2)
            inside = cand[np.argsort(dist, kind="stable")[:4]]
        m_nodes.append(inside), m_w.append(np.full(len(inside), 1.0 / len(inside)))
        m_start.append(m_start[-1] + len(inside))
    m_nodes_a = np.concatenate(m_nodes) if m_nodes else np.zeros(0, dtype=np.int64)
    return m_nodes_a, m_w, m_start


def _inside(rects: np.ndarray, x: np.ndarray, y: np.ndarray, strict: bool = True) -> np.ndarray:
    out = np.zeros(len(x), dtype=bool)
    for r in rects:
        if strict:
            out |= (x > r[0]) & (x < r[2]) & (y > r[1]) & (y < r[3])
        else:
            out |= (x >= r[0]) & (x <= r[2]) & (y >= r[1]) & (y <= r[3])
    return out


def _names(x: np.ndarray, y: np.ndarray, layer: np.ndarray, layer_names: list[str]) -> np.ndarray:
    pre = np.array([f"n1_{n}_" for n in layer_names])[layer]
    return np.char.add(np.char.add(np.char.add(pre, x.astype(str)), "_"), y.astype(str))


def _pads(p: PdnParams, top: np.ndarray, x, y, Wd: int, Hd: int, dbu: int) -> np.ndarray:
    """Top-layer node indices of the bumps."""
    if len(top) == 0:
        raise InputError("PdnParams.layers: the top layer has no nodes on this die")
    tx, ty = x[top].astype(np.float64), y[top].astype(np.float64)
    if p.pad_pattern == "sparse":
        if p.n_pads > len(top):
            raise InputError(f"PdnParams.n_pads: {p.n_pads} pads but only {len(top)} top-layer nodes")
        rng = np.random.default_rng(p.seed)
        return np.sort(rng.choice(top, p.n_pads, replace=False))
    pitch = p.pad_pitch_um * dbu
    if p.pad_pattern == "array":
        ox, oy = (Wd % pitch) / 2 if Wd > pitch else Wd / 2, (Hd % pitch) / 2 if Hd > pitch else Hd / 2
        gx = np.arange(ox, Wd + 1e-9, pitch)
        gy = np.arange(oy, Hd + 1e-9, pitch)
        PX, PY = np.meshgrid(gx, gy)
        px, py = PX.ravel(), PY.ravel()
    else:  # ring: along the die edge, inset by half a pitch
        inset = min(pitch / 2, Wd / 4, Hd / 4)
        x0, x1, y0, y1 = inset, Wd - inset, inset, Hd - inset
        per = 2 * ((x1 - x0) + (y1 - y0))
        s = np.arange(0.0, per, pitch)
        px = np.select([s < x1 - x0, s < (x1 - x0) + (y1 - y0), s < 2 * (x1 - x0) + (y1 - y0)],
                       [x0 + s, np.full_like(s, x1), x1 - (s - (x1 - x0) - (y1 - y0))], default=x0)
        py = np.select([s < x1 - x0, s < (x1 - x0) + (y1 - y0), s < 2 * (x1 - x0) + (y1 - y0)],
                       [np.full_like(s, y0), y0 + (s - (x1 - x0)), np.full_like(s, y1)],
                       default=y1 - (s - 2 * (x1 - x0) - (y1 - y0)))
    from scipy.spatial import cKDTree

    _, nn = cKDTree(np.column_stack([tx, ty])).query(np.column_stack([px, py]))
    return np.unique(top[nn])
