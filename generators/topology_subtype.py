"""Op-amp sub-type of a circuit from its structure, as a designer reads a schematic.

The public AnalogGenie set labels its op-amps by book chapter only (``opamp``: 515 circuits), while the
generator's sub-type tokens (``opamp1``, ``opamp2``, ``folded_cascode``, ``telescopic``) had only the
built-in library's 40 circuits behind them. :func:`opamp_subtype` reads the sub-type off the topology:

1. the **input pair**: two transistors of one polarity with their gates (bases) on two input ports;
   their drains (collectors) are the first stage's nodes;
2. a **cascode** on a first-stage node: a transistor, not of the pair, whose source (emitter) sits on that
   node and whose gate is on neither an input nor a first-stage node. Of the pair's polarity it is a
   telescopic cascode; of the other polarity the current is folded (folded cascode). The first stage's
   output nodes are then the cascodes' drains;
3. **stages**: an output port on a first-stage output node is a single-stage amplifier. Otherwise the
   output is reached through a gain stage when a transistor gated by a high-impedance first-stage
   output node (not a diode-connected one) drives, directly or through further gain transistors, an
   output port: a multi-stage op-amp (``opamp2``), whatever its first stage. First-stage nodes that are
   all diode-connected and only mirrored to the output make a single stage (the symmetric OTA).

Returns ``None`` when no input pair is found (e.g. a single-input stage labelled as an op-amp); such a
circuit keeps its dataset label. Measured against the library's labels and on the public set: README
(*Sizing*, session 28)."""

from __future__ import annotations

from collections import Counter

from eda.circuit import Circuit, is_ground
from eda.export.to_sky130 import device_polarity
from eda.generators.sizing.roles import INPUT_PORT, OUTPUT_PORT

#: Sub-types :func:`opamp_subtype` returns.
SUBTYPES = ("opamp1", "opamp2", "folded_cascode", "telescopic")


def _transistors(circuit: Circuit) -> list[tuple[str, str, str, str, str]]:
    """(name, polarity, drain, gate, source) of every MOSFET and BJT (collector, base, emitter)."""
    out = []
    for d in circuit.devices:
        pol = device_polarity(d, circuit) if d.kind in "MXQ" else None
        if pol and len(d.nodes) >= 3:
            dn, gn, sn = ("VSS" if is_ground(n) else n for n in d.nodes[:3])
            out.append((d.name, pol, dn, gn, sn))
    return out


def opamp_subtype(circuit: Circuit) -> str | None:
    """``opamp1``, ``opamp2``, ``folded_cascode`` or ``telescopic`` by structure; None without an
    input pair (see the module's docstring for the reading)."""
    fets = _transistors(circuit)
    nets = {"VSS" if is_ground(n) else n for d in circuit.devices for n in d.nodes}
    ins = {n for n in nets if INPUT_PORT.match(n)}
    outs = {n for n in nets if OUTPUT_PORT.match(n)}
    if len(ins) < 2 or not outs:
        return None
    pair = _input_pair(fets, ins)
    if pair is None:
        return None
    a, b = pair
    first = {a[2], b[2]}
    pair_names = {a[0], b[0]}
    casc = [f for f in fets if f[0] not in pair_names and f[4] in first and f[3] not in ins | first
            and f[2] not in first and f[2] != f[3] and not _rail(f[2])]
    kind = None
    if casc:
        same = sum(f[1] == a[1] for f in casc)
        kind = "telescopic" if same * 2 >= len(casc) else "folded_cascode"
        stage1 = {f[2] for f in casc}
    else:
        stage1 = set(first)
    if outs & stage1:
        return kind or "opamp1"
    diode = {f[2] for f in fets if f[2] == f[3]}
    high = stage1 - diode
    if high and _reaches_output(fets, high, outs, pair_names | {f[0] for f in casc}):
        return "opamp2"
    return kind or "opamp1"


def _rail(n: str) -> bool:
    return n.upper().startswith(("VDD", "VSS", "GND"))


def _input_pair(fets: list, ins: set[str]):
    gated = [f for f in fets if f[3] in ins]
    best = None
    for i, x in enumerate(gated):
        for y in gated[i + 1:]:
            if x[1] != y[1] or x[3] == y[3] or x[2] == y[2]:
                continue
            score = (x[4] == y[4], x[2] not in ins and y[2] not in ins)
            if best is None or score > best[0]:
                best = (score, (x, y))
    return best[1] if best else None


def _reaches_output(fets: list, start: set[str], outs: set[str], skip: set[str]) -> bool:
    """Whether a chain of transistors, each gated by the last one's drain (the first by a ``start``
    node), ends on an output port: a gain stage (common source/emitter, or a follower after one)."""
    seen, frontier = set(start), set(start)
    for _ in range(4):
        nxt = set()
        for name, _pol, dn, gn, sn in fets:
            if name in skip or gn not in frontier:
                continue
            for n in (dn, sn):  # a common-source stage drives its drain, a follower its source
                if n in outs:
                    return True
                if n not in seen and not _rail(n):
                    nxt.add(n)
        seen |= nxt
        frontier = nxt
        if not frontier:
            break
    return False


def read_as_asked(ctype: str | None, circuits: list[Circuit]) -> dict:
    """How ``circuits`` drawn as op-amp sub-type ``ctype`` read by structure (``none``: no input pair) and the share
    that reads as asked; ``{}`` when ``ctype`` is not an op-amp sub-type. (The type classifier counts the four
    sub-types as one op-amp class, so this is the sub-types' own check.)"""
    if ctype not in SUBTYPES:
        return {}
    read = Counter(opamp_subtype(c) or "none" for c in circuits)
    return {"structure": dict(read.most_common()),
            "structure_as_asked": read[ctype] / len(circuits) if circuits else None}


__all__ = ["opamp_subtype", "read_as_asked", "SUBTYPES"]
