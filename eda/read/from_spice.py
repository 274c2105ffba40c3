"""Read SPICE netlists into a :class:`~eda.circuit.Circuit`.

Supports SPICE3/ngspice syntax (case-insensitive keywords, ``+`` continuation, ``*`` comment
lines, ``;`` and ``$`` inline comments, ``.subckt``/``.ends``, ``.param``, ``.model``,
``.include``/``.lib`` relative to the file, analysis cards, ``.end``, engineering suffixes
``f p n u m k meg g t``) and the Cadence/Spectre instance form ``NAME (n1 n2 ...) model k=v``
used by public analog-topology datasets, where the device type comes from the model token
(``nmos4 pmos4 resistor capacitor inductor diode npn pnp``), never from the instance name.

Every error is a :class:`~eda.errors.SpiceParseError` with file, line and the offending text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from eda.circuit import (
    N_TERMINALS,
    Analysis,
    Circuit,
    Device,
    Model,
    ParamValue,
    Subckt,
    Waveform,
)
from eda.errors import SpiceParseError
from eda.read.numbers import NUMBER_LIKE, parse_number

#: Cadence/Spectre model tokens → (element letter, model name to keep).
CADENCE_MODELS: dict[str, str] = {
    "nmos": "M", "pmos": "M", "nmos4": "M", "pmos4": "M", "nfet": "M", "pfet": "M",
    "npn": "Q", "pnp": "Q",
    "resistor": "R", "res": "R", "capacitor": "C", "cap": "C", "inductor": "L", "ind": "L",
    "diode": "D", "vsource": "V", "isource": "I",
}
_VALUE_PARAM = {"R": ("r", "res"), "C": ("c", "cap"), "L": ("l", "ind"), "V": ("dc",), "I": ("dc",)}
_ANALYSES = {"op", "tran", "dc", "ac", "noise", "tf", "disto", "pz", "sens"}
_WAVEFORMS = {"pulse", "pwl", "sin"}
MAX_INCLUDE_DEPTH = 16  # how deep ``.include``/``.lib`` files may nest (deeper is taken for a loop)


def include_path(name: str, including: str | Path | None) -> Path:
    """The file an ``.include``/``.lib`` card names: relative to the including file's folder (else the working one)."""
    name = name.strip("'\"")
    return Path(name) if Path(name).is_absolute() else (Path(including).parent if including else Path.cwd()) / name


@dataclass
class _Line:
    """One logical line (continuations joined) with where it came from."""

    text: str
    file: str | None
    line: int


@dataclass
class _Ctx:
    circuit: Circuit = field(default_factory=Circuit)
    stack: list[tuple[Subckt, _Line]] = field(default_factory=list)
    #: (model name, line) of R/C/L elements that name a model: checked against the .model cards at the end
    model_refs: list[tuple[str, _Line]] = field(default_factory=list)
    follow_libs: bool = False  # read ``.lib FILE SECTION`` in place (device-model libraries)


def _err(msg: str, ln: _Line) -> SpiceParseError:
    return SpiceParseError(msg, ln.file, ln.line, ln.text)


def _strip_comment(s: str) -> str:
    # ';' anywhere, and '$' when it starts a word, begin an inline comment (ngspice rules)
    cut = len(s)
    i = s.find(";")
    if i >= 0:
        cut = i
    m = re.search(r"(^|\s)\$", s)
    if m is not None:
        cut = min(cut, m.start())
    return s[:cut].rstrip()


def _logical_lines(text: str, file: str | None, title: bool) -> tuple[str, list[_Line]]:
    raw = text.splitlines()
    first = 0
    title_text = ""
    if title and raw:
        title_text = raw[0].strip()
        if title_text == "*":
            title_text = ""
        first = 1
    out: list[_Line] = []
    for i in range(first, len(raw)):
        s = raw[i]
        stripped = s.strip()
        if not stripped or stripped.startswith("*"):
            if stripped.lower().startswith("*.ports"):
                out.append(_Line(stripped, file, i + 1))
            continue
        s = _strip_comment(s).strip()
        if not s:
            continue
        if s.startswith("+"):
            if not out:
                raise SpiceParseError("continuation line '+' with no line to continue", file, i + 1, s)
            out[-1].text += " " + s[1:].strip()
        else:
            out.append(_Line(s, file, i + 1))
    return title_text, out


def _tokenize(ln: _Line) -> list[str]:
    """Split into tokens; parentheses are tokens, ``{...}`` and quotes stay whole, ``k = v`` → ``k=v``."""
    s = ln.text
    toks: list[str] = []
    cur: list[str] = []
    i, n = 0, len(s)
    depth_paren = 0

    def flush() -> None:
        if cur:
            toks.append("".join(cur))
            cur.clear()

    while i < n:
        c = s[i]
        if c in "{'\"":
            close = {"{": "}", "'": "'", '"': '"'}[c]
            j = s.find(close, i + 1)
            if j < 0:
                raise _err(f"unbalanced {c!r}: no closing {close!r}", ln)
            if c == "{" and "{" in s[i + 1:j]:
                # nested braces: find the matching close
                d, j = 0, i
                while j < n:
                    if s[j] == "{":
                        d += 1
                    elif s[j] == "}":
                        d -= 1
                        if d == 0:
                            break
                    j += 1
                if j >= n:
                    raise _err("unbalanced '{'", ln)
            cur.append(s[i:j + 1])
            i = j + 1
            continue
        if c.isspace() or c == ",":
            flush()
        elif c in "()":
            flush()
            depth_paren += 1 if c == "(" else -1
            if depth_paren < 0:
                raise _err("unbalanced ')': no matching '('", ln)
            toks.append(c)
        elif c == "}":
            raise _err("unbalanced '}'", ln)
        elif c == "=":
            flush()
            toks.append("=")
        else:
            cur.append(c)
        i += 1
    flush()
    if depth_paren != 0:
        raise _err("unbalanced '(': missing ')'", ln)
    # glue k = v
    out: list[str] = []
    i = 0
    while i < len(toks):
        if toks[i] == "=":
            if not out or i + 1 >= len(toks) or out[-1] in "()" or toks[i + 1] in "()=":
                raise _err("'=' without a parameter name and value", ln)
            out[-1] = out[-1] + "=" + toks[i + 1]
            i += 2
        else:
            out.append(toks[i])
            i += 1
    return out


def _value(tok: str, ln: _Line, what: str, allow_name: bool = False) -> ParamValue:
    """A number (finite) or an expression kept as text (``{...}``, ``'...'``); with ``allow_name`` a bare
    identifier (another parameter's name, a model option) is kept as text too."""
    if tok[:1] in "{'\"":
        return tok
    x = parse_number(tok)
    if x is None:
        if allow_name:
            return tok
        raise _err(f"{what}: expected a number or {{expression}}, got {tok!r}", ln)
    if not math.isfinite(x):
        raise _err(f"{what}: number {tok!r} is out of range", ln)
    return x


def _params(toks: list[str], ln: _Line) -> dict[str, ParamValue]:
    out: dict[str, ParamValue] = {}
    for t in toks:
        if t in "()":
            continue
        if "=" not in t:
            raise _err(f"expected key=value, got {t!r}", ln)
        k, v = t.split("=", 1)
        if not k or not v:
            raise _err(f"expected key=value, got {t!r}", ln)
        out[k.lower()] = _value(v, ln, f"parameter {k}", allow_name=True)
    return out


_ASSIGN = re.compile(r"([A-Za-z_][\w.$]*)\s*=(?!=)")


def _param_expressions(ln: _Line) -> dict[str, ParamValue]:
    """``.param name = expression …`` where an expression may hold spaces outside braces (ngspice reads
    ``.param sw = {0.0+f*0.0} + mc*AGAUSS(0, 1.5e-09, 1)``): each value runs to the next top-level
    ``name =``; numbers become floats, the rest stays as written."""
    body = ln.text.split(None, 1)[1] if len(ln.text.split(None, 1)) > 1 else ""
    starts = []
    for m in _ASSIGN.finditer(body):
        before = body[:m.start()]
        if before.count("(") == before.count(")") and before.count("{") == before.count("}") \
                and (m.start() == 0 or not (body[m.start() - 1].isalnum() or body[m.start() - 1] in "_.$")):
            starts.append(m)
    if not starts or body[:starts[0].start()].strip():
        raise _err("expected name=value", ln)
    out: dict[str, ParamValue] = {}
    for m, nxt in zip(starts, starts[1:] + [None], strict=True):
        value = body[m.end():nxt.start() if nxt else len(body)].strip()
        if not value:
            raise _err(f"parameter {m.group(1)}: no value", ln)
        out[m.group(1).lower()] = _value(value, ln, f"parameter {m.group(1)}", allow_name=True) \
            if " " not in value else value
    return out


def _split_params(toks: list[str]) -> tuple[list[str], list[str]]:
    """Positional tokens, then trailing ``k=v`` tokens."""
    i = len(toks)
    while i > 0 and "=" in toks[i - 1]:
        i -= 1
    return toks[:i], toks[i:]


def _check_name(name: str, ln: _Line) -> None:
    if not re.fullmatch(r"[^\s(){}=,;]+", name):
        raise _err(f"invalid instance name {name!r}", ln)


def _node(tok: str, ln: _Line) -> str:
    if tok in "()" or "=" in tok or tok[:1] in "{'\"":
        raise _err(f"expected a node name, got {tok!r}", ln)
    return tok


def _parse_source(name: str, kind: str, toks: list[str], ln: _Line) -> Device:
    if len(toks) < 2:
        raise _err(f"source {name}: expected 2 nodes", ln)
    nodes = (_node(toks[0], ln), _node(toks[1], ln))
    rest = toks[2:]
    value: ParamValue | None = None
    ac: float | None = None
    wave: Waveform | None = None
    params: dict[str, ParamValue] = {}
    i = 0
    while i < len(rest):
        t = rest[i]
        tl = t.lower()
        if tl == "dc":
            if i + 1 >= len(rest):
                raise _err(f"source {name}: 'dc' without a value", ln)
            value = _value(rest[i + 1], ln, f"source {name} dc")
            i += 2
        elif tl == "ac":
            if i + 1 < len(rest) and parse_number(rest[i + 1]) is not None:
                ac = float(_value(rest[i + 1], ln, f"source {name} ac"))
                i += 2
                if i < len(rest) and parse_number(rest[i]) is not None:
                    i += 1  # AC phase is accepted and dropped only when zero
                    if parse_number(rest[i - 1]) != 0:
                        raise _err(f"source {name}: AC phase is not supported", ln)
            else:
                ac = 1.0
                i += 1
        elif tl in _WAVEFORMS:
            if i + 1 >= len(rest) or rest[i + 1] != "(":
                raise _err(f"source {name}: expected '(' after {t}", ln)
            try:
                j = rest.index(")", i + 2)
            except ValueError:
                raise _err(f"source {name}: missing ')' after {t}(", ln) from None
            args = tuple(float(_value(a, ln, f"source {name} {tl} argument")) for a in rest[i + 2:j])
            if tl == "pwl" and len(args) % 2:
                raise _err(f"source {name}: PWL needs time/value pairs, got {len(args)} numbers", ln)
            if tl == "pulse" and not 2 <= len(args) <= 7:
                raise _err(f"source {name}: PULSE takes 2 to 7 arguments, got {len(args)}", ln)
            wave = Waveform(tl, args)  # type: ignore[arg-type]
            i = j + 1
        elif "=" in t:
            params.update(_params([t], ln))
            i += 1
        elif value is None and (parse_number(t) is not None or t[:1] in "{'\""):
            value = _value(t, ln, f"source {name} value")
            i += 1
        else:
            raise _err(f"source {name}: unexpected token {t!r}", ln)
    return Device(name, kind, nodes, value=value, params=params, waveform=wave, ac=ac)


#: Element letters kept verbatim at the top level (controlled and behavioural sources).
_VERBATIM_ELEMENTS = "BEFGH"


def _parse_element(ln: _Line, toks: list[str]) -> Device:
    name = toks[0]
    _check_name(name, ln)
    kind = name[0].upper()
    if len(toks) > 1 and toks[1] == "(":
        return _parse_cadence(ln, toks)
    if kind in ("V", "I"):
        return _parse_source(name, kind, toks[1:], ln)
    pos, kv = _split_params(toks[1:])
    if "(" in pos or ")" in pos:
        raise _err("unexpected parenthesis in element line", ln)
    params = _params(kv, ln)
    if kind == "X":
        if len(pos) < 2:
            raise _err(f"subcircuit instance {name}: expected nodes then a subcircuit name", ln)
        return Device(name, "X", tuple(_node(t, ln) for t in pos[:-1]), model=pos[-1], params=params)
    if kind in ("R", "C", "L"):
        if len(pos) < 2:
            raise _err(f"{name}: expected 2 nodes", ln)
        nodes = (_node(pos[0], ln), _node(pos[1], ln))
        value: ParamValue | None = None
        model = None
        for t in pos[2:]:
            # a token that starts like a number (or nan/inf) but is not one is a malformed value, never a model
            if value is None and model is None and (t[:1] in "{'\"" or NUMBER_LIKE.match(t)):
                value = _value(t, ln, f"{name} value")
            elif model is None and not NUMBER_LIKE.match(t):
                model = t
            else:
                raise _err(f"{name}: unexpected token {t!r}", ln)
        if value is None and model is None:
            key = next((k for k in _VALUE_PARAM[kind] if k in params), None)
            if key is None:
                raise _err(f"{name}: missing value", ln)
            value = params.pop(key)
        return Device(name, kind, nodes, model=model, value=value, params=params)
    if kind in ("M", "Q", "D"):
        need = N_TERMINALS[kind]
        if kind == "Q" and len(pos) >= 5 and parse_number(pos[4]) is None:
            need = 4  # optional substrate node (a number there is the area of a 3-node BJT)
        if len(pos) < need + 1:
            raise _err(f"{name}: expected {need} nodes and a model name, got {len(pos)} tokens", ln)
        nodes = tuple(_node(t, ln) for t in pos[:need])
        model = pos[need]
        value = None
        if len(pos) > need + 1:
            if len(pos) > need + 2:
                raise _err(f"{name}: unexpected tokens {' '.join(pos[need + 2:])!r}", ln)
            value = _value(pos[need + 1], ln, f"{name} area")
        return Device(name, kind, nodes, model=model, value=value, params=params)
    raise _err(
        f"unsupported element {name!r}: supported are M (MOSFET), Q (BJT), R, C, L, D, V, I, X (and B, E, F, G, "
        "H kept verbatim at the top level)", ln
    )


def _parse_cadence(ln: _Line, toks: list[str]) -> Device:
    """``NAME (n1 n2 ...) model k=v``: the type comes from the model token."""
    name = toks[0]
    try:
        close = toks.index(")")
    except ValueError:
        raise _err("missing ')' after the node list", ln) from None
    nodes = tuple(_node(t, ln) for t in toks[2:close])
    rest = toks[close + 1:]
    if not rest or "=" in rest[0] or rest[0] in "()":
        raise _err(f"{name}: expected a model name after the node list", ln)
    model = rest[0]
    params = _params(rest[1:], ln)
    kind = CADENCE_MODELS.get(model.lower(), "X")
    if kind != "X" and len(nodes) != N_TERMINALS[kind] and not (kind == "Q" and len(nodes) == 4):
        raise _err(f"{name}: model {model!r} takes {N_TERMINALS[kind]} nodes, got {len(nodes)}", ln)
    if kind == "X" and not nodes:
        raise _err(f"{name}: subcircuit instance without nodes", ln)
    value: ParamValue | None = None
    for key in _VALUE_PARAM.get(kind, ()):
        if key in params:
            value = params.pop(key)
            break
    if kind in "VI":
        return Device(name, kind, nodes, value=value, params=params)
    if kind in "RCL" and value is not None:
        return Device(name, kind, nodes, value=value, params=params)
    return Device(name, kind, nodes, model=model, params=params)


def _dot_card(ctx: _Ctx, ln: _Line, toks: list[str], lines: list[_Line], idx: int,
              follow_includes: bool, depth: int) -> tuple[int, bool]:
    """Handle a dot card. Returns (next line index, stop parsing)."""
    card = toks[0].lower()
    c = ctx.circuit
    target_models = ctx.stack[-1][0].models if ctx.stack else c.models
    if card == ".end":
        return idx + 1, True
    if card == ".subckt":
        if len(toks) < 2 or "=" in toks[1]:
            raise _err(".subckt: expected a name", ln)
        pos, kv = _split_params([t for t in toks[2:] if t.lower() != "params:"])
        ports = tuple(_node(t, ln) for t in pos)
        ctx.stack.append((Subckt(toks[1], ports, params=_params(kv, ln)), ln))
        return idx + 1, False
    if card == ".ends":
        if not ctx.stack:
            raise _err(".ends without a matching .subckt", ln)
        sub, _ = ctx.stack.pop()
        if len(toks) > 1 and toks[1].lower() != sub.name.lower():
            raise _err(f".ends {toks[1]} closes .subckt {sub.name}", ln)
        c.subckts.append(sub)
        return idx + 1, False
    if card == ".model":
        if len(toks) < 3:
            raise _err(".model: expected a name and a type", ln)
        target_models.append(Model(toks[1], toks[2].lower(), _params(toks[3:], ln)))
        return idx + 1, False
    if card == ".param":
        if len(toks) < 2:
            raise _err(".param: expected name=value", ln)
        try:
            values = _params(toks[1:], ln)
        except SpiceParseError:  # an expression with spaces outside braces, as foundry libraries write them
            values = _param_expressions(ln)
        (ctx.stack[-1][0].params if ctx.stack else c.params).update(values)
        return idx + 1, False
    if card in (".options", ".option", ".opt"):
        kv = [t if "=" in t else f"{t}=1" for t in toks[1:]]
        c.options.update(_params(kv, ln))
        return idx + 1, False
    if card in (".include", ".inc", ".lib"):
        if len(toks) < 2:
            raise _err(f"{card}: expected a file name", ln)
        if not follow_includes or (card == ".lib" and not ctx.follow_libs):
            c.includes.append(ln.text)
            return idx + 1, False
        path = include_path(toks[1], ln.file)
        if not path.is_file():
            raise _err(f"{card}: file not found: {path}", ln)
        if depth >= MAX_INCLUDE_DEPTH:
            raise _err(f"{card}: includes nested more than {MAX_INCLUDE_DEPTH} deep (a loop?)", ln)
        text = _decode(path.read_bytes(), str(path))
        _, sub_lines = _logical_lines(text, str(path), title=False)
        if card == ".lib" and len(toks) >= 3:
            sub_lines = _lib_section(sub_lines, toks[2], ln)
        _parse_lines(ctx, sub_lines, follow_includes, depth + 1)
        return idx + 1, False
    if card in {"." + a for a in _ANALYSES}:
        c.analyses.append(Analysis(card[1:], tuple(t for t in toks[1:])))
        return idx + 1, False
    if card == ".control":
        j = idx + 1
        while j < len(lines) and lines[j].text.strip().lower() != ".endc":
            j += 1
        if j >= len(lines):
            raise _err(".control without .endc", ln)
        c.extra.append("\n".join(x.text for x in lines[idx:j + 1]))
        return j + 1, False
    if card in (".endl", ".endc"):
        raise _err(f"{card} without its opening card", ln)
    if not re.fullmatch(r"\.[a-z_]+", card):
        raise _err(f"unknown control card {toks[0]!r}", ln)
    c.extra.append(ln.text)  # .save, .ic, .nodeset, .global, .temp, .meas...: kept verbatim
    return idx + 1, False


def _lib_section(lines: list[_Line], section: str, ln: _Line) -> list[_Line]:
    out: list[_Line] = []
    inside = False
    for x in lines:
        t = x.text.split()
        if not inside and len(t) >= 2 and t[0].lower() == ".lib" and t[1].lower() == section.lower():
            inside = True
            continue
        if inside and t and t[0].lower() == ".endl":
            return out
        if inside:
            out.append(x)
    raise _err(f".lib: section {section!r} not found or not closed by .endl", ln)


def _parse_lines(ctx: _Ctx, lines: list[_Line], follow_includes: bool, depth: int) -> bool:
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.text.lower().startswith("*.ports"):
            ctx.circuit.ports = tuple(ln.text.split()[1:])
            i += 1
            continue
        toks = _tokenize(ln)
        if not toks:
            i += 1
            continue
        if toks[0].startswith("."):
            i, stop = _dot_card(ctx, ln, toks, lines, i, follow_includes, depth)
            if stop:
                return True
            continue
        if toks[0][:1].upper() in _VERBATIM_ELEMENTS and not (len(toks) > 1 and toks[1] == "("):
            # a controlled or behavioural source (B, E, F, G, H: e.g. the ideal CMFB of a sizing test bench):
            # not a device of the circuit model; kept verbatim, so the deck simulates as written
            if ctx.stack:
                raise _err(f"element {toks[0]!r}: controlled and behavioural sources (B, E, F, G, H) are "
                           "read at the top level only", ln)
            ctx.circuit.extra.append(ln.text)
            i += 1
            continue
        dev = _parse_element(ln, toks)
        if dev.kind in "RCL" and dev.model and dev.model.lower() not in CADENCE_MODELS and toks[1:2] != ["("]:
            ctx.model_refs.append((dev.model, ln))
        (ctx.stack[-1][0].devices if ctx.stack else ctx.circuit.devices).append(dev)
        i += 1
    return False


def _decode(data: bytes, file: str | None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        bad = data.splitlines()[line - 1] if data.splitlines() else b""
        raise SpiceParseError(
            f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})", file, line,
            bad.decode("utf-8", "replace"),
        ) from None


def parse_spice(text: str | bytes, file: str | Path | None = None, *, title: bool = True,
                follow_includes: bool = True, follow_libs: bool = False) -> Circuit:
    """Parse SPICE text into a :class:`Circuit`.

    Args:
        text: the netlist (``bytes`` must be UTF-8).
        file: where it came from, for error messages and relative ``.include`` paths.
        title: the first line is a title (SPICE convention). Pass ``False`` for netlist bodies
            such as the ``N.cir`` files of topology datasets.
        follow_includes: read ``.include``/``.lib`` files in place (else keep the lines verbatim).
        follow_libs: with ``follow_includes``, also read ``.lib FILE SECTION`` cards in place. Off by default:
            they load device-model libraries (sky130's ``.lib …/sky130.lib.spice tt``, which every deck this
            toolkit writes for real devices carries) in syntax beyond a netlist reader (behavioural
            elements, expressions across spaces); the card is kept verbatim and ngspice reads the library.

    Raises:
        SpiceParseError: with file, line and text of the first offending line.
    """
    fname = str(file) if file is not None else None
    if isinstance(text, bytes):
        text = _decode(text, fname)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise SpiceParseError("NUL byte in netlist (binary file?)", fname, line)
    title_text, lines = _logical_lines(text, fname, title)
    ctx = _Ctx(follow_libs=follow_libs)
    ctx.circuit.title = title_text
    _parse_lines(ctx, lines, follow_includes, 0)
    if ctx.stack:
        sub, ln = ctx.stack[-1]
        raise _err(f".subckt {sub.name} is never closed by .ends", ln)
    _check_refs(ctx, fname)
    return ctx.circuit


def _check_refs(ctx: _Ctx, fname: str | None) -> None:
    """Refuse an empty netlist, and an R/C/L token that is neither a value nor a model defined here (text as a
    value, a junk token such as ``R1 a b 1k xxxxx``) unless models may come from an unread ``.include``/
    ``.lib``; the generic type names of the Cadence form (``resistor``, ``capacitor``...) stay allowed."""
    c = ctx.circuit
    if not (c.devices or c.subckts or c.models or c.includes):
        raise SpiceParseError("empty netlist: no devices, subcircuits, models or includes before .end", fname, 1)
    if c.includes:
        return
    known = {m.name.lower() for m in c.models} | {m.name.lower() for s in c.subckts for m in s.models}
    for model, ln in ctx.model_refs:
        if model.lower() not in known:
            raise _err(f"{ln.text.split()[0]}: {model!r} is neither a value nor a model defined in the netlist "
                       f"(no .model {model})", ln)


def read_spice(path: str | Path, *, title: bool = True, follow_includes: bool = True,
               follow_libs: bool = False) -> Circuit:
    """Read a SPICE file (see :func:`parse_spice`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SpiceParseError(f"cannot read file: {e.strerror}", path) from None
    return parse_spice(data, path, title=title, follow_includes=follow_includes, follow_libs=follow_libs)
