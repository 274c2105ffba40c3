"""Sampling grammar rules added for issue #16: no redundant device, signal ports that reach a
transistor, nets that cannot be sealed floating, net-size limits, a minimum length, and the
linear type classifier."""

from __future__ import annotations

import numpy as np
import pytest

from eda.errors import InputError
from eda.generators.topology_check import rule_violations
from eda.generators.topology_classify import LinearTypeClassifier
from eda.generators.topology_sample import internal_net_sizes, training_net_sizes
from eda.graphs.euler import TourGrammar, close_walk, euler_tours
from eda.graphs.pin_graph import circuit_to_graph, graph_to_circuit
from eda.read.topology_dataset import load_library


def _walk(tables, vocab, tokens, max_len=120, **kw):
    """A grammar after the given tokens (each must be legal)."""
    gr = TourGrammar(tables, max_len, **kw)
    for tok in tokens:
        i = vocab.index[tok]
        assert gr.mask()[i], tok
        gr.step(i)
    return gr


def test_last_pin_of_a_device_on_the_rails_may_not_take_a_rail(tables, vocab):
    """NM1 with D on VDD and S, B on VSS: its gate may not go to VDD or VSS (a device with every
    terminal on the rails changes nothing), but may go to an input."""
    gr = _walk(tables, vocab, ["NM1_S", "NM1", "NM1_D", "VDD", "NM1_D", "NM1", "NM1_B", "VSS", "NM1_B",
                               "NM1", "NM1_G"])
    m = gr.mask()
    assert not m[vocab.index["VDD"]] and not m[vocab.index["VSS"]]
    assert m[vocab.index["VIN1"]]
    # (moves onto such a pin from a rail are refused too: random walks below never make one)


def test_signal_port_is_left_only_once_it_reaches_an_active_terminal(tables, vocab):
    """VIN1 on a capacitor to VSS only: the walk may not leave VIN1 (signal_port), and may once a
    transistor gate is on its net."""
    nm1 = ["NM1_S", "NM1", "NM1_D", "VDD", "NM1_D", "NM1", "NM1_G", "VB1", "NM1_G", "NM1", "NM1_B", "VSS",
           "NM1_B", "NM1", "NM1_S", "VSS"]
    gr = _walk(tables, vocab, nm1 + ["C1_N", "C1", "C1_P", "VIN1"])
    back = vocab.index["C1_P"]
    assert not gr.mask()[back]
    # (a BJT base: both rails are closed here, so no new MOS may be placed)
    gr = _walk(tables, vocab, nm1 + ["C1_N", "C1", "C1_P", "VIN1", "NPN1_B"])
    assert gr._complete(vocab.index["VIN1"])
    # a non-signal port (a reference) has no such rule, nor a circuit without active devices (#424)
    gr = _walk(tables, vocab, nm1 + ["C1_N", "C1", "C1_P", "VREF1"])
    assert gr.mask()[back]
    assert _walk(tables, vocab, ["C1_N", "C1", "C1_P", "VIN1"]).mask()[back]


def test_random_walks_keep_the_new_rules(tables, vocab):
    """Uniform random legal tokens under the strict grammar with drawn net-size limits: no
    redundant device, internal nets within their limits, every walk decodes."""
    rng = np.random.default_rng(3)
    broken = {"redundant_device": 0, "signal_port": 0}
    n = 0
    for max_len in (80, 160):
        for _ in range(12):
            gr = TourGrammar(tables, max_len, net_cap=lambda: int(rng.integers(2, 4)))
            while not gr.done:
                ids = np.flatnonzero(gr.mask())
                assert len(ids)
                gr.step(int(rng.choice(ids)))
            g = gr.graph()
            assert max(internal_net_sizes([g]), default=2) <= 3
            c = graph_to_circuit(g)
            rules = {r for r, _ in rule_violations(c)}
            for r in broken:
                broken[r] += r in rules
            n += 1
    assert broken["redundant_device"] == 0, broken
    assert broken["signal_port"] <= n // 6, broken  # (only where a walk ran out of room)


def test_min_len_refuses_an_early_end(tables, vocab):
    """A complete circuit may end (<eos>) only once the tour is min_len long, if more fits."""
    walk = ["R1_N", "R1", "R1_P", "VB1", "R1_P", "R1", "R1_N"]
    assert _walk(tables, vocab, walk, max_len=200).mask()[vocab.eos]
    gr = _walk(tables, vocab, walk, max_len=200, min_len=120)
    m = gr.mask()
    assert not m[vocab.eos] and m.any()


def test_clique_debt_of_a_left_pin_is_forgiven(tables, vocab):
    """Random walks never leave a pin with owed net edges it could still walk (the budget they
    would hold is released when a pin is left): every walk that closes at VSS owes nothing."""
    rng = np.random.default_rng(11)
    for _ in range(20):
        gr = TourGrammar(tables, 150)
        while not gr.done:
            gr.step(int(rng.choice(np.flatnonzero(gr.mask()))))
        assert gr.clique_missing >= 0


def test_library_tours_stay_legal_under_the_strict_grammar(tables, vocab):
    """Real tours (a depth-first walk completes a net later) are accepted by the new rules."""
    lib = load_library()
    for t in lib[::4]:
        for tour in euler_tours(circuit_to_graph(t.circuit), 1, seed=2):
            ids = vocab.encode(tour, t.ctype)
            gr = TourGrammar(tables, len(tour) + 24 + TourGrammar.VDD_URGENT)
            for i in ids[3:]:
                assert gr.mask()[i], (t.name, vocab.tokens[i])
                gr.step(i)
            assert gr.done


def test_training_net_sizes_read_from_tours_match_the_graphs(vocab):
    import torch

    lib = load_library()[:40]
    flat, off = [], [0]
    graphs = []
    for t in lib:
        g = circuit_to_graph(t.circuit)
        tour = close_walk(euler_tours(g, 1, seed=0)[0])
        ids = vocab.encode(tour, t.ctype)
        flat += ids
        off.append(len(flat))
        graphs.append(g)
    ck = {"train_tours": torch.tensor(flat), "train_offsets": torch.tensor(off)}
    got = sorted(training_net_sizes(ck, vocab).tolist())
    assert got == sorted(internal_net_sizes(graphs).tolist()) and got


def test_linear_type_classifier_on_held_out_circuits():
    """On the library (held out, 3-fold) the linear SVM finds the types; the same circuits with
    shuffled labels score far lower (the score measures the labels, not the fit)."""
    lib = load_library()[::2]
    graphs = [circuit_to_graph(t.circuit) for t in lib]
    types = [t.ctype for t in lib]
    acc = LinearTypeClassifier.cross_validate(graphs, types, folds=3)
    shuffled = list(np.random.default_rng(0).permutation(types))
    assert acc > 0.5 and LinearTypeClassifier.cross_validate(graphs, shuffled, folds=3) < acc - 0.2, acc
    clf = LinearTypeClassifier(graphs, types)
    assert [clf.predict(g) for g in graphs[:5]] == clf.predict_many(graphs[:5])
    with pytest.raises(InputError):
        LinearTypeClassifier([], [])


def test_inductor_chain_never_ties_two_driven_ports(tables, vocab):
    """L1 from VSS to an internal net, L2 from that net: L2's free pin may not take VDD or VB1
    (VSS-L1-L2-VDD is a DC short between sources, the voltage_loop rule), only an undriven port."""
    gr = _walk(tables, vocab, ["L1_N", "L1", "L1_P", "L2_P", "L2", "L2_N"])
    m = gr.mask()
    assert not m[vocab.index["VDD"]] and not m[vocab.index["VB1"]]
    assert m[vocab.index["VOUT1"]]
    # one inductor alone from the internal net to VDD is fine once the chain does not reach VSS
    gr = _walk(tables, vocab, ["R1_N", "R1", "R1_P", "L1_P", "L1", "L1_N"])
    assert gr.mask()[vocab.index["VDD"]]


def test_sampling_never_closes_a_loop_of_inductors(tables, vocab):
    """While sampling, an inductor's last pin may not close a loop of inductors (VSS-L1-n-L2-VSS, or L2 in
    parallel with L1: the voltage_loop rule, singular at DC); replaying real tours (strict) still may."""
    ix = vocab.index
    for walk in (["L1_N", "L1", "L1_P", "L2_P", "L2", "L2_N"],  # a loop through the internal net
                 ["L1_N", "L1", "L1_P", "VOUT1", "L2_P", "L2", "L2_N"]):  # L2 beside L1
        m = _walk(tables, vocab, walk, sampling=True).mask()
        assert not m[ix["VSS"]] and m[ix["VOUT2"]], walk
        assert _walk(tables, vocab, walk).mask()[ix["VSS"]]
    # a merge of two nets inductors already join (VSS-L1-n1-L2-n2): from R1_P on n2 onto VSS or a pin on it
    gr = _walk(tables, vocab, ["L1_N", "L1", "L1_P", "L2_P", "L2", "L2_N", "R1_P"], sampling=True)
    cand = np.ones(len(vocab.tokens), bool)
    bad = gr._inductor_cycle_moves(ix["R1_P"], cand)
    assert bad[ix["VSS"]] and bad[ix["L1_N"]] and bad[ix["L1_P"]]
    assert not bad[ix["VOUT2"]] and not bad[ix["R1_P"]] and not bad[ix["L2_N"]]  # (own net n2: no merge)


def test_eos_waits_for_the_final_judge(tables, vocab):
    """A complete one-transistor circuit may end; with a judge that refuses it, it may not."""
    nm1 = ["NM1_S", "NM1", "NM1_D", "VDD", "NM1_D", "NM1", "NM1_G", "VB1", "NM1_G", "NM1", "NM1_B", "VSS",
           "NM1_B", "NM1", "NM1_S", "VSS"]
    assert _walk(tables, vocab, nm1).mask()[vocab.eos]
    seen = []
    gr = _walk(tables, vocab, nm1, accept=lambda g: seen.append(g) or False)
    assert not gr.mask()[vocab.eos] and seen



def test_fet_body_joins_its_rail_or_its_own_source(tables, vocab):
    """A netless NMOS body may take VSS or its own source, a PMOS body VDD or its own source; not a
    signal net, the other rail or another pin (bodies off, the default outside sampling, allows them)."""
    ix = vocab.index
    for dev, rail, other in (("NM1", "VSS", "VDD"), ("PM1", "VDD", "VSS")):
        walk = [f"{dev}_D", dev, f"{dev}_B"]
        m = _walk(tables, vocab, walk, bodies=True).mask()
        assert m[ix[f"{dev}_S"]] and m[ix[rail]]
        assert not m[ix[other]] and not m[ix["VIN1"]] and not m[ix[f"{dev}_G"]] and not m[ix["R1_P"]]
        m = _walk(tables, vocab, walk, bodies=False).mask()
        assert m[ix[other]] and m[ix["VIN1"]] and m[ix[f"{dev}_G"]] and m[ix["R1_P"]]
    # onto a netless body from elsewhere: only from its rail (VDD -> PM1_B yes, VIN1 -> PM1_B no)
    gr = _walk(tables, vocab, ["PM1_D", "PM1", "PM1_G", "VIN1"], bodies=True)
    assert not gr.mask()[ix["PM1_B"]]
    gr = _walk(tables, vocab, ["PM1_D", "PM1", "PM1_G", "VDD"], bodies=True)
    assert gr.mask()[ix["PM1_B"]]


def test_no_new_mos_once_its_rail_is_closed(tables, vocab):
    """VSS is left for good (walked back from) only once no NMOS body waits for it; after that no
    new NMOS is placed (its body would have no rail), as in the training tours."""
    ix = vocab.index
    gr = _walk(tables, vocab, ["NM1_S", "NM1", "NM1_D", "R1_P", "R1", "R1_N", "VSS"], bodies=True)
    assert not gr.mask()[ix["R1_N"]]  # (NM1_B still netless: VSS may not be left)
    assert _walk(tables, vocab, ["NM1_S", "NM1", "NM1_D", "R1_P", "R1", "R1_N", "VSS"],
                 bodies=False).mask()[ix["R1_N"]]
    walk = ["NM1_S", "NM1", "NM1_B", "VSS", "NM1_B", "NM1", "NM1_D"]
    gr = _walk(tables, vocab, walk, bodies=True)
    assert gr.closed[ix["VSS"]]
    m = gr.mask()
    assert not m[ix["NM2_D"]] and m[ix["PM1_D"]]
    assert _walk(tables, vocab, walk, bodies=False).mask()[ix["NM2_D"]]


def test_random_walks_put_every_body_on_its_rail_or_source(tables, vocab):
    """Uniform random legal walks (strict sampling grammar): every MOS body on its rail or its source's net."""
    from eda.graphs.pin_graph import graph_nets

    rng = np.random.default_rng(5)
    n_body = 0
    for max_len in (100, 240):
        for _ in range(10):
            gr = TourGrammar(tables, max_len, net_cap=lambda: int(rng.integers(2, 5)), sampling=True)
            while not gr.done:
                gr.step(int(rng.choice(np.flatnonzero(gr.mask()))))
            g = gr.graph()
            net_of = {p: (port, pins) for port, pins in graph_nets(g) for p in pins}
            for n, k in g.nodes(data="kind"):
                if k == "device" and n[:2] in ("NM", "PM"):
                    port, pins = net_of[f"{n}_B"]
                    assert port == ("VSS" if n[:2] == "NM" else "VDD") or f"{n}_S" in pins, (n, port, pins)
                    n_body += 1
    assert n_body > 20


def test_opamp_port_roles(tables, vocab):
    """Sampling an op-amp: a new input only from a gate, a new output only from a drain/source, and
    <eos> only with two inputs and an output (no type: both ports from either pin, and it may end)."""
    ix = vocab.index
    at_d = ["NM1_S", "NM1", "NM1_D"]
    at_g = ["NM1_S", "NM1", "NM1_G"]
    m = _walk(tables, vocab, at_d, ctype="opamp").mask()
    assert m[ix["VOUT1"]] and not m[ix["VIN1"]]
    m = _walk(tables, vocab, at_g, ctype="opamp").mask()
    assert m[ix["VIN1"]] and not m[ix["VOUT1"]]
    for walk in (at_d, at_g):
        m = _walk(tables, vocab, walk).mask()
        assert m[ix["VIN1"]] and m[ix["VOUT1"]]
    one = ["NM1_S", "NM1", "NM1_D", "VOUT1", "PM1_D", "PM1", "PM1_S", "VDD", "PM1_B", "PM1", "PM1_G", "VB1", "PM1_G",
           "PM1", "PM1_B", "VDD", "PM1_S", "PM1", "PM1_D", "VOUT1", "NM1_D", "NM1", "NM1_G", "VIN1", "NM1_G", "NM1",
           "NM1_B", "VSS", "NM1_B", "NM1", "NM1_S", "VSS"]
    assert _walk(tables, vocab, one, max_len=200).mask()[vocab.eos]
    gr = _walk(tables, vocab, one, max_len=200, ctype="opamp")
    assert not gr.mask()[vocab.eos] and gr.mask().any()  # (one input: a second one is still owed)


def test_random_opamp_walks_meet_the_port_roles(tables, vocab):
    """Uniform random legal walks sampling an op-amp end with two inputs on gates/bases and an
    output on a drain/source/collector/emitter (unless the roles were given up, rare)."""
    from eda.graphs.pin_graph import graph_nets
    from eda.topology import port_prefix

    rng = np.random.default_rng(2)
    ok = n = 0
    for max_len in (100, 200, 300):
        for _ in range(8):
            # (sampling off: the port roles alone; with sampling the skeleton rules judge the end too,
            # and random walks seldom meet them: test_grammar_amp)
            gr = TourGrammar(tables, max_len, ctype="opamp", net_cap=lambda: int(rng.integers(2, 5)))
            while not gr.done:
                gr.step(int(rng.choice(np.flatnonzero(gr.mask()))))
            nets = graph_nets(gr.graph())
            ins = [pins for p, pins in nets if p and port_prefix(p) == "VIN"]
            outs = [pins for p, pins in nets if p and port_prefix(p) == "VOUT"]
            assert all(any(x.endswith(("M1_G", "_G")) or x.startswith(("NPN", "PNP")) and x.endswith("_B")
                           for x in pins) for pins in ins)
            assert all(any(x.endswith(("_D", "_S", "_C", "_E")) and not x.startswith(("R", "C", "L", "D"))
                           for x in pins) for pins in outs)
            ok += len(ins) >= 2 and len(outs) >= 1
            n += 1
    assert ok >= n - 2, (ok, n)


def test_new_output_only_where_an_input_reaches(tables, vocab):
    """With VIN1 on NM1's gate and no output yet, a pin of NM1 (reached from VIN1 through a device)
    may open VOUT1, a resistor hanging from VSS alone may not (the io_path rule by construction)."""
    ix = vocab.index
    head = ["NM1_S", "NM1", "NM1_G", "VIN1", "NM1_G", "NM1"]
    assert _walk(tables, vocab, head + ["NM1_D"], sampling=True).mask()[ix["VOUT1"]]
    gr = _walk(tables, vocab, head + ["NM1_B", "VSS", "R1_N", "R1", "R1_P"], sampling=True)
    m = gr.mask()
    assert not m[ix["VOUT1"]] and m[ix["VB1"]]
    assert _walk(tables, vocab, head + ["NM1_B", "VSS", "R1_N", "R1", "R1_P"]).mask()[ix["VOUT1"]]  # (replay mode)
    # without an input anywhere, the resistor may open an output
    assert _walk(tables, vocab, ["R1_N", "R1", "R1_P"], sampling=True).mask()[ix["VOUT1"]]


def test_sampling_keeps_the_rails_open_while_a_mos_fits(tables, vocab):
    """sampling=True: the walk does not leave VSS for good (walk back from it) while a new MOS still
    fits; near the end of the budget it may; replaying a real tour (sampling off) always may."""
    ix = vocab.index
    walk = ["NM1_S", "NM1", "NM1_B", "VSS"]
    assert not _walk(tables, vocab, walk, sampling=True).mask()[ix["NM1_B"]]
    assert _walk(tables, vocab, walk).mask()[ix["NM1_B"]]
    assert _walk(tables, vocab, walk, max_len=30, sampling=True).mask()[ix["NM1_B"]]


def test_repair_reserve_for_a_dc_island(tables, vocab):
    """R1 between the gates of NM1 and NM2 is a DC island (no driven port, no way out yet). Near the
    end of the budget (sampling=True) the walk keeps room to repair it: a new resistor from NM2's
    drain (not on the island) is refused where it fits without the reserve; from the island (NM2_G)
    a new resistor stays legal."""
    ix = vocab.index
    walk = ["NM1_S", "NM1", "NM1_G", "R1_P", "R1", "R1_N", "NM2_G"]
    gr = _walk(tables, vocab, walk, max_len=68, sampling=True)
    assert gr._islands()[1] and gr.mask()[ix["R2_P"]]
    assert not _walk(tables, vocab, walk + ["NM2", "NM2_D"], max_len=68, sampling=True).mask()[ix["R2_P"]]
    assert _walk(tables, vocab, walk + ["NM2", "NM2_D"], max_len=68).mask()[ix["R2_P"]]


def test_sampling_never_puts_a_second_passive_of_a_kind_across_the_same_nets(tables, vocab):
    """R1 joins VSS and net X (R1_P, NM1_D); R2 starts on X: under the sampling rules R2's last terminal may
    not go to VSS (R1 already sits there: one resistor of another value would do), a capacitor's may; the
    replay grammar (real tours: 0.5 % of the public set has such a pair) still allows it."""
    head = ["R1_N", "R1", "R1_P", "NM1_D"]
    for samp in (False, True):
        m = _walk(tables, vocab, head + ["R2_P", "R2", "R2_N"], sampling=samp).mask()
        assert m[vocab.index["VSS"]] != samp
        assert m[vocab.index["VIN1"]] and m[vocab.index["NM1_S"]]
        assert _walk(tables, vocab, head + ["C1_P", "C1", "C1_N"], sampling=samp).mask()[vocab.index["VSS"]]
