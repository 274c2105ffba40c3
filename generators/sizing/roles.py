"""Port roles of a topology (supplies, inputs, outputs, biases) and its matching groups.

Ports follow the dataset's naming (``VDD``, ``VSS``, ``VIN1``, ``VOUT1``, ``VB1``, ``IB1``, …; also
``INP``/``INN``/``OUT`` spellings). Matching groups tie the sizes of devices that a designer would
draw identical:

* a **differential pair**: same type, same source net, gates on two input ports;
* a **mirror**: same type, same gate net and same source net (the diode-connected member, if any,
  is the reference; other members get a current ratio (an integer multiplier from 1, a narrower
  device below 1) unless the mirror is the symmetric load
  of a differential pair, whose halves stay equal);
* **cascode pairs**: same type, same gate net on a bias port, drains in symmetric branches;
* **mirror-image halves** of a differential circuit: drain, gate and source each the twin of the
  other's (the two drains of the input pair are twins, and so are two outputs).

Each group shares one (W, L); a free multiplier sets a mirror member's current ratio. Members in
mirror-image positions (drains on the two drains of the input pair, or on the two outputs of a fully
differential circuit) share one ratio, and two such members alone stay equal. When one side of a
symmetric load also feeds a branch the other side lacks (e.g. an Ahuja compensation branch drawing
its bias current from the first-stage output), that side's load gets a width ``trim``: the mirror
must supply the extra current for the pair to balance (zero systematic offset), as a designer sizes
it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from eda.circuit import Circuit, Device, is_ground
from eda.errors import InputError

#: Input and output port names (``VIN1``, ``INP``, ``VOUT2``, ``OUTN``…).
INPUT_PORT = re.compile(r"^(VIN|IN|VINP|VINN|INP|INN)(\d*)$", re.IGNORECASE)
OUTPUT_PORT = re.compile(r"^(VOUT|OUT|VOUTP|VOUTN|OUTP|OUTN)(\d*)$", re.IGNORECASE)
_VB = re.compile(r"^(VB|VBIAS|VCM|VREF)(\d*)$", re.IGNORECASE)
_IB = re.compile(r"^(IB|IBIAS|IREF)(\d*)$", re.IGNORECASE)
#: Topology types the amplifier testbench handles.
AMPLIFIER_TYPES = ("opamp1", "opamp2", "folded_cascode", "telescopic", "amplifier", "ota", "opamp")


@dataclass
class Roles:
    """Nets by role. ``inputs``/``outputs`` in port order; ``vbias``/``ibias`` bias ports."""

    vdd: str
    vss: str
    inputs: list[str]
    outputs: list[str]
    vbias: list[str] = field(default_factory=list)
    ibias: list[str] = field(default_factory=list)


def _norm(n: str) -> str:
    return "VSS" if is_ground(n) else n


def find_roles(circuit: Circuit) -> Roles:
    """Roles of the circuit's nets by name.

    Raises:
        InputError: no VDD/VSS, no input or no output port.
    """
    nets = [_norm(n) for n in circuit.nets]
    upper = {n.upper(): n for n in nets}
    vdd = upper.get("VDD") or next((n for n in nets if n.upper().startswith("VDD")), None)
    vss = upper.get("VSS") or next((n for n in nets if n.upper().startswith(("VSS", "GND"))), None)
    ins = [n for n in nets if INPUT_PORT.match(n)]
    outs = [n for n in nets if OUTPUT_PORT.match(n)]
    missing = [what for what, ok in (("VDD", vdd), ("VSS", vss), ("an input port (VIN…)", ins),
                                     ("an output port (VOUT…)", outs)) if not ok]
    if missing:
        have = " ".join(circuit.ports or [n for n in nets if n[:1].isupper()][:12]) or "none"
        raise InputError(f"{circuit.title or 'circuit'}: an amplifier testbench needs VDD, VSS, an input port (VIN…) "
                         f"and an output port (VOUT…); missing {', '.join(missing)} (its ports: {have})")
    return Roles(vdd=vdd, vss=vss, inputs=ins, outputs=outs,
                 vbias=[n for n in nets if _VB.match(n)], ibias=[n for n in nets if _IB.match(n)])


def mos_polarity(d: Device) -> str | None:
    """``n``/``p`` of a MOSFET by its model name (generic or sky130), else None."""
    if d.kind not in "MX":
        return None
    m = (d.model or "").lower()
    if m.startswith(("nmos", "nfet", "nch", "sky130_fd_pr__nfet")):
        return "n"
    if m.startswith(("pmos", "pfet", "pch", "sky130_fd_pr__pfet")):
        return "p"
    return None


@dataclass
class Group:
    """Devices sharing one (W, L). ``ratio``: members with a free multiplier."""

    name: str
    polarity: str
    members: list[str]
    ratio: list[str] = field(default_factory=list)
    tied: dict[str, str] = field(default_factory=dict)  # member -> the member whose ratio it copies
    trim: list[str] = field(default_factory=list)  # members with a width scale (unbalanced symmetric load)


def matching_groups(circuit: Circuit, roles: Roles) -> list[Group]:
    """Matching groups of the circuit's MOSFETs (every MOSFET is in exactly one group)."""
    mos = [d for d in circuit.devices if mos_polarity(d)]
    parent = {d.name: d.name for d in mos}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    ports = set(roles.inputs) | set(roles.vbias) | set(roles.ibias)
    images = mirror_images(mos, roles)
    swap = {n: m for a, b in map(tuple, images) for n, m in ((a, b), (b, a))}
    mirror_of: dict[str, bool] = {}
    for i, a in enumerate(mos):
        for b in mos[i + 1:]:
            if mos_polarity(a) != mos_polarity(b):
                continue
            da, ga, sa = (_norm(x) for x in a.nodes[:3])
            db, gb, sb = (_norm(x) for x in b.nodes[:3])
            if sa == sb and ga != gb and ga in roles.inputs and gb in roles.inputs:
                union(a.name, b.name)  # differential pair
            elif ga == gb and sa == sb:
                union(a.name, b.name)  # mirror
                mirror_of[a.name] = mirror_of[b.name] = True
            elif ga == gb and ga in ports and da != db:
                union(a.name, b.name)  # cascodes on one bias line
            elif (da, ga, sa) != (db, gb, sb) and tuple(swap.get(n, n) for n in (da, ga, sa)) == (db, gb, sb):
                union(a.name, b.name)  # mirror-image halves of a differential circuit
    pair_drains = set()
    for a in mos:
        if _norm(a.nodes[1]) in roles.inputs:
            pair_drains.add(_norm(a.nodes[0]))
    groups: dict[str, Group] = {}
    by_name = {d.name: d for d in mos}
    for d in mos:
        g = groups.setdefault(find(d.name), Group(f"G{len(groups) + 1}", mos_polarity(d), []))
        g.members.append(d.name)
    for g in groups.values():
        devs = [by_name[m] for m in g.members]
        if not any(mirror_of.get(m) for m in g.members) or len(devs) < 2:
            continue
        drain = {d.name: _norm(d.nodes[0]) for d in devs}
        if len(devs) == 2 and (all(n in pair_drains for n in drain.values())
                               or frozenset(drain.values()) in images):
            g.trim = _unbalanced(circuit, devs, roles)  # symmetric load: equal unless one side feeds more
            continue
        diodes = [d.name for d in devs if _norm(d.nodes[0]) == _norm(d.nodes[1])]
        ref = diodes[0] if diodes else devs[0].name
        # the reference's twin carries the reference's current (ratio 1: no variable)
        ratio = [m for m in g.members if m != ref and frozenset((drain[m], drain[ref])) not in images]
        for i, a in enumerate(ratio):
            for b in ratio[i + 1:]:
                if b not in g.tied and a not in g.tied and frozenset((drain[a], drain[b])) in images:
                    g.tied[b] = a
        g.ratio = [m for m in ratio if m not in g.tied]
    return list(groups.values())


def mirror_images(mos: list[Device], roles: Roles) -> set[frozenset[str]]:
    """Net pairs in mirror-image positions: the drains of a differential pair, the two outputs of a
    fully differential circuit (two inputs, two outputs), and, propagated from those, the third
    terminals of two same-type FETs whose other two terminals are twins or shared (e.g. the sources
    of two cascodes whose drains are the two outputs)."""
    twin: dict[str, str] = {}

    def add(a: str, b: str) -> bool:
        if a == b or a in twin or b in twin:
            return False
        twin[a], twin[b] = b, a
        return True

    terms = [(mos_polarity(d), tuple(_norm(x) for x in d.nodes[:3])) for d in mos]
    for (pa, (da, ga, sa)), (pb, (db, gb, sb)) in ((x, y) for i, x in enumerate(terms) for y in terms[i + 1:]):
        if pa == pb and ga != gb and ga in roles.inputs and gb in roles.inputs and sa == sb:
            add(da, db)
    if len(roles.inputs) > 1 and len(roles.outputs) > 1:
        add(*roles.outputs[:2])
    grown = True
    while grown:
        grown = False
        for (pa, ta), (pb, tb) in ((x, y) for i, x in enumerate(terms) for y in terms[i + 1:]):
            if pa != pb or ta == tb:
                continue
            same = [twin.get(x, x) == y for x, y in zip(ta, tb, strict=True)]
            if sum(same) == 2 and any(s and x != y for s, x, y in zip(same, ta, tb, strict=True)):
                k = same.index(False)
                grown |= add(ta[k], tb[k])
    return {frozenset((a, b)) for a, b in twin.items()}


def passive_twins(circuit: Circuit, images: set[frozenset[str]]) -> dict[str, str]:
    """Resistors and capacitors whose nets are the mirror image (every net of each pair in
    ``images`` swapped for its twin) of an earlier one of the same kind: name -> that twin."""
    swap = {}
    for a, b in map(tuple, images):
        swap[a], swap[b] = b, a
    first: dict[tuple, str] = {}
    twins = {}
    for d in circuit.devices:
        if d.kind not in "RC":
            continue
        nodes = frozenset(_norm(n) for n in d.nodes[:2])
        image = frozenset(swap.get(n, n) for n in nodes)
        if image != nodes and (d.kind, image) in first:
            twins[d.name] = first[(d.kind, image)]
        else:
            first.setdefault((d.kind, nodes), d.name)
    return twins


def _unbalanced(circuit: Circuit, load: list[Device], roles: Roles) -> list[str]:
    """The member of a symmetric load whose drain net has more DC branches (FET channels,
    BJT collector/emitters, diodes, resistors to a net with another DC path) outside the load and
    the input pair than the other's: it must carry that branch's current too. Empty when both
    sides are alike."""
    def pins(x: Device) -> list[str]:
        if mos_polarity(x) or x.kind == "Q":
            return [_norm(x.nodes[0]), _norm(x.nodes[2])]
        return [_norm(n) for n in x.nodes[:2]] if x.kind in "RD" else []

    degree: dict[str, int] = {}
    for x in circuit.devices:
        for n in pins(x):
            degree[n] = degree.get(n, 0) + 1
    names = {d.name for d in load}
    count = {}
    for d in load:
        net = _norm(d.nodes[0])
        n = 0
        for x in circuit.devices:
            if x.name in names or (mos_polarity(x) and _norm(x.nodes[1]) in roles.inputs):
                continue
            ends = pins(x)
            if x.kind == "R" and net in ends and degree.get(next((e for e in ends if e != net), net), 0) < 2:
                continue  # a resistor into a capacitor (a nulling resistor) carries no DC current
            n += ends.count(net)
        count[d.name] = n
    a, b = (d.name for d in load)
    return [] if count[a] == count[b] else [a if count[a] > count[b] else b]


def _rail(n: str, roles: Roles) -> bool:
    return _norm(n) in (roles.vdd, roles.vss)


def output_cm_defined(circuit: Circuit, roles: Roles) -> bool:
    """True when a device fixes the outputs' DC level by itself: a resistor or diode touching an
    output, a diode-connected FET, a source follower or an emitter follower at an output. A fully
    differential stage loaded only by current sources (drains, collectors, capacitors) has an
    undefined output common mode and needs a CMFB loop."""
    outs = set(roles.outputs)
    for d in circuit.devices:
        nodes = [_norm(n) for n in d.nodes]
        if d.kind in "RD" and outs & set(nodes[:2]):
            return True
        if mos_polarity(d) and (nodes[2] in outs or (nodes[0] in outs and nodes[0] == nodes[1])):
            return True
        if d.kind == "Q" and len(nodes) > 2 and nodes[2] in outs:
            return True
    return False


def cmfb_ports(circuit: Circuit, roles: Roles) -> list[str]:
    """Voltage-bias ports a common-mode feedback loop can drive, best first: ports whose FETs have
    their sources on a supply (current sources and sinks), those gating two or more branches (the
    output-side loads) before a single tail, the polarity opposite to the input pair first."""
    fets = [d for d in circuit.devices if mos_polarity(d)]
    pair = [d for d in fets if _norm(d.nodes[1]) in roles.inputs]
    pair_pol = mos_polarity(pair[0]) if pair else None
    ranked = []
    for n in roles.vbias:
        driven = [d for d in fets if _norm(d.nodes[1]) == n]
        if not driven or not all(_rail(d.nodes[2], roles) for d in driven):
            continue
        branches = len({_norm(d.nodes[0]) for d in driven})
        ranked.append((branches < 2, mos_polarity(driven[0]) == pair_pol, roles.vbias.index(n), n))
    return [n for *_, n in sorted(ranked)]


def passive_load(circuit: Circuit, roles: Roles) -> list[str]:
    """Devices that load an output straight from a supply with a resistor or a diode-connected
    transistor (FET gate = drain, BJT base = collector) — the mark of a resistor- or diode-loaded
    gain stage, whose gain the load's headroom bounds (≈ (gm/Id)·V_R), rather than an op-amp's
    current-source load."""
    outs = set(roles.outputs)
    found = []
    for d in circuit.devices:
        nodes = [_norm(n) for n in d.nodes]
        if d.kind == "R" and outs & set(nodes[:2]) and any(_rail(n, roles) for n in nodes[:2]):
            found.append(d.name)
        elif (mos_polarity(d) or d.kind == "Q") and nodes[0] in outs and nodes[0] == nodes[1] \
                and _rail(nodes[2], roles):
            found.append(d.name)
    return found
