"""Type support of conditioned sampling (issue #16): `training_support` keeps the steps a type's
training circuits take (class triples of device type, pin kind and port class); every real tour of
the type stays inside it; conditioned samples follow it, and without it (the control) they do not.
Its type preference (a logit bonus from the type's class trigrams against all tours) follows the
counts it is made of and moves the samples towards what the type does more than other types."""

from __future__ import annotations

import numpy as np
import pytest

from eda.generators.topology_checkpoint import GENERAL_FILE, load_checkpoint, training_graphs, training_types
from eda.generators.topology_support import TYPE_WEIGHT, TypeSupport, training_support
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


def _pair(sup: TypeSupport, a: int, b: int) -> bool:
    """Whether any supported triple steps from token ``a``'s class to ``b``'s."""
    return bool(sup.seen[:, sup.cls[a], sup.cls[b]].any())


def test_support_holds_every_real_tour_of_the_type(shipped):
    """Every step of every training tour of the type is in its support (a rule that refused real
    circuits would be wrong), and the support is narrower than everything."""
    _, vocab, ck = shipped
    flat, off = ck["train_tours"].numpy().astype(int), ck["train_offsets"].tolist()
    types = training_types(ck)
    for ct in ("power_converter", "comparator", "current_mirror", "pll"):
        sup = training_support(ck, vocab, ct)
        assert sup is not None and sup.seen.shape == (len(sup.names) + 1,) * 3
        assert sup.seen.mean() < 0.05
        n = 0
        for (a, b), ty in zip(zip(off[:-1], off[1:], strict=True), types, strict=True):
            if ty == ct:
                x = flat[a:b]
                assert all(sup.allowed(x[i - 2], x[i - 1])[x[i]] for i in range(2, len(x))), ct
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
    assert _pair(sup, _tok(vocab, "PM1_G"), _tok(vocab, "VCONT2")) and _pair(sup, _tok(vocab, "VCONT2"),
                                                                             _tok(vocab, "PM3_G"))
    assert not _pair(sup, _tok(vocab, "PM1_D"), _tok(vocab, "VCONT2"))
    assert not _pair(sup, _tok(vocab, "VCONT1"), _tok(vocab, "NM2_D"))
    assert not _pair(sup, _tok(vocab, "PM1_D"), t.vss) and _pair(sup, _tok(vocab, "PM1_S"), t.vdd)
    bjt = np.flatnonzero([t.types[d] in ("NPN", "PNP") if d >= 0 else False for d in t.dtype])
    assert not any(g.nodes[n].get("kind") == "device" and parse_node(n)[1] in ("NPN", "PNP")
                   for g in pcs for n in g)
    assert not sup.seen[:, :, sup.cls[bjt]].any()  # no bipolar device or pin is ever drawn for a converter
    ind = np.flatnonzero([t.types[d] == "L" if d >= 0 else False for d in t.dtype])
    comp = training_support(ck, vocab, "comparator")
    assert not comp.seen[:, :, comp.cls[ind]].any()
    osc = training_support(ck, vocab, "oscillator")
    assert osc.seen[:, :, osc.cls[ind]].any()  # (LC oscillators have them)


def test_narrow_only_where_a_move_is_left():
    # classes: token 0 -> a, 1 -> b, 2 -> c, 3 -> special
    seen = np.zeros((4, 4, 4), bool)
    seen[3, 0, 0] = seen[3, 0, 2] = True  # after (special, a): a or c
    sup = TypeSupport(cls=np.array([0, 1, 2, 3]), seen=seen, names=("a", "b", "c"))
    masks = np.array([[True, True, False, False], [False, True, False, True]])
    out = sup.narrow(masks.copy(), [3, 3], [0, 0])
    assert out[0].tolist() == [True, False, False, False]
    assert out[1].tolist() == [False, True, False, True]  # nothing of its left in the support: kept
    assert sup.allowed(3, 0).tolist() == [True, False, True, False]
    assert not sup.allowed(3, 1).any()


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


def test_cli_generate_type_support_flag(tmp_path):
    """`eda topo generate --type T` draws with the support (report.json says so); `--no-type-support`
    without; `--type-weight` sets the preference."""
    import json

    from typer.testing import CliRunner

    from eda.cli.topo import app

    if not SHIPPED.is_file():
        pytest.skip(f"the shipped topology model {SHIPPED} is absent")
    for flag, on, weight in (([], True, 0.5), (["--no-type-support"], False, None),
                             (["--type-weight", "2"], True, 2.0)):
        out = tmp_path / f"{on}{weight}"
        r = CliRunner().invoke(app, ["generate", "--n", "3", "--type", "mixer", "--no-simulate", "--pdk", "generic",
                                     "--seed", "1", "--out", str(out), *flag])
        assert r.exit_code == 0, r.output
        rep = json.loads((out / "report.json").read_text())
        assert rep["type_support"] is on and rep["type_weight"] == weight
    for bad in (["--type-weight", "1"], ["--type", "mixer", "--no-type-support", "--type-weight", "1"]):
        r = CliRunner().invoke(app, ["generate", "--n", "3", "--no-simulate", "--out", str(tmp_path / "bad"), *bad])
        assert r.exit_code != 0 and "--type-weight" in str(r.exception), r.exception
        assert not (tmp_path / "bad" / "report.json").exists()


def test_type_preference_follows_the_counts(shipped):
    """The bonus of a step is positive where the type takes it more often than all training tours do
    (after the same two classes), negative where less often; weight 0 leaves the hard support alone."""
    _, vocab, ck = shipped
    sup = training_support(ck, vocab, "power_converter", weight=1.0)
    assert sup.bias is not None and sup.bias.shape == sup.seen.shape
    k = {c: i for i, c in enumerate(sup.names)}
    after_body = sup.bias[k["PM"], k["PM_B"]]  # a PMOS body's net: converters' switches put it on VIN or a source
    assert after_body[k["VIN"]] > 0 > after_body[k["VDD"]]
    # recount: the frequencies of the steps after (PM, PM_B), in the converters' tours and in all
    flat, off = sup.cls[ck["train_tours"].numpy().astype(int)], ck["train_offsets"].tolist()
    n_pc, n_all = np.zeros(len(sup.names) + 1), np.zeros(len(sup.names) + 1)
    for (a, b), ty in zip(zip(off[:-1], off[1:], strict=True), training_types(ck), strict=True):
        x = flat[a:b]
        hit = (x[:-2] == k["PM"]) & (x[1:-1] == k["PM_B"])
        np.add.at(n_all, x[2:][hit], 1)
        if ty == "power_converter":
            np.add.at(n_pc, x[2:][hit], 1)
    for c in ("VIN", "VDD", "PM_S"):
        share_pc, share_all = n_pc[k[c]] / n_pc.sum(), n_all[k[c]] / n_all.sum()
        assert np.sign(after_body[k[c]]) == np.sign(share_pc - share_all), c
    plain = training_support(ck, vocab, "power_converter", weight=0.0)
    assert plain.bias is None and plain.logit_bias([0], [0]) is None and (plain.seen == sup.seen).all()
    half = training_support(ck, vocab, "power_converter", weight=0.5)
    assert np.allclose(half.bias, 0.5 * sup.bias, atol=1e-6)
    assert np.array_equal(training_support(ck, vocab, "power_converter").bias,
                          training_support(ck, vocab, "power_converter", weight=TYPE_WEIGHT).bias)
    rows = sup.logit_bias([vocab.index["PM1"], vocab.index["NM2"]], [vocab.index["PM1_B"], vocab.index["NM2_G"]])
    assert rows.shape == (2, len(vocab.tokens)) and rows[0, vocab.index["VIN1"]] == after_body[k["VIN"]]


def test_type_preference_moves_the_samples(shipped):
    """Power converters drawn with the preference (weight 1) put PMOS bodies on their own source's net (the
    switches from VIN) about as often as the real ones do (5.0 per circuit; 4.6 here); at weight 0 a third as often."""
    from eda.generators.topology_motifs import motif_features
    from eda.generators.topology_report import GenerateParams, generate

    model, vocab, ck = shipped
    per_circuit = {}
    for w in (0.0, 1.0):
        gs: list = []
        rep = generate(model, vocab, ck, GenerateParams(n=16, ctype="power_converter", seed=7, guidance=3.0,
                                                        simulate=False, type_weight=w), None, graphs=gs)
        assert rep["type_weight"] == w and len(gs) >= 12
        per_circuit[w] = np.mean([motif_features(g).get("PM_body_src", 0) for g in gs])
    assert per_circuit[1.0] >= 3.0 and per_circuit[1.0] >= 2 * per_circuit[0.0], per_circuit
