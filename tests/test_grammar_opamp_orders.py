"""Op-amp sampling orders (issue #17, ``RoleRules.RAIL_LEAVE`` / ``IO_LATE``): while sampling an op-amp type
the grammar accepts two orders real op-amp tours use that the session-6 sampling rules refused (a supply
rail left for good while a new MOS still fits; an input or output port opened before an input reaches an
output), and still refuses what those rules protect: a body off its rail and its source, a new MOS of a
closed rail's polarity, a finished circuit without an input-to-output path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eda.generators.topology_check import rule_violations
from eda.generators.topology_sample import rules_accept
from eda.graphs.euler import TourGrammar, VocabTables, compact_sequence, euler_tours
from eda.graphs.grammar import grammar_accepts
from eda.graphs.grammar_amp import AmpRules
from eda.graphs.pin_graph import circuit_to_graph

SWITCHES = ("RAIL_LEAVE", "IO_LATE")
SPECIALIST = Path(__file__).resolve().parents[1] / "data" / "models" / "topology_gpt_opamp.pt"


def _with(c, **nodes):
    """The circuit with some devices' nodes (drain, gate, source, body) changed."""
    return replace(c, devices=[replace(d, nodes=nodes.get(d.name, d.nodes)) for d in c.devices])


def _tours(c, vocab, n=40, ctype="opamp1"):
    g = circuit_to_graph(c)
    return [compact_sequence(vocab.encode(euler_tours(g, 1, seed=s)[0], ctype)) for s in range(n)]


def _replay(ids, tables, ctype="opamp1", bodies=True):
    """As a sampler of an op-amp type replays: op-amp rules, FET-body rule, room for the port reserves."""
    return grammar_accepts(ids, tables, max_len=len(ids) + 64, ctype=ctype, sampling=True, bodies=bodies)


def _old(mp):
    for s in SWITCHES:
        mp.setattr(TourGrammar, s, False)


def _both(monkeypatch, f):
    """``f()`` with the relaxations on, then with the session-6 orders."""
    new = f()
    with monkeypatch.context() as mp:
        _old(mp)
        old = f()
    return old, new


def test_tours_that_leave_a_rail_early_are_now_drawable(tables, ota, monkeypatch):
    """The 5T OTA's own tours: the session-6 orders refuse those that pop back from a rail while a MOS
    would still fit; now they are drawable, and none drawable before is refused."""
    tours = _tours(ota, tables.vocab)
    old, new = _both(monkeypatch, lambda: [_replay(ids, tables) for ids in tours])
    assert all(n is None for o, n in zip(old, new, strict=True) if o is None)
    flipped = [o for o, n in zip(old, new, strict=True) if o is not None and n is None]
    assert len(flipped) >= 5
    assert all("after 'VDD'" in o[1] or "after 'VSS'" in o[1] for o in flipped)


def test_a_body_off_its_rail_and_source_is_still_refused(tables, ota):
    """Tours that every other rule accepts (body rule off) are refused with the body rule when M1's body
    is on its drain's node n1 (a signal net), and accepted when it is on its rail (the OTA itself)."""
    for c, ok in ((_with(ota, M1=("n1", "VIN1", "n2", "n1")), False), (ota, True)):
        judged = [ids for ids in _tours(c, tables.vocab) if _replay(ids, tables, bodies=False) is None]
        assert len(judged) >= 5
        accepted = sum(_replay(ids, tables) is None for ids in judged)
        assert accepted == (len(judged) if ok else 0)


def _walks(tables, n, seed, ctype="opamp2", accept=None):
    """Uniform random legal walks sampling an op-amp type (amplifier core off: random walks never build
    one); yields each finished grammar and the devices placed after each rail was left for good."""
    rng = np.random.default_rng(seed)
    for k in range(n):
        gr = TourGrammar(tables, (150, 250)[k % 2], ctype=ctype, sampling=True, accept=accept)
        late = []
        while not gr.done and not gr.failed:
            tok = int(rng.choice(np.flatnonzero(gr.mask())))
            kind = tables.types[tables.dtype[tok]] if tables.kind[tok] in (3, 4) and not gr.exists[tok] else ""
            for rail, ty in ((tables.vss, "NM"), (tables.vdd, "PM")):
                if kind == ty and gr.closed[rail]:
                    late.append(ty)
            gr.step(tok)
        yield gr, late


def _stray_bodies(tables, seeds) -> tuple[int, int, list]:
    """(finished walks, walks with a body off its rail and its own source, devices placed late) over ``seeds``."""
    ended = astray = 0
    late_all: list = []
    for seed in seeds:
        for gr, late in _walks(tables, 24, seed=seed):
            late_all += late
            if gr.failed:
                continue
            ended += 1
            astray += any(tables.is_body[b] and gr.comp_port[b] != tables.body_rail[b]
                          and gr._find(b) != gr._find(int(tables.src_pin[b]))
                          for d in gr.devices for b in tables.pins_of[d])
    return ended, astray, late_all


def test_rails_left_early_place_no_late_mos(tables, monkeypatch):
    """Random walks with the rail relaxation (the worst case: no model): no MOS of a closed rail's polarity
    is ever placed, and most walks finish."""
    monkeypatch.setattr(AmpRules, "CORE_REQUIRED", ())
    ended, _, late = _stray_bodies(tables, (3, 4, 5, 6))
    assert late == [] and ended >= 20


@pytest.mark.slow
def test_rails_left_early_still_take_every_body(tables, monkeypatch):
    """Bodies end on their rail or their source as often with the rail relaxation as with the session-6 orders
    (the body rule keeps its fallback: a body with no legal move of its own goes elsewhere and the validity
    rules judge it). Measured on 20 seeds of 24 random walks: 22 of 147 finished walks with the relaxation,
    19 of 145 with the session-6 orders (the 4 seeds this test once used gave 3 of 35 and 1 of 29 by chance:
    13 % over 40 seeds before the session-11 inductor-loop rule)."""
    from eda.graphs.grammar_roles import RoleRules

    monkeypatch.setattr(AmpRules, "CORE_REQUIRED", ())
    seeds = range(3, 23)
    ended, astray, late = _stray_bodies(tables, seeds)
    monkeypatch.setattr(RoleRules, "RAIL_LEAVE", False)
    ended6, astray6, _ = _stray_bodies(tables, seeds)
    assert late == [] and ended >= 100 and ended6 >= 100
    assert astray / ended <= astray6 / ended6 + 0.06 and astray / ended <= 0.2, (astray, ended, astray6, ended6)


def test_ports_opened_early_still_end_with_an_input_to_output_path(tables, ota):
    """Ports may now open anywhere, so the input-to-output path (``io_path``) rests on the final judge of
    ``<eos>`` (the validity rules, as the sampler has them): an OTA whose output hangs on its own bias
    branch (M6 on VB2), no path from an input, is complete but not closable; the OTA itself is."""
    m1 = next(d for d in ota.devices if d.name == "M1")
    cut = _with(ota, M2=("n3", "VIN2", "n2", "VSS"), M5=("n3", "n1", "VDD", "VDD"))
    cut = replace(cut, devices=[*cut.devices, replace(m1, name="M6", nodes=("VOUT1", "VB2", "VSS", "VSS"))])
    for c, ok in ((cut, False), (ota, True)):
        assert bool([r for r in rule_violations(c) if r[0] == "io_path"]) is not ok
        ids = _tours(c, tables.vocab, n=1)[0]
        g = TourGrammar(tables, len(ids) + 64, lenient=True)
        for tok in ids[3:-1]:
            g.step(tok)
        g.lenient, g.accept = False, rules_accept  # (the complete circuit, judged as a sampler judges it)
        assert g.closable() is ok


def test_other_types_and_unconditioned_replays_are_unchanged(tables, ota, monkeypatch):
    """The relaxations hold only while sampling an op-amp type: replays without a type, of a non-op-amp
    type, or not sampling answer exactly as before."""
    c = _with(ota, M1=("n1", "VIN1", "n2", "n2"), M2=("VOUT1", "VIN2", "n2", "n2"))
    cases = [(ids, ct, smp) for ct in (None, "ldo") for ids in _tours(c, tables.vocab, n=12, ctype=ct)
             for smp in (True, False)] + [(ids, "opamp1", False) for ids in _tours(ota, tables.vocab, n=12)]
    old, new = _both(monkeypatch, lambda: [
        grammar_accepts(ids, tables, max_len=len(ids) + 64, ctype=ct, sampling=smp, bodies=True)
        for ids, ct, smp in cases])
    assert new == old


def test_the_specialists_own_tours_are_drawable_more_often(monkeypatch):
    """The shipped op-amp specialist's first 100 op-amp training tours (compact, as trained), replayed as
    its sampler draws them: the session-6 orders accept 10, now 40, and none accepted before is refused
    (all 555: 52 -> 211, ``bench_grammar_amp.tour_replay``)."""
    from eda.generators.topology_checkpoint import load_checkpoint, training_types

    if not SPECIALIST.is_file():
        pytest.skip("no op-amp specialist shipped")
    _, vocab, ck = load_checkpoint(SPECIALIST)
    tab = VocabTables(vocab)
    flat, off = ck["train_tours"].tolist(), ck["train_offsets"].tolist()
    types = training_types(ck)
    seqs = [compact_sequence(flat[a:b]) for k, (a, b) in enumerate(zip(off[:-1], off[1:], strict=True))
            if types[k] in TourGrammar.AMP_ROLE_TYPES][:100]
    old, new = _both(monkeypatch, lambda: [
        grammar_accepts(s, tab, sampling=True, bodies=True, ctype="opamp") is None for s in seqs])
    assert not any(o and not n for o, n in zip(old, new, strict=True))
    assert sum(old) == 10 and sum(new) == 40
