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
    def from_names(cls, names: list[str] | np.ndarray, decoded: tuple | None = None, **elements) -> PDN:
        """Build a PDN from node names, decoding net/layer/x/y from the names.

        Args:
            names: node names; index ``i`` is node ``i``.
            decoded: ``decode_names(names)`` when the caller already has it.
            **elements: any element array attributes (``res_a=...``).
        """
        names = np.asarray(names, dtype=str)
        net, layer, x, y, layer_names = decode_names(names) if decoded is None else decoded
        n_is = len(elements.get("is_a", ()))
        elements.setdefault("is_kind", np.zeros(n_is, dtype=np.int8))
        elements.setdefault("is_pulse", np.full((n_is, 7), np.nan))
        elements.setdefault("pwl_start", np.zeros(n_is + 1, dtype=np.int64))
        if "is_names" not in elements:
            elements["is_names"] = np.array([f"I{i}" for i in range(n_is)], dtype=str)
        if "vs_names" not in elements:
            elements["vs_names"] = np.array([f"V{i}" for i in range(len(elements.get("vs_a", ())))], dtype=str)
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


def _at(c: np.ndarray, col: np.ndarray) -> np.ndarray:
    """``c[row, col[row]]`` for every row (columns past the end read the last one)."""
    width = c.shape[1]
    return np.take(c.reshape(-1), np.arange(0, c.size, width) + np.minimum(col, width - 1))


def _digits(c: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value of the field ``c[row, start:end]`` as an optionally signed integer, whether it is one, and
    whether it has a sign."""
    neg = (_at(c, start) == 45) & (end - start > 1)
    s = start + neg
    ok = end > s
    val = np.zeros(len(c), dtype=np.int64)
    for k in range(int((end - s).max(initial=0))):
        live = s + k < end
        d = _at(c, s + k) - np.uint8(48)  # wraps below "0": one comparison finds the digits
        ok &= ~live | (d <= 9)
        val = np.where(live, val * 10 + d, val)
    return np.where(neg, -val, val), ok & (end - s <= 15), neg


def _word(c: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A key for the lower-cased field ``c[row, start:end]`` and whether it is a layer name
    (``[A-Za-z][A-Za-z0-9]*``, at most 8 characters, so the key is exact)."""
    ok = (end > start) & (end - start <= 8)
    key = np.zeros(len(c), dtype=np.int64)
    for k in range(int(np.minimum(end - start, 8).max(initial=0))):
        live = start + k < end
        ch = (_at(c, start + k) | 32).astype(np.int64)
        alpha = (ch >= 97) & (ch <= 122)
        ok &= ~live | alpha | ((k > 0) & (ch >= 48) & (ch <= 57))
        key = np.where(live, key * 128 + ch, key)
    return key, ok


def _decode_columns(names: np.ndarray):
    """Decode names on their character matrix, field by field (no Python object per name).

    Returns ``(ok, net, layer_key, x, y, text_key, undecided)`` (``text_key``: layer name → its key). The
    ``_X_`` pad prefix is dropped first. Rows outside the common forms (an underscore count other than 2
    or 3, a second prefix, non-ASCII, fields longer than the integer arithmetic handles) are ``undecided``
    and left to the regular expression; the two paths are compared in ``tests/test_pdn_tokens.py``.
    """
    n, width = len(names), max(names.dtype.itemsize // 4, 1)
    c32 = np.ascontiguousarray(names).view(np.uint32).reshape(n, width)
    wide = c32.max(axis=1) >= 128
    c = c32.astype(np.uint8)
    pad = (c[:, 0] == 95) & (c[:, 1] == 88) & (c[:, 2] == 95) if width >= 3 else np.zeros(n, dtype=bool)
    if pad.any():  # the "_X_" pad prefix: the rest of the name decodes like any other
        c[pad] = np.concatenate([c[pad, 3:], np.zeros((int(pad.sum()), 3), dtype=np.uint8)], axis=1)
    us = c == 95
    n_us = us.sum(axis=1)
    length = width - (c[:, ::-1] != 0).argmax(axis=1)
    length[c.max(axis=1) == 0] = 0
    first = c[:, 0]
    regular = ~wide & ((n_us == 2) | (n_us == 3)) & ((first == 110) | (first == 78))
    undecided = wide.copy()  # any other name not led by n/N matches no form (e.g. IBM's "_Z_" load nodes)
    pos = np.full((n, 3), width, dtype=np.int64)
    r, k = np.nonzero(us & regular[:, None])
    row_first = np.flatnonzero(np.r_[True, r[1:] != r[:-1]]) if len(r) else np.zeros(0, dtype=np.int64)
    slot = np.arange(len(r)) - np.repeat(row_first, np.diff(np.r_[row_first, len(r)]))  # 0, 1, 2 in a row
    keep = slot < 3
    pos[r[keep], slot[keep]] = k[keep]
    three = n_us == 3
    ends = [pos[:, 0], pos[:, 1], np.where(three, pos[:, 2], length), length]
    starts = [np.ones(n, dtype=np.int64), pos[:, 0] + 1, pos[:, 1] + 1, np.where(three, pos[:, 2] + 1, length)]
    net, net_ok, net_neg = _digits(c, starts[0], ends[0])
    vals = [_digits(c, starts[i], ends[i]) for i in (1, 2, 3)]
    words = [_word(c, starts[i], ends[i]) for i in (1, 3)]
    long_field = ((ends[0] - starts[0]) > 15) | np.any([(ends[i] - starts[i]) > 15 for i in (1, 2, 3)], axis=0)
    undecided |= regular & long_field
    base = regular & net_ok & ~net_neg & ~long_field
    ibm = base & ~three & vals[0][1] & vals[1][1]
    contest = base & three & words[0][1] & vals[1][1] & vals[2][1]
    began = base & three & vals[0][1] & vals[1][1] & words[1][1] & ~contest
    # a layer-like field longer than 8 characters: the expression decides
    long_word = base & three & ((ends[1] - starts[1] > 8) | (ends[3] - starts[3] > 8))
    undecided |= long_word & ~contest & ~began
    ok = (ibm | contest | began) & ~undecided
    x = np.where(contest, vals[1][0], vals[0][0]).astype(np.float64)
    y = np.where(contest, vals[2][0], vals[1][0]).astype(np.float64)
    key = np.where(contest, words[0][0], np.where(began, words[1][0], -1))
    key[~ok] = -1
    text_key: dict[str, int] = {}
    for kk in np.unique(key[key >= 0]).tolist():
        t, v = [], kk
        while v:
            t.append(chr(v % 128))
            v //= 128
        text_key["".join(reversed(t))] = kk
    return ok, net, key, x, y, text_key, undecided


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
    names = np.asarray(names, dtype=str)
    ok, v_net, key, vx, vy, text_key, undecided = _decode_columns(names)
    net[ok], x[ok], y[ok] = v_net[ok], vx[ok], vy[ok]
    if undecided.any():  # long fields, non-ASCII: the regular expression, then one layer numbering for all
        r_net, r_lay, r_x, r_y = _decode_regex(names[undecided])
        net[undecided], x[undecided], y[undecided] = r_net, r_x, r_y
        fresh = iter(range(2 ** 62, 2 ** 63))
        key[undecided] = [text_key.setdefault(t, next(fresh)) if t else -1 for t in r_lay]
    if not text_key:
        return net, layer, x, y, []
    order = sorted(text_key, key=lambda t: (_metal_number(t), t))
    keys = np.array([text_key[t] for t in order], dtype=np.int64)
    srt = np.argsort(keys)
    has = key >= 0
    layer[has] = srt[np.searchsorted(keys[srt], key[has])]
    return net, layer, x, y, order


def _decode_regex(names: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """(net, layer name or "", x, y) per name by the regular expression (rows the column decoder leaves)."""
    n = len(names)
    groups = _NAME_RE.findall("\n".join(names.tolist()))[:n]
    if len(groups) != n:  # a name containing a newline cannot occur in a SPICE deck
        raise ValueError("node names must not contain newlines")
    g_net, g_lay1, g_x, g_y, g_lay2 = zip(*groups, strict=True)
    net = np.array([s or "-1" for s in g_net], dtype=np.int64).astype(np.int32)
    x = np.array([s or "nan" for s in g_x], dtype=np.float64)
    y = np.array([s or "nan" for s in g_y], dtype=np.float64)
    return net, [(a or b).lower() for a, b in zip(g_lay1, g_lay2, strict=True)], x, y
