"""Amplifier core of op-amp samples (issue #17): a differential pair with a tail source, loads to the
other rail, a driven output. Real op-amps pass it; the 5T OTA broken in each part is refused, by the
facts and by the sampling grammar of an op-amp type (``<eos>`` refused until the core is complete)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from eda.graphs.euler import TourGrammar, euler_tours
from eda.graphs.grammar import grammar_accepts
from eda.graphs.grammar_amp import amp_facts, amp_violations
from eda.graphs.grammar_core import core_facts, core_violations
from eda.graphs.pin_graph import circuit_to_graph
from eda.read.topology_dataset import load_library

AMP_TYPES = TourGrammar.AMP_ROLE_TYPES


def _change(c, **nodes):
    """The circuit with devices' nodes changed (a name not in it: a copy of M3 added with those nodes)."""
    have = {d.name for d in c.devices}
    m3 = next(d for d in c.devices if d.name == "M3")
    return replace(c, devices=[replace(d, nodes=nodes.get(d.name, d.nodes)) for d in c.devices]
                   + [replace(m3, name=k, nodes=v) for k, v in nodes.items() if k not in have])


BROKEN = {  # violation -> the 5T OTA changed so
    "no_tail": {"M3": ("n2", "VB1", "VDD", "VSS")},  # the tail to the wrong rail: no current sink
    "no_load": {"M5": ("VOUT1", "n1", "VSS", "VDD")},  # M2's drain (the output) pulled to VSS only
    # a second stage M6 on the loaded node n4 with nothing pulling its drain (the output) up
    "output_undriven": {"M2": ("n4", "VIN2", "n2", "VSS"), "M5": ("n4", "n1", "VDD", "VDD"),
                        "M6": ("VOUT1", "n4", "VSS", "VSS")},
    "no_pair": {"M2": ("VOUT1", "VIN2", "VSS", "VSS")},  # M2's source on the rail
}


def _replay(c, tables, ctype="opamp1"):
    ids = tables.vocab.encode(euler_tours(circuit_to_graph(c), 1, seed=0)[0], ctype)
    return grammar_accepts(ids, tables, max_len=len(ids) + 64, ctype=ctype, sampling=True)


def test_the_5t_ota_has_a_complete_core_and_replays(ota, tables):
    f = core_facts(circuit_to_graph(ota))
    assert f == {"pair": True, "pair_tail": True, "pair_loads": True, "core": True, "out_drive": True,
                 "bias_used": True}
    assert _replay(ota, tables) is None


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_a_broken_core_is_named_and_refused_while_sampling(ota, tables, rule):
    bad = _change(ota, **BROKEN[rule])
    g = circuit_to_graph(bad)
    v = core_violations(g)
    assert rule in v and (("no_core" in v) == (rule != "output_undriven")), v
    assert _replay(bad, tables) is not None  # (an op-amp type's tour that breaks the core fails)
    ids = tables.vocab.encode(euler_tours(g, 1, seed=0)[0], None)
    assert grammar_accepts(ids, tables, max_len=len(ids) + 40) is None  # (any other replay: unchanged)


def test_an_ib_port_is_a_tail_and_a_load(ota):
    c = _change(ota, M3=("n2", "VB1", "IB1", "VSS"), M4=("n1", "n1", "IB2", "VDD"), M5=("VOUT1", "n1", "IB2", "VDD"))
    c = replace(c, ports=(*c.ports, "IB1", "IB2"))
    f = core_facts(circuit_to_graph(c))
    assert f["core"] and f["out_drive"]


def test_library_opamps_all_have_a_core(tables):
    lib = [t for t in load_library() if t.ctype in AMP_TYPES]
    assert len(lib) >= 30
    for t in lib:
        g = circuit_to_graph(t.circuit)
        if amp_facts(g)["inputs"] >= 2:
            assert core_violations(g) == [], t.name


def test_real_opamps_have_a_core(shared):
    """AnalogGenie's op-amp chapters that pass the enforced port rules: >= 96 % have a complete core
    (measured 425 of 435: 6 pseudo-differential inputs without a pair, 4 odd outputs)."""
    from conftest import shared_path

    from eda.read.topology_dataset import load_topologies

    tops = [t for t in load_topologies(shared_path(shared, "analoggenie/Dataset")) if t.ctype in AMP_TYPES]
    graphs = [circuit_to_graph(t.circuit) for t in tops]
    amps = [g for g in graphs if not amp_violations(g, skeleton=False)]
    ok = sum(not core_violations(g) for g in amps)
    assert len(amps) > 400 and ok >= 0.96 * len(amps), (ok, len(amps))
