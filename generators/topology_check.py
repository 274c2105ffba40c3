"""Validity of analog topologies: named electrical rules and an ngspice operating point.

Rules (:data:`RULES`; :func:`rule_violations` returns ``(rule, message)`` pairs):

* ``terminals`` — every device has its terminal count and a topology type;
* ``supply`` — ``VSS`` is used and some other port feeds the circuit (``VDD`` is not required:
  real current-driven networks and IB-referenced mirrors have none);
* ``shorted_device`` — no device has all its terminals on one net;
* ``floating_net`` — every internal net joins ≥ 2 pins;
* ``voltage_loop`` — no voltage-driven ports shorted together directly or through inductors, and no
  loop of inductors (two in parallel included: at DC a loop of shorts, singular in SPICE; the 6 of
  3,212 training circuits with one fail ngspice's operating point too);
* ``dc_path`` — every net has a DC path (through resistors, inductors, diodes, BJT and MOS
  channel/junctions, not capacitors or gates) to a voltage-driven port, or a capacitor on it
  (capacitively coupled nets are real: AC coupling, switched-capacitor nodes, capacitive
  feedback; the simulation deck gives them a 1 TΩ shunt so the operating point is not singular);
* ``floating_gate`` — the same for nets with a MOS gate or BJT base: a gate net with neither a
  DC path nor a capacitor floats, unless it is a *bias line* (the gates of two or more devices of
  one polarity and nothing else: the bias generator is not drawn, as in 324 public circuits);
  the test bench drives a bias line like a ``VB`` port;
* ``signal_port`` — every signal port (``VIN*``, ``VOUT*``, ``IIN*``, ``IOUT*``, ``VRF*``...;
  :func:`eda.topology.is_signal`) reaches a transistor or diode terminal directly or through
  resistors, capacitors and inductors, without crossing a supply or another driven port
  (circuits without active devices are exempt);
* ``io_path`` — when the circuit has an input port and an output port, some path of device
  terminals joins one to the other without crossing a supply (``VDD``/``VSS``);
* ``redundant_device`` — no device with every terminal on the supply rails (a resistor across
  VDD–VSS): removing it leaves every node voltage and the rest's function unchanged. (Devices
  between other driven ports are kept: textbook circuits measure at ports, e.g. a diode-connected
  load whose source is the port ``VIN1``.)

:func:`check_circuit` also asks ngspice for a DC operating point of :func:`simulation_deck`
(default sizing, generic level-1 models or the sky130 models with ``pdk="sky130"``, supplies and
bias sources on the ports). Novelty and uniqueness: :mod:`eda.graphs.canon`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import networkx as nx

from eda.circuit import SOURCE_KINDS, Analysis, Circuit, Device, Model, is_ground, unique_names
from eda.errors import EdaError, InputError
from eda.graphs.canon import GraphSet, novelty_uniqueness
from eda.graphs.pin_graph import DEVICE_TYPES, device_type
from eda.topology import class_of, is_driven, is_port_name, is_signal

__all__ = ["RULES", "GraphSet", "novelty_uniqueness", "rule_violations", "rule_pass_counts", "erc",
           "simulation_deck", "bias_lines", "sky130_netlist", "simulate", "check_circuit", "CheckResult",
           "op_reason", "op_worker_stuck", "MODELS", "SIZING", "VDD", "IBIAS"]

#: Supply and default bias values (volts, amperes) of the simulation deck.
VDD = 1.8
IBIAS = 20e-6
#: Generic level-1 model cards: no PDK needed, every deck simulates as written.
MODELS: tuple[Model, ...] = (
    Model("nmos4", "nmos", {"level": 1, "vto": 0.45, "kp": 200e-6, "lambda": 0.05, "gamma": 0.4,
                            "phi": 0.7, "cgso": 3e-10, "cgdo": 3e-10, "cj": 1e-3}),
    Model("pmos4", "pmos", {"level": 1, "vto": -0.45, "kp": 80e-6, "lambda": 0.05, "gamma": 0.4,
                            "phi": 0.7, "cgso": 3e-10, "cgdo": 3e-10, "cj": 1e-3}),
    Model("npn", "npn", {"is": 1e-16, "bf": 100, "vaf": 50, "cje": 1e-13, "cjc": 5e-14}),
    Model("pnp", "pnp", {"is": 1e-16, "bf": 50, "vaf": 40, "cje": 1e-13, "cjc": 5e-14}),
    Model("diode", "d", {"is": 1e-14, "cjo": 1e-13}),
)
#: Default sizing per device type.
SIZING: dict[str, dict] = {
    "NM": {"params": {"w": 2e-6, "l": 0.5e-6}},
    "PM": {"params": {"w": 4e-6, "l": 0.5e-6}},
    "R": {"value": 10e3},
    "C": {"value": 1e-12},
    "L": {"value": 10e-9},
}
#: The rules, in the order they are checked (see the module docstring).
RULES = ("terminals", "supply", "shorted_device", "floating_net", "voltage_loop", "dc_path", "floating_gate",
         "signal_port", "io_path", "redundant_device")
_DC_PINS = {"NM": ("D", "S", "B"), "PM": ("D", "S", "B"), "NPN": ("C", "B", "E"), "PNP": ("C", "B", "E"),
            "R": ("P", "N"), "L": ("P", "N"), "D": ("P", "N"), "C": ()}
_CONTROL_PINS = {"NM": ("G",), "PM": ("G",), "NPN": ("B",), "PNP": ("B",)}
_ACTIVE = ("NM", "PM", "NPN", "PNP", "D")
_PASSIVE = ("R", "C", "L")


@dataclass
class CheckResult:
    """Outcome of :func:`check_circuit`: ``valid`` and the reasons it is not.

    ``erc`` holds the messages of every rule broken, ``violations`` the same as (rule, message)."""

    name: str
    erc: list[str] = field(default_factory=list)
    sim: str | None = None
    simulated: bool = False
    n_devices: int = 0
    violations: list[tuple[str, str]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """ERC clean and, when simulated, an operating point found (see ``simulated``)."""
        return not self.erc and self.sim is None

    @property
    def reasons(self) -> list[str]:
        return self.erc + ([f"ngspice: {self.sim}"] if self.sim else [])

    def to_dict(self) -> dict:
        return {"name": self.name, "valid": self.valid, "simulated": self.simulated, "devices": self.n_devices,
                "reasons": self.reasons, "rules": sorted({r for r, _ in self.violations})}


def _typed(circuit: Circuit) -> list[tuple[Device, str]]:
    return [(d, device_type(d, circuit)) for d in circuit.devices]


def _typed_known(circuit: Circuit) -> list[tuple[Device, str]]:
    """(device, type) of the devices whose topology type can be told, a sky130 instance by its generic device
    (:func:`eda.export.to_sky130.generic_device`); sources and other subcircuit instances are skipped."""
    from eda.export.to_sky130 import generic_device

    out = []
    for d in circuit.devices:
        g = generic_device(d) or d
        if g.kind in "MQRCLD":
            try:
                out.append((g, device_type(g, circuit)))
            except InputError:  # (a MOS/BJT model of unknown polarity: not counted)
                continue
    return out


def _norm(n: str) -> str:
    return "VSS" if is_ground(n) else n


@dataclass
class _Nets:
    """Per-device pin → net maps of a typed circuit, and the port set."""

    devs: list[tuple[Device, str, dict[str, str]]]
    ports: set[str]
    pins_on: dict[str, int]

    def driven(self, n: str) -> bool:
        return n in self.ports and is_driven(n)


def _nets(circuit: Circuit, out: list[tuple[str, str]]) -> _Nets | None:
    try:
        typed = _typed(circuit)
    except InputError as e:
        out.append(("terminals", e.message))
        return None
    if not typed:
        out.append(("terminals", "no devices"))
        return None
    ports = {_norm(p) for p in circuit.ports} | {n for n in circuit.nets if is_port_name(n)} | {"VSS"}
    devs = []
    pins_on: dict[str, int] = {}
    for d, t in typed:
        want = len(DEVICE_TYPES[t].pins)
        if len(d.nodes) not in (want, want + 1 if t in ("NPN", "PNP") else want):
            out.append(("terminals", f"device {d.name}: {len(d.nodes)} terminals, expected {want}"))
            continue
        nodes = [_norm(n) for n in d.nodes[:want]]
        for n in nodes:
            pins_on[n] = pins_on.get(n, 0) + 1
        devs.append((d, t, dict(zip(DEVICE_TYPES[t].pins, nodes, strict=True))))
    return _Nets(devs, ports, pins_on)


def rule_violations(circuit: Circuit) -> list[tuple[str, str]]:
    """``(rule, message)`` for every rule of :data:`RULES` the flat topology breaks (empty: clean).

    Nets named ``0``/``gnd`` count as ``VSS``. Each message names the device or net.
    """
    out: list[tuple[str, str]] = []
    nets = _nets(circuit, out)
    if nets is None:
        return out
    pins_on = nets.pins_on
    for d, _, pn in nets.devs:
        if len(set(pn.values())) == 1:
            out.append(("shorted_device", f"device {d.name}: all terminals on net {next(iter(pn.values()))}"))
    if "VSS" not in pins_on:
        out.append(("supply", "VSS is not connected to any device"))
    if not any(n != "VSS" and n in nets.ports and class_of(n).drive for n in pins_on):
        out.append(("supply", "no port besides VSS drives the circuit (no supply, input or bias)"))
    for n, k in pins_on.items():
        if n not in nets.ports and k < 2:
            out.append(("floating_net", f"internal net {n} has only {k} pin (floating)"))
    _dc_rules(nets, out)
    _signal_rules(nets, out)
    for d, _, pn in nets.devs:
        if all(class_of(n).role == "supply" and n in nets.ports for n in pn.values()):
            out.append(("redundant_device", f"device {d.name}: every terminal on a supply rail "
                                            f"({', '.join(sorted(set(pn.values())))}); it changes nothing"))
    return out


def _reach(nets: _Nets) -> set[str]:
    """Nets with a DC path (conducting terminals) to a voltage-driven port."""
    g = nx.Graph()
    g.add_nodes_from(nets.pins_on)
    for _, t, pn in nets.devs:
        dc = [pn[p] for p in _DC_PINS[t]]
        g.add_edges_from(zip(dc, dc[1:], strict=False))
    reach: set[str] = set()
    for comp in nx.connected_components(g):
        if any(nets.driven(n) for n in comp):
            reach |= comp
    return reach


def _bias_line(nets: _Nets, net: str) -> str | None:
    """``n``/``p`` when ``net`` joins only the gates (bases) of two or more devices of one polarity:
    a bias line whose generator the schematic does not draw (324 public circuits have one), which a
    test bench drives like a ``VB`` port; else None."""
    pols: set[str] = set()
    k = 0
    for _, t, pn in nets.devs:
        for p, n in pn.items():
            if n != net:
                continue
            if p not in _CONTROL_PINS.get(t, ()):
                return None
            pols.add("n" if t in ("NM", "NPN") else "p")
            k += 1
    return pols.pop() if k >= 2 and len(pols) == 1 else None


def _dc_rules(nets: _Nets, out: list[tuple[str, str]]) -> None:
    """Voltage loops through inductors; DC paths of every net (gate nets reported apart)."""
    short = nx.Graph()
    short.add_nodes_from(nets.pins_on)
    control: set[str] = set()
    coupled: set[str] = set()
    for _, t, pn in nets.devs:
        if t == "L":
            short.add_edge(pn["P"], pn["N"])
        if t == "C":
            coupled.update(pn.values())
        control.update(pn[p] for p in _CONTROL_PINS.get(t, ()))
    driven = [n for n in nets.pins_on if nets.driven(n)]
    inductors = [(d.name, pn["P"], pn["N"]) for d, t, pn in nets.devs if t == "L"]
    for comp in nx.connected_components(short):
        vs = sorted(n for n in comp if n in driven)
        if len(vs) > 1:
            out.append(("voltage_loop", f"voltage-source loop: ports {', '.join(vs)} shorted at DC through inductors"))
        ls = [(name, a, b) for name, a, b in inductors if a in comp and a != b]  # (a != b: shorted_device)
        if len(ls) > len(comp) - 1:  # more inductors than a tree of the component needs: a loop (parallel too)
            bridges = {frozenset(e) for e in nx.bridges(short.subgraph(comp))}
            twice = Counter(frozenset((a, b)) for _, a, b in ls)
            loop = [name for name, a, b in ls if frozenset((a, b)) not in bridges or twice[frozenset((a, b))] > 1]
            out.append(("voltage_loop", f"inductor loop: {', '.join(loop)} close a loop of inductors (at DC a loop "
                                        "of shorts: its current is undetermined and the operating point singular)"))
    reach = _reach(nets)
    for n in nets.pins_on:
        # a capacitively coupled net (AC coupling, switched-capacitor nodes, capacitive feedback
        # to a gate) is a real design pattern: its DC level is set by charge, not a path
        if n in reach or n in coupled:
            continue
        if n in control:
            if n in nets.ports or _bias_line(nets, n) is None:
                out.append(("floating_gate", f"net {n} has no DC path to a supply or bias source (a floating "
                                             "gate: gates of both polarities or with DC-blocked pins)"))
            continue
        out.append(("dc_path", f"net {n} has no DC path to a supply or bias source"))


def coupled_only_nets(circuit: Circuit) -> list[str]:
    """Nets without a DC path to a driven port (capacitively coupled or bias lines): the
    simulation deck gives them a high-value shunt so the operating point is not singular."""
    nets = _nets(circuit, [])
    if nets is None:
        return []
    reach = _reach(nets)
    return sorted(n for n in nets.pins_on if n not in reach)


def bias_lines(circuit: Circuit) -> dict[str, str]:
    """Undrawn bias lines of a circuit: net → polarity (see the ``floating_gate`` rule)."""
    nets = _nets(circuit, [])
    if nets is None:
        return {}
    reach = _reach(nets)
    out = {}
    for n in nets.pins_on:
        if n not in reach and n not in nets.ports:
            pol = _bias_line(nets, n)
            if pol:
                out[n] = pol
    return out


def _signal_rules(nets: _Nets, out: list[tuple[str, str]]) -> None:
    """Signal ports reach an active terminal; an input reaches an output."""
    active_nets: set[str] = set()
    by_net: dict[str, list[int]] = {}
    for i, (_, t, pn) in enumerate(nets.devs):
        if t in _ACTIVE:
            active_nets.update(pn.values())
        for n in set(pn.values()):
            by_net.setdefault(n, []).append(i)

    def spread(start: str, through: tuple[str, ...] | None, stop) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            n = todo.pop()
            if n != start and stop(n):
                continue
            for i in by_net.get(n, ()):
                _, t, pn = nets.devs[i]
                if through is not None and t not in through:
                    continue
                for m in pn.values():
                    if m not in seen:
                        seen.add(m)
                        todo.append(m)
        return seen

    used_ports = [p for p in nets.ports if p in nets.pins_on]
    if active_nets:
        for p in sorted(used_ports):
            inner = {n for n in spread(p, _PASSIVE, nets.driven) if n == p or not nets.driven(n)}
            if is_signal(p) and not inner & active_nets:
                out.append(("signal_port", f"signal port {p} reaches no transistor or diode terminal "
                                           "(only passives towards supplies or driven ports)"))
    ins = [p for p in used_ports if class_of(p).role == "input"]
    outs = {p for p in used_ports if class_of(p).role == "output"}
    if ins and outs and not any(spread(p, None, _is_rail) & outs for p in ins):
        out.append(("io_path", f"no path of device terminals from an input ({', '.join(sorted(ins))}) to an "
                               f"output ({', '.join(sorted(outs))}) that avoids the supplies"))


def rule_pass_counts(topologies: list) -> dict:
    """How many of ``topologies`` pass each rule of :data:`RULES` and all of them (no simulation):
    ``{"n": ..., "all": ..., "<rule>": ...}``, plus ``failing`` (rule → up to five names)."""
    counts = {"n": len(topologies), "all": 0, **{r: 0 for r in RULES}}
    failing: dict[str, list[str]] = {}
    for t in topologies:
        broken = {r for r, _ in rule_violations(t.circuit)}
        counts["all"] += not broken
        for r in RULES:
            if r in broken:
                failing.setdefault(r, [])
                if len(failing[r]) < 5:
                    failing[r].append(str(t.name))
            else:
                counts[r] += 1
    counts["failing"] = failing
    return counts


def _is_rail(n: str) -> bool:
    return n in ("VDD", "VSS")


def erc(circuit: Circuit) -> list[str]:
    """Messages of every rule the flat topology breaks (:func:`rule_violations`; empty: clean)."""
    return [m for _, m in rule_violations(circuit)]


def port_polarity(circuit: Circuit, net: str) -> str:
    """``n`` when a net reaches only N-type transistors (MOS or bipolar, any terminal), ``p`` for P-type only,
    else ``m``."""
    kinds = set()
    for d, t in _typed_known(circuit):
        if net in d.nodes and t in ("NM", "NPN"):
            kinds.add("n")
        elif net in d.nodes and t in ("PM", "PNP"):
            kinds.add("p")
    return kinds.pop() if len(kinds) == 1 else "m"


def sinks_bias_current(circuit: Circuit, net: str) -> bool:
    """Whether a current-bias port (``IBk``…) must take its current out of the circuit (a source to VSS) rather
    than supply it (from VDD). The channel terminals on the net say which way DC current flows there: an NMOS
    source or PMOS drain (npn emitter, pnp collector) delivers current into the net, so the port sinks it (the
    tail of an NMOS pair, a diode-connected PMOS, a folded cascode's fold node); an NMOS drain or PMOS source
    (npn collector, pnp emitter) draws current from it, so the port supplies it (a diode-connected NMOS, the
    tail of a PMOS pair). Terminals that disagree, or none: by the transistor type on the net (P-type only:
    sink). Used by the OP-check deck and the sizing testbench."""
    gives = takes = 0
    for d, t in _typed_known(circuit):
        if t not in ("NM", "PM", "NPN", "PNP"):
            continue
        hi, lo = d.nodes[0], d.nodes[2]  # drain/collector, source/emitter
        into, out_of = (hi, lo) if t in ("NM", "NPN") else (lo, hi)
        if into == out_of:
            continue
        takes += into == net  # the device's current enters at this terminal: drawn from the net
        gives += out_of == net
    if (takes == 0) != (gives == 0):  # one way only
        return gives > 0
    return port_polarity(circuit, net) == "p"


def _bias_levels(pdk: str | None) -> tuple[float, float]:
    """Bias voltages (N-type gate, P-type gate) of default-size diode-connected devices."""
    if pdk == "sky130":
        from eda.export.to_sky130 import BIAS_N, BIAS_P

        return BIAS_N, VDD - BIAS_P
    return 0.7, VDD - 0.7


def _port_source(circuit: Circuit, n: str, pdk: str | None) -> Device | None:
    """The test-bench source of port ``n`` (None: outputs and the supplies, handled apart)."""
    c = class_of(n)
    if c.name in ("VDD", "VSS") or c.drive is None:
        return None
    pol = port_polarity(circuit, n)
    if c.drive == "i":  # (SPICE current flows n+ -> source -> n-)
        return Device(f"I{n}", "I", (n, "VSS") if sinks_bias_current(circuit, n) else ("VDD", n), value=IBIAS)
    if c.role == "bias" and c.name in ("VB", "VBB"):
        vn, vp = _bias_levels(pdk)
        v = vn if pol == "n" else (vp if pol == "p" else VDD / 2)
    elif c.name == "VCLK":
        v = VDD
    else:
        v = VDD / 2
    return Device(f"V{n}", "V", (n, "VSS"), value=v)


def simulation_deck(circuit: Circuit, title: str | None = None, pdk: str | None = None,
                    corner: str = "tt") -> Circuit:
    """A self-contained deck of a topology: default sizing, models, ``.op``, and sources.

    ``VDD`` = 1.8 V and ``VSS`` = 0 V (a 0 V source to ground keeps the name); inputs
    (``VINk``, ``VLOk``, ``VRFk``), ``VREFk``, ``VCMk``, controls and generic ports at
    mid-supply; ``VCLKk`` high; ``VBk`` at 0.7 V above ``VSS`` when it drives N-type devices
    only, 0.7 V below ``VDD`` for P-type only (sky130: 0.8 V / 1.1 V, the gate voltages of
    default-size diode-connected devices), mid-supply otherwise; undrawn bias lines (nets of
    same-polarity gates alone, :func:`bias_lines`) the same as a ``VB`` port of their polarity;
    current-driven ports (``IBk``, ``IREFk``, ``IINk``) a 20 µA source from ``VDD`` or to ``VSS``, the
    way the transistors on the port conduct (:func:`sinks_bias_current`); outputs (``VOUTk``,
    ``IOUTk``, ``VIFk``) undriven.

    Args:
        pdk: None (generic level-1 models) or ``"sky130"`` (the real sky130 devices through the
            ``.lib`` card of ``corner``, :func:`eda.export.to_sky130.to_sky130`).
    """
    if pdk not in (None, "sky130"):
        raise InputError(f"pdk: expected None or 'sky130', got {pdk!r}")
    devices: list[Device] = []
    for d, t in _typed(circuit):
        size = SIZING.get(t, {})
        params = dict(size.get("params", {})) if pdk is None else {}
        devices.append(Device(d.name, d.kind, tuple("VSS" if is_ground(n) else n for n in d.nodes),
                              model=_GENERIC_MODEL.get(t), value=size.get("value"), params=params))
    devices = unique_names(devices)  # real data repeats instance names; SPICE needs them unique
    nets = {n for d in devices for n in d.nodes}
    ports = {_norm(p) for p in circuit.ports} | {n for n in nets if is_port_name(n)}
    sources: list[Device] = [Device("VVDD", "V", ("VDD", "0"), value=VDD),
                             Device("VVSS", "V", ("VSS", "0"), value=0.0)]
    for n in sorted(nets & ports):
        src = _port_source(circuit, n, pdk)
        if src is not None:
            sources.append(src)
    vn, vp = _bias_levels(pdk)
    for n, pol in sorted(bias_lines(circuit).items()):
        sources.append(Device(f"VBIAS_{n}", "V", (n, "VSS"), value=vn if pol == "n" else vp))
    options: dict = {"gmin": 1e-12}
    if coupled_only_nets(circuit):
        options["rshunt"] = 1e12  # capacitively coupled nets: a DC path of 1 TΩ to ground
    deck = Circuit(title=title or circuit.title or "topology", devices=devices + sources,
                   ports=circuit.ports, models=list(MODELS), analyses=[Analysis("op")], options=options)
    if pdk == "sky130":
        from eda.export.to_sky130 import to_sky130

        deck = to_sky130(deck, corner)
    return deck


_GENERIC_MODEL = {"NM": "nmos4", "PM": "pmos4", "NPN": "npn", "PNP": "pnp", "D": "diode"}
#: Seconds an operating point may search before it counts as not found (a sky130 OP takes well under one;
#: one sampled circuit's search ran over 12 minutes in a benchmark before this bound).
OP_TIMEOUT_S = 60.0
#: Operating points one worker process runs before a fresh one takes over (:class:`eda.sim.isolated.IsolatedRunner`):
#: libngspice keeps ~5 MB of every deck it loaded and slows down with them (600 decks: 0.8 -> 3.1 GB, 14 -> 50 ms
#: each); a fresh worker costs ~0.7 s.
OP_CHECKS_PER_WORKER = 200


def simulate(circuit: Circuit, pdk: str | None = None, corner: str = "tt",
             timeout: float = OP_TIMEOUT_S) -> tuple[str | None, dict[str, float]]:
    """ngspice operating point of :func:`simulation_deck`; (failure reason or None, voltages). An operating point
    still searching after ``timeout`` s (the models' loading not counted) is halted and fails."""
    try:
        deck = simulation_deck(circuit, pdk=pdk, corner=corner)
    except EdaError as e:
        return _first_line(e), {}
    return _operating_point(deck, timeout)


def _operating_point(deck: Circuit, timeout: float = OP_TIMEOUT_S) -> tuple[str | None, dict[str, float]]:
    """ngspice operating point of a complete deck; (failure reason or None, voltages)."""
    from eda.sim.ngspice import operating_point

    try:
        op = operating_point(deck, timeout=timeout)
    except TimeoutError as e:
        return f"no operating point: {e}", {}
    except EdaError as e:
        return _first_line(e), {}
    bad = [k for k, v in op.items() if not math.isfinite(v)]
    if bad:
        return f"non-finite operating point at {bad[0]}", op
    return None, op


def op_reason(job: tuple[Circuit, str | None]) -> str | None:
    """:func:`simulate` of one ``(circuit, pdk)`` for :class:`eda.sim.isolated.IsolatedRunner` workers: the
    failure reason, None when an operating point was found."""
    circuit, pdk = job
    return simulate(circuit, pdk=pdk)[0]


def op_worker_stuck(reason: str | None) -> bool:
    """True when an :func:`op_reason` failure means ngspice had to halt an analysis (its process is not
    used again: an analysis that ignored ``bg_halt`` would hold every later one)."""
    return reason is not None and (reason.startswith("no operating point") or "bg_halt" in reason)


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def check_circuit(circuit: Circuit, name: str = "", run_sim: bool = True, pdk: str | None = None,
                  corner: str = "tt") -> CheckResult:
    """The rules then (when clean and ``run_sim``) the ngspice operating point (``pdk``: see
    :func:`simulation_deck`)."""
    res = CheckResult(name=name or circuit.title, n_devices=len(circuit.devices))
    res.violations = rule_violations(circuit)
    res.erc = [m for _, m in res.violations]
    if res.erc or not run_sim:
        return res
    res.sim, _ = simulate(circuit, pdk=pdk, corner=corner)
    res.simulated = True
    return res


def check_deck(circuit: Circuit, name: str = "", run_sim: bool = True) -> CheckResult:
    """A complete simulation deck (its own supplies and sources, e.g. ``data/netlists/*.sp``), judged as
    written: no net with a single pin (top level and inside each subcircuit, ports excepted), and (``run_sim``)
    an ngspice operating point (bounded as in :func:`simulate`) with the deck's own sources, every value finite."""
    res = CheckResult(name=name or circuit.title, n_devices=len(circuit.devices))
    for where, devs, ports in [("", circuit.devices, set())] + [
            (f"{s.name}/", s.devices, set(s.ports)) for s in circuit.subckts]:
        pins: dict[str, int] = {}
        for d in devs:
            for n in d.nodes:
                pins[n] = pins.get(n, 0) + 1
        for n, k in sorted(pins.items()):
            if k < 2 and n not in ports and not is_ground(n):
                res.violations.append(("floating_net", f"net {where}{n} has only 1 pin (floating)"))
    res.erc = [m for _, m in res.violations]
    if res.erc or not run_sim:
        return res
    res.simulated = True
    res.sim, _ = _operating_point(circuit)
    return res


def sky130_netlist(path, pdk: str = "sky130", corner: str = "tt") -> Circuit:
    """A netlist file on the real sky130 devices (``eda spice convert --pdk sky130``).

    A topology (a Cadence ``N.cir`` body with ``PortN.txt``, or a library file with a ``*.ports``
    header, and no sources) becomes its :func:`simulation_deck` with ``pdk`` models: default sizes
    that bias at ~10–20 µA a branch, supplies and bias sources on the ports, ``.op``. A deck with
    sources of its own keeps them and only its devices are mapped (:func:`eda.export.to_sky130.to_sky130`).

    Raises:
        InputError: unreadable netlist or unknown ``pdk``. ModelsMissing: sky130 is not installed.
    """
    from eda.read.topology_dataset import read_netlist_topology

    if pdk != "sky130":
        raise InputError(f"pdk: expected 'sky130', got {pdk!r}")
    t = read_netlist_topology(path)
    if any(d.kind in SOURCE_KINDS for d in t.circuit.devices):  # a deck with its own sources
        from eda.export.to_sky130 import to_sky130
        from eda.read.from_spice import read_spice

        return to_sky130(read_spice(path), corner)
    return simulation_deck(t.circuit, title=t.name, pdk=pdk, corner=corner)
