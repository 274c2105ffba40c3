"""Whole-file, byte-level tokeniser for the common shape of PDN decks (no Python object per token).

A PDN deck of IBM-pg2 size has ~260k lines and ~1M tokens; making a Python ``str`` of every token and a
dict look-up of every terminal costs most of a second. :func:`scan` instead works on the file's bytes with
NumPy: line starts from the newline positions, token bounds from a whitespace mask, tokens gathered into
fixed-width byte matrices; values convert in one ``astype(float64)``; node names are interned by hashing
their byte rows (three 64-bit words for a contest name), ``np.unique`` on the hashes and an exact
row-by-row check of every hash group, so a collision can never merge two names.

It handles the shape nearly every real deck has — element lines ``NAME node node value`` with a plain
number, comments, dot cards — and returns ``None`` for anything else (continuation lines, ``.control``
blocks, indented lines, suffixed values such as ``2k``, PULSE/PWL sources, inline comments, non-ASCII
names, unknown element letters). The caller then uses the line-by-line reader, which gives the same
result and names the file and line of every error; the two are checked against each other in
``tests/test_pdn_parse.py``. Node numbering is the same in both: order of first appearance, resistors
first, then capacitors, inductors, voltage and current sources, each element's ``a`` before its ``b``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Scan", "scan", "ELEMENT_KINDS", "parse_floats"]

#: Element letters in the order their terminals are numbered.
ELEMENT_KINDS = "rclvi"
_GROUND = (b"0", b"gnd", b"GND")
_MAX_TOKEN = 200  # longer tokens (never seen in PDN decks) go the line-by-line way
_HASH_MUL = 0x100000001B3  # FNV-style multiplier over 8-byte words; collisions are checked, not assumed
_SKIP_FIRST = {0, ord("*"), ord(";"), ord("$"), ord("\r")}  # empty lines and comments

@dataclass
class Scan:
    """What :func:`scan` found: per element kind, the line indices (0-based, into the file's lines),
    terminal node ids (``-1`` for ground) and values; for sources also the element names."""

    names: np.ndarray  # node names, index = node id
    lines: dict[str, np.ndarray] = field(default_factory=dict)
    a: dict[str, np.ndarray] = field(default_factory=dict)
    b: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)
    element_names: dict[str, np.ndarray] = field(default_factory=dict)
    dot_lines: list[int] = field(default_factory=list)
    n_lines: int = 0


def line_bounds(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, without the newline) byte offsets of every line."""
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [len(arr)]])
    if len(starts) > 1 and starts[-1] == len(arr):  # the file ends with a newline
        starts, ends = starts[:-1], ends[:-1]
    return starts, ends


def _gather(padded: np.ndarray, start: np.ndarray, end: np.ndarray, width: int, columns: int = 0,
            by_rows: bool = True) -> np.ndarray:
    """Tokens ``padded[start:end]`` as rows of a zero-padded ``(n, max(width, columns))`` byte matrix (a column
    at a time; ``padded`` ends with at least ``width`` spare bytes); ``by_rows=False`` returns it transposed."""
    length = end - start
    m = np.zeros((max(width, columns), len(start)), dtype=np.uint8)
    idx = start.copy()
    for c in range(width):
        np.take(padded, idx, out=m[c])
        m[c] *= length > c
        idx += 1
    return np.ascontiguousarray(m.T) if by_rows else m


def parse_floats(m: np.ndarray, by_rows: bool = True) -> np.ndarray | None:
    """Plain decimal numbers (``-1.5``, ``2.14e-08``) in a zero-padded byte matrix, correctly rounded.

    Mantissa digits and the power of ten are read as integers, a column at a time; when the mantissa is
    below 2**53 and the power within ±22, one IEEE multiplication or division by an exact power of ten is
    correctly rounded (Clinger's fast path), i.e. the same double as ``float(text)``. Rows outside that
    path, or with anything but digits, one point, one exponent and signs, go through NumPy's string
    conversion (``None`` when that refuses them too). ``by_rows=False``: one number per column.
    """
    cols = m.T if by_rows else m
    width, n = cols.shape
    if n == 0:
        return np.zeros(0)
    mant = np.zeros(n, dtype=np.int64)
    expo = np.zeros(n, dtype=np.int64)
    n_mant = np.zeros(n, dtype=np.int64)
    n_exp = np.zeros(n, dtype=np.int64)
    frac = np.zeros(n, dtype=np.int64)
    state = np.zeros(n, dtype=np.int8)  # 0 start, 1 mantissa, 2 fraction, 3 exponent sign, 4 exponent
    neg = np.zeros(n, dtype=bool)
    eneg = np.zeros(n, dtype=bool)
    ok = np.ones(n, dtype=bool)
    for k in range(width):
        ch = cols[k]
        live = ch != 0
        d = ch - np.uint8(48)  # wraps below '0', so one comparison finds the digits
        dig = d <= 9
        sign = live & ((ch == 45) | (ch == 43))
        dot = live & (ch == 46)
        e = live & ((ch == 101) | (ch == 69))
        in_m = dig & (state <= 2)
        in_e = dig & (state >= 3)
        ok &= ~live | dig | (sign & ((state == 0) | (state == 3))) | (dot & (state <= 1)) | (e & (state <= 2))
        mant = np.where(in_m, mant * 10 + d, mant)
        expo = np.where(in_e, expo * 10 + d, expo)
        n_mant += in_m
        n_exp += in_e
        frac += dig & (state == 2)
        neg |= sign & (state == 0) & (ch == 45)
        eneg |= sign & (state == 3) & (ch == 45)
        state = np.select([e, dot, in_e | (sign & (state == 3)), (in_m | sign) & (state == 0)], [3, 2, 4, 1],
                          state).astype(np.int8)
    p10 = np.where(eneg, -expo, expo) - frac
    ok &= (n_mant > 0) & (n_mant <= 18) & ((state < 3) | (n_exp > 0)) & (n_exp <= 4)
    ok &= (mant <= 2 ** 53) & (np.abs(p10) <= 22)
    with np.errstate(all="ignore"):
        val = np.where(p10 >= 0, mant * 10.0 ** np.maximum(p10, 0), mant / 10.0 ** np.maximum(-p10, 0))
    val = np.where(neg, -val, val)
    if not ok.all():
        bad = np.flatnonzero(~ok)
        try:
            val[bad] = np.ascontiguousarray(cols[:, bad].T).view(f"S{width}").ravel().astype(np.float64)
        except ValueError:
            return None
    return val


def _as_str(rows: np.ndarray) -> np.ndarray | None:
    """Byte rows → ``str`` array (``None`` for non-ASCII bytes: the line reader decodes those)."""
    if rows.shape[0] and rows.max() >= 128:
        return None
    return np.ascontiguousarray(rows).view(f"S{rows.shape[1]}").ravel().astype(str)


def _intern(rows: np.ndarray, width: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Node ids (first-appearance order, ground ``-1``) of byte rows, and the unique rows in id order.

    ``None`` on a hash collision (two different names with one hash: checked exactly, never assumed).
    """
    n = rows.shape[0]
    width = width or rows.shape[1]
    pad = -rows.shape[1] % 8
    if pad:
        rows = np.concatenate([rows, np.zeros((n, pad), dtype=np.uint8)], axis=1)
    words = np.ascontiguousarray(rows).view(np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(words.shape[1]):
            h = (h ^ words[:, j]) * np.uint64(_HASH_MUL) + np.uint64(j + 1)
    perm = np.argsort(h)
    hs = h[perm]
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(hs[1:], hs[:-1], out=new[1:])
    group_start = np.flatnonzero(new)
    inv = np.empty(n, dtype=np.int64)
    inv[perm] = np.cumsum(new) - 1
    first = np.minimum.reduceat(perm, group_start)  # first appearance of each distinct hash
    if not np.array_equal(words[first[inv]], words):
        return None
    k = len(first)
    urows = rows[first]
    ground = np.zeros(k, dtype=bool)
    short = np.flatnonzero(urows[:, 3] == 0) if urows.shape[1] > 3 else np.arange(k)  # "0", "gnd", "GND"
    for g in _GROUND:
        key = np.zeros(urows.shape[1], dtype=np.uint8)
        key[:len(g)] = np.frombuffer(g, dtype=np.uint8)
        ground[short] |= (urows[short] == key).all(axis=1)
    order = np.argsort(np.where(ground, n + np.arange(k), first))  # first appearance; ground last
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    rank[ground] = -1
    keep = order[: k - int(ground.sum())]
    return rank[inv], urows[keep][:, :width]


def scan(data: bytes, first_line: int = 0) -> Scan | None:
    """Tokenise a deck's bytes from line ``first_line`` on (see the module docstring); ``None`` when the
    deck needs the line-by-line reader."""
    arr = np.frombuffer(data, dtype=np.uint8)
    if len(arr) == 0:
        return None
    padded = np.concatenate([arr, np.zeros(_MAX_TOKEN + 1, dtype=np.uint8)])
    starts, ends = line_bounds(arr)
    first = np.where(ends > starts, arr[np.minimum(starts, len(arr) - 1)], 0)
    if (first == 43).any():  # "+" continuation lines
        return None
    tok_lines = np.flatnonzero(first > 32)  # lines that start with a token (the others are blank: checked below)
    first[:first_line] = 0
    letters = np.frombuffer(ELEMENT_KINDS.encode() + ELEMENT_KINDS.upper().encode(), dtype=np.uint8)
    kind_of = np.zeros(256, dtype=np.int8)
    kind_of[letters] = np.tile(np.arange(1, len(ELEMENT_KINDS) + 1), 2)
    line_kind = kind_of[first]
    dots = np.flatnonzero(first == ord("."))
    other = (line_kind == 0) & (first != ord(".")) & ~np.isin(first, list(_SKIP_FIRST))
    if other.any():  # indented lines or unknown element letters: the line reader handles (or names) them
        odd = np.flatnonzero(other)
        if len(odd) > 1000 or any(bytes(arr[starts[k]:ends[k]]).strip() for k in odd):
            return None
    if any(bytes(arr[starts[k]:ends[k]]).split()[0].lower() in (b".control", b".endc") for k in dots):
        return None
    ws = padded <= 32  # other control bytes were refused by the caller; the padding is whitespace
    edge = np.flatnonzero(ws[1:] != ws[:-1]) + 1  # token starts and (exclusive) ends alternate
    if not ws[0]:
        edge = np.concatenate([[0], edge])
    ts_all, te_all = edge[0::2], edge[1::2]
    if arr[0] > 32:  # every line with tokens starts with one: number them by a running count of line starts
        at_start = np.zeros(len(padded), dtype=bool)
        at_start[starts[tok_lines]] = True
        line_of = tok_lines[np.cumsum(at_start[ts_all]) - 1]
    else:
        line_of = np.searchsorted(starts, ts_all, side="right") - 1
    tok_kind = line_kind[line_of]
    out = Scan(names=np.zeros(0, dtype=str), dot_lines=dots.tolist(), n_lines=len(starts))
    terms: list[np.ndarray] = []
    toks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for j, kind in enumerate(ELEMENT_KINDS, start=1):
        lines = np.flatnonzero(line_kind == j)
        if len(lines) == 0:
            continue
        sel = tok_kind == j
        ts, te = ts_all[sel], te_all[sel]
        if len(ts) != 4 * len(lines):
            return None
        ts, te = ts.reshape(-1, 4), te.reshape(-1, 4)
        # every line's four tokens must lie in that line
        if not (np.array_equal(ts[:, 0], starts[lines]) and np.all(te[:, 3] <= ends[lines])):
            return None
        if int((te - ts).max()) > _MAX_TOKEN:
            return None
        width = int((te[:, 3] - ts[:, 3]).max())
        vals = parse_floats(_gather(padded, ts[:, 3], te[:, 3], width, by_rows=False), by_rows=False)
        if vals is None:
            return None  # suffixed numbers, source keywords, junk: the line reader parses or names them
        out.lines[kind] = lines
        out.values[kind] = vals
        toks[kind] = (ts, te)
        terms.append(np.column_stack([ts[:, 1], te[:, 1], ts[:, 2], te[:, 2]]).reshape(-1, 2))
        if kind in "vi":
            nm = _as_str(_gather(padded, ts[:, 0], te[:, 0], int((te[:, 0] - ts[:, 0]).max())))
            if nm is None:
                return None
            out.element_names[kind] = nm
    if not terms:
        return None
    bounds = np.concatenate(terms)
    width = int((bounds[:, 1] - bounds[:, 0]).max())
    interned = _intern(_gather(padded, bounds[:, 0], bounds[:, 1], width, columns=-(-width // 8) * 8), width)
    if interned is None:
        return None
    ids, urows = interned
    names = _as_str(urows)
    if names is None:
        return None
    out.names = names
    k = 0
    for kind in ELEMENT_KINDS:
        if kind in toks:
            n = len(out.lines[kind])
            pair = ids[k:k + 2 * n]
            out.a[kind], out.b[kind] = pair[0::2], pair[1::2]
            k += 2 * n
    return out
