"""Write a :class:`~eda.circuit.Circuit` as ngspice-compatible SPICE text.

The writer twin of :mod:`eda.read.from_spice`: ``parse_spice(to_spice(c)) == c`` for every
element the model supports (a property test checks it). Numbers are written with ``repr`` so
that they read back bit-identical.
"""

from __future__ import annotations

from pathlib import Path

from eda.circuit import Analysis, Circuit, Device, Model, ParamValue, Subckt
from eda.errors import InputError
from eda.read.numbers import NUMBER_LIKE


def fmt_number(x: float | int | str) -> str:
    """Shortest text that reads back as exactly ``x`` (expressions pass through)."""
    if isinstance(x, str):
        return x
    f = float(x)
    if f == int(f) and abs(f) < 1e15:
        return str(int(f))
    return repr(f)


def _params(params: dict[str, ParamValue]) -> str:
    return " ".join(f"{k}={fmt_number(v)}" for k, v in params.items())


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def device_line(d: Device) -> str:
    """One element line. The instance name gets its kind letter prefixed when it lacks it
    (Cadence-form names such as ``I0`` for a resistor), since ngspice dispatches on it."""
    name = d.name if d.name[:1].upper() == d.kind else f"{d.kind}{d.name}"
    nodes = " ".join(d.nodes)
    if d.kind in "VI":
        parts = [name, nodes]
        if d.value is not None:
            parts.append(f"dc {fmt_number(d.value)}")
        if d.ac is not None:
            parts.append(f"ac {fmt_number(d.ac)}")
        if d.waveform is not None:
            parts.append(f"{d.waveform.kind}({' '.join(fmt_number(a) for a in d.waveform.args)})")
        return _join(*parts, _params(d.params))
    value = fmt_number(d.value) if d.value is not None else ""
    if d.kind in "RCL":
        if d.model and NUMBER_LIKE.match(d.model):
            # the reader (and a SPICE simulator) would take the bare word for the element's value (or a second one)
            raise InputError(f"{name}: model name {d.model!r} reads as a number where an {d.kind} value may stand; "
                             "rename the model (a name that starts with a letter other than inf/nan)")
        return _join(name, nodes, value, d.model or "", _params(d.params))
    # M, Q, D, X: model (or subcircuit) name follows the nodes
    return _join(name, nodes, d.model or "", value, _params(d.params))


def model_line(m: Model) -> str:
    body = _params(m.params)
    return f".model {m.name} {m.type}" + (f" ({body})" if body else "")


def analysis_line(a: Analysis) -> str:
    return _join(f".{a.kind}", " ".join(a.args))


def _subckt_lines(s: Subckt) -> list[str]:
    lines = [_join(f".subckt {s.name}", " ".join(s.ports), _params(s.params))]
    lines += [model_line(m) for m in s.models]
    lines += [device_line(d) for d in s.devices]
    lines.append(f".ends {s.name}")
    return lines


def to_spice(circuit: Circuit) -> str:
    """Render ``circuit`` as SPICE text (title line first, ``.end`` last)."""
    lines = [circuit.title if circuit.title else "*"]
    if circuit.ports:
        lines.append("*.ports " + " ".join(circuit.ports))
    lines += circuit.includes
    if circuit.options:
        lines.append(".options " + _params(circuit.options))
    if circuit.params:
        lines.append(".param " + _params(circuit.params))
    lines += [model_line(m) for m in circuit.models]
    for s in circuit.subckts:
        lines += _subckt_lines(s)
    lines += [device_line(d) for d in circuit.devices]
    lines += [analysis_line(a) for a in circuit.analyses]
    lines += circuit.extra
    lines.append(".end")
    return "\n".join(lines) + "\n"


def write_spice(circuit: Circuit, path: str | Path) -> Path:
    """Write ``circuit`` to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_spice(circuit))
    return path
