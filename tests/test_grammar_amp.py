"""Op-amp skeleton rules of the sampling grammar (issue #16 for #17): real op-amps pass them, a
hand-made op-amp breaking each one is refused while sampling an op-amp type, and replaying real
tours (no type, or sampling off) is unchanged."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from eda.graphs.euler import TourGrammar, euler_tours
from eda.graphs.grammar import grammar_accepts
from eda.graphs.grammar_amp import AMP_NET_PINS, amp_facts, amp_violations
from eda.graphs.grammar_core import core_violations
from eda.graphs.pin_graph import circuit_to_graph, graph_nets
from eda.read.topology_dataset import load_library

AMP_TYPES = TourGrammar.AMP_ROLE_TYPES


def _mutate(c, add=(), change=None):
    """The 5T OTA with NMOS devices added (name, nodes) or one device's nodes changed."""
    m1 = next(d for d in c.devices if d.name == "M1")
    devs = [replace(d, nodes=change[1]) if change and d.name == change[0] else d for d in c.devices]
    devs += [replace(m1, name=name, nodes=nodes) for name, nodes in add]
    return replace(c, devices=devs)


MUTATIONS = {  # rule -> the 5T OTA (M1/M2 pair on n2, M3 tail, M4/M5 mirror, VOUT1 on M2/M5) broken so
    "input_off_gate": {"add": [("M6", ("VIN1", "VB1", "VSS", "VSS"))]},  # a drain on the input
    "follower": {"add": [("M6", ("VDD", "VIN1", "VOUT1", "VSS"))]},  # source on the output, gate on an input
    "dead_input": {"add": [("M6", ("VDD", "VIN2", "VSS", "VSS"))]},  # an input-gated channel across the rails
    "shorted": {"add": [("M6", ("n1", "VB1", "n1", "VSS"))]},  # a MOS capacitor
    # the inputs' sources apart, each on its own tail (pseudo-differential)
    "no_pair": {"change": ("M2", ("VOUT1", "VIN2", "n3", "VSS")), "add": [("M6", ("n3", "VB1", "VSS", "VSS"))]},
    "no_path": {"change": ("M5", ("VOUT1", "VB1", "VDD", "VDD"))},  # M1's drain reaches no output
}


def _tours(c, vocab, k=3):
    g = circuit_to_graph(c)
    return [vocab.encode(euler_tours(g, 1, seed=s)[0], "opamp1") for s in range(k)]


def _amp_replay(ids, tables):
    """Replay under the op-amp sampling rules, with room for their length reserves (a missing
    input holds room for a new transistor of its pair)."""
    return grammar_accepts(ids, tables, max_len=len(ids) + 64, ctype="opamp1", sampling=True)


def test_the_5t_ota_passes_and_replays_under_the_opamp_rules(tables, vocab, ota):
    assert amp_violations(circuit_to_graph(ota)) == []
    for ids in _tours(ota, vocab):
        assert _amp_replay(ids, tables) is None


#: measured, not enforced while sampling by amp_violations (the pair is required through the
#: amplifier core of grammar_core instead: tests/test_grammar_core.py)
MEASURED_ONLY = ("no_path",)
BY_CORE = ("no_pair",)


@pytest.mark.parametrize("rule", sorted(MUTATIONS))
def test_an_ota_breaking_one_rule_is_refused(tables, vocab, ota, rule):
    bad = _mutate(ota, **MUTATIONS[rule])
    g = circuit_to_graph(bad)
    assert rule in amp_violations(g)
    assert (rule in amp_violations(g, skeleton=False)) == (rule not in MEASURED_ONLY + BY_CORE)
    if rule in BY_CORE:
        assert "no_core" in core_violations(g)
    for ids in _tours(bad, vocab):
        if rule in MEASURED_ONLY:
            assert _amp_replay(ids, tables) is None
        else:
            assert _amp_replay(ids, tables) is not None
        assert grammar_accepts(ids, tables, max_len=len(ids) + 40) is None  # (replayed as a real tour: unchanged)


def test_library_opamps_pass_every_rule_and_replay(tables, vocab):
    lib = [t for t in load_library() if t.ctype in AMP_TYPES]
    assert len(lib) >= 30
    for t in lib:
        g = circuit_to_graph(t.circuit)
        assert amp_violations(g) == [], t.name
        ids = vocab.encode(euler_tours(g, 1, seed=1)[0], t.ctype)
        assert grammar_accepts(ids, tables, max_len=len(ids) + 40) is None, t.name


def test_real_opamps_pass_the_rules(shared):
    """AnalogGenie's op-amp chapters, of those with two inputs and an output: the rules enforced while
    sampling (skeleton=False) pass >= 95 % (measured 435 of 455), all rules (pair and paths too) >= 93 %
    (427), and no rule alone rejects more than 5 %."""
    from conftest import shared_path

    from eda.read.topology_dataset import load_topologies

    tops = [t for t in load_topologies(shared_path(shared, "analoggenie/Dataset")) if t.ctype in AMP_TYPES]
    graphs = [circuit_to_graph(t.circuit) for t in tops]
    amps = [(g, f) for g, f in zip(graphs, map(amp_facts, graphs), strict=True) if f["inputs"] >= 2 and f["outputs"]]
    n = len(amps)
    broken = [amp_violations(g, f) for g, f in amps]
    ok = sum(not v for v in broken)
    ok_enforced = sum(not amp_violations(g, f, skeleton=False) for g, f in amps)
    counts = {k: sum(k in v for v in broken) for k in {k for v in broken for k in v}}
    assert all(len(p) <= AMP_NET_PINS for g, _ in amps for port, p in graph_nets(g) if not port)
    assert n > 400 and ok >= 0.93 * n and ok_enforced >= 0.95 * n, (ok, ok_enforced, n, counts)
    assert max(counts.values()) <= 0.05 * n, counts


def _steps(gr, vocab, toks):
    for tok in toks:
        assert gr.mask()[vocab.index[tok]], tok
        gr.step(vocab.index[tok])
    return gr.mask()


def test_input_port_takes_gates_only_and_a_gated_source_never_an_output(tables, vocab):
    ix = vocab.index
    # NM1's drain on R1 (to VSS), its gate on VIN1: the input takes no channel or R, a gate may join it
    walk = ["R1_N", "R1", "R1_P", "NM1_D", "NM1", "NM1_G", "VIN1"]
    m = _steps(TourGrammar(tables, 200, ctype="opamp1", sampling=True), vocab, walk)
    assert not m[ix["NM2_D"]] and not m[ix["R2_P"]] and m[ix["NM2_G"]]
    # NM1's source, gated by VIN1: no output (a follower), not its drain's net (shorted), no rail (no tail)
    m = _steps(TourGrammar(tables, 200, ctype="opamp1", sampling=True), vocab, walk + ["NM1_G", "NM1", "NM1_S"])
    assert not m[ix["VOUT1"]] and not m[ix["R1_P"]] and not m[ix["VSS"]] and not m[ix["VDD"]]
    assert m[ix["NM2_S"]] and not m[ix["VB1"]]  # (a new transistor's source: a tail node; no bias port)
    # a gate whose source is on VSS may not take an input
    m = _steps(TourGrammar(tables, 200, ctype="opamp1", sampling=True), vocab, ["NM1_S", "NM1", "NM1_G"])
    assert not m[ix["VIN1"]] and m[ix["VB1"]]
    # without an op-amp type, or replaying (sampling off), the same moves stay legal
    m = _steps(TourGrammar(tables, 200, ctype="opamp1"), vocab, walk + ["NM1_G", "NM1", "NM1_S"])
    assert m[ix["VOUT1"]] and m[ix["VSS"]]
    assert _steps(TourGrammar(tables, 200, sampling=True), vocab, ["NM1_S", "NM1", "NM1_G"])[ix["VIN1"]]


def test_random_opamp_walks_keep_the_incremental_rules(tables, vocab, monkeypatch):
    """Uniform random legal walks sampling an op-amp type: whether or not they end as a skeleton (random
    walks seldom pair their inputs), no input is on a channel/R/L, no channel is shorted, no input-gated
    source is on an output, no internal net exceeds the op-amp net size; those that end without failing
    pass every enforced rule. (The amplifier core at ``<eos>`` is off here: random walks never complete
    one; tests/test_grammar_core.py checks it.)"""
    from eda.graphs.grammar_amp import AmpRules

    monkeypatch.setattr(AmpRules, "CORE_REQUIRED", ())
    rng = np.random.default_rng(5)
    ended = 0
    for max_len in (150, 250):
        for _ in range(10):  # (about 1 in 4 ends as a skeleton: 29-30 of 120 walks over seeds 5-14)
            gr = TourGrammar(tables, max_len, ctype="opamp2", sampling=True)
            while not gr.done and not gr.failed:
                gr.step(int(rng.choice(np.flatnonzero(gr.mask()))))
            g = gr.graph()
            f = amp_facts(g)
            assert not f["input_off_gate"] and not f["shorted"] and not f["follower"], f
            assert max(len(p) for port, p in graph_nets(g) if not port) <= AMP_NET_PINS
            if not gr.failed:
                assert amp_violations(g, f, skeleton=False) == []
                ended += 1
    assert ended >= 1
