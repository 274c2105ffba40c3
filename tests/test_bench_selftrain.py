"""``benchmarks/train_opamp_self.copies``: how many copies of each own sample that met join the op-amp family in a
self-training round; with ``hold_mix`` every op-amp type keeps its share of the family (issue #17's bench draws the
types in the checkpoint's training proportions, so a shifted mix would move the met rate by itself)."""

from __future__ import annotations

import re
from collections import Counter

from conftest import bench_module


def _module():
    return bench_module("train_opamp_self")


def _copies():
    return _module().copies


def test_the_type_is_read_from_drawn_and_completed_sample_names():
    sample_type = _module().sample_type
    assert sample_type("gen012_opamp2") == "opamp2"
    assert sample_type("gen073_folded_cascode") == "folded_cascode"
    # a completion of training circuit 267 (bench_opamp_prompted.py): the source index is not part of the type
    assert sample_type("cmp037_folded_cascode_src267") == "folded_cascode"
    assert sample_type("cmp000_telescopic_src5") == "telescopic"


FAMILY = Counter(opamp1=120, opamp2=90, folded_cascode=45, telescopic=45)
MET = [("a", "opamp1"), ("b", "telescopic"), ("c", "telescopic"), ("d", "telescopic"), ("e", "opamp2")]


def test_repeat_without_hold_mix_copies_each_the_same():
    assert _copies()(MET, FAMILY, 20, False) == dict.fromkeys("abcde", 20)


def test_hold_mix_keeps_each_types_share_of_the_family():
    n = _copies()(MET, FAMILY, 20, True)
    added = Counter()
    for name, t in MET:
        added[t] += n[name]
    # the 100 copies go 120 : 90 : 45 to the three types that met (47.1, 35.3, 17.6), split evenly within a type
    assert added == Counter(opamp1=47, opamp2=35, telescopic=18)
    after = {t: FAMILY[t] + added[t] for t in added}
    for t in added:  # each type's share among the types that met is unchanged
        assert abs(after[t] / sum(after.values()) - FAMILY[t] / sum(FAMILY[u] for u in added)) < 0.01
    assert n["b"] == n["c"] == n["d"] == 6


def test_hold_mix_gives_every_circuit_at_least_one_copy():
    many = [(f"t{k}", "telescopic") for k in range(50)] + [("o", "opamp1")]
    n = _copies()(many, FAMILY, 1, True)
    assert min(n.values()) >= 1


def _sample():
    from eda.circuit import Circuit, Device

    devs = [Device("MN1", "M", ("VOUT1", "IB2", "VSS", "VSS"), model="nmos4"),
            Device("MN2", "M", ("IB2", "VB1", "VSS", "VSS"), model="nmos4"),
            Device("MP1", "M", ("VOUT1", "VIN1", "IB1", "VDD"), model="pmos4"),
            Device("MP2", "M", ("net1", "VIN2", "IB1", "VDD"), model="pmos4"),
            Device("R1", "R", ("net1", "VOUT1")), Device("C1", "C", ("VOUT1", "VSS"))]
    return Circuit(title="generated opamp1 0", devices=devs,
                   ports=("VDD", "VSS", "VIN1", "VIN2", "VOUT1", "VB1", "IB1", "IB2"))


def test_a_positive_recorded_as_library_text_reads_back_as_the_same_circuit():
    """A screening row that met keeps its sample as library text (generated R and C carry no values, which a SPICE
    reader refuses); self-training reads it back: same ports, type and graph (canonical form); a rewired copy
    differs."""
    from eda.generators.topology_compose import topology_text
    from eda.graphs.canon import canonical_form
    from eda.graphs.pin_graph import circuit_to_graph
    from eda.read.topology_dataset import parse_topology
    from eda.topology import Topology

    c = _sample()
    back = parse_topology(topology_text(Topology(name="gen000_opamp1", circuit=c, ctype="opamp1")), "x")
    assert back.ctype == "opamp1" and back.circuit.ports == c.ports
    assert canonical_form(circuit_to_graph(back.circuit)) == canonical_form(circuit_to_graph(c))
    rewired = _sample()
    rewired.devices[4].nodes = ("net1", "VSS")
    assert canonical_form(circuit_to_graph(rewired)) != canonical_form(circuit_to_graph(c))


OTA = """MN1 (X VIN1 T VSS) nmos4
MN2 (VOUT1 VIN2 T VSS) nmos4
MP3 (X X VDD VDD) pmos4
MP4 (VOUT1 X VDD VDD) pmos4
MN5 (T VBIAS VSS VSS) nmos4
"""


def test_positives_that_repeat_another_circuit_are_left_out():
    from eda.read.topology_dataset import parse_topology

    # the internal nets and the instances renamed, the lines in another order: the same circuit
    renamed = re.sub(r"\bX\b", "m", re.sub(r"\bT\b", "tail", OTA)).replace("MN1", "MA")
    renamed = "\n".join(reversed(renamed.splitlines()))
    other = OTA.replace("MN5 (T VBIAS VSS VSS) nmos4", "MN5 (T VBIAS VSS VSS) nmos4\nR1 (VOUT1 VSS) resistor")
    texts = {"a": OTA, "b": renamed, "c": other}
    circuits = {n: parse_topology(text, n, title=False).circuit for n, text in texts.items()}
    met = [("a", "opamp1"), ("b", "opamp1"), ("c", "opamp1")]
    kept, dropped = _module().distinct(met, circuits)
    assert kept == [("a", "opamp1"), ("c", "opamp1")] and dropped == {"b": "a"}
