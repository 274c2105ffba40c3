"""Device-pin graphs, Euler tours, tokenizer, decoding and the tour grammar."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from eda.circuit import Circuit, Device
from eda.errors import InputError
from eda.generators.topology_check import erc
from eda.graphs.euler import (
    SequenceError,
    TourGrammar,
    Vocab,
    VocabTables,
    close_walk,
    compact_tour,
    euler_tours,
    sequence_to_graph,
)
from eda.graphs.pin_graph import PORT_RE, circuit_to_graph, graph_to_circuit, graphs_isomorphic, wl_hash
from eda.read.topology_dataset import load_library, parse_topology

OTA = """* 5T OTA
*.type opamp1
*.ports VDD VSS VIN1 VIN2 VB1 VOUT1
M1 (n1 VIN1 n2 VSS) nmos4
M2 (VOUT1 VIN2 n2 VSS) nmos4
M3 (n2 VB1 VSS VSS) nmos4
M4 (n1 n1 VDD VDD) pmos4
M5 (VOUT1 n1 VDD VDD) pmos4
"""


@pytest.fixture(scope="module")
def library():
    return load_library()


def test_library_size_and_types(library):
    assert len(library) >= 100
    assert len({t.ctype for t in library}) >= 10
    assert all(t.ports and "VDD" in t.ports and "VSS" in t.ports for t in library)


def test_pin_graph_structure():
    g = circuit_to_graph(parse_topology(OTA).circuit)
    assert g.nodes["NM1"]["kind"] == "device"
    assert set(g["NM1"]) == {"NM1_D", "NM1_G", "NM1_S", "NM1_B"}
    # port nets are stars on the port node, internal nets are cliques of pins
    assert set(g["VIN1"]) == {"NM1_G"}
    assert g.has_edge("NM1_S", "NM2_S") and g.has_edge("NM1_S", "NM3_D") and g.has_edge("NM2_S", "NM3_D")
    assert not g.has_edge("NM1_B", "NM2_B")  # both on VSS: joined through the port only
    assert g.has_edge("VSS", "NM1_B")


def test_graph_circuit_round_trip_library(library):
    for t in library:
        g = circuit_to_graph(t.circuit)
        c = graph_to_circuit(g)
        assert len(c.devices) == len(t.circuit.devices)
        assert graphs_isomorphic(g, circuit_to_graph(c)), t.name


def test_isomorphism_sees_rewiring():
    g = circuit_to_graph(parse_topology(OTA).circuit)
    mutated = parse_topology(OTA.replace("M5 (VOUT1 n1 VDD VDD)", "M5 (VOUT1 VOUT1 VDD VDD)")).circuit
    h = circuit_to_graph(mutated)
    assert not graphs_isomorphic(g, h)
    # renaming devices and nets does not change the graph
    renamed = parse_topology(OTA.replace("n1", "xx").replace("M1 ", "M9 ")).circuit
    assert graphs_isomorphic(g, circuit_to_graph(renamed))
    assert wl_hash(g) == wl_hash(circuit_to_graph(renamed))


def test_types_come_from_models_not_names():
    c = Circuit(devices=[Device("R1", "M", ("a", "b", "VSS", "VSS"), model="pmos4"),
                         Device("M7", "R", ("VDD", "a")), Device("C3", "M", ("b", "b", "VSS", "VSS"), model="nmos4")],
                ports=("VDD", "VSS"))
    g = circuit_to_graph(c)
    assert sorted(n for n, k in g.nodes(data="kind") if k == "device") == ["NM1", "PM1", "R1"]
    with pytest.raises(InputError, match="polarity"):
        circuit_to_graph(Circuit(devices=[Device("M1", "M", ("a", "b", "c", "d"), model="weird")]))


@pytest.mark.parametrize("method", ["dfs", "networkx"])
def test_tours_round_trip(library, vocab, method):
    for t in library[::4]:
        g = circuit_to_graph(t.circuit)
        tours = euler_tours(g, k=3, seed=7, method=method)
        assert len({tuple(x) for x in tours}) == len(tours) >= 1
        for tour in tours:
            assert tour[0] == tour[-1] == "VSS"
            assert len(tour) == 2 * g.number_of_edges() + 1  # doubled graph: each edge both ways
            ids = vocab.encode(tour, t.ctype)
            h, ct = sequence_to_graph(vocab.decode(ids))
            assert ct == t.ctype
            assert graphs_isomorphic(g, h), t.name


def test_vocab_save_load(tmp_path, vocab):
    p = vocab.save(tmp_path / "v.json")
    assert Vocab.load(p).tokens == vocab.tokens
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(InputError):
        Vocab.load(tmp_path / "bad.json")
    with pytest.raises(InputError, match="vocabulary"):
        vocab.encode(["VSS", "NM99_D"])


def _ota_tour():
    return euler_tours(circuit_to_graph(parse_topology(OTA).circuit), 1, seed=3)[0]


@pytest.mark.parametrize("mutate, reason", [
    (lambda s: ["VDD"] + s[1:], "starts at VSS"),
    (lambda s: s[:-1], "does not return to VSS"),
    (lambda s: s[:3] + ["PM1"] + s[3:], "device"),
    (lambda s: s[:1] + ["VDD"] + s[1:], "port VSS next to port VDD"),
    (lambda s: s[:5] + s[3:], "walked twice"),
    (lambda s: s + ["<eos>", "VSS"], "only <pad>"),
    (lambda s: s[:4] + ["<pad>"] + s[4:], "<pad> before <eos>"),
    (lambda s: s[:4] + ["foo1"] + s[4:], "unknown node"),
])
def test_decode_reasons(mutate, reason):
    seq = mutate(_ota_tour())
    with pytest.raises(SequenceError, match=reason):
        sequence_to_graph(seq)


def test_decode_incomplete_device():
    # a walk that reaches a device through one pin and returns: the device lacks its other pins
    with pytest.raises(SequenceError, match="lacks its pin"):
        sequence_to_graph(["VSS", "NM1_S", "NM1", "NM1_S", "VSS"])
    # lenient decoding still needs complete devices but not a closed tour
    g, _ = sequence_to_graph(_ota_tour()[:-1] + ["VSS"], strict=False)
    assert g.number_of_nodes() > 0


def test_grammar_accepts_training_tours(library, vocab):
    """Every depth-first training tour, full and compact (stopping after its last new edge),
    is legal token by token; the compact one's implied return restores the full tour."""
    tab = VocabTables(vocab)
    for t in library[::5]:
        for tour in euler_tours(circuit_to_graph(t.circuit), 2, seed=1):
            short = compact_tour(tour)
            assert close_walk(short) == tour and close_walk(tour) == tour
            assert len(short) < len(tour)
            for form in (tour, short):
                ids = vocab.encode(form, t.ctype)
                # (within VDD_URGENT of its budget the grammar makes a pin take VDD while it is
                # absent, which may pre-empt a tour that reaches VDD late)
                gr = TourGrammar(tab, len(tour) + 24 + TourGrammar.VDD_URGENT)
                for i in ids[3:]:
                    assert gr.mask()[i], (t.name, vocab.tokens[i])
                    gr.step(i)
                assert gr.done
                assert ["VSS"] + [vocab.tokens[i] for i in ids[3:-1] + gr.closing()] == tour


def test_grammar_eos_only_when_complete(library, vocab):
    """<eos> is legal exactly where the circuit is complete: never while a device lacks a pin
    or a pin lacks a net, and right after the tour's last new edge."""
    tab = VocabTables(vocab)
    t = library[0]
    tour = euler_tours(circuit_to_graph(t.circuit), 1, seed=3)[0]
    short = compact_tour(tour)
    ids = vocab.encode(short, t.ctype)
    gr = TourGrammar(tab, len(tour) + 16)
    for i in ids[3:-1]:
        if gr.n_unlinked or gr.n_netless:
            assert not gr.mask()[vocab.eos]
        gr.step(i)
    assert gr.mask()[vocab.eos] and gr.closable()


def test_grammar_finished_nodes_take_no_new_edge(vocab):
    """A node walked back from never takes a new edge (the depth-first form)."""
    tab = VocabTables(vocab)
    rng = np.random.default_rng(5)
    for _ in range(10):
        gr = TourGrammar(tab, 200)
        while not gr.done:
            m = gr.mask()
            a = gr.stack[-1]
            back = gr.stack[-2] if len(gr.stack) > 1 else None
            fwd = [q for q in np.flatnonzero(m) if q != back]
            assert not gr.closed[fwd].any(), [vocab.tokens[q] for q in fwd if gr.closed[q]]
            tok = int(rng.choice(np.flatnonzero(m)))
            if tok == back and tok in gr.adj.get(a, ()):
                gr.step(tok)
                assert gr.closed[a]
            else:
                gr.step(tok)


def test_grammar_random_walks_always_close(vocab):
    """Uniform random legal tokens: every walk ends with <eos> within its length and decodes."""
    tab = VocabTables(vocab)
    rng = np.random.default_rng(0)
    closed_ok = 0
    for max_len in (60, 200):
        for _ in range(15):
            gr = TourGrammar(tab, max_len)
            seq = ["<bos>", "<type:any>", "VSS"]
            while not gr.done:
                ids = np.flatnonzero(gr.mask())
                assert len(ids), seq
                tok = int(rng.choice(ids))
                gr.step(tok)
                seq.append(vocab.tokens[tok])
            assert len(seq) <= max_len
            # an <eos> before the walk is back at VSS implies the return down the stack
            seq = seq[:-1] + [vocab.tokens[i] for i in gr.closing()] + seq[-1:]
            assert len(seq) <= max_len
            g, _ = sequence_to_graph(seq)
            # the grammar's own graph is what strict decoding of its tokens gives
            h = gr.graph()
            assert set(h.nodes) == set(g.nodes) and {frozenset(e) for e in h.edges} == {frozenset(e) for e in g.edges}
            assert all(h.nodes[n] == g.nodes[n] for n in g)
            # internal nets are cliques of their pins (the training form) once nothing is owed
            if gr.clique_missing == 0:
                pins = g.subgraph(n for n, k in g.nodes(data="kind") if k == "pin")
                for comp in nx.connected_components(pins):
                    sub = pins.subgraph(comp)
                    assert sub.number_of_edges() == len(comp) * (len(comp) - 1) // 2, sorted(comp)
                closed_ok += 1
            c = graph_to_circuit(g)
            assert c.devices
            # the grammar's electrical rules hold even for random choices
            for msg in erc(c):
                assert "all terminals on net" not in msg and "only 1 pin" not in msg, msg
            for net, pins in _nets(c).items():
                # (DC pins: anything but a MOS gate or a capacitor terminal; a BJT's C conducts)
                assert PORT_RE.match(net) or any(not (k == "M" and p == "G" or k == "C") for k, p in pins), (net, pins)
    assert closed_ok >= 10  # (walks forced closed by their budget may leave edges owed)


def _nets(c):
    out = {}
    for d in c.devices:
        for pin, n in zip(d.pins, d.nodes, strict=True):
            out.setdefault(n, []).append((d.kind, pin))
    return out


def _short_partners_reference(gr, root):
    """By definition, from a fresh (chain-walking) find: roots that, merged with ``root``, put
    every pin of some device on one net."""
    t = gr.t

    def find(x):
        while gr.parent[x] != x:
            x = gr.parent[x]
        return x

    out = set()
    for d, pins in t.pins_of.items():
        if not gr.exists[d] or any(gr.netless[p] for p in pins):
            continue
        roots = {find(p) for p in pins}
        if root in roots and len(roots) == 2:
            out |= roots - {root}
    return out


def test_grammar_union_find_flat_and_short_partners_exact(vocab):
    """The net union-find keeps every member pointing at its root, and the (cached, flat-lookup)
    short-partner sets equal the definition on random walks."""
    tab = VocabTables(vocab)
    rng = np.random.default_rng(3)
    checked = 0
    for max_len in (80, 240):
        for _ in range(6):
            gr = TourGrammar(tab, max_len)
            while not gr.done:
                for r, mem in gr.members.items():
                    assert all(gr.parent[x] == r for x in mem)
                    assert gr._short_partners(r) == _short_partners_reference(gr, r)
                    checked += 1
                ids = np.flatnonzero(gr.mask())
                gr.step(int(rng.choice(ids)))
    assert checked > 100


# ------------------------------------------------------------------------ canonical forms


def _shuffled(g: nx.Graph, seed: int) -> nx.Graph:
    """The same labelled graph with node names and insertion order scrambled."""
    import random

    names = list(g.nodes)
    random.Random(seed).shuffle(names)
    new = {n: f"n{i}" for i, n in enumerate(names)}
    h = nx.Graph()
    h.add_nodes_from((new[n], dict(g.nodes[n])) for n in names)
    edges = [(new[u], new[v]) for u, v in g.edges]
    random.Random(seed + 1).shuffle(edges)
    h.add_edges_from(edges)
    return h


def test_canonical_form_exact(library):
    """Equal forms exactly for isomorphic graphs: every library circuit equals its scrambled copies
    and differs from every other circuit the networkx matcher calls non-isomorphic."""
    from eda.graphs.canon import GraphSet, canonical_form, novelty_uniqueness

    graphs = [circuit_to_graph(t.circuit) for t in library[::7]]
    for k, g in enumerate(graphs):
        assert canonical_form(_shuffled(g, k)) == canonical_form(g)
    forms = [canonical_form(g) for g in graphs]
    match = lambda a, b: a["label"] == b["label"]  # noqa: E731
    for i in range(len(graphs)):
        for j in range(i + 1, min(i + 4, len(graphs))):
            assert (forms[i] == forms[j]) == nx.is_isomorphic(graphs[i], graphs[j], node_match=match)
    # one changed label (a pin's role) or one moved edge makes a different form
    g = graphs[0]
    pin = next(n for n, d in g.nodes(data=True) if d["label"] == "NM_D")
    h = g.copy()
    h.nodes[pin]["label"] = "NM_S"
    assert canonical_form(h) != canonical_form(g)
    ref = GraphSet(graphs)
    assert len(ref) == len(graphs) and _shuffled(graphs[1], 9) in ref
    assert novelty_uniqueness([_shuffled(graphs[1], 3), graphs[1], h], ref) == {"unique": 2 / 3, "novel": 1 / 3,
                                                                               "n": 3}


@pytest.mark.timeout(20)
def test_canonical_form_symmetric_circuit_is_fast():
    """A highly symmetric circuit (a 40-way mirror bank with 40 identical loads: huge automorphism
    group, what stalls a VF2 matcher) gets its form in well under the timeout."""
    from eda.graphs.canon import canonical_form

    lines = ["* bank", "*.ports VDD VSS IB1", "M0 (IB1 IB1 VSS VSS) nmos4"]
    for k in range(1, 41):
        lines += [f"M{k} (d{k} IB1 VSS VSS) nmos4", f"R{k} (VDD d{k}) resistor"]
    g = circuit_to_graph(parse_topology("\n".join(lines) + "\n").circuit)
    assert canonical_form(_shuffled(g, 5)) == canonical_form(g)
    assert graphs_isomorphic(g, _shuffled(g, 6))


def test_lenient_and_strict_grammar(vocab):
    """A bias line of gates alone: the lenient grammar takes its tour, the strict one refuses it;
    open pins (one-pin nets) round-trip through the NC node."""
    from eda.graphs.roundtrip import round_trip
    from eda.topology import Topology

    tables = VocabTables(vocab)
    bias = parse_topology("* x\n*.ports VDD VSS VIN1 VOUT1\nM1 (VOUT1 VIN1 VSS VSS) nmos4\n"
                          "M2 (VOUT1 bl VDD VDD) pmos4\nM3 (VDD bl VDD VDD) pmos4\n")
    assert round_trip(bias, vocab, tables) is None
    assert "grammar" in round_trip(bias, vocab, tables, lenient=False)
    c = parse_topology("* x\n*.ports VDD VSS VOUT1\nM1 (VOUT1 VOUT1 VSS VSS) nmos4\nR1 (VDD VOUT1) resistor\n"
                       "R2 (VOUT1 open1) resistor\nR3 (VSS open2) resistor\n").circuit
    g = circuit_to_graph(c)
    assert "NC" in g and g.degree("NC") == 2
    back = graph_to_circuit(g)
    assert sorted(n for n in back.nets if n.startswith("nc")) == ["nc1", "nc2"]
    assert round_trip(Topology("open", c), vocab, tables) is None
