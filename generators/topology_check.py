"""Validity of analog topologies: electrical rules (ERC) and an ngspice operating point.

A topology is valid when

* every device terminal is on exactly one net and every internal net joins ≥ 2 pins;
* ``VDD`` and ``VSS`` are present;
* no device has all its terminals on one net;
* there is no loop of voltage sources (voltage-driven ports shorted together directly or
  through inductors, which are shorts at DC);
* every net has a DC path (through resistors, inductors, diodes, BJT and MOS channel/junctions,
  not through capacitors or gates) to a voltage-driven port, since otherwise the operating point
  is singular;
* ngspice finds a DC operating point of the deck written by :func:`simulation_deck` (default
  sizing, generic level-1 models, supplies and bias sources on the ports).

Novelty and uniqueness compare device-pin graphs: Weisfeiler-Lehman hash to bucket, exact
labelled isomorphism to confirm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx

from eda.circuit import Analysis, Circuit, Device, Model, is_ground
from eda.errors import EdaError, InputError
from eda.graphs.pin_graph import PORT_RE, circuit_to_graph, device_type, graphs_isomorphic, wl_hash

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
#: Ports driven by a voltage source (the rest: IB by a current source, VOUT by nothing).
VOLTAGE_PORTS = ("VDD", "VSS", "VIN", "VB", "VCLK", "VREF", "VLO", "VRF", "VCM")
_DC_PINS = {"NM": ("D", "S", "B"), "PM": ("D", "S", "B"), "NPN": ("C", "B", "E"), "PNP": ("C", "B", "E"),
            "R": ("P", "N"), "L": ("P", "N"), "D": ("P", "N"), "C": ()}


def port_class(net: str) -> str | None:
    m = PORT_RE.match(net)
    return m.group(1) if m else None


@dataclass
class CheckResult:
    """Outcome of :func:`check_circuit`: ``valid`` and the reasons it is not."""

    name: str
    erc: list[str] = field(default_factory=list)
    sim: str | None = None
    simulated: bool = False
    n_devices: int = 0

    @property
    def valid(self) -> bool:
        """ERC clean and, when simulated, an operating point found (see ``simulated``)."""
        return not self.erc and self.sim is None

    @property
    def reasons(self) -> list[str]:
        return self.erc + ([f"ngspice: {self.sim}"] if self.sim else [])

    def to_dict(self) -> dict:
        return {"name": self.name, "valid": self.valid, "simulated": self.simulated, "devices": self.n_devices,
                "reasons": self.reasons}


def _typed(circuit: Circuit) -> list[tuple[Device, str]]:
    return [(d, device_type(d, circuit)) for d in circuit.devices]


def erc(circuit: Circuit) -> list[str]:
    """Electrical-rule violations of a flat topology (empty list: clean).

    Nets named ``0``/``gnd`` count as ``VSS``. Each message names the device or net.
    """
    out: list[str] = []
    try:
        typed = _typed(circuit)
    except InputError as e:
        return [e.message]
    if not typed:
        return ["no devices"]
    ports = set(circuit.ports) | {n for n in circuit.nets if PORT_RE.match(n)}

    def norm(n: str) -> str:
        return "VSS" if is_ground(n) else n

    pins_on: dict[str, int] = {}
    from eda.graphs.pin_graph import DEVICE_TYPES

    for d, t in typed:
        want = len(DEVICE_TYPES[t].pins)
        if len(d.nodes) not in (want, want + 1 if t in ("NPN", "PNP") else want):
            out.append(f"device {d.name}: {len(d.nodes)} terminals, expected {want}")
            continue
        nodes = [norm(n) for n in d.nodes[:want]]
        for n in nodes:
            pins_on[n] = pins_on.get(n, 0) + 1
        if len(set(nodes)) == 1:
            out.append(f"device {d.name}: all terminals on net {nodes[0]}")
    for need in ("VDD", "VSS"):
        if need not in pins_on:
            out.append(f"{need} is not connected to any device")
    for n, k in pins_on.items():
        if n not in ports and k < 2:
            out.append(f"internal net {n} has only {k} pin (floating)")
    # DC graph: voltage loops through inductors, DC paths to driven ports
    g = nx.Graph()
    g.add_nodes_from(pins_on)
    short = nx.Graph()
    short.add_nodes_from(pins_on)
    for d, t in typed:
        nodes = [norm(n) for n in d.nodes[: len(DEVICE_TYPES[t].pins)]]
        pin_net = dict(zip(DEVICE_TYPES[t].pins, nodes, strict=True))
        dc = [pin_net[p] for p in _DC_PINS[t]]
        for a, b in zip(dc, dc[1:], strict=False):
            g.add_edge(a, b)
        if t == "L":
            short.add_edge(nodes[0], nodes[1])
    driven = [n for n in pins_on if port_class(n) in VOLTAGE_PORTS]
    for comp in nx.connected_components(short):
        vs = sorted(n for n in comp if n in driven)
        if len(vs) > 1:
            out.append(f"voltage-source loop: ports {', '.join(vs)} shorted at DC through inductors")
    reach: set[str] = set()
    for comp in nx.connected_components(g):
        if any(n in driven for n in comp):
            reach |= comp
    for n in pins_on:
        if n not in reach:
            out.append(f"net {n} has no DC path to a supply or bias source")
    return out


def _bias_polarity(circuit: Circuit, net: str) -> str:
    """``n`` when a port net drives only N-type control terminals, ``p`` for P-type, else ``m``."""
    kinds = set()
    for d, t in _typed(circuit):
        if net in d.nodes and t in ("NM", "NPN"):
            kinds.add("n")
        elif net in d.nodes and t in ("PM", "PNP"):
            kinds.add("p")
    return kinds.pop() if len(kinds) == 1 else "m"


def simulation_deck(circuit: Circuit, title: str | None = None) -> Circuit:
    """A self-contained deck of a topology: default sizing, level-1 models, ``.op``, and sources.

    ``VDD`` = 1.8 V and ``VSS`` = 0 V (a 0 V source to ground keeps the name); ``VINk``, ``VREFk``,
    ``VCMk``, ``VLOk``, ``VRFk`` at mid-supply; ``VCLKk`` high; ``VBk`` at 0.7 V above ``VSS``
    when it drives N-type devices only, 0.7 V below ``VDD`` for P-type only, mid-supply otherwise;
    ``IBk`` a 20 µA current source from ``VDD`` (N-type) or to ``VSS`` (P-type).
    """
    devices: list[Device] = []
    for d, t in _typed(circuit):
        size = SIZING.get(t, {})
        devices.append(Device(d.name, d.kind, tuple("VSS" if is_ground(n) else n for n in d.nodes),
                              model=d.model if t in ("NM", "PM", "NPN", "PNP", "D") else None,
                              value=size.get("value"), params=dict(size.get("params", {}))))
        if t in ("NM", "PM"):
            devices[-1].model = "nmos4" if t == "NM" else "pmos4"
        elif t in ("NPN", "PNP"):
            devices[-1].model = t.lower()
        elif t == "D":
            devices[-1].model = "diode"
    nets = {n for d in devices for n in d.nodes}
    sources: list[Device] = [Device("VVDD", "V", ("VDD", "0"), value=VDD),
                             Device("VVSS", "V", ("VSS", "0"), value=0.0)]
    for n in sorted(nets):
        cls = port_class(n)
        if cls in (None, "VDD", "VSS", "VOUT"):
            continue
        if cls == "IB":
            pol = _bias_polarity(circuit, n)
            # SPICE current flows n+ -> source -> n-: push into N-type diodes, pull from P-type
            nodes = (n, "VSS") if pol == "p" else ("VDD", n)
            sources.append(Device(f"I{n}", "I", nodes, value=IBIAS))
            continue
        if cls == "VB":
            pol = _bias_polarity(circuit, n)
            v = 0.7 if pol == "n" else (VDD - 0.7 if pol == "p" else VDD / 2)
        elif cls == "VCLK":
            v = VDD
        else:
            v = VDD / 2
        sources.append(Device(f"V{n}", "V", (n, "VSS"), value=v))
    return Circuit(title=title or circuit.title or "topology", devices=devices + sources,
                   ports=circuit.ports, models=list(MODELS), analyses=[Analysis("op")],
                   options={"gmin": 1e-12})


def simulate(circuit: Circuit) -> tuple[str | None, dict[str, float]]:
    """ngspice operating point of :func:`simulation_deck`; (failure reason or None, voltages)."""
    from eda.sim.ngspice import operating_point

    deck = simulation_deck(circuit)
    try:
        op = operating_point(deck)
    except EdaError as e:
        msg = str(e).strip().splitlines()
        return (msg[0] if msg else type(e).__name__), {}
    bad = [k for k, v in op.items() if not math.isfinite(v)]
    if bad:
        return f"non-finite operating point at {bad[0]}", op
    return None, op


def check_circuit(circuit: Circuit, name: str = "", run_sim: bool = True) -> CheckResult:
    """ERC then (when clean and ``run_sim``) the ngspice operating point."""
    res = CheckResult(name=name or circuit.title, n_devices=len(circuit.devices))
    res.erc = erc(circuit)
    if res.erc or not run_sim:
        return res
    res.sim, _ = simulate(circuit)
    res.simulated = True
    return res


class GraphSet:
    """A set of device-pin graphs up to labelled isomorphism (WL hash buckets + exact check)."""

    def __init__(self, graphs: list[nx.Graph] | None = None):
        self.buckets: dict[str, list[nx.Graph]] = {}
        self.n = 0
        for g in graphs or ():
            self.add(g)

    def find(self, g: nx.Graph, h: str | None = None) -> bool:
        h = h or wl_hash(g)
        return any(graphs_isomorphic(g, x) for x in self.buckets.get(h, ()))

    def add(self, g: nx.Graph) -> bool:
        """Add ``g``; False when an isomorphic graph was already there."""
        h = wl_hash(g)
        if self.find(g, h):
            return False
        self.buckets.setdefault(h, []).append(g)
        self.n += 1
        return True

    def __len__(self) -> int:
        return self.n


def novelty_uniqueness(samples: list[nx.Graph], reference: GraphSet) -> dict[str, float]:
    """Fractions of ``samples`` that are unique among themselves and novel w.r.t. ``reference``."""
    if not samples:
        return {"unique": 0.0, "novel": 0.0, "n": 0}
    seen = GraphSet()
    uniq = sum(seen.add(g) for g in samples)
    novel = sum(not reference.find(g) for g in samples)
    return {"unique": uniq / len(samples), "novel": novel / len(samples), "n": len(samples)}


def circuit_graph(circuit: Circuit) -> nx.Graph:
    return circuit_to_graph(circuit)


def wl_features(g: nx.Graph, iterations: int = 2) -> dict[str, int]:
    """Bag of Weisfeiler-Lehman subtree labels of a device-pin graph (device types, pins, port
    classes and their neighbourhoods up to ``iterations`` hops), for structural similarity."""
    from collections import Counter

    hashes = nx.weisfeiler_lehman_subgraph_hashes(g, node_attr="label", iterations=iterations, digest_size=8)
    bag = Counter(g.nodes[n]["label"] for n in g)
    for hs in hashes.values():
        bag.update(hs)
    return dict(bag)


class TypeClassifier:
    """Nearest-neighbour circuit-type classifier over :func:`wl_features` (cosine on
    idf-weighted, log-scaled counts): a circuit gets the majority type of its ``k`` most
    similar labelled circuits. Used to measure what type conditioning does to samples.

    Args:
        graphs: labelled device-pin graphs. types: their type labels. k: neighbours.
    """

    def __init__(self, graphs: list[nx.Graph], types: list[str], k: int = 5):
        import numpy as np

        if len(graphs) != len(types) or not graphs:
            raise InputError("TypeClassifier: graphs and types must be non-empty and equally long")
        self.k = k
        self.types = list(types)
        feats = [wl_features(g) for g in graphs]
        self.vocab: dict[str, int] = {}
        for f in feats:
            for key in f:
                self.vocab.setdefault(key, len(self.vocab))
        df = np.zeros(len(self.vocab))
        for f in feats:
            df[[self.vocab[key] for key in f]] += 1
        self.idf = np.log((1 + len(feats)) / (1 + df)) + 1
        self.X = np.stack([self._vec(f) for f in feats])

    def _vec(self, f: dict[str, int]):
        import numpy as np

        v = np.zeros(len(self.vocab))
        for key, c in f.items():
            j = self.vocab.get(key)
            if j is not None:
                v[j] = 1 + math.log(c)
        v *= self.idf
        return v / max(float(np.linalg.norm(v)), 1e-12)

    def predict(self, g: nx.Graph, exclude: int | None = None) -> str:
        """Majority type of the ``k`` nearest labelled circuits (``exclude``: an index to leave out)."""
        from collections import Counter

        import numpy as np

        s = self.X @ self._vec(wl_features(g))
        if exclude is not None:
            s[exclude] = -np.inf
        top = np.argsort(-s)[: self.k]
        votes = Counter(self.types[i] for i in top)
        best = max(votes.values())
        return next(self.types[i] for i in top if votes[self.types[i]] == best)  # ties: the nearest

    def leave_one_out(self, graphs: list[nx.Graph], max_n: int | None = None) -> float:
        """Accuracy on its own labelled circuits, each left out of its own neighbours."""
        idx = range(len(graphs)) if max_n is None else range(0, len(graphs), max(1, len(graphs) // max_n))
        hits = [self.predict(graphs[i], exclude=i) == self.types[i] for i in idx]
        return sum(hits) / max(len(hits), 1)
