"""The amplifier core of an op-amp pin graph: what makes a differential input reach the output.

:mod:`eda.graphs.grammar_amp` checks where an op-amp's ports sit; a circuit can pass those and still
not amplify (issue #17: 42 of 50 sized samples had no input that moved the output). These facts say
why, on DC conduction between nets (MOS drain-source, BJT collector-emitter, R, L, diode; never a
capacitor or a gate):

* ``pair``: two transistors of one polarity gated by two different inputs, sources/emitters on one
  net that no voltage source drives (the tail node; an ``IB`` port counts as undriven);
* ``tail``: that tail node conducts to the pair's own rail (NMOS/NPN: VSS, PMOS/PNP: VDD) through
  devices no input gates, or takes an ``IB`` port (a tail current source);
* ``loads``: every pair drain conducts to the other rail through devices no input gates, never
  crossing the pair's own rail (a load: mirror, current source, resistor, a folded branch);
* ``out_drive``: every output net holds a transistor's channel end and conducts to both rails (a
  pull-up and a pull-down, through any device; neither path crosses the other rail);
* ``bias_used``: every ``VB``/``IB``/``VCM``/``VREF`` port reaches a transistor's gate/base or
  channel (not only passives).

:func:`core_facts` measures them on any pin graph, :func:`core_violations` names the ones broken.
Real op-amps (AnalogGenie op-amp chapters, library) against them: ``benchmarks/bench_grammar_amp.py``.
"""

from __future__ import annotations

import networkx as nx

from eda.graphs.grammar_amp import device_nets
from eda.topology import class_of, is_driven, port_prefix

_FET = ("NM", "PM")
_BJT = ("NPN", "PNP")
_N_TYPE = ("NM", "NPN")
_BIAS = ("VB", "IB", "VCM", "VREF")


def _ends(ty: str) -> tuple[str, str, str]:
    """(control, drain-like, source-like) pin names of a transistor type."""
    return ("G", "D", "S") if ty in _FET else ("B", "C", "E")


def _conduction(devs: dict, kind: dict, skip: set[str]) -> nx.MultiGraph:
    """Nets joined by DC-conducting devices (channels, R, L, diodes), devices in ``skip`` left out."""
    h = nx.MultiGraph()
    for d, pins in devs.items():
        ty = kind[d]
        if d in skip or ty == "C":
            continue
        if ty in _FET or ty in _BJT:
            _, dn, sn = _ends(ty)
            a, b = pins.get(dn), pins.get(sn)
        else:
            a, b = pins.get("P"), pins.get("N")
        if a is not None and b is not None and a != b:
            h.add_edge(a, b, dev=d)
    return h


def _reaches(h: nx.MultiGraph, src: str | None, dst: set, avoid: set) -> bool:
    """Whether net ``src`` conducts to one of the nets ``dst`` without passing through those in ``avoid``."""
    if src is None or src in avoid:
        return False
    if src in dst:
        return True
    if src not in h:
        return False
    sub = h.subgraph(n for n in h if n not in avoid)
    return any(n in dst for n in nx.node_connected_component(sub, src))


def core_facts(g: nx.Graph) -> dict:
    """The amplifier-core facts of a pin graph (see the module docstring)."""
    devs, kind, ports_of = device_nets(g)
    names = ports_of

    def net_with(role: str) -> set[str]:
        return {n for n, ps in names.items() if any(port_prefix(p) == role for p in ps)}

    vin = {n for n, ps in names.items() if any(port_prefix(p) == "VIN" and p != "VIN" for p in ps)}
    vout = {n for n, ps in names.items() if any(port_prefix(p) == "VOUT" and p != "VOUT" for p in ps)}
    vdd, vss = net_with("VDD"), net_with("VSS")
    # a current port (IB) is a source or sink at either end: a tail, a load, a pull-up or -down
    ib = net_with("IB")
    hi, lo = vdd | ib, vss | ib
    driven = {n for n, ps in names.items() if any(is_driven(p) for p in ps)}
    gated = {}  # input-gated transistor -> (input net, drain net, source net)
    for d, pins in devs.items():
        ty = kind[d]
        if ty in _FET or ty in _BJT:
            gn, dn, sn = (pins.get(x) for x in _ends(ty))
            if gn in vin:
                gated[d] = (gn, dn, sn)
    pairs = []
    items = sorted(gated.items())
    for i, (a, (ga, da, sa)) in enumerate(items):
        for b, (gb, db, sb) in items[i + 1:]:
            if kind[a] == kind[b] and ga != gb and sa == sb and sa is not None and sa not in driven \
                    and da != db and da not in driven and db not in driven:
                pairs.append((a, b, sa))
    quiet = _conduction(devs, kind, set(gated))
    everything = _conduction(devs, kind, set())
    tail = loads = core = False
    for a, b, s in pairs:
        own, other = (lo, hi) if kind[a] in _N_TYPE else (hi, lo)
        t_ok = _reaches(quiet, s, own, other - own)
        l_ok = all(_reaches(quiet, gated[x][1], other, own - other) for x in (a, b))
        tail, loads, core = tail or t_ok, loads or l_ok, core or (t_ok and l_ok)
    chan_nets = {pins.get(p) for d, pins in devs.items() if kind[d] in _FET + _BJT for p in _ends(kind[d])[1:]}
    out_drive = bool(vout) and all(
        o in chan_nets and _reaches(everything, o, hi, vss) and _reaches(everything, o, lo, vdd) for o in vout)
    active = set()
    for d, pins in devs.items():
        if kind[d] in _FET + _BJT:
            active.update(n for p, n in pins.items() if p != "B" or kind[d] in _BJT)
    bias = {n for n, ps in names.items() if any(port_prefix(p) in _BIAS and class_of(p).role == "bias" for p in ps)}
    return {"pair": bool(pairs), "pair_tail": tail, "pair_loads": loads, "core": core,
            "out_drive": out_drive, "bias_used": all(n in active for n in bias)}


#: the fact each violation name reports missing
CORE_RULES = {"no_pair": "pair", "no_tail": "pair_tail", "no_load": "pair_loads", "no_core": "core",
              "output_undriven": "out_drive", "bias_unused": "bias_used"}


def core_violations(g: nx.Graph, facts: dict | None = None) -> list[str]:
    """Names of the amplifier-core facts a pin graph lacks (empty: a differential pair with a tail
    source and loads to the other rail, a driven output, bias ports in use)."""
    f = facts or core_facts(g)
    return [name for name, key in CORE_RULES.items() if not f[key]]


__all__ = ["CORE_RULES", "core_facts", "core_violations"]
