"""Designer's features of a device-pin graph for the circuit-type classifier
(:mod:`eda.generators.topology_classify`): device counts, which device pins sit on which port
class, and counts of the motifs a designer looks for — differential pairs, current mirrors,
cascodes, cross-coupled pairs, inverters and transmission gates, diode-connected and
MOS-capacitor transistors, clocked switches, LC and RC tanks, Miller capacitors — plus a
Weisfeiler-Lehman subtree bag (:func:`wl_bag`) of the pin graph."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import networkx as nx

_RAILS = ("VDD", "VSS")
_CLOCKS = ("VCLK", "LOGIC", "VTRACK", "VLATCH", "VHOLD")


def _nets(g: nx.Graph) -> tuple[dict[str, tuple[str, dict[str, int]]], dict[int, str]]:
    """Devices (node → (type token, pin → net id)) and the role of each net: its port class
    (``VIN``, ``VDD``, ``PORT`` for an unknown class, ``NC``) or ``int`` for an internal net."""
    from eda.graphs.pin_graph import graph_nets, parse_node
    from eda.topology import class_of

    pin_net: dict[str, int] = {}
    role: dict[int, str] = {}
    for i, (port, pins) in enumerate(graph_nets(g)):
        first = port.split("=")[0] if port else None
        role[i] = "int" if first is None else ("NC" if first == "NC" else class_of(first).name)
        for p in pins:
            pin_net[p] = i
    devs: dict[str, tuple[str, dict[str, int]]] = {}
    for n, kind in g.nodes(data="kind"):
        if kind == "device":
            pins = {parse_node(nb)[3]: pin_net.get(nb, -1) for nb in g[n]}
            devs[n] = (parse_node(n)[1], pins)
    return devs, role


def motif_features(g: nx.Graph) -> dict[str, float]:
    """Counts a designer reads a circuit by (keys are stable names; absent keys are zero)."""
    devs, role = _nets(g)
    f: Counter = Counter()
    fan: Counter = Counter()
    for tok, pins in devs.values():
        f["dev_" + tok] += 1
        for pin, net in pins.items():
            fan[net] += 1
            if role.get(net, "int") != "int":
                f[f"pin_{tok}_{pin}_{role[net]}"] += 1
    f["n_dev"], f["n_net"] = len(devs), len(role)
    f["n_int_net"] = sum(r == "int" for r in role.values())
    f.update("port_" + r for r in role.values() if r != "int")
    f["fan_max"] = max(fan.values(), default=0)
    f["fan_mean"] = sum(fan.values()) / max(len(fan), 1)
    mos = [(t, p) for t, p in devs.values() if t in ("NM", "PM")]
    _mos_motifs(mos, role, f)
    _bjt_motifs([(t, p) for t, p in devs.values() if t in ("NPN", "PNP")], role, f)
    _passive_motifs([(t, p) for t, p in devs.values() if t in ("R", "C", "L", "D")], mos, role, f)
    return dict(f)


def _mos_motifs(mos: list, role: dict[int, str], f: Counter) -> None:
    def rail(net):
        return role.get(net) in _RAILS

    for t, p in mos:
        d, gt, s, b = p["D"], p["G"], p["S"], p["B"]
        f[f"{t}_diode"] += d == gt
        f[f"{t}_cap"] += d == s
        f[f"{t}_clkgate"] += role.get(gt) in _CLOCKS
        f[f"{t}_body_other"] += not rail(b) and b != s
        f[f"{t}_body_src"] += b == s and not rail(s)
        f[f"{t}_floating_sd"] += not rail(s) and not rail(d) and d != gt
        f[f"{t}_gate_in"] += role.get(gt) == "VIN"
    for (ta, a), (tb, b) in itertools.combinations(mos, 2):
        if ta == tb:
            if a["S"] == b["S"] and a["G"] != b["G"] and a["D"] != b["D"] and not rail(a["S"]):
                f[f"{ta}_diffpair"] += 1
                f["diffpair_in"] += role.get(a["G"]) == "VIN" and role.get(b["G"]) == "VIN"
            f[f"{ta}_mirror"] += (a["G"] == b["G"] and a["S"] == b["S"] and a["D"] != b["D"]
                                  and (a["D"] == a["G"] or b["D"] == b["G"]))
            f[f"{ta}_crosscoupled"] += a["G"] == b["D"] and b["G"] == a["D"] and a["D"] != b["D"]
            f[f"{ta}_cascode"] += (a["S"] == b["D"] or b["S"] == a["D"]) and a["G"] != b["G"]
            f[f"{ta}_sharedgate"] += a["G"] == b["G"] and a["S"] != b["S"]
        else:
            f["inverter"] += a["G"] == b["G"] and a["D"] == b["D"]
            f["tgate"] += {a["D"], a["S"]} == {b["D"], b["S"]}
            f["cmos_cross"] += a["G"] == b["D"] and b["G"] == a["D"]
    drains = {p["D"] for _, p in mos}
    f["gate_from_drain"] = sum(p["G"] in drains and p["G"] != p["D"] for _, p in mos)


def _bjt_motifs(bjt: list, role: dict[int, str], f: Counter) -> None:
    for t, p in bjt:
        f[f"{t}_diode"] += p["C"] == p["B"]
    for (ta, a), (tb, b) in itertools.combinations(bjt, 2):
        if ta != tb:
            continue
        f[f"{ta}_sharedbase"] += a["B"] == b["B"]
        f[f"{ta}_diffpair"] += a["E"] == b["E"] and a["B"] != b["B"] and role.get(a["E"]) not in _RAILS
        f[f"{ta}_crosscoupled"] += a["B"] == b["C"] and b["B"] == a["C"]


def _passive_motifs(two: list, mos: list, role: dict[int, str], f: Counter) -> None:
    by_nets: dict[frozenset, set[str]] = defaultdict(set)
    gates, drains = {p["G"] for _, p in mos}, {p["D"] for _, p in mos}
    for t, p in two:
        nets = frozenset(p.values())
        by_nets[nets].add(t)
        roles = [role.get(x) for x in nets]
        f[f"{t}_shorted"] += len(nets) == 1
        f[f"{t}_rails{sum(r in _RAILS for r in roles)}"] += 1
        f[f"{t}_out"] += "VOUT" in roles
        f[f"{t}_in"] += "VIN" in roles
        if len(nets) == 2 and not any(r in _RAILS for r in roles):
            x, y = tuple(nets)
            f["C_miller"] += t == "C" and ((x in gates and y in drains) or (y in gates and x in drains))
        f["L_rail"] += t == "L" and any(r in _RAILS for r in roles)
    for ts in by_nets.values():
        f["LC_parallel"] += "L" in ts and "C" in ts
        f["RC_parallel"] += "R" in ts and "C" in ts


#: Motifs whose per-type means the benchmark compares, generated vs training.
KEY_MOTIFS = ("dev_NM", "dev_PM", "dev_NPN", "dev_PNP", "dev_R", "dev_C", "dev_L", "NM_diode", "PM_diode",
              "NM_mirror", "PM_mirror", "NM_diffpair", "PM_diffpair", "NM_body_other", "PM_body_other",
              "NM_clkgate", "LC_parallel", "port_VCLK", "port_VREF", "port_VLO", "port_VRF", "port_IB")


def motif_means(graphs: list[nx.Graph], keys: tuple[str, ...] = KEY_MOTIFS) -> dict[str, float]:
    """Mean of each motif count over ``graphs`` (0 for none)."""
    feats = [motif_features(g) for g in graphs]
    return {k: round(sum(f.get(k, 0) for f in feats) / max(len(feats), 1), 3) for k in keys}


class MotifScale:
    """z-scored log motif counts over reference circuits (e.g. all labelled training circuits), to
    measure how far a set of circuits is from another in what a designer counts: :meth:`gap` is the
    RMS over motifs of the difference of the two sets' mean z-scores (0: the same means; 1: one
    reference standard deviation on every motif)."""

    def __init__(self, graphs: list[nx.Graph]):
        feats = [motif_features(g) for g in graphs]
        self.keys = sorted({k for f in feats for k in f})
        x = self._log(feats)
        self.mu, self.sd = x.mean(0), x.std(0) + 1e-6

    def _log(self, feats: list[dict]):
        import numpy as np

        return np.log1p(np.array([[f.get(k, 0.0) for k in self.keys] for f in feats], float))

    def mean_z(self, graphs: list[nx.Graph]):
        """Mean z-score of each motif over ``graphs``."""
        return ((self._log([motif_features(g) for g in graphs]) - self.mu) / self.sd).mean(0)

    def gap(self, graphs: list[nx.Graph], reference: list[nx.Graph]) -> float:
        """RMS difference of the mean z-scores of ``graphs`` and ``reference``."""
        import numpy as np

        return float(np.sqrt(np.mean((self.mean_z(graphs) - self.mean_z(reference)) ** 2)))


def wl_bag(g: nx.Graph, iterations: int = 3) -> dict[str, int]:
    """Weisfeiler-Lehman subtree labels of a device-pin graph up to ``iterations`` hops (keys
    ``depth:hash``), with the node labels themselves (port indices dropped: ``VIN1`` → ``VIN``)."""
    hashes = nx.weisfeiler_lehman_subgraph_hashes(g, node_attr="label", iterations=iterations, digest_size=8)
    bag = Counter(str(g.nodes[n]["label"]).rstrip("0123456789") for n in g)
    for hs in hashes.values():
        bag.update(f"{i}:{h}" for i, h in enumerate(hs))
    return dict(bag)


__all__ = ["KEY_MOTIFS", "MotifScale", "motif_features", "motif_means", "wl_bag"]
