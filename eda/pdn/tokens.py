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

import threading
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Scan", "scan", "ELEMENT_KINDS", "parse_floats", "pulse_lines", "pulse_fields"]

#: Element letters in the order their terminals are numbered.
ELEMENT_KINDS = "rclvi"
_GROUND = (b"0", b"gnd", b"GND")
_MAX_TOKEN = 200  # longer tokens (never seen in PDN decks) go the line-by-line way
_HASH_MUL = 0x100000001B3  # FNV-style multiplier over 8-byte words; collisions are checked, not assumed
_THREAD_TOKENS = 200_000  # decks with fewer tokens are scanned in one thread
_DEDUP_PROBE = 2048  # tokens looked at to decide whether a value column repeats enough to convert once per value
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
    decoded: object = None  # what ``scan(..., on_names=f)`` returned for the node names


def line_bounds(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, without the newline) byte offsets of every line."""
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [len(arr)]])
    if len(starts) > 1 and starts[-1] == len(arr):  # the file ends with a newline
        starts, ends = starts[:-1], ends[:-1]
    return starts, ends


def _words(padded: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[np.ndarray]:
    """Tokens ``padded[start:end]`` as little-endian 8-byte words, one array per word, bytes past each token's
    end zeroed: one unaligned 8-byte load per word instead of one gather per byte (``padded`` ends with at
    least ``_MAX_TOKEN + 8`` spare bytes)."""
    as_u64 = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    length = end - start
    out = []
    for j in range(-(-int(length.max(initial=0)) // 8)):
        rem = np.clip(length - 8 * j, 0, 8).astype(np.uint64) * np.uint64(8)
        mask = np.where(rem == 64, np.uint64(0xFFFFFFFFFFFFFFFF),
                        (np.uint64(1) << np.minimum(rem, np.uint64(63))) - np.uint64(1))
        out.append(as_u64[start + 8 * j] & mask)  # fancy indexing: np.take is 7x slower on unaligned data
    return out


def _bytes(words: list[np.ndarray], width: int) -> np.ndarray:
    """Word arrays (see :func:`_words`) back to a zero-padded ``(n, width)`` byte matrix."""
    return np.ascontiguousarray(np.stack(words, axis=1).astype("<u8")).view(np.uint8)[:, :width]


def _columns(words: list[np.ndarray], width: int) -> np.ndarray:
    """Word arrays as a ``(width, n)`` byte matrix: row ``c`` holds byte ``c`` of every token."""
    m = np.empty((width, len(words[0]) if words else 0), dtype=np.uint8)
    for c in range(width):
        m[c] = (words[c // 8] >> np.uint64(8 * (c % 8))).astype(np.uint8)
    return m


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
    if width > 12:  # 17-digit mantissas (Python reprs) leave the fast path anyway
        return _numpy_floats(cols)
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
        state = np.where(e, 3, np.where(dot, 2, np.where(in_e | (sign & (state == 3)), 4, np.where(
            (in_m | sign) & (state == 0), 1, state)))).astype(np.int8, copy=False)
    p10 = np.where(eneg, -expo, expo) - frac
    ok &= (n_mant > 0) & (n_mant <= 18) & ((state < 3) | (n_exp > 0)) & (n_exp <= 4)
    ok &= (mant <= 2 ** 53) & (np.abs(p10) <= 22)
    with np.errstate(all="ignore"):
        val = np.where(p10 >= 0, mant * 10.0 ** np.maximum(p10, 0), mant / 10.0 ** np.maximum(-p10, 0))
    val = np.where(neg, -val, val)
    if not ok.all():
        bad = np.flatnonzero(~ok)
        slow = _numpy_floats(cols[:, bad])
        if slow is None:
            return None
        val[bad] = slow
    return val


def _numpy_floats(cols: np.ndarray) -> np.ndarray | None:
    """NumPy's string-to-float conversion of a ``(width, n)`` byte matrix (``None`` when it refuses a token)."""
    try:
        return np.ascontiguousarray(cols.T).view(f"S{cols.shape[0]}").ravel().astype(np.float64)
    except ValueError:
        return None


def _as_str(rows: np.ndarray) -> np.ndarray | None:
    """Byte rows → ``str`` array (``None`` for non-ASCII bytes: the line reader decodes those)."""
    if rows.shape[0] and rows.max() >= 128:
        return None
    return np.ascontiguousarray(rows).view(f"S{rows.shape[1]}").ravel().astype(str)


def _token_bounds(padded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and (exclusive) end offsets of every token (a run of bytes > 32) of a zero-padded byte array."""
    ws = padded <= 32  # other control bytes were refused by the caller; the padding is whitespace
    edge = np.flatnonzero(ws[1:] != ws[:-1]) + 1  # token starts and ends alternate
    if not ws[0]:
        edge = np.concatenate([[0], edge])
    return edge[0::2], edge[1::2]


def _token_lines(size: int, line_starts: np.ndarray, ts: np.ndarray, each_starts_with_token: bool) -> np.ndarray:
    """Index into ``line_starts`` (ascending byte offsets) of the line holding each token start ``ts``: a running
    count of line starts when each of those lines begins with a token (no search), else a binary search."""
    if each_starts_with_token:
        at_start = np.zeros(size, dtype=bool)
        at_start[line_starts] = True
        return np.cumsum(at_start[ts]) - 1
    return np.searchsorted(line_starts, ts, side="right") - 1


def _floats(padded: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray | None:
    """The tokens ``padded[start:end]`` as numbers (:func:`parse_floats`; ``None`` when one is not plain).

    A column of short tokens (at most 8 bytes: one word each, so equal words are equal tokens) that repeats
    much, as PULSE timings and the wire resistances of a regular grid do, is converted once per distinct
    token (judged on its first 2,048 tokens: fewer than half distinct)."""
    words, width = _words(padded, start, end), int((end - start).max())
    probe = _DEDUP_PROBE
    if len(words) == 1 and len(start) > 4 * probe and len(np.unique(words[0][:probe])) < probe // 2:
        distinct, inverse = np.unique(words[0], return_inverse=True)
        vals = parse_floats(_columns([distinct], width), by_rows=False)
        return None if vals is None else vals[inverse]
    return parse_floats(_columns(words, width), by_rows=False)


def _strings(padded: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray | None:
    """The tokens ``padded[start:end]`` as a ``str`` array (``None`` for non-ASCII bytes)."""
    return _as_str(_bytes(_words(padded, start, end), int((end - start).max())))


def _intern(words: list[np.ndarray], width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Node ids (first-appearance order, ground ``-1``) of tokens given as word arrays (:func:`_words`), and
    the distinct names as byte rows in id order.

    ``None`` on a hash collision (two different names with one hash: checked exactly, never assumed).
    """
    h = np.zeros(len(words[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j, w in enumerate(words):
            h = (h ^ w) * np.uint64(_HASH_MUL) + np.uint64(j + 1)
    # a terminal equal to the one before it (a wire chain: R1 a b, R2 b c) needs no sorting
    run = np.ones(len(h), dtype=bool)
    run[1:] = (h[1:] != h[:-1]) | np.any([w[1:] != w[:-1] for w in words], axis=0)
    heads = np.flatnonzero(run)
    run_of = np.cumsum(run) - 1
    got = _intern_sorted(h[heads], [w[heads] for w in words], width)
    if got is None:
        return None
    ids, rows = got
    return ids[run_of], rows


def _intern_sorted(h: np.ndarray, words: list[np.ndarray], width: int) -> tuple[np.ndarray, np.ndarray] | None:
    n = len(h)
    perm = np.argsort(h)
    hs = h[perm]
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(hs[1:], hs[:-1], out=new[1:])
    group_start = np.flatnonzero(new)
    inv = np.empty(n, dtype=np.int64)
    inv[perm] = np.cumsum(new) - 1
    first = np.minimum.reduceat(perm, group_start)  # first appearance of each distinct hash
    rep = first[inv]
    if not all(np.array_equal(np.take(w, rep), w) for w in words):
        return None
    k = len(first)
    ground = np.zeros(k, dtype=bool)
    w0 = words[0][first]
    for g in _GROUND:  # "0", "gnd", "GND": one word each
        ground |= w0 == np.frombuffer(g.ljust(8, b"\0"), dtype="<u8")[0]
    if len(words) > 1:
        ground &= words[1][first] == 0
    order = np.argsort(np.where(ground, n + np.arange(k), first))  # first appearance; ground last
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    rank[ground] = -1
    keep = first[order[: k - int(ground.sum())]]
    return rank[inv], _bytes([w[keep] for w in words], width)


def scan(data: bytes, first_line: int = 0, on_names=None) -> Scan | None:
    """Tokenise a deck's bytes from line ``first_line`` on (see the module docstring); ``None`` when the
    deck needs the line-by-line reader. ``on_names(names)``, when given, runs on the interned node names
    while the values are still being converted; its result is ``Scan.decoded``."""
    arr = np.frombuffer(data, dtype=np.uint8)
    if len(arr) == 0:
        return None
    padded = np.concatenate([arr, np.zeros(_MAX_TOKEN + 8, dtype=np.uint8)])
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
    ts_all, te_all = _token_bounds(padded)
    if arr[0] > 32:  # every line with tokens starts with one
        line_of = tok_lines[_token_lines(len(padded), starts[tok_lines], ts_all, True)]
    else:
        line_of = _token_lines(len(padded), starts, ts_all, False)
    tok_kind = line_kind[line_of]
    out = Scan(names=np.zeros(0, dtype=str), dot_lines=dots.tolist())
    term_start: list[np.ndarray] = []
    term_end: list[np.ndarray] = []
    jobs: list[tuple[str, np.ndarray, np.ndarray]] = []  # (kind, first/value token starts, ends)
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
        out.lines[kind] = lines
        jobs.append((kind, ts[:, [0, 3]], te[:, [0, 3]]))
        term_start.append(ts[:, 1:3].ravel())  # a0, b0, a1, b1, ...
        term_end.append(te[:, 1:3].ravel())
    if not term_start:
        return None
    # values and source names in a second thread while the terminals are interned and their names decoded
    # (NumPy releases the GIL in the array passes of both); one thread for small decks
    values = _Background(_values, padded, jobs, threaded=len(ts_all) >= _THREAD_TOKENS)
    t_start, t_end = np.concatenate(term_start), np.concatenate(term_end)
    interned = _intern(_words(padded, t_start, t_end), int((t_end - t_start).max()))
    names = None if interned is None else _as_str(interned[1])
    if names is not None and on_names is not None:
        out.decoded = on_names(names)
    got = values.result()
    if names is None or got is None:
        return None
    out.values, out.element_names = got
    out.names = names
    ids = interned[0]
    k = 0
    for kind in ELEMENT_KINDS:
        if kind in out.lines:
            n = len(out.lines[kind])
            pair = ids[k:k + 2 * n]
            out.a[kind], out.b[kind] = pair[0::2], pair[1::2]
            k += 2 * n
    return out


def _values(padded: np.ndarray, jobs) -> tuple[dict, dict] | None:
    """Per kind, the values (4th token) and, for sources, the element names (1st token); ``None`` when a
    value is not a plain number."""
    values, element_names = {}, {}
    for kind, ts, te in jobs:
        vals = _floats(padded, ts[:, 1], te[:, 1])
        if vals is None:
            return None  # suffixed numbers, source keywords, junk: the line reader parses or names them
        values[kind] = vals
        if kind in "vi":
            nm = _strings(padded, ts[:, 0], te[:, 0])
            if nm is None:
                return None
            element_names[kind] = nm
    return values, element_names


class _Background:
    """``fn(*args)`` in a daemon thread (or at once when ``threaded`` is false); :meth:`result` joins it and
    re-raises in the caller's thread what it raised."""

    def __init__(self, fn, *args, threaded: bool):
        self._out = self._err = None
        self._thread = None
        if threaded:
            self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
            self._thread.start()
        else:
            self._run(fn, args)

    def _run(self, fn, args) -> None:
        try:
            self._out = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread by result()
            self._err = e

    def result(self):
        if self._thread is not None:
            self._thread.join()
        if self._err is not None:
            raise self._err
        return self._out


def _has_word(arr: np.ndarray, word: bytes) -> bool:
    """Whether the lower-case ASCII ``word`` occurs in ``arr`` in any letter case: candidates at its first
    letter, narrowed letter by letter (a few ms on a 13 MB deck; ``bytes.lower`` + ``in`` costs 3x more)."""
    pos = np.flatnonzero((arr[: len(arr) - len(word) + 1] | 32) == word[0])
    for k, c in enumerate(word[1:], start=1):
        pos = pos[(arr[pos + k] | 32) == c]
    return len(pos) > 0


def pulse_lines(data: bytes, arr: np.ndarray, first_line: int = 0) -> tuple[bytes, np.ndarray, np.ndarray] | None:
    """PULSE current sources made readable by :func:`scan`: ``(the deck with each PULSE line cut to ``NAME a b
    value`` by blanking the rest, their line indices, their PULSE rows (n, 7) NaN-padded)``; ``None`` when
    the deck has no PULSE or its PULSE lines do not share one shape (:func:`pulse_fields`; the line reader
    then reads the deck). IBM transient decks carry 10k-100k such lines; one by one they cost seconds."""
    if not _has_word(arr, b"pulse"):
        return None
    starts, ends = line_bounds(arr)
    k = np.flatnonzero(np.isin(arr[np.minimum(starts, len(arr) - 1)], (ord("i"), ord("I"))) & (ends > starts))
    k = k[k >= first_line]
    if not len(k):
        return None
    buf = b"\n".join([data[s:e] for s, e in zip(starts[k].tolist(), ends[k].tolist(), strict=True)]) + b"\n"
    got = pulse_fields(np.frombuffer(buf, dtype=np.uint8), len(k))
    if got is None:
        return None
    sel, pulse, (bs, be) = got
    sk = starts[k]
    buf_start = np.concatenate([[0], np.cumsum(ends[k] - sk + 1)[:-1]])
    shift = np.tile((sk - buf_start)[sel], len(bs) // int(sel.sum()))
    bs, be = bs + shift, be + shift
    lo, hi = int(bs.min()), int(be.max())
    mark = np.zeros(hi - lo + 1, dtype=np.int8)  # the ranges are disjoint: +1 at each start, -1 at each end
    mark[bs - lo] = 1
    mark[be - lo] -= 1
    masked = arr.copy()
    region = masked[lo:hi]
    region[np.cumsum(mark[:-1], dtype=np.int8) > 0] = 32
    return masked.tobytes(), k[sel], pulse


def pulse_fields(buf: np.ndarray, n: int):
    """PULSE fields of ``n`` current-source lines (bytes, newline-terminated): ``(which lines are PULSE
    sources, their PULSE rows (m, 7) NaN-padded, (start, end) byte ranges in ``buf`` to blank so that each
    reads ``NAME a b value``)``, when every line is ``NAME a b value`` or every non-DC line shares one shape
    ``NAME a b [DC] value PULSE(v1 v2 [td tr tf pw per])`` (commas or blanks, plain numbers); else ``None``."""
    lut = np.arange(256, dtype=np.uint8)
    lut[[ord("("), ord(")"), ord(",")]] = 32
    b = lut[buf]
    if (b == ord(";")).any():  # inline comments: the line reader
        return None
    padded = np.concatenate([b, np.zeros(_MAX_TOKEN + 8, dtype=np.uint8)])
    ts, te = _token_bounds(padded)
    line_end = np.flatnonzero(b == 10)
    line_start = np.concatenate([[0], line_end[:-1] + 1])
    line_of = _token_lines(len(padded), line_start, ts, bool((b[line_start] > 32).all()))
    count = np.bincount(line_of, minlength=n)
    sel = count != 4  # DC sources stay as they are
    m = int(sel.sum())
    width = int(count[sel][0]) if m else 0
    if len(count) != n or not m or not (count[sel] == width).all() or width < 6 or int((te - ts).max()) > _MAX_TOKEN:
        return None
    keep = sel[line_of]
    ts, te = ts[keep].reshape(m, width), te[keep].reshape(m, width)
    low = np.uint64(0x2020202020)
    key = np.frombuffer(b"pulse\0\0\0", dtype="<u8")[0]
    w4 = _words(padded, ts[:1, 4], te[:1, 4])  # NAME a b value PULSE ... | NAME a b DC value PULSE ...
    j = 4 if te[0, 4] - ts[0, 4] == 5 and len(w4) == 1 and (w4[0][0] | low) == key else 5
    npulse = width - j - 1
    w = _words(padded, ts[:, j], te[:, j])
    if not (2 <= npulse <= 7) or len(w) != 1 or not ((te[:, j] - ts[:, j] == 5).all() and ((w[0] | low) == key).all()):
        return None
    blank_s, blank_e = [ts[:, j]], [line_end[sel]]
    if j == 5:
        dcw = _words(padded, ts[:, 3], te[:, 3])
        if len(dcw) != 1 or not ((te[:, 3] - ts[:, 3] == 2).all() and ((dcw[0] | np.uint64(0x2020)) == 0x6364)
                                 .all()):
            return None
        blank_s.append(ts[:, 3])
        blank_e.append(te[:, 3])
    vals = []
    for c in range(j + 1, width):
        v = _floats(padded, ts[:, c], te[:, c])
        if v is None:
            return None  # suffixed numbers (10p), keywords: the line reader
        vals.append(v)
    pulse = np.full((m, 7), np.nan)
    pulse[:, :npulse] = np.column_stack(vals)
    return sel, pulse, (np.concatenate(blank_s), np.concatenate(blank_e))
