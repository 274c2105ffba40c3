"""Parametric regular-grid PDN generator (tests and benchmarks).

Alternating horizontal/vertical stripes per layer, nodes where a stripe crosses a stripe of the layer
below or above, wires between neighbouring nodes of a stripe, vias at crossings, pads on the top layer
at a pad pitch, loads on the bottom layer. Node names follow the ICCAD'23 contest
(``n1_m1_4000_0``: net 1, layer m1, x/y in database units, 2000 per µm as in the contest)::

    m9  ───────●───────────●──────   pads (V to ground) on some top-layer nodes
    m8     │   ●   │       ●   │
    ...   vias at crossings of adjacent layers
    m1  ──●───●───●───●───●───●──   loads (I to ground), decaps (C to ground)

The realistic design generator lives in the dataset code; this one is deliberately simple.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from eda.params import Params
from eda.pdn.model import GROUND, PDN, WAVE_PULSE

__all__ = ["Layer", "GridParams", "make_grid", "grid_for_nodes"]

DBU = 2000  # database units per µm: the ICCAD'23 contest convention (eda.pdn.maps.CONTEST_DBU_PER_UM)


class Layer(Params):
    """One metal layer of the grid (:class:`eda.params.Params`; errors ``Layer.field: ...``)."""

    name: str = Field(..., description="layer name (m1)")
    direction: Literal["h", "v"] = Field(..., description="h (stripes along x) or v (along y); must alternate "
                                         "between layers")
    pitch_um: float = Field(..., gt=0, description="stripe pitch (µm)")
    r_per_um: float = Field(..., gt=0, description="wire resistance per µm of stripe (ohm/µm)")
    offset_um: float = Field(0.0, description="position of the first stripe (µm)")


DEFAULT_LAYERS = (
    Layer("m1", "h", 2.0, 0.8, 0.0),
    Layer("m4", "v", 4.0, 0.25, 0.0),
    Layer("m7", "h", 16.0, 0.06, 0.0),
    Layer("m8", "v", 16.0, 0.03, 0.0),
    Layer("m9", "h", 32.0, 0.01, 0.0),
)


class GridParams(Params):
    """Parameters of :func:`make_grid` (:class:`eda.params.Params`: every field described and bounded;
    errors ``GridParams.field: ...``)."""

    width_um: float = Field(100.0, gt=0, description="die width (µm)")
    height_um: float = Field(100.0, gt=0, description="die height (µm)")
    layers: tuple[Layer, ...] = Field(DEFAULT_LAYERS, min_length=2, strict=False,
                                      description="metal layers bottom-up, alternating directions")
    via_r: float = Field(0.5, gt=0, description="resistance of one via (ohm)")
    vdd: float = Field(1.1, description="pad voltage (V)")
    pad_pitch_um: float = Field(64.0, gt=0, description="pad pitch on the top layer (µm), in x and y")
    total_current: float = Field(0.05, ge=0, description="total DC load current (A), spread over bottom-layer "
                                 "nodes")
    load: Literal["uniform", "hotspot"] = Field("uniform", description="uniform (±50 % random) or hotspot "
                                                "(Gaussian bumps on a low background)")
    hotspots: int = Field(3, ge=0, description="number of hotspots (load='hotspot')")
    load_fraction: float = Field(1.0, gt=0, le=1, description="fraction of bottom-layer nodes that carry a load")
    decap: float = Field(0.0, ge=0, description="capacitance from each bottom-layer node to ground (F); 0: none")
    pad_inductance: float = Field(0.0, ge=0, description="series inductance of each pad (H), via an _X_ package "
                                  "node; 0: none")
    pulse: tuple[float, float, float, float, float] | None = Field(
        None, strict=False, description="make loads PULSE sources (td_max, tr, tf, pw, per) (s) switching between "
        "20 % and 100 % of their DC value, with random delays up to td_max; None for DC loads")
    net: int = Field(1, ge=0, description="net number in node names")
    seed: int = Field(0, description="random seed")
    tran: tuple[float, float] | None = Field(None, strict=False, description="(tstep, tstop) of a .tran card")

    @model_validator(mode="after")
    def _consistent(self) -> GridParams:
        for i in range(1, len(self.layers)):
            if self.layers[i].direction == self.layers[i - 1].direction:
                raise self.param_error(f"layers[{i}].direction", "directions must alternate between adjacent "
                                       "layers")
        if self.pulse is not None and min(self.pulse[1:]) <= 0:
            raise self.param_error("pulse", "must be (td_max, tr, tf, pw, per) with positive tr, tf, pw, per")
        return self


def _stripes(ly: Layer, extent_um: float) -> np.ndarray:
    n = int(np.floor((extent_um - ly.offset_um) / ly.pitch_um + 1e-9)) + 1
    return np.round((ly.offset_um + ly.pitch_um * np.arange(max(n, 0))) * DBU).astype(np.int64)


def make_grid(params: GridParams | None = None, **kw) -> PDN:
    """Generate a regular multi-layer grid PDN.

    Args:
        params: the parameters; or pass :class:`GridParams` fields as keywords.

    Returns:
        The :class:`~eda.pdn.model.PDN` (write it with :func:`eda.pdn.write.write_pdn`).
    """
    p = params if params is not None else GridParams(**kw)
    rng = np.random.default_rng(p.seed)
    W, H = p.width_um, p.height_um
    L = len(p.layers)
    # stripe coordinate (across the stripe direction) per layer
    stripes = [_stripes(ly, H if ly.direction == "h" else W) for ly in p.layers]
    xs_all, ys_all, lay_all = [], [], []
    res_a, res_b, res_v = [], [], []
    node_base = 0
    layer_nodes: list[tuple[np.ndarray, np.ndarray, int]] = []  # (along, across) grids, base
    for li, ly in enumerate(p.layers):
        nb = [stripes[j] for j in (li - 1, li + 1) if 0 <= j < L]
        along = np.unique(np.concatenate(nb))  # positions along the stripe where nodes sit
        across = stripes[li]
        na, nc = len(along), len(across)
        A, C = np.meshgrid(along, across, indexing="xy")  # shape (nc, na): row = stripe
        if ly.direction == "h":
            x, y = A.ravel(), C.ravel()
        else:
            x, y = C.ravel(), A.ravel()
        ids = node_base + np.arange(na * nc).reshape(nc, na)
        xs_all.append(x)
        ys_all.append(y)
        lay_all.append(np.full(na * nc, li))
        # wires between neighbours on each stripe
        res_a.append(ids[:, :-1].ravel())
        res_b.append(ids[:, 1:].ravel())
        seg = np.diff(along).astype(np.float64) / DBU
        res_v.append(np.tile(seg * ly.r_per_um, nc))
        layer_nodes.append((along, across, node_base))
        node_base += na * nc
    n = node_base

    def index(li, x, y):
        along, across, base = layer_nodes[li]
        a, c = (x, y) if p.layers[li].direction == "h" else (y, x)
        ia = np.searchsorted(along, a)
        ic = np.searchsorted(across, c)
        return base + ic * len(along) + ia

    for li in range(L - 1):
        lo = p.layers[li]
        s_lo, s_hi = stripes[li], stripes[li + 1]
        if lo.direction == "h":
            X, Y = np.meshgrid(s_hi, s_lo)
        else:
            X, Y = np.meshgrid(s_lo, s_hi)
        X, Y = X.ravel(), Y.ravel()
        res_a.append(index(li, X, Y))
        res_b.append(index(li + 1, X, Y))
        res_v.append(np.full(len(X), p.via_r))
    x = np.concatenate(xs_all)
    y = np.concatenate(ys_all)
    layer = np.concatenate(lay_all)
    lnames = [f"n{p.net}_{ly.name}_" for ly in p.layers]
    names = np.array([f"{lnames[li]}{a}_{b}" for li, a, b in zip(layer.tolist(), x.tolist(), y.tolist(),
                                                                   strict=True)])

    # pads: top-layer nodes nearest to a pad-pitch lattice
    top = L - 1
    along, across, base = layer_nodes[top]
    tx = np.arange(0.0, W + 1e-9, p.pad_pitch_um) * DBU
    ty = np.arange(0.0, H + 1e-9, p.pad_pitch_um) * DBU
    PX, PY = np.meshgrid(tx, ty)
    tn = np.arange(base, n)
    pads = np.unique([tn[np.argmin((x[tn] - px) ** 2 + (y[tn] - py) ** 2)]
                      for px, py in zip(PX.ravel(), PY.ravel(), strict=True)])
    el: dict = {}
    names_list = names
    if p.pad_inductance > 0:
        xnames = np.char.add("_X_", names[pads])
        xidx = n + np.arange(len(pads))
        names_list = np.concatenate([names, xnames])
        el.update(ind_a=xidx, ind_b=pads, ind_value=np.full(len(pads), p.pad_inductance))
        vs_nodes = xidx
    else:
        vs_nodes = pads
    el.update(vs_a=vs_nodes, vs_b=np.full(len(pads), GROUND), vs_value=np.full(len(pads), p.vdd),
              vs_names=np.array([f"V{i}" for i in range(len(pads))]))

    # loads on the bottom layer
    bot = np.flatnonzero(layer == 0)
    if p.load_fraction < 1:
        bot = np.sort(rng.choice(bot, max(1, int(round(p.load_fraction * len(bot)))), replace=False))
    if p.load == "uniform":
        w = rng.uniform(0.5, 1.5, len(bot))
    else:
        w = np.full(len(bot), 0.2)
        for _ in range(p.hotspots):
            cx, cy = rng.uniform(0, W), rng.uniform(0, H)
            r = rng.uniform(0.05, 0.15) * max(W, H)
            w += 3.0 * np.exp(-(((x[bot] / DBU - cx) ** 2 + (y[bot] / DBU - cy) ** 2) / (2 * r * r)))
    cur = p.total_current * w / w.sum()
    ni = len(bot)
    el.update(is_a=bot, is_b=np.full(ni, GROUND), is_value=cur,
              is_names=np.array([f"I{i}" for i in range(ni)]))
    if p.pulse is not None:
        td_max, tr, tf, pw, per = p.pulse
        pulse = np.column_stack([0.2 * cur, cur, rng.uniform(0, td_max, ni), np.full(ni, tr),
                                 np.full(ni, tf), np.full(ni, pw), np.full(ni, per)])
        el.update(is_kind=np.full(ni, WAVE_PULSE, dtype=np.int8), is_pulse=pulse, is_value=0.2 * cur)
    if p.decap > 0:
        el.update(cap_a=bot, cap_b=np.full(ni, GROUND), cap_value=np.full(ni, p.decap))
    el.update(res_a=np.concatenate(res_a), res_b=np.concatenate(res_b), res_value=np.concatenate(res_v))
    pdn = PDN.from_names(names_list, **el)
    pdn.title = (f"regular grid {W:g}x{H:g} um, {L} layers, {len(pads)} pads, {ni} loads "
                 f"(eda.pdn.grid seed {p.seed})")
    pdn.tran = p.tran
    return pdn


def grid_for_nodes(n_nodes: int, **kw) -> GridParams:
    """Square :class:`GridParams` with the default layers sized for about ``n_nodes`` nodes."""
    # default stack: ~0.27 nodes per µm² (m1: 1/8, m4: 1/8 + 1/64, upper layers small), measured
    side = float(np.sqrt(n_nodes / 0.2719))
    return GridParams(width_um=round(side), height_um=round(side), **kw)
