"""Circuit ↔ device-pin graph (networkx), the representation of the topology generator.

Nodes (attribute ``kind``):

* ``device``: one per device, named by type and index (``NM1``, ``PM3``, ``NPN1``, ``R2``...);
* ``pin``: one per device terminal (``NM1_D``, ``NM1_G``, ``NM1_S``, ``NM1_B``, ``NPN1_C``,
  ``R2_P``...), joined to its device;
* ``port``: one per external net (``VDD``, ``VSS``, ``VIN1``, ``VOUT1``, ``VB1``, ``IB1``...),
  joined to every pin on that net (a star).

Internal nets are not nodes: the pins of one internal net are joined pairwise (a clique), as in
AnalogGenie; a terminal alone on an internal net (an open pin) is joined to the ``NC`` node (one
net per pin when read back). :func:`graph_to_circuit` reads nets as connected components of the pin/port
subgraph, so any connected pattern (not only a clique) means "same net".
Device types come from the model (``.model`` card type or model token), never from names.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

import networkx as nx

from eda.circuit import Circuit, Device, is_ground
from eda.errors import InputError
from eda.topology import PORT_NAME_RE, PORT_RE, is_port_name, port_sort_key

__all__ = ["DEVICE_TYPES", "DeviceType", "PORT_RE", "circuit_to_graph", "device_type", "graph_nets", "graph_to_circuit",
           "graphs_isomorphic", "is_port_name", "node_label", "parse_node", "relabel", "wl_hash"]


@dataclass(frozen=True)
class DeviceType:
    """A device type of the topology vocabulary.

    Attributes:
        token: token prefix (``NM``); device nodes are ``NM1``, ``NM2``...
        kind: SPICE element letter.
        pins: pin names in SPICE terminal order.
        model: model name written for it (generic level-1 cards in :mod:`eda.generators.topology_check`).
        symmetric: the two pins are interchangeable (R, C, L), so graph matching ignores their names.
    """

    token: str
    kind: str
    pins: tuple[str, ...]
    model: str | None
    symmetric: bool = False


DEVICE_TYPES: dict[str, DeviceType] = {
    t.token: t
    for t in (
        DeviceType("NM", "M", ("D", "G", "S", "B"), "nmos4"),
        DeviceType("PM", "M", ("D", "G", "S", "B"), "pmos4"),
        DeviceType("NPN", "Q", ("C", "B", "E"), "npn"),
        DeviceType("PNP", "Q", ("C", "B", "E"), "pnp"),
        DeviceType("R", "R", ("P", "N"), None, True),
        DeviceType("C", "C", ("P", "N"), None, True),
        DeviceType("L", "L", ("P", "N"), None, True),
        DeviceType("D", "D", ("P", "N"), "diode"),
    )
}

#: The no-connect node: every terminal alone on an internal net is joined to it.
NC = "NC"
_DEVICE_NODE = re.compile(r"^(NPN|PNP|NM|PM|R|C|L|D)(\d+)$")
_PIN_NODE = re.compile(r"^(NPN|PNP|NM|PM|R|C|L|D)(\d+)_([A-Z])$")

_MOS_N = {"nmos", "nmos4", "nfet", "nch", "n"}
_MOS_P = {"pmos", "pmos4", "pfet", "pch", "p"}


def device_type(d: Device, circuit: Circuit | None = None) -> str:
    """Token prefix of a device's type, from its kind and model (``.model`` card type first).

    Raises:
        InputError: the device kind has no place in a topology (sources, unflattened
            subcircuits) or its MOS/BJT polarity cannot be told from the model.
    """
    if d.kind in "RCL":
        return d.kind
    if d.kind == "D":
        return "D"
    if d.kind not in "MQ":
        raise InputError(f"device {d.name}: kind {d.kind!r} is not a topology device "
                         "(expected MOS, BJT, R, C, L or diode)")
    model = (d.model or "").lower()
    mtype = model
    if circuit is not None and d.model:
        for m in circuit.models:
            if m.name.lower() == model:
                mtype = m.type.lower()
                break
    if d.kind == "M":
        if mtype in _MOS_N or mtype.startswith(("nmos", "nfet", "nch")):
            return "NM"
        if mtype in _MOS_P or mtype.startswith(("pmos", "pfet", "pch")):
            return "PM"
    else:
        if mtype.startswith("npn"):
            return "NPN"
        if mtype.startswith("pnp"):
            return "PNP"
    raise InputError(f"device {d.name}: cannot tell the polarity of model {d.model!r} "
                     "(expected an nmos/pmos/npn/pnp model token or a .model card)")


# names repeat across the circuits of a set: decoding the general model's 3,212 training tours, 9.5 s -> 5.5 s here
@functools.lru_cache(maxsize=1 << 16)
def node_label(node: str) -> str:
    """Type label of a graph node, the only thing graph matching compares (``NM``, ``NM_G``,
    ``R_T`` for either pin of a symmetric device, port names as is)."""
    m = _PIN_NODE.match(node)
    if m:
        t = DEVICE_TYPES[m.group(1)]
        return f"{t.token}_T" if t.symmetric else f"{t.token}_{m.group(3)}"
    m = _DEVICE_NODE.match(node)
    if m:
        return m.group(1)
    return node


@functools.lru_cache(maxsize=1 << 16)
def parse_node(node: str) -> tuple[str, str, int | None, str | None]:
    """Split a node name into (kind, type-or-port, index, pin).

    ``NM3_G`` → ("pin", "NM", 3, "G"); ``NM3`` → ("device", "NM", 3, None); ``VIN1`` or any
    other capitalised name (``VCONT3``, ``LOGICQ2``) → ("port", name, None, None). Other names
    give ("unknown", name, None, None).
    """
    m = _PIN_NODE.match(node)
    if m and m.group(3) in DEVICE_TYPES[m.group(1)].pins:
        return "pin", m.group(1), int(m.group(2)), m.group(3)
    m = _DEVICE_NODE.match(node)
    if m:
        return "device", m.group(1), int(m.group(2)), None
    if PORT_NAME_RE.match(node):
        return "port", node, None, None
    return "unknown", node, None, None


def _check_port(p: str) -> None:
    if _DEVICE_NODE.match(p) or _PIN_NODE.match(p) or not PORT_NAME_RE.match(p):
        raise InputError(f"port {p!r} cannot be a port name of a device-pin graph (expected capitals, digits "
                         "and _, not a device or pin name such as R1 or NM1_G)")


def circuit_to_graph(circuit: Circuit, ports: tuple[str, ...] | None = None) -> nx.Graph:
    """Device-pin graph of a flat circuit.

    Args:
        circuit: devices of kinds M, Q, R, C, L, D (3-terminal BJTs; a 4th substrate pin is dropped).
        ports: external nets; default ``circuit.ports``, else the nets whose names look like
            ports (``VDD``, ``VSS``, ``VIN1``...). A ground net (``0``, ``gnd``) is ``VSS``. Any
            capitalised name is a port (classes unknown to :mod:`eda.topology` are kept by name).

    Raises:
        InputError: a device has no topology type, a port name looks like a device or pin node,
            or the circuit has no devices.
    """
    if not circuit.devices:
        raise InputError(f"circuit {circuit.title!r} has no devices")
    port_set = set(ports if ports is not None else circuit.ports)
    if not port_set:
        port_set = {n for n in circuit.nets if is_port_name(n)}
    for p in port_set:
        if not is_ground(p):
            _check_port(p)
    g = nx.Graph()
    counts: dict[str, int] = {}
    net_pins: dict[str, list[str]] = {}
    for d in circuit.devices:
        t = DEVICE_TYPES[device_type(d, circuit)]
        counts[t.token] = counts.get(t.token, 0) + 1
        dev = f"{t.token}{counts[t.token]}"
        g.add_node(dev, kind="device", label=t.token)
        nodes = d.nodes[: len(t.pins)]
        if len(nodes) != len(t.pins):
            raise InputError(f"device {d.name}: {len(d.nodes)} terminals, a {t.token} needs {len(t.pins)}")
        for pin, net in zip(t.pins, nodes, strict=True):
            pn = f"{dev}_{pin}"
            g.add_node(pn, kind="pin", label=node_label(pn))
            g.add_edge(dev, pn)
            net = "VSS" if is_ground(net) else net
            net_pins.setdefault(net, []).append(pn)
    for net, pins in net_pins.items():
        if net in port_set or (net == "VSS"):
            if net == NC:
                raise InputError(f"port name {NC!r} is reserved for unconnected terminals")
            g.add_node(net, kind="port", label=net)
            g.add_edges_from((net, p) for p in pins)
        elif len(pins) == 1:
            # a terminal alone on an internal net (an open pin, as real schematics have): joined to
            # the no-connect node, which the reverse mapping splits back into one net per pin
            g.add_node(NC, kind="port", label=NC)
            g.add_edge(NC, pins[0])
        else:
            g.add_edges_from(itertools.combinations(pins, 2))
    return g


def graph_nets(g: nx.Graph) -> list[tuple[str | None, list[str]]]:
    """Nets of a device-pin graph: (port name or None, pins), one per connected component of
    the pin/port subgraph. A component with two ports is returned once per port set member
    joined (the caller's ERC reports it as a short)."""
    sub = g.subgraph(n for n, k in g.nodes(data="kind") if k in ("pin", "port"))
    out = []
    for comp in nx.connected_components(sub):
        ports = sorted(n for n in comp if g.nodes[n]["kind"] == "port")
        pins = sorted(n for n in comp if g.nodes[n]["kind"] == "pin")
        out.append(("=".join(ports) if ports else None, pins))
    return out


def graph_to_circuit(g: nx.Graph, title: str = "") -> Circuit:
    """Circuit of a device-pin graph (the inverse of :func:`circuit_to_graph` up to renaming).

    Devices are written in type order with names ``MN1``, ``MP1``, ``QN1``, ``QP1``, ``R1``,
    ``C1``, ``L1``, ``D1``; internal nets are ``net1``, ``net2``... Two ports on one net become one
    net named ``PORTA=PORTB`` (the ERC reports such shorts).

    Raises:
        InputError: a node name is unknown, a pin lacks its device or a device lacks a pin.
    """
    pin_net: dict[str, str] = {}
    k = 0
    ports: list[str] = []
    n_open = 0
    for port, pins in sorted(graph_nets(g), key=lambda x: (x[0] is None, x[0] or "", x[1])):
        if port == NC:
            for p in pins:
                n_open += 1
                pin_net[p] = f"nc{n_open}"
            continue
        if port is None:
            k += 1
            name = f"net{k}"
        else:
            name = port
            ports.append(port)
        for p in pins:
            pin_net[p] = name
    devices: list[tuple[str, int, Device]] = []
    names = {"NM": "MN", "PM": "MP", "NPN": "QN", "PNP": "QP"}
    for n, kind in g.nodes(data="kind"):
        if kind != "device":
            continue
        _, tok, idx, _ = parse_node(n)
        t = DEVICE_TYPES[tok]
        nodes = []
        for pin in t.pins:
            pn = f"{n}_{pin}"
            if pn not in g or not g.has_edge(n, pn):
                raise InputError(f"device {n} has no pin {pn}")
            if pn not in pin_net:
                raise InputError(f"pin {pn} is on no net")
            nodes.append(pin_net[pn])
        devices.append((tok, idx, Device(f"{names.get(tok, tok)}{idx}", t.kind, tuple(nodes),
                                         model=t.model)))
    for n, kind in g.nodes(data="kind"):
        if kind == "pin":
            _, tok, idx, _ = parse_node(n)
            if f"{tok}{idx}" not in g:
                raise InputError(f"pin {n} has no device {tok}{idx}")
    type_order = {t: i for i, t in enumerate(DEVICE_TYPES)}
    devices.sort(key=lambda x: (type_order[x[0]], x[1]))
    port_order = sorted(set(ports), key=port_sort_key)
    return Circuit(title=title, devices=[d for _, _, d in devices], ports=tuple(port_order))


def graphs_isomorphic(a: nx.Graph, b: nx.Graph) -> bool:
    """Exact isomorphism of two device-pin graphs, matching node labels (canonical labelling)."""
    from eda.graphs.canon import canonical_form

    return canonical_form(a) == canonical_form(b)


def wl_hash(g: nx.Graph, iterations: int = 3) -> str:
    """Weisfeiler-Lehman hash of a device-pin graph on node labels (isomorphic ⇒ equal)."""
    return nx.weisfeiler_lehman_graph_hash(g, node_attr="label", iterations=iterations)


def relabel(g: nx.Graph) -> nx.Graph:
    """Copy of ``g`` with ``label`` and ``kind`` attributes set from node names (for graphs
    built by hand or decoded from tokens)."""
    h = nx.Graph()
    for n in g.nodes:
        kind, _, _, _ = parse_node(n)
        h.add_node(n, kind=kind, label=node_label(n))
    h.add_edges_from(g.edges)
    return h
