"""The PDN model: a power delivery network held in flat NumPy arrays.

One object per deck, no Python object per element: a 1.7M-node grid is a few arrays of ints and floats,
ready for CSR assembly (``scipy.sparse``) and for the graph builders (``eda.graphs``).

Node indices are 0-based into the node arrays; the ground node (``0``/``gnd``) is :data:`GROUND` (-1)
and is *not* stored as a node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

#: Index used for the ground node in every terminal array.
GROUND = -1

#: Waveform kinds of current sources (``PDN.is_kind``).
WAVE_DC, WAVE_PULSE, WAVE_PWL = 0, 1, 2

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)

# One regex run over all names joined by newlines (a single C-level pass): ICCAD'23
# ``n1_m1_4000_0``, BeGAN ``n1_4000_0_m1``, IBM ``n0_123_456`` (optionally behind an ``_X_`` pad prefix).
_NAME_RE = re.compile(
    r"^(?:_X_)?[nN](\d+)_(?:([A-Za-z][A-Za-z0-9]*)_)?(-?\d+)_(-?\d+)(?:_([A-Za-z][A-Za-z0-9]*))?$"
    r"|^.*$",
    re.M,
)


@dataclass
class PDN:
    """A power delivery network (resistive mesh, decaps, package inductors, pads and loads).

    Node attributes (length ``n_nodes``):
        node_names: node names as written (``np.ndarray`` of ``str``).
        node_net: net number from the name (``n1_...`` → 1), ``-1`` when the name encodes none.
        node_layer: index into ``layer_names`` (``m1`` → the index of ``"m1"``), ``-1`` when unknown.
        node_x, node_y: coordinates in database units (nm for ICCAD'23), ``nan`` when unknown.
        layer_names: layer names, sorted by their metal number (``m1`` first); ``layer_rank`` gives
            the metal number (``m1`` → 1) per layer.

    Elements (terminal arrays hold node indices, :data:`GROUND` for ground):
        res_a, res_b, res_value: resistors (ohms). ``is_via`` tells vias (layer change) from wires.
        cap_a, cap_b, cap_value: capacitors (farads).
        ind_a, ind_b, ind_value: inductors (henries).
        vs_a, vs_b, vs_value, vs_names: independent voltage sources (volts, DC). A source to ground is a
            pad; a 0-V source is a short.
        is_a, is_b, is_value, is_names: independent current sources; current flows from ``is_a``
            through the source to ``is_b`` (SPICE convention), so a load is ``I a 0 value``.
            ``is_value`` is the DC (time-zero for PULSE/PWL without DC) value in amperes.
        is_kind: :data:`WAVE_DC`, :data:`WAVE_PULSE` or :data:`WAVE_PWL` per current source.
        is_pulse: ``(n_isources, 7)`` PULSE parameters ``(i1, i2, td, tr, tf, pw, per)``, ``nan`` rows
            for other kinds.
        pwl_start, pwl_t, pwl_v: CSR of PWL points: source ``k`` has times ``pwl_t[pwl_start[k]:
            pwl_start[k+1]]`` (empty for other kinds).

    Deck attributes:
        title: first-line title (may be empty). source: the file read, if any.
        tran: ``(step, stop)`` of a ``.tran`` card, else ``None``.
        print_nodes: nodes named by ``.print tran v(node) ...`` cards (the default transient probes).
        notes: what the reader ignored (``file:line: .opti ignored``), for reports.
    """

    node_names: np.ndarray
    node_net: np.ndarray
    node_layer: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    layer_names: list[str] = field(default_factory=list)
    res_a: np.ndarray = field(default_factory=lambda: _EMPTY_I.copy())
    res_b: np.ndarray = field(default_factory=lambda: _EMPTY_I.copy())
    res_value: np.ndarray = field(default_factory=lambda: _EMPTY_F.copy())
    cap_a: np.ndarray = field(default_factory=lambda: _EMPTY_I.copy())
    cap_b: np.ndarray = field(default_factory=lambda: _EMPTY_I.copy())
    cap_value: np.ndarray = field(default_factory=lambda: _EMPTY_F.copy())
    ind_a: np.ndarray = field(default_factory=lambda: _EMPTY_I.copy())
    ind_b: np.ndarray = field(default_factory=lambda: _EMPTY_I.copy())
    ind_value: np.ndarray = field(default_factory=lambda: _EMPTY_F.copy())
    vs_a: np.ndarray = field(default_factory=lambda: _EMPTY_I.copy())
    vs_b: np.ndarray = field(default_factory=lambda: _EMPTY_I.copy())
    vs_value: np.ndarray = field(default_factory=lambda: _EMPTY_F.copy())
    vs_names: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    is_a: np.ndarray = field(default_factory=lambda: _EMPTY_I.copy())
    is_b: np.ndarray = field(default_factory=lambda: _EMPTY_I.copy())
    is_value: np.ndarray = field(default_factory=lambda: _EMPTY_F.copy())
    is_names: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    is_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    is_pulse: np.ndarray = field(default_factory=lambda: np.zeros((0, 7)))
    pwl_start: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    pwl_t: np.ndarray = field(default_factory=lambda: _EMPTY_F.copy())
    pwl_v: np.ndarray = field(default_factory=lambda: _EMPTY_F.copy())
    title: str = ""
    source: str | None = None
    tran: tuple[float, float] | None = None
    print_nodes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_names(cls, names: list[str] | np.ndarray, **elements) -> PDN:
        """Build a PDN from node names, decoding net/layer/x/y from the names.

        Args:
            names: node names; index ``i`` is node ``i``.
            **elements: any element array attributes (``res_a=...``).
        """
        names = np.asarray(names, dtype=str)
        net, layer, x, y, layer_names = decode_names(names)
        n_is = len(elements.get("is_a", ()))
        elements.setdefault("is_kind", np.zeros(n_is, dtype=np.int8))
        elements.setdefault("is_pulse", np.full((n_is, 7), np.nan))
        elements.setdefault("pwl_start", np.zeros(n_is + 1, dtype=np.int64))
        elements.setdefault("is_names", np.array([f"I{i}" for i in range(n_is)], dtype=str))
        n_vs = len(elements.get("vs_a", ()))
        elements.setdefault("vs_names", np.array([f"V{i}" for i in range(n_vs)], dtype=str))
        pdn = cls(node_names=names, node_net=net, node_layer=layer, node_x=x, node_y=y,
                  layer_names=layer_names, **elements)
        pdn._normalise()
        return pdn

    def _normalise(self) -> None:
        for k in ("res", "cap", "ind", "vs", "is"):
            for end in ("a", "b"):
                setattr(self, f"{k}_{end}", np.asarray(getattr(self, f"{k}_{end}"), dtype=np.int64))
            setattr(self, f"{k}_value", np.asarray(getattr(self, f"{k}_value"), dtype=np.float64))

    # ------------------------------------------------------------------ sizes and views
    @property
    def n_nodes(self) -> int:
        return len(self.node_names)

    @property
    def layer_rank(self) -> np.ndarray:
        """Metal number of each entry of ``layer_names`` (``m1`` → 1; 0 when there is no digit)."""
        return np.array([_metal_number(n) for n in self.layer_names], dtype=np.int64)

    @property
    def is_via(self) -> np.ndarray:
        """Per resistor: True when its two ends lie on different known layers (a via)."""
        la = np.where(self.res_a >= 0, self.node_layer[np.maximum(self.res_a, 0)], -1)
        lb = np.where(self.res_b >= 0, self.node_layer[np.maximum(self.res_b, 0)], -1)
        return (la >= 0) & (lb >= 0) & (la != lb)

    @property
    def pad_mask(self) -> np.ndarray:
        """Per voltage source: True for a pad (one terminal on ground, non-zero volts or ground net)."""
        return (self.vs_a == GROUND) ^ (self.vs_b == GROUND)

    @property
    def has_coordinates(self) -> bool:
        return self.n_nodes > 0 and bool(np.isfinite(self.node_x).any())

    def node_index(self, name: str) -> int:
        """Index of a node by name (``KeyError`` when absent). Builds a dict once."""
        d = getattr(self, "_index", None)
        if d is None:
            d = {n: i for i, n in enumerate(self.node_names.tolist())}
            self._index = d
        if name.lower() in ("0", "gnd"):
            return GROUND
        return d[name]

    def summary(self) -> dict:
        """Element counts (for reports and ``summary.json``)."""
        return {
            "nodes": self.n_nodes, "resistors": len(self.res_value), "vias": int(self.is_via.sum()),
            "capacitors": len(self.cap_value), "inductors": len(self.ind_value),
            "vsources": len(self.vs_value), "isources": len(self.is_value),
            "layers": list(self.layer_names),
            "nets": sorted(int(n) for n in np.unique(self.node_net) if n >= 0),
        }

    def __repr__(self) -> str:
        s = self.summary()
        return (f"PDN({s['nodes']} nodes, {s['resistors']} R, {s['capacitors']} C, {s['inductors']} L, "
                f"{s['vsources']} V, {s['isources']} I, layers={s['layers']})")


def _metal_number(layer: str) -> int:
    m = re.search(r"(\d+)$", layer)
    return int(m.group(1)) if m else 0


def decode_names(names: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Decode (net, layer, x, y) from PDN node names, vectorised.

    Recognised: ICCAD'23 ``n<net>_<layer>_<x>_<y>``, BeGAN ``n<net>_<x>_<y>_<layer>``, IBM power grid
    ``n<net>_<x>_<y>`` (layer unknown), each optionally behind the ``_X_`` pad prefix. Anything else
    decodes to net -1, layer -1, x = y = nan.

    Returns:
        ``(net, layer, x, y, layer_names)`` with layer indices into ``layer_names`` (sorted by metal number).
    """
    n = len(names)
    net = np.full(n, -1, dtype=np.int32)
    layer = np.full(n, -1, dtype=np.int16)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if n == 0:
        return net, layer, x, y, []
    joined = "\n".join(names.tolist())
    groups = _NAME_RE.findall(joined)
    # findall yields one tuple per line plus possibly a trailing empty match; keep the first n.
    groups = groups[:n]
    if len(groups) != n:  # a name containing a newline cannot occur in a SPICE deck
        raise ValueError("node names must not contain newlines")
    g_net, g_lay1, g_x, g_y, g_lay2 = zip(*groups, strict=True)
    # tuples of strings convert in one C pass; unmatched names ('') get placeholders first
    if "" in g_net:
        ok = np.array([s != "" for s in g_net])
        g_net = [s or "-1" for s in g_net]
        g_x = [s or "nan" for s in g_x]
        g_y = [s or "nan" for s in g_y]
    else:
        ok = np.ones(n, dtype=bool)
    if not ok.any():
        return net, layer, x, y, []
    net = np.array(g_net, dtype=np.int64).astype(np.int32)
    x = np.array(g_x, dtype=np.float64)
    y = np.array(g_y, dtype=np.float64)
    lays = [(a or b).lower() for a, b in zip(g_lay1, g_lay2, strict=True)]
    codes: dict[str, int] = {}
    code = np.fromiter((codes.setdefault(t, len(codes)) for t in lays), dtype=np.int64, count=n)
    uniq = [t for t in codes if t]
    if uniq:
        order = sorted(uniq, key=lambda t: (_metal_number(t), t))
        rank = np.full(len(codes), -1, dtype=np.int64)
        for r, t in enumerate(order):
            rank[codes[t]] = r
        layer = rank[code].astype(np.int16)
        return net, layer, x, y, order
    return net, layer, x, y, []
