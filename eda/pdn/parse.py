"""Fast readers for PDN SPICE decks (ICCAD'23 contest, IBM power-grid benchmarks, BeGAN).

Vectorised: lines are bucketed by their element letter in one pass, each bucket's tokens are split in
one ``str.split`` call and converted with one NumPy call; only lines that do not fit the common
``NAME a b value`` shape (PULSE/PWL sources, suffixed values) are parsed one by one. Every error names
file and line.

Supported cards: ``R C L V I`` elements (any case), ``.op``, ``.tran step stop [start [max]] [uic]``,
``.end``, ``.include``/``.inc`` (the named file's lines read in place; a relative name from the including
file's folder), and harmless output/option cards (``.option(s) .print .probe .save .temp .width .title``),
which are ignored. ``.control``/``.endc`` blocks are skipped. ``+`` continuation lines are joined.
The first line is the title unless it is itself an element line (ICCAD'23 decks start with a resistor).
Node names are case-sensitive; ``0``, ``gnd`` and ``GND`` are ground.

Three readers, one result: the compiled tokeniser (:mod:`eda.pdn.fast`, when built), the NumPy byte
tokeniser (:mod:`eda.pdn.tokens`), the line-by-line reader; each hands the deck on when it meets something
it does not handle, and every error is raised by the line reader's rules. ``PDN.reader`` says which one read
the deck (``compiled``, ``numpy`` or ``lines``); the debug log says why a faster one handed it on.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from eda.errors import InputError
from eda.pdn import fast
from eda.pdn.includes import INCLUDE_CARDS, expand_includes
from eda.pdn.model import PDN, WAVE_DC, WAVE_PULSE, WAVE_PWL, decode_names
from eda.pdn.tokens import line_bounds, pulse_lines, scan
from eda.read.numbers import NUMBER_RE as _NUM_RE
from eda.read.numbers import spice_number

__all__ = ["parse_pdn", "read_pdn"]

_IGNORED_DOT = {".opt", ".opti", ".option", ".options", ".print", ".probe", ".save", ".temp", ".width", ".title",
                ".ic", ".nodeset", ".measure", ".meas", ".global", ".plot", ".four", ".param", ".lib"}

_VNODE_RE = re.compile(r"\bv\(\s*([^()\s,]+)\s*\)", re.I)
_GROUND = ("0", "gnd", "GND")
_KINDS = "rclvi"
_log = logging.getLogger(__name__)


def read_pdn(path: str | Path, byte_tokeniser: bool = True, compiled: bool = True) -> PDN:
    """Read a PDN deck from a file (see :func:`parse_pdn`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read PDN deck: {e.strerror}", file=path) from None
    return _run(data, path, byte_tokeniser, compiled)


def parse_pdn(text: str, file: str | Path | None = None, byte_tokeniser: bool = True, compiled: bool = True) -> PDN:
    """Parse a PDN SPICE deck held in a string.

    Args:
        text: the deck.
        file: file name used in error messages.
        byte_tokeniser: ``False`` forces the line-by-line reader (same result; for checks and benchmarks).
        compiled: ``False`` skips the compiled tokeniser (same result; for checks and benchmarks).

    Returns:
        The :class:`~eda.pdn.model.PDN`.

    Raises:
        InputError: malformed lines, unknown elements, bad values; naming file:line.
    """
    return _run(text.encode("utf-8", errors="replace"), file, byte_tokeniser, compiled)


class _IncludeFound(Exception):
    """A deck holds an ``.include`` card: it is read again with the included lines in place."""


def _run(data: bytes, file, byte_tokeniser: bool, compiled: bool) -> PDN:
    nul = data.find(b"\0")
    if nul >= 0:
        raise InputError("NUL byte in the PDN deck (binary file?)", file=file, line=data.count(b"\n", 0, nul) + 1)
    try:
        return _Parser(data, file, byte_tokeniser, compiled).run()
    except _IncludeFound:
        data, origin = expand_includes(data, str(file) if file is not None else None)
        return _Parser(data, file, byte_tokeniser, compiled, origin).run()


def _plain_ascii(data: bytes, arr: np.ndarray) -> bool:
    """Printable ASCII, tab, LF and CRLF only: no byte that ``str.splitlines()`` or ``str.split()`` would treat
    differently from the byte tokeniser (form feeds, lone CRs, non-ASCII text go the line-by-line way)."""
    if arr.max() >= 128:
        return False
    ctrl = np.bincount(arr[arr < 32], minlength=32)  # one pass over the bytes; the control bytes are few
    cr = int(ctrl[13])
    if cr and cr != data.count(b"\r\n"):
        return False
    return int(ctrl.sum()) == int(ctrl[10]) + int(ctrl[9]) + cr


class _ByteLines:
    """Lines of a deck's bytes, decoded one at a time (only the few that a message or a dot card needs)."""

    def __init__(self, data: bytes):
        self.data = data
        self._bounds = None  # line bounds, found on the first look-up past line 0

    def __getitem__(self, k) -> str:
        k = int(k)
        if k == 0:
            end = self.data.find(b"\n")
            return self.data[: end if end >= 0 else len(self.data)].decode("ascii").rstrip("\r")
        if self._bounds is None:
            self._bounds = line_bounds(np.frombuffer(self.data, dtype=np.uint8))
        starts, ends = self._bounds
        return self.data[starts[k]:ends[k]].decode("ascii").rstrip("\r")


class _Joined(dict):
    """Dot-card lines as the line reader joins them (continuations included); other lines from the bytes."""

    def __init__(self, joined: dict[int, str], raw: _ByteLines):
        super().__init__(joined)
        self.raw = raw

    def __missing__(self, k) -> str:
        return self.raw[k]


class _Parser:
    def __init__(self, data: bytes, file, byte_tokeniser: bool = True, compiled: bool = True,
                 origin: list[tuple[str | None, int]] | None = None):
        """``origin``: per line of ``data``, the file and line it came from (includes read in place)."""
        self.file = str(file) if file is not None else None
        self.data = data
        self.origin = origin
        self.byte_tokeniser = byte_tokeniser
        self.compiled = compiled
        self._reset()

    def _reset(self) -> None:
        self.lines = None
        self._plus = False
        self.lineno: list[int] | None = None  # original 1-based numbers after joining continuations
        self.names: dict[str, int] = {g: -1 for g in _GROUND}
        self.tran: tuple[float, float] | None = None
        self.title = ""
        self.print_nodes: list[str] = []
        self.notes: list[str] = []

    # -------------------------------------------------------------- helpers
    def where(self, k: int) -> tuple[str | None, int]:
        """The file and 1-based line of (joined) line ``k``."""
        line = self.lineno[k] if self.lineno is not None else k + 1
        return self.origin[line - 1] if self.origin is not None else (self.file, line)

    def err(self, k: int, msg: str) -> InputError:
        file, line = self.where(k)
        return InputError(msg, file=file, line=line, text=self.lines[k].strip())

    def node_ids(self, na: list[str], nb: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Indices of both terminals; new nodes are numbered in order of appearance in the file."""
        both: list[str] = [""] * (2 * len(na))
        both[0::2] = na
        both[1::2] = nb
        d = self.names
        # C-level passes only: unique in order of appearance, then one dict lookup per terminal
        new = [t for t in dict.fromkeys(both) if t not in d]
        first = len(d) - len(_GROUND)
        d.update(zip(new, range(first, first + len(new)), strict=True))
        ids = np.fromiter(map(d.__getitem__, both), dtype=np.int64, count=len(both))
        return ids[0::2], ids[1::2]

    # -------------------------------------------------------------- main
    def run(self) -> PDN:
        pdn, reader = None, "lines"
        if self.byte_tokeniser and self.compiled:
            try:
                pdn, reader = self._run_compiled(), "compiled"
            except InputError as e:  # the line reader raises it, by its rules (same message and line)
                _log.debug("compiled tokeniser: %s; the line reader names the error", e.one_line())
                self._reset()
                self.byte_tokeniser = False
        if pdn is None and self.byte_tokeniser:
            pdn, reader = self._run_fast(), "numpy"
        if pdn is None:
            text = self.data.decode("utf-8", errors="replace")
            self.lines = text.splitlines()
            self._plus = text.startswith("+") or "\n+" in text or "\r+" in text
            pdn, reader = self._run_lines(), "lines"
        pdn.reader = reader  # which reader read it (not a dataclass field: PDNs compare alike)
        _log.debug("%s read by the %s reader", self.file or "<string>", reader)
        return pdn

    def _run_compiled(self) -> PDN | None:
        """The compiled tokeniser (:mod:`eda.pdn.fast`), else ``None`` (not built, or a deck it hands on)."""
        data = self.data
        if not fast.available() or not data:
            return None
        end = data.find(b"\n")
        head = data[: end if end >= 0 else len(data)]
        if not head.isascii():
            return None
        raw = _ByteLines(data)
        start = 0 if self._looks_like_element(raw[0]) else 1
        sc = fast.scan(data, start)
        if isinstance(sc, str):
            _log.debug("compiled tokeniser hands %s on: %s", self.file or "<string>", sc)
            return None
        self.lines = _Joined(dict(sc.dots), raw)
        if start:
            self.title = raw[0].lstrip("*").strip()
        for k, _ in sc.dots:
            self._dot(k, False)
        return self._from_scan(sc, sc.i_kind, sc.i_pulse, (sc.pwl_start, sc.pwl_t, sc.pwl_v))

    def _run_fast(self) -> PDN | None:
        """The byte-level tokeniser (:mod:`eda.pdn.tokens`) for decks of the common shape, else ``None``."""
        data = self.data
        arr = np.frombuffer(data, dtype=np.uint8)
        if not len(arr) or not _plain_ascii(data, arr):
            return None
        self.lines = lines = _ByteLines(data)
        start = 0 if self._looks_like_element(lines[0]) else 1
        pulses = pulse_lines(data, arr, first_line=start)  # PULSE loads: waveforms apart, the rest scanned
        sc = scan(pulses[0] if pulses is not None else data, first_line=start, on_names=decode_names)
        if sc is None:
            self.lines = None
            return None
        if start:
            self.title = lines[0].lstrip("*").strip()
        for k in sc.dot_lines:
            self._dot(k, False)
        n = len(sc.lines.get("i", ()))
        kind, pulse = np.zeros(n, dtype=np.int8), np.full((n, 7), np.nan)
        if pulses is not None:
            at = np.searchsorted(sc.lines["i"], pulses[1])
            kind[at], pulse[at] = WAVE_PULSE, pulses[2]
        return self._from_scan(sc, kind, pulse)

    def _from_scan(self, sc, wave: np.ndarray, pulse: np.ndarray, pwl: tuple | None = None) -> PDN:
        """The PDN from a tokeniser's per-kind arrays (:class:`eda.pdn.tokens.Scan` or its compiled twin),
        checked by the line reader's rules; ``wave``/``pulse``/``pwl`` (start, t, v): the current sources'
        waveforms."""
        no_i, no_f = np.zeros(0, dtype=np.int64), np.zeros(0)
        el: dict[str, np.ndarray] = {}
        for kind, key in (("r", "res"), ("c", "cap"), ("l", "ind")):
            idx, vals = sc.lines.get(kind, no_i), sc.values.get(kind, no_f)
            self._check_passive(idx, vals, kind)
            el[f"{key}_a"], el[f"{key}_b"], el[f"{key}_value"] = sc.a.get(kind, no_i), sc.b.get(kind, no_i), vals
        self._vs_checked(sc.lines.get("v", no_i), sc.element_names.get("v", np.zeros(0, dtype=str)),
                         sc.a.get("v", no_i), sc.b.get("v", no_i), sc.values.get("v", no_f), el)
        idx = sc.lines.get("i", no_i)
        n = len(idx)
        self._is_checked(idx, sc.element_names.get("i", np.zeros(0, dtype=str)), sc.a.get("i", no_i),
                         sc.b.get("i", no_i), sc.values.get("i", no_f), wave, pulse,
                         *((np.zeros(n + 1, dtype=np.int64), [], []) if pwl is None else (pwl[0], [pwl[1]], [pwl[2]])),
                         el)
        return self._build(sc.names, el, sc.decoded)

    def _build(self, names, el: dict, decoded: tuple | None = None) -> PDN:
        pdn = PDN.from_names(names, decoded, **el)
        pdn.title = self.title
        pdn.source = self.file
        pdn.tran = self.tran
        pdn.print_nodes = list(dict.fromkeys(self.print_nodes))
        pdn.notes = self.notes
        return pdn

    def _run_lines(self) -> PDN:
        self._join_continuations()
        lines = self.lines
        buckets: dict[str, list[int]] = {c: [] for c in _KINDS}
        lookup = {**buckets, **{c.upper(): buckets[c] for c in _KINDS}}
        start = 0
        if lines and not self._looks_like_element(lines[0]):
            self.title = lines[0].lstrip("*").strip()
            start = 1
        in_control = False
        for k in range(start, len(lines)):
            line = lines[k]
            c = line[:1]
            b = lookup.get(c)
            if b is not None and not in_control:
                b.append(k)
                continue
            if c in (" ", "\t"):
                s = line.strip()
                if not s:
                    continue
                lines[k] = line = s
                c = s[:1]
                b = lookup.get(c)
                if b is not None and not in_control:
                    b.append(k)
                    continue
            if c == "" or c == "*" or c == ";" or c == "$":
                continue
            if c == ".":
                in_control = self._dot(k, in_control)
                continue
            if in_control:
                continue
            raise self.err(k, f"unknown element {line.split()[0]!r}: PDN decks hold R, C, L, V and I "
                              "elements")
        el: dict[str, np.ndarray] = {}
        for kind, key in (("r", "res"), ("c", "cap"), ("l", "ind")):
            a, b, v = self._passive(buckets[kind], kind)
            el[f"{key}_a"], el[f"{key}_b"], el[f"{key}_value"] = a, b, v
        self._vsources(buckets["v"], el)
        self._isources(buckets["i"], el)
        n = len(self.names) - len(_GROUND)
        names = [""] * n
        for nm, i in self.names.items():
            if i >= 0:
                names[i] = nm
        return self._build(names, el)

    def _looks_like_element(self, line: str) -> bool:
        s = line.strip()
        if not s or s[0].lower() not in _KINDS:
            return False
        toks = s.split()
        if len(toks) < 4:
            return False
        # number-shaped (even one out of range, refused later with its line) or a source keyword
        return bool(_NUM_RE.match(toks[3])) or toks[3].lower().startswith(("dc", "pulse", "pwl"))

    def _join_continuations(self) -> None:
        lines = self.lines
        if not self._plus:
            return
        out: list[str] = []
        nums: list[int] = []
        for i, ln in enumerate(lines):
            if ln[:1] == "+" and out:
                out[-1] = out[-1] + " " + ln[1:]
            else:
                out.append(ln)
                nums.append(i + 1)
        self.lines, self.lineno = out, nums

    def _dot(self, k: int, in_control: bool) -> bool:
        toks = self.lines[k].split()
        card = toks[0].lower()
        if card == ".control":
            return True
        if card == ".endc":
            return False
        if in_control:
            return True
        if card in (".end", ".op", ".ends"):
            return False
        if card in INCLUDE_CARDS:
            raise _IncludeFound
        if card in _IGNORED_DOT:
            if card == ".print":
                self.print_nodes += _VNODE_RE.findall(self.lines[k])
            file, line = self.where(k)
            self.notes.append(f"{file or '<string>'}:{line}: {toks[0]} ignored"
                              + (" (its v(node) list: the default probes)" if card == ".print" else ""))
            return False
        if card == ".tran":
            nums = []
            for t in toks[1:]:
                if t.lower() == "uic":
                    continue
                try:
                    nums.append(spice_number(t))
                except ValueError:
                    raise self.err(k, f"bad number {t!r} in .tran (expected .tran step stop)") from None
            if len(nums) < 2 or nums[0] <= 0 or nums[1] <= 0:
                raise self.err(k, ".tran needs a positive step and stop time")
            self.tran = (nums[0], nums[1])
            return False
        raise self.err(k, f"unsupported control card {toks[0]!r} in a PDN deck")

    # -------------------------------------------------------------- R, C, L
    def _passive(self, idx: list[int], kind: str):
        if not idx:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        lines = self.lines
        sub = [lines[k] for k in idx]
        toks = " ".join(sub).split()
        n = len(idx)
        vals = None
        if len(toks) == 4 * n:
            try:
                vals = np.array(toks[3::4], dtype=np.float64)
            except ValueError:
                vals = None
            na, nb = toks[1::4], toks[2::4]
        if vals is None:  # slow path: suffixed numbers, extra params, inline comments, errors
            na, nb, vl = [], [], []
            for k, line in zip(idx, sub, strict=True):
                t = line.split(";")[0].split()
                if len(t) < 4:
                    raise self.err(k, f"expected '{kind.upper()}NAME node1 node2 value', got {len(t)} fields")
                for extra in t[4:]:
                    if "=" not in extra:
                        raise self.err(k, f"unexpected field {extra!r} after the value")
                try:
                    vl.append(spice_number(t[3]))
                except ValueError:
                    raise self.err(k, f"bad value {t[3]!r} (expected a number such as 0.5, 1e-3, 2k)") from None
                na.append(t[1])
                nb.append(t[2])
            vals = np.array(vl, dtype=np.float64)
        a, b = self.node_ids(na, nb)
        self._check_passive(idx, vals, kind)
        return a, b, vals

    def _check_passive(self, idx, vals: np.ndarray, kind: str) -> None:
        unit = {"r": "resistance", "c": "capacitance", "l": "inductance"}[kind]
        bad = ~np.isfinite(vals) | ((vals <= 0) if kind != "c" else (vals < 0))
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            what = "positive" if kind != "c" else "non-negative"
            raise self.err(idx[j], f"{unit} must be {what} and finite, got {vals[j]:g}"
                           + (" (use a 0-V source for a short)" if kind == "r" else ""))

    # -------------------------------------------------------------- sources
    def _source_fields(self, k: int, line: str, kind: str, tran_ok: bool):
        """Parse one source line: returns (name, a, b, dc, wave_kind, pulse7, pwl_pairs)."""
        t = line.split(";")[0]
        head = t.split(None, 3)
        if len(head) < 4:
            raise self.err(k, f"expected '{kind.upper()}NAME node1 node2 value', got {len(head)} fields")
        name, a, b, rest = head
        rest = re.sub(r"[(),]", " ", rest).lower().split()
        dc = None
        wave = WAVE_DC
        pulse = None
        pwl = None
        i = 0
        while i < len(rest):
            w = rest[i]
            if w == "dc":
                if i + 1 >= len(rest):
                    raise self.err(k, "'dc' needs a value")
                dc = self._num(k, rest[i + 1])
                i += 2
            elif w == "ac":
                i += 2  # AC spec is irrelevant to DC/transient IR drop
                while i < len(rest) and _NUM_RE.match(rest[i]):
                    i += 1
            elif w in ("pulse", "pwl"):
                j = i + 1
                nums = []
                while j < len(rest) and _NUM_RE.match(rest[j]):
                    nums.append(self._num(k, rest[j]))
                    j += 1
                if w == "pulse":
                    if len(nums) < 2 or len(nums) > 7:
                        raise self.err(k, "PULSE needs 2 to 7 values (v1 v2 td tr tf pw per)")
                    wave, pulse = WAVE_PULSE, nums + [np.nan] * (7 - len(nums))
                else:
                    if len(nums) < 2 or len(nums) % 2:
                        raise self.err(k, "PWL needs time/value pairs")
                    tt = np.array(nums[0::2])
                    if np.any(np.diff(tt) < 0):
                        raise self.err(k, "PWL times must not decrease")
                    wave, pwl = WAVE_PWL, (tt, np.array(nums[1::2]))
                i = j
            elif w in ("sin", "exp", "sffm", "am", "trrandom", "trnoise"):
                raise self.err(k, f"{w.upper()} sources are not supported (use DC, PULSE or PWL)")
            else:
                if dc is not None or wave != WAVE_DC:
                    raise self.err(k, f"unexpected field {w!r}")
                dc = self._num(k, w)
                i += 1
        if dc is None:
            if wave == WAVE_PULSE:
                dc = pulse[0]
            elif wave == WAVE_PWL:
                dc = float(pwl[1][0])
            else:
                raise self.err(k, f"source {name} has no value")
        if wave != WAVE_DC and not tran_ok:
            raise self.err(k, "time-varying voltage sources are not supported (pads are DC)")
        return name, a, b, dc, wave, pulse, pwl

    def _num(self, k: int, tok: str) -> float:
        try:
            return spice_number(tok)
        except ValueError:
            raise self.err(k, f"bad number {tok!r}") from None

    def _fast4(self, idx: list[int]):
        """(names, a, b, values) when every line is 'NAME a b number', else None."""
        sub = [self.lines[k] for k in idx]
        toks = " ".join(sub).split()
        if len(toks) != 4 * len(idx):
            return None
        try:
            vals = np.array(toks[3::4], dtype=np.float64)
        except ValueError:
            return None
        return toks[0::4], toks[1::4], toks[2::4], vals

    def _vsources(self, idx: list[int], el: dict) -> None:
        fast = self._fast4(idx) if idx else ([], [], [], np.zeros(0))
        if fast is None:
            rows = [self._source_fields(k, self.lines[k], "v", False) for k in idx]
            fast = ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                    np.array([r[3] for r in rows], dtype=np.float64))
        names, na, nb, vals = fast
        a, b = self.node_ids(na, nb)
        self._vs_checked(idx, np.array(names, dtype=str), a, b, vals, el)

    def _vs_checked(self, idx, names: np.ndarray, a: np.ndarray, b: np.ndarray, vals: np.ndarray,
                    el: dict) -> None:
        same = (a == b) & (vals != 0)
        if same.any():
            j = int(np.flatnonzero(same)[0])
            raise self.err(idx[j], "voltage source with both terminals on the same node")
        gg = (a < 0) & (b < 0) & (vals != 0)
        if gg.any():
            j = int(np.flatnonzero(gg)[0])
            raise self.err(idx[j], "voltage source between ground and ground")
        el.update(vs_a=a, vs_b=b, vs_value=vals, vs_names=names)

    def _isources(self, idx: list[int], el: dict) -> None:
        n = len(idx)
        kind = np.zeros(n, dtype=np.int8)
        pulse = np.full((n, 7), np.nan)
        pwl_start = np.zeros(n + 1, dtype=np.int64)
        pwl_t: list[np.ndarray] = []
        pwl_v: list[np.ndarray] = []
        fast = self._fast4(idx) if idx else ([], [], [], np.zeros(0))
        if fast is None:
            names, na, nb, vals = [], [], [], np.zeros(n)
            counts = np.zeros(n, dtype=np.int64)
            for j, k in enumerate(idx):
                name, a, b, dc, wave, pl, pw = self._source_fields(k, self.lines[k], "i", True)
                names.append(name)
                na.append(a)
                nb.append(b)
                vals[j] = dc
                kind[j] = wave
                if wave == WAVE_PULSE:
                    pulse[j] = pl
                elif wave == WAVE_PWL:
                    pwl_t.append(pw[0])
                    pwl_v.append(pw[1])
                    counts[j] = len(pw[0])
            pwl_start[1:] = np.cumsum(counts)
        else:
            names, na, nb, vals = fast
        a, b = self.node_ids(na, nb)
        self._is_checked(idx, np.array(names, dtype=str), a, b, vals, kind, pulse, pwl_start, pwl_t, pwl_v, el)

    def _is_checked(self, idx, names: np.ndarray, a, b, vals, kind, pulse, pwl_start, pwl_t, pwl_v,
                    el: dict) -> None:
        if not np.all(np.isfinite(vals)):
            j = int(np.flatnonzero(~np.isfinite(vals))[0])
            raise self.err(idx[j], "current must be finite")
        if (kind == WAVE_PULSE).any():
            step, stop = self.tran if self.tran else (0.0, np.inf)
            p = pulse[kind == WAVE_PULSE]
            for col, default in ((2, 0.0), (3, step), (4, step), (5, stop), (6, stop)):
                miss = np.isnan(p[:, col])
                p[miss, col] = default
            pulse[kind == WAVE_PULSE] = p
        el.update(is_a=a, is_b=b, is_value=np.asarray(vals, dtype=np.float64),
                  is_names=names, is_kind=kind, is_pulse=pulse, pwl_start=pwl_start,
                  pwl_t=np.concatenate(pwl_t) if pwl_t else np.zeros(0),
                  pwl_v=np.concatenate(pwl_v) if pwl_v else np.zeros(0))
