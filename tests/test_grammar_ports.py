"""Signal-port routes and floating-gate repairs of the sampling grammar (graphs/grammar_ports.py, #16): tours that
used to end with a ``signal_port`` or ``floating_gate`` failure are refused or steered at sampling time, real tours
replay as before."""

from __future__ import annotations

import numpy as np

from eda.generators.topology_check import rule_violations
from eda.graphs.euler import TourGrammar, euler_tours
from eda.graphs.pin_graph import circuit_to_graph, graph_to_circuit
from eda.read.topology_dataset import load_library


def _walk(tables, vocab, tokens, max_len=200, **kw):
    gr = TourGrammar(tables, max_len, **kw)
    for tok in tokens:
        assert gr.mask()[vocab.index[tok]], tok
        gr.step(vocab.index[tok])
    return gr


#: NM1 complete (S, B on VSS, D on VDD, G on VB1), then VOUT1 between R2 and R1, R1 to VSS: VOUT1 reaches
#: NM1 through passives only if a transistor joins the net of R1_P and R2_N (its last open route once VOUT1 is left)
NM1 = ["NM1_S", "NM1", "NM1_D", "VDD", "NM1_D", "NM1", "NM1_G", "VB1", "NM1_G", "NM1", "NM1_B", "VSS", "NM1_B",
       "NM1", "NM1_S", "VSS"]
DIVIDER = NM1 + ["R1_N", "R1", "R1_P", "R2_N", "R2", "R2_P", "VOUT1", "R2_P", "R2", "R2_N"]


def _finish(gr, vocab, rng, avoid=()):
    """Random legal tokens to the end (``avoid``: never these while another is legal)."""
    while not gr.done:
        ids = np.flatnonzero(gr.mask())
        pick = [i for i in ids if vocab.tokens[i] not in avoid] or list(ids)
        gr.step(int(rng.choice(pick)))
    return {r for r, _ in rule_violations(graph_to_circuit(gr.graph()))}


def test_the_last_route_of_a_pending_signal_port_is_not_left(tables, vocab, monkeypatch):
    """VOUT1 was left while the net of R2_N and R1_P was still open; leaving R2_N now would freeze that net and
    seal VOUT1 on passives (the old optimistic check let it go: the circuit then breaks signal_port)."""
    ix = vocab.index
    gr = _walk(tables, vocab, DIVIDER)
    assert gr._pending() == {ix["VOUT1"]: {gr._find(ix["R2_N"])}}
    m = gr.mask()
    assert not m[ix["R1_P"]]  # (the walk back from R2_N)
    assert m[ix["NM2_G"]] and m[ix["D1_P"]]  # a transistor or diode onto the route stays legal
    # after it, the port reaches an active terminal and the walk may go back
    gr = _walk(tables, vocab, DIVIDER + ["NM2_G", "NM2", "NM2_D", "VB2", "NM2_D", "NM2", "NM2_S", "VB3", "NM2_S",
                                         "NM2", "NM2_B", "VB4", "NM2_B", "NM2", "NM2_G"])
    assert not gr._pending() and gr.mask()[ix["R1_P"]]
    # mutation: without the rule the pop is legal and every way to finish breaks signal_port
    monkeypatch.setattr(TourGrammar, "_keeps_routes", lambda self, a: True)
    gr = _walk(tables, vocab, DIVIDER)
    assert gr.mask()[ix["R1_P"]]
    gr.step(ix["R1_P"])
    assert "signal_port" in _finish(gr, vocab, np.random.default_rng(0))


def test_pending_port_keeps_room_for_a_transistor_while_sampling(tables, vocab):
    """VOUT1 hangs from VB1 through R1 (a diode D1 elsewhere): near the end of the budget a sampler may not spend
    the room on a new resistor or capacitor from VOUT1, a new transistor or diode stays legal; replaying a real
    tour (sampling off) and a roomy budget are unchanged."""
    ix = vocab.index
    walk = ["D1_N", "D1", "D1_P", "VB1", "R1_P", "R1", "R1_N", "VOUT1"]
    gr = _walk(tables, vocab, walk, max_len=38, sampling=True)
    assert gr._port_reserve() == tables.min_active_new_cost
    m = gr.mask()
    assert not m[ix["R2_P"]] and not m[ix["C1_P"]]
    assert m[ix["D2_P"]] and m[ix["NM1_D"]]
    assert _walk(tables, vocab, walk, max_len=38).mask()[ix["R2_P"]]
    assert _walk(tables, vocab, walk, max_len=60, sampling=True).mask()[ix["R2_P"]]
    # resolved: no reserve
    assert not _walk(tables, vocab, walk + ["D2_P"], max_len=60, sampling=True)._port_reserve()


def test_stuck_dc_island_may_outgrow_its_drawn_net_size(tables, vocab):
    """R1 between the gates of NM1 and NM2 (a floating-gate island) with every net limited to 2 pins: at R1_P
    nothing may leave (the island is sealed otherwise) and the drawn size forbids every join; the net then takes
    a new pin beyond its size (before, the walk was forced back and the sample broke floating_gate: 5 of 1,000
    at seed 123)."""
    ix = vocab.index
    walk = ["NM1_S", "NM1", "NM1_G", "R1_P", "R1", "R1_N", "NM2_G", "NM2", "NM2_S", "VDD", "NM2_S", "NM2", "NM2_D",
            "VB1", "NM2_D", "NM2", "NM2_B", "VB2", "NM2_B", "NM2", "NM2_G", "R1_N", "R1", "R1_P"]
    gr = _walk(tables, vocab, walk, net_cap=lambda: 2)
    assert not gr._complete(ix["R1_P"]) and gr.net_size[ix["R1_P"]] == gr.cap[ix["R1_P"]] == 2
    m = gr.mask()
    assert not m[ix["NM1_G"]] and m[ix["R2_P"]] and m[ix["NM1_D"]]
    # mutation: where the cap is kept (the op-amp skeleton keeps its net limit) the walk is forced back
    gr.skeleton = True
    m = gr.mask()
    assert m[ix["NM1_G"]] and m.sum() == 1


#: sample 11 of the shipped model's seed-123 run (1,000 samples, budget 36) before these rules: VOUT1 opened from
#: R1 (to VDD) took a second resistor R2 (to VB1) and the budget ran out before a transistor could join it
SAMPLE_11 = ("VSS PM1_D PM1 PM1_B VDD R1_P R1 R1_N VOUT1 R2_P R2 R2_N VB1 PM1_G PM1 PM1_S VDD PM1_S PM1 PM1_G VB1 "
             "R2_N R2 R2_P VOUT1 R1_N R1 R1_P VDD PM1_B PM1 PM1_D VSS <eos>").split()


def _replay(tables, vocab, tokens, budget):
    """(index of the first refused token or None, the grammar) under the sampler's grammar and final judge."""
    from eda.generators.topology_sample import rules_accept

    gr = TourGrammar(tables, budget, min_len=budget, accept=rules_accept, sampling=True)
    for k, tok in enumerate(tokens[1:], 1):
        if not gr.mask()[vocab.index[tok]]:
            return k, gr
        gr.step(vocab.index[tok])
    return None, gr


def test_a_sample_that_broke_signal_port_is_now_refused(tables, vocab, monkeypatch):
    """The sampled tour is refused where it spent the port's room (R2 from VOUT1, 24 tokens from the end); without
    the reserve and the urgent rule (mutation) it replays to the end and breaks signal_port, as it did."""
    k, _ = _replay(tables, vocab, SAMPLE_11, 36)
    assert k is not None and SAMPLE_11[k - 1:k + 1] == ["VOUT1", "R2_P"]
    monkeypatch.setattr(TourGrammar, "_port_reserve", lambda self: 0)
    monkeypatch.setattr(TourGrammar, "_on_route", lambda self, a: False)
    k, gr = _replay(tables, vocab, SAMPLE_11, 36)
    assert k is None and gr.done
    assert "signal_port" in {r for r, _ in rule_violations(graph_to_circuit(gr.graph()))}


def test_library_tours_replay_under_the_port_rules(tables, vocab):
    """Real tours stay legal token by token under the strict grammar (the routes forbid only what breaks the
    rule; the 3,212 training tours of the shipped model replay as before, strict and sampling: README)."""
    for t in load_library():
        for tour in euler_tours(circuit_to_graph(t.circuit), 1, seed=4):
            gr = TourGrammar(tables, len(tour) + 24 + TourGrammar.VDD_URGENT)
            for i in vocab.encode(tour, t.ctype)[3:]:
                assert gr.mask()[i], (t.name, vocab.tokens[i])
                gr.step(i)
            assert gr.done


#: an LNA's input network drawn before any transistor: L1 from VSS, C1 from it to VIN1, back to the net of C1_N and L1_P
LNA_INPUT = ["L1_N", "L1", "L1_P", "C1_N", "C1", "C1_P", "VIN1", "C1_P", "C1", "C1_N"]


def test_a_port_is_pending_before_any_transistor_while_sampling(tables, vocab):
    """Sampling (session 13): VIN1 reaches only C1 and L1 and the net of C1_N and L1_P is its last route, so the walk
    may not leave C1_N although no transistor exists yet (30 % of conditioned LNAs ended so, VIN1 on passives). In
    replay the rule waits for the first transistor (a passive-only circuit is exempt), so real tours replay as
    before, and the pop stays legal there (the control)."""
    ix = vocab.index
    gr = _walk(tables, vocab, LNA_INPUT, sampling=True)
    assert gr._pending() == {ix["VIN1"]: {gr._find(ix["C1_N"])}}
    m = gr.mask()
    assert gr.stack[-2] == ix["L1_P"] and not m[ix["L1_P"]]  # (the walk back from C1_N would freeze the last route)
    assert m[ix["NM1_G"]]  # a transistor onto the route stays legal
    replay = _walk(tables, vocab, LNA_INPUT)
    assert not replay._pending() and replay.mask()[ix["L1_P"]]
