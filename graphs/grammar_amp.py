"""Op-amp skeleton rules on a device-pin graph: what an amplifier's inputs and output must be.

These are the structural conditions a circuit needs before any sizing can make it an op-amp
(issue #17's failures of sampled op-amps, each checked against the real ones):

* ``ports``: two inputs (``VINk``) and an output (``VOUTk``), and no port class outside
  :data:`AMP_PORTS` (``foreign_ports``);
* ``shorted``: no transistor has its drain and source (collector and emitter) on one net;
* ``input_off_gate``: an input port's net holds only gates/bases (and capacitor plates): never a
  channel (MOS drain/source/body, BJT collector/emitter), a resistor, an inductor or a diode;
* ``follower``: no transistor gated by an input has its source/emitter on an output (a follower
  of the input: gain <= 1);
* ``dead_input``: no transistor gated by an input has its drain and source on one net (a MOS
  capacitor: no transconductance), its drain on a voltage-driven port (a rail, a bias: no signal
  leaves it), its source on one (no tail node, so no differential pair: real op-amps have none of
  their 1,004 input-gated sources there), or its source on an output (a follower, below);
* ``no_pair``: the two inputs gate two transistors of one polarity whose sources/emitters share a
  net that no voltage source drives (a differential pair's tail node, or a current-bias port);
* ``no_path``: from every input-gated transistor's drain/collector an output is reached along
  the signal flow (a gate/base drives its drain and source, a source its drain, passives both
  ways), not crossing a supply rail or an input;
* ``crowded``: no internal net touches more than :data:`CROWD_SHARE` of the devices (counted only
  from :data:`CROWD_MIN` devices on).

:func:`amp_facts` measures them on any pin graph (real or sampled); :func:`amp_violations` lists the
ones a graph breaks. The grammar (:class:`~eda.graphs.grammar.TourGrammar` with an op-amp
``ctype``) enforces them while sampling.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from eda.graphs.grammar_tables import _K_PIN, _K_PORT, AMP_PORTS
from eda.graphs.pin_graph import graph_nets, parse_node
from eda.topology import class_of, is_driven, port_prefix

#: largest share of the devices one internal net may touch (real op-amps: see README #16)
CROWD_SHARE = 0.67
#: below this many devices the share is not judged (a 5-transistor OTA's tail node touches 3 of 5)
CROWD_MIN = 8

#: most pins an internal net of a sampled op-amp may gather (real op-amps: 9 at most, 8 in 99.8 %)
AMP_NET_PINS = 9

_IN_PIN = {("NM", "G"), ("PM", "G"), ("NPN", "B"), ("PNP", "B")}
_SRC_PIN = {("NM", "S"), ("PM", "S"), ("NPN", "E"), ("PNP", "E")}
_DRN_PIN = {("NM", "D"), ("PM", "D"), ("NPN", "C"), ("PNP", "C")}


def _pin(node: str) -> tuple[str, str, str]:
    """(device node, device type, pin name) of a pin node ``NM1_G``."""
    dev, pin = node.rsplit("_", 1)
    return dev, parse_node(dev)[1], pin


def _net_of(g: nx.Graph) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Net name of every pin (a port net by its ports, an internal one ``#k``) and each net's ports."""
    net_of: dict[str, str] = {}
    ports_of: dict[str, set[str]] = {}
    for k, (port, pins) in enumerate(graph_nets(g)):
        name = port or f"#{k}"
        ports_of[name] = set(port.split("=")) if port else set()
        for p in pins:
            net_of[p] = name
    return net_of, ports_of


def _devices(net_of: dict[str, str]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Per device its pins' nets, and its type."""
    devs: dict[str, dict[str, str]] = {}
    for p, n in net_of.items():
        d, _, pin = _pin(p)
        devs.setdefault(d, {})[pin] = n
    return devs, {d: parse_node(d)[1] for d in devs}


def device_nets(g: nx.Graph) -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, set[str]]]:
    """Per device its pins' nets and its type, and per net its ports (see :func:`amp_facts`)."""
    net_of, ports_of = _net_of(g)
    return (*_devices(net_of), ports_of)


def amp_facts(g: nx.Graph) -> dict:
    """The op-amp skeleton facts of a pin graph (see the module docstring): per rule a count or flag,
    and the share of devices the busiest internal net touches (``crowd``)."""
    net_of, ports_of = _net_of(g)
    inner = [n for n, ps in ports_of.items() if not ps]
    vin = {n for n, ps in ports_of.items() if any(port_prefix(p) == "VIN" and p != "VIN" for p in ps)}
    vout = {n for n, ps in ports_of.items() if any(port_prefix(p) == "VOUT" and p != "VOUT" for p in ps)}
    rail = {n for n, ps in ports_of.items() if any(class_of(p).role == "supply" for p in ps)}
    driven = {n for n, ps in ports_of.items() if any(is_driven(p) for p in ps)}
    devs, kind = _devices(net_of)
    off_gate = sorted({_pin(p)[1] + "_" + _pin(p)[2] for p, n in net_of.items()
                       if n in vin and (_pin(p)[1], _pin(p)[2]) not in _IN_PIN and _pin(p)[1] != "C"})
    gated = []  # (device, input net, drain net, source net)
    shorted = []
    for d, pins in devs.items():
        ty = kind[d]
        ends = [pins.get(x) for x in (("D", "S") if ty in ("NM", "PM") else ("C", "E"))]
        if ty in ("NM", "PM", "NPN", "PNP") and ends[0] == ends[1]:
            shorted.append(d)
        gi = pins.get("G" if ty in ("NM", "PM") else "B")
        if ty in ("NM", "PM", "NPN", "PNP") and gi in vin:
            dn, sn = (pins.get("D"), pins.get("S")) if ty in ("NM", "PM") else (pins.get("C"), pins.get("E"))
            gated.append((d, gi, dn, sn))
    follower = [d for d, _, _, s in gated if s in vout]
    dead = [d for d, _, dn, sn in gated if dn == sn or dn in driven or sn in driven or sn in vout]
    live_in = {gi for d, gi, _, _ in gated if d not in dead}
    pair = any(kind[a] == kind[b] and ga != gb and sa == sb and sa not in driven and a not in dead and b not in dead
               for i, (a, ga, _, sa) in enumerate(gated) for b, gb, _, sb in gated[i + 1:])
    # signal flow between nets, not crossing a rail or an input: a transistor's gate/base drives its
    # drain and source, its source drives its drain (a cascode); passives and diodes both ways
    h = nx.DiGraph()
    for d, pins in devs.items():
        ty = kind[d]
        if ty in ("NM", "PM", "NPN", "PNP"):
            gn, dn, sn = (pins.get(x) for x in (("G", "D", "S") if ty in ("NM", "PM") else ("B", "C", "E")))
            h.add_edges_from(e for e in [(gn, dn), (gn, sn), (sn, dn)] if None not in e)
        else:
            ns = list(pins.values())
            h.add_edges_from((a, b) for a in ns for b in ns if a != b)
    h.remove_nodes_from([n for n in h if n in rail or n in vin])
    no_path = [d for d, _, dn, _ in gated if d not in dead
               and not (dn in h and any(o in h and nx.has_path(h, dn, o) for o in vout))]
    share = 0.0
    for n in inner:
        touch = {_pin(p)[0] for p, m in net_of.items() if m == n}
        share = max(share, len(touch) / max(1, len(devs)))
    foreign = sorted({p for ps in ports_of.values() for p in ps if port_prefix(p) not in AMP_PORTS})
    return {"inputs": len(vin), "outputs": len(vout), "devices": len(devs), "input_off_gate": off_gate,
            "shorted": shorted, "foreign_ports": foreign,
            "follower": follower, "dead_input": dead, "inputs_live": len(live_in), "pair": pair,
            "no_path": no_path, "crowd": share}


def amp_violations(g: nx.Graph, facts: dict | None = None, skeleton: bool = True) -> list[str]:
    """Names of the op-amp skeleton rules a pin graph breaks (empty: an op-amp skeleton). ``skeleton``
    off: only the port rules (ports, inputs on gates, no shorted channel, no follower, no dead input,
    no crowding), not the differential pair and the signal paths."""
    f = facts or amp_facts(g)
    out = []
    if f["inputs"] < 2 or f["outputs"] < 1:
        out.append("ports")
    if f["foreign_ports"]:
        out.append("foreign_ports")
    if f["shorted"]:
        out.append("shorted")
    if f["input_off_gate"]:
        out.append("input_off_gate")
    if f["follower"]:
        out.append("follower")
    if f["dead_input"]:
        out.append("dead_input")
    if skeleton and f["inputs"] >= 2 and not f["pair"]:
        out.append("no_pair")
    if skeleton and f["no_path"]:
        out.append("no_path")
    if f["devices"] >= CROWD_MIN and f["crowd"] > CROWD_SHARE:
        out.append("crowded")
    return out


class AmpRules:
    """Incremental op-amp skeleton rules of :class:`~eda.graphs.grammar.TourGrammar` (a mixin over its
    net state; on while sampling an op-amp type). Every move that puts a netless pin on a net is
    checked where it happens (a port net is a star on its port, so a pin joins an input or output
    only by a move between the two; internal nets merge only by pin-to-pin moves):

    * an input port takes only gates/bases and capacitor plates;
    * no transistor's channel ends (drain/source, collector/emitter) share a net;
    * a transistor gated by an input: its source/emitter never on an output, neither channel end on
      a voltage-driven port (a rail, a bias; and a gate joins an input only where its device obeys these);
    * only the port classes of :data:`AMP_PORTS`; internal nets of at most :data:`AMP_NET_PINS` pins;
    * the complete circuit is judged before ``<eos>`` by :func:`amp_violations` with
      ``skeleton=False`` (two inputs and an output, crowding, and the above); a sample that cannot
      meet them by the end of its budget fails. The differential pair and the signal paths are
      measured (:func:`amp_facts`) but not required: the shipped model almost never draws a pair
      with a tail node, so requiring one left no samples (see README #16).
    """

    def _netkey(self, x: int) -> int:
        """Identity of a netted node's net: its port token, or its internal root (-1: netless)."""
        if self.netless[x] or not self.exists[x]:
            return -1
        r = self._find(x)
        cp = int(self.comp_port[r])
        return cp if cp != -1 else r

    def _gated(self, x: int) -> bool:
        """Whether the transistor of pin ``x`` has its gate/base on an input port."""
        g = int(self.t.in_of[x])
        return g >= 0 and self._netkey(g) >= 0 and bool(self.t.is_vin[self._netkey(g)])

    def _join_bad(self, q: int, key: int) -> bool:
        """Whether joining the netless pin ``q`` to the net ``key`` (a port token, an internal
        root, or a pin without a net forming a new net with it) breaks an incremental skeleton rule."""
        t = self.t
        port = key >= 0 and bool(t.is_port[key])
        if port and t.is_vin[key]:
            if t.in_pin[q]:
                return self._gate_dead(q)
            return not t.is_cap_pin[q]
        o = int(t.chan_other[q])
        if o < 0:
            return False
        ko = self._netkey(o)
        if key == o or (ko >= 0 and ko == key):
            return True  # (drain on source: a MOS capacitor)
        if not self._gated(q):
            return False
        if port and t.driven[key]:
            # (an input-gated drain on a driven port, a rail or a bias: no path to the output; its source
            # there: no tail node, so no pair; real op-amps: 0 of 1,004 input-gated sources)
            return True
        return bool(port and t.is_vout[key] and t.is_chan_src[q])  # (a follower of the input)

    def _live_in_pins(self) -> np.ndarray:
        """Gates/bases (netless) whose transistor may still be gated by an input (:meth:`_gate_dead`)."""
        t = self.t
        live = np.zeros(len(t.in_pin), bool)
        for q in self.netless_set:
            if t.in_pin[q] and not self._gate_dead(q):
                live[q] = True
        return live

    def _free_in(self) -> int:
        """Netless gates/bases that may still open a missing input (with the op-amp rules: those whose
        transistor may be gated by an input, :meth:`_gate_dead`)."""
        if not self.skeleton:
            return self.n_free_in
        t = self.t
        return sum(1 for q in self.netless_set if t.in_pin[q] and not self._gate_dead(q))

    def _gate_dead(self, g: int) -> bool:
        """Whether gate/base ``g``'s transistor may not be gated by an input: its source on an
        output, a channel end on a voltage-driven port, or its channel ends on one net."""
        t = self.t
        d = int(t.dev[g])
        if d not in t.chan_ends:
            return False
        ends = t.chan_ends[d]
        keys = [self._netkey(p) for p in ends]
        if keys[1] >= 0 and t.is_port[keys[1]] and t.is_vout[keys[1]]:
            return True
        if any(k >= 0 and t.is_port[k] and t.driven[k] for k in keys):
            return True
        return min(keys) >= 0 and keys[0] == keys[1]

    def _amp_moves(self, a: int, m: np.ndarray, cand: np.ndarray) -> None:
        """Restrict the moves from ``a`` by the incremental skeleton rules."""
        t = self.t
        ka = t.kind[a]
        if ka == _K_PORT:
            if t.is_vin[a]:
                cand &= t.in_pin | t.is_cap_pin
            for q in self.netless_set:
                if cand[q] and self._join_bad(q, a):
                    cand[q] = False
            return
        if ka != _K_PIN:
            return
        if self.netless[a]:
            m &= t.amp_port_ok
            if not (t.in_pin[a] or t.is_cap_pin[a]) or (t.in_pin[a] and self._gate_dead(a)):
                m &= ~t.is_vin
            o = int(t.chan_other[a])
            if o < 0:
                return
            if self._gated(a):
                for q in np.flatnonzero(cand | (m & t.is_port)).tolist():
                    own = t.is_port[q] or self.netless[q] or not self.exists[q]  # (its own key: a port, a new net)
                    if self._join_bad(a, q if own else self._netkey(q)):
                        cand[q] = m[q] = False
                return
            if self.exists[o]:
                cand[o] = False
                ko = self._netkey(o)
                if ko >= 0 and t.is_port[ko]:
                    m[ko] = False
                elif ko >= 0:
                    cand[self.members[ko]] = False
            return
        if self.comp_port[a] != -1:
            return
        r = self._find(a)
        for q in self.netless_set:
            if cand[q] and self._join_bad(q, r):
                cand[q] = False
        # merges of two internal nets that would put a transistor's channel ends on one net
        for d in self.devices:
            ends = t.chan_ends.get(d)
            if ends is None or self.netless[ends[0]] or self.netless[ends[1]]:
                continue
            k0, k1 = self._netkey(ends[0]), self._netkey(ends[1])
            if k0 == r and not t.is_port[k1]:
                cand[self.members[k1]] = False
            elif k1 == r and not t.is_port[k0]:
                cand[self.members[k0]] = False

    def _core_owed(self, a: int) -> bool:
        """Whether node ``a`` may not be left yet for the amplifier core (:mod:`eda.graphs.grammar_core`):
        a channel end of an input-gated transistor on an internal net (a pair's tail node, a pair
        drain), or an output port, whose net holds no load pin (channel end, R, L, diode) of a device
        that no input gates; the walk stays there until the model puts one on it (a tail source, a
        load). A node with no move left is left anyway (:meth:`mask`), and ``<eos>`` judges the core."""
        t = self.t
        if t.kind[a] == _K_PORT:
            if not t.is_vout[a]:
                return False
        elif t.chan_other[a] < 0 or self.comp_port[a] != -1 or not self._gated(a):
            return False
        return not any(t.load_pin[q] and not (t.chan_other[q] >= 0 and self._gated(q))
                       for q in self.members[self._find(a)] if q != a)

    #: amplifier-core facts required at ``<eos>`` (:mod:`eda.graphs.grammar_core`; empty: measured only)
    CORE_REQUIRED: tuple[str, ...] = ("no_core", "output_undriven", "bias_unused")

    def _amp_judge(self) -> bool:
        """The complete circuit's skeleton rules (:func:`amp_violations`), judged before ``<eos>``."""
        return not self._amp_broken()

    def _amp_broken(self) -> list[str]:
        """The skeleton rules the circuit breaks (at ``<eos>``: those an exhausted budget left): the
        port rules of :func:`amp_violations`, then the amplifier core's (:attr:`CORE_REQUIRED`)."""
        from eda.graphs.grammar_core import core_violations

        g = self.graph()
        bad = amp_violations(g, skeleton=False)
        if not bad and self.CORE_REQUIRED:
            bad = [v for v in core_violations(g) if v in self.CORE_REQUIRED]
        return bad


__all__ = ["AMP_NET_PINS", "AMP_PORTS", "AmpRules", "CROWD_MIN", "CROWD_SHARE", "amp_facts", "amp_violations",
           "device_nets"]
