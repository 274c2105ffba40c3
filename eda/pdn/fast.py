"""The compiled PDN deck tokeniser (``eda/pdn/_fastscan.c``) seen from Python.

One pass in C over the deck's bytes: element lines (R C L V I, any case; DC values and PULSE current
sources, ``+`` continuation lines, comments, blank and indented lines), node names interned in a hash table
(the line reader's numbering: first appearance over resistors, capacitors, inductors, voltage and current
sources), values converted to the same doubles as ``float(text)``, node names decoded (net, layer, x, y) as
:func:`eda.pdn.model.decode_names` does. Dot cards come back as text for the Python reader's own handling.

It is built by ``make setup`` (``pip install -e .`` compiles it in place; ``setup.py`` marks it optional).
When it is not built, or a deck holds anything it leaves alone (PWL, AC, suffixes with unit letters, inline
comments, ``.control`` blocks, odd bytes), :func:`scan` says why and :mod:`eda.pdn.parse` reads the deck with
its NumPy and line-by-line readers, which give the same result and name file:line of every error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eda.pdn.model import _decode_regex, _metal_number

try:
    from eda.pdn import _fastscan
except ImportError:  # not built (no C compiler at install time): the Python readers take every deck
    _fastscan = None

__all__ = ["available", "scan", "CompiledScan"]

_KINDS = "rclvi"


def available() -> bool:
    """Whether the compiled tokeniser is built and importable."""
    return _fastscan is not None


@dataclass
class CompiledScan:
    """What the compiled tokeniser found (per element kind: line indices 0-based, terminal ids, values)."""

    names: np.ndarray
    decoded: tuple
    lines: dict[str, np.ndarray] = field(default_factory=dict)
    a: dict[str, np.ndarray] = field(default_factory=dict)
    b: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)
    element_names: dict[str, np.ndarray] = field(default_factory=dict)
    i_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    i_pulse: np.ndarray = field(default_factory=lambda: np.zeros((0, 7)))
    pwl_start: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    pwl_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pwl_v: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dots: list[tuple[int, str]] = field(default_factory=list)


def _rows(rows: tuple[bytearray, int]) -> np.ndarray:
    buf, width = rows  # UCS-4 rows, as NumPy holds str arrays (writable: a bytearray)
    return np.frombuffer(buf, dtype=f"<U{width}")


def scan(data: bytes, first_line: int = 0, weak_hash: bool = False) -> CompiledScan | str:
    """Tokenise a deck from line ``first_line`` on; a ``str`` (why) when the Python readers must take it.
    ``weak_hash`` (for tests): every node name of one length gets the same hash, so that only the byte-by-byte
    comparison keeps names apart."""
    if _fastscan is None:
        return "the compiled tokeniser is not built"
    got = _fastscan.scan(data, first_line, weak_hash)
    if isinstance(got, str):
        return got
    names = _rows(got["names"])
    out = CompiledScan(names=names, decoded=_decoded(names, got["decoded"]),
                       dots=[(k, t.decode("ascii")) for k, t in got["dots"]])
    for kind in _KINDS:
        lines = np.frombuffer(got[f"{kind}_line"], dtype=np.int64)
        if not len(lines):
            continue
        out.lines[kind] = lines.copy()  # writable arrays, as the other readers give
        out.a[kind] = np.frombuffer(got[f"{kind}_a"], dtype=np.int64).copy()
        out.b[kind] = np.frombuffer(got[f"{kind}_b"], dtype=np.int64).copy()
        out.values[kind] = np.frombuffer(got[f"{kind}_value"], dtype=np.float64).copy()
        if kind in "vi":
            out.element_names[kind] = _rows(got[f"{kind}_names"])
    out.i_kind = np.frombuffer(got["i_wave"], dtype=np.int8).copy()
    out.i_pulse = np.frombuffer(got["i_pulse"], dtype=np.float64).reshape(-1, 7).copy()
    tv = np.frombuffer(got["i_pwl"], dtype=np.float64)
    out.pwl_start = np.zeros(len(out.i_kind) + 1, dtype=np.int64)
    if len(tv):  # PWL sources: CSR of their points
        out.pwl_start[1:] = np.cumsum(np.frombuffer(got["i_pwl_n"], dtype=np.int64))
    out.pwl_t, out.pwl_v = tv[0::2].copy(), tv[1::2].copy()
    return out


def _decoded(names: np.ndarray, dec: tuple) -> tuple:
    """``decode_names(names)`` from the kernel's per-name fields: rows it left undecided (numbers longer than
    15 characters, a layer field on both sides) through the same regular expression, then one layer order."""
    b_net, b_lay, b_x, b_y, b_und, texts = dec
    net = np.frombuffer(b_net, dtype=np.int32).copy()
    lay = np.frombuffer(b_lay, dtype=np.int16).copy()
    x, y = np.frombuffer(b_x, dtype=np.float64).copy(), np.frombuffer(b_y, dtype=np.float64).copy()
    und = np.frombuffer(b_und, dtype=np.uint8).astype(bool)
    index = {t: i for i, t in enumerate(texts)}
    if und.any():
        r_net, r_lay, r_x, r_y = _decode_regex(names[und])
        net[und], x[und], y[und] = r_net, r_x, r_y
        lay[und] = [index.setdefault(t, len(index)) if t else -1 for t in r_lay]
    if not index:
        return net, np.full(len(names), -1, dtype=np.int16), x, y, []
    order = sorted(index, key=lambda t: (_metal_number(t), t))
    rank = np.empty(len(index), dtype=np.int16)
    rank[[index[t] for t in order]] = np.arange(len(order))
    layer = np.where(lay >= 0, rank[np.maximum(lay, 0)], -1).astype(np.int16)
    return net, layer, x, y, order
