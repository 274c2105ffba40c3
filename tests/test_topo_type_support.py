"""Type support of conditioned sampling (issue #16): `training_support` keeps the steps a type's
training circuits take, by device type, pin kind and port class; every real tour of the type stays
inside it; conditioned samples follow it, and without it (the control) they do not."""

from __future__ import annotations

import numpy as np
import pytest

from eda.generators.topology_checkpoint import GENERAL_FILE, load_checkpoint, training_graphs, training_types
from eda.generators.topology_sample import _within, training_support
from eda.graphs.grammar_tables import VocabTables
from eda.graphs.pin_graph import graph_nets, parse_node
from eda.paths import PATHS

SHIPPED = PATHS.models / GENERAL_FILE


@pytest.fixture(scope="module")
def shipped():
    if not SHIPPED.is_file():
        pytest.skip(f"the shipped topology model {SHIPPED} is absent")
    model, vocab, ck = load_checkpoint(SHIPPED)
    return model, vocab, ck


def _port_pins(g, prefix: str) -> set[str]:
    """Pin kinds (``PM_D``) on nets of ports whose class is ``prefix`` in a device-pin graph."""
    out = set()
    for port, pins in graph_nets(g):
        if port and port.split("=")[0].rstrip("0123456789") == prefix:
            for p in pins:
                _, dtype, _, pin = parse_node(p)
                out.add(f"{dtype}_{pin}")
    return out


def _tok(vocab, name: str) -> int:
    return vocab.index[name]


def test_support_holds_every_real_tour_of_the_type(shipped):
    """A step any training tour of the type takes is in its support (a rule that refused real
    circuits would be wrong), and the support is narrower than everything."""
    _, vocab, ck = shipped
    flat, off = ck["train_tours"].numpy().astype(int), ck["train_offsets"].tolist()
    types = training_types(ck)
    for ct in ("power_converter", "comparator", "current_mirror", "pll"):
        sup = training_support(ck, vocab, ct)
        assert sup is not None and sup.shape == (len(vocab.tokens),) * 2
        assert not sup.all()
        n = 0
        for (a, b), ty in zip(zip(off[:-1], off[1:], strict=True), types, strict=True):
            if ty == ct:
                x = flat[a:b]
                assert sup[x[:-1], x[1:]].all() and sup[x[1:], x[:-1]].all(), ct
                n += 1
        assert n >= 30
    assert training_support(ck, vocab, None) is None
    assert training_support(ck, vocab, "no_such_type") is None


def test_support_follows_the_real_circuits(shipped):
    """What the support says about power converters and comparators, checked on their graphs."""
    _, vocab, ck = shipped
    t = VocabTables(vocab)
    graphs, types = training_graphs(ck, vocab), training_types(ck)
    pcs = [g for g, ty in zip(graphs, types, strict=True) if ty == "power_converter"]
    on_vcont = set().union(*(_port_pins(g, "VCONT") for g in pcs))
    assert "PM_G" in on_vcont and "PM_D" not in on_vcont and "NM_D" not in on_vcont
    sup = training_support(ck, vocab, "power_converter")
    assert sup[_tok(vocab, "PM1_G"), _tok(vocab, "VCONT2")] and sup[_tok(vocab, "VCONT2"), _tok(vocab, "PM3_G")]
    assert not sup[_tok(vocab, "PM1_D"), _tok(vocab, "VCONT2")]
    assert not sup[_tok(vocab, "VCONT1"), _tok(vocab, "NM2_D")]
    bjt = np.array([t.types[d] in ("NPN", "PNP") if d >= 0 else False for d in t.dtype])
    assert not any(g.nodes[n].get("kind") == "device" and parse_node(n)[1] in ("NPN", "PNP")
                   for g in pcs for n in g)
    assert not sup[:, bjt].any()  # no bipolar device or pin is ever drawn for a converter
    assert sup[:, t.vdd].all() and sup[:, t.vss].all()
    ind = np.array([t.types[d] == "L" if d >= 0 else False for d in t.dtype])
    assert not training_support(ck, vocab, "comparator")[:, ind].any()
    assert training_support(ck, vocab, "oscillator")[:, ind].any()  # (LC oscillators have them)


def test_within_narrows_only_where_a_move_is_left():
    masks = np.array([[True, True, False, False], [False, False, True, False]])
    support = np.array([[True, False, True, True]] * 4)
    out = _within(masks.copy(), support, [0, 1])
    assert out[0].tolist() == [True, False, False, False]
    assert out[1].tolist() == [False, False, True, False]
    support[:, 2] = False  # row 1's only move leaves the support: it keeps its legal moves
    out = _within(masks.copy(), support, [0, 1])
    assert out[1].tolist() == [False, False, True, False]
    assert _within(masks.copy(), None, [0, 1]).tolist() == masks.tolist()


def test_conditioned_samples_follow_the_support(shipped):
    """Power converters drawn with the support put VCONT on gates only and have no BJT; the same
    draws without it (the control) break that, so the check can fail."""
    from eda.generators.topology_report import GenerateParams, generate

    model, vocab, ck = shipped

    def draw(on: bool) -> tuple[list, dict]:
        gs: list = []
        rep = generate(model, vocab, ck, GenerateParams(n=16, ctype="power_converter", seed=5, guidance=3.0,
                                                        simulate=False, type_support=on), None, graphs=gs)
        return gs, rep

    def breaks(g) -> bool:
        bad_pins = _port_pins(g, "VCONT") & {"PM_D", "PM_S", "NM_D", "NM_S"}
        return bool(bad_pins) or any(g.nodes[n].get("kind") == "device" and parse_node(n)[1] in ("NPN", "PNP")
                                     for n in g)

    with_support, rep = draw(True)
    assert rep["type_support"] and len(with_support) >= 12
    assert not any(breaks(g) for g in with_support)
    without, rep0 = draw(False)
    assert not rep0["type_support"]
    assert sum(breaks(g) for g in without) >= 4
