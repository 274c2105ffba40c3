"""Completing a tour prefix with the shipped op-amp specialist (``topology_sample.complete``, issue #17's
"can the model finish an amplifier it did not start" experiment, ``benchmarks/bench_opamp_prompted.py``)."""

from __future__ import annotations

import json

import pytest

from eda.errors import InputError
from eda.generators.topology_checkpoint import (
    checkpoint_for,
    load_checkpoint,
    sampling_defaults,
    training_set,
    training_types,
)
from eda.generators.topology_sample import complete
from eda.graphs.tour import compact_sequence


@pytest.fixture(scope="module")
def specialist():
    return load_checkpoint(checkpoint_for("opamp1"))


def _prompt(ck, label: str = "opamp1", fraction: float = 0.5):
    """The first ``fraction`` of each compact training tour of ``label``, with its full length."""
    flat, off = ck["train_tours"].tolist(), ck["train_offsets"].tolist()
    for i, t in enumerate(training_types(ck)):
        if t == label:
            walk = compact_sequence(flat[off[i]: off[i + 1]])[3:-1]
            yield walk[: int(fraction * len(walk))], off[i + 1] - off[i]


def test_every_training_prompt_is_accepted(specialist):
    """A real circuit's tour is held to the structural rules only: every op-amp training tour's half is a prompt."""
    model, vocab, ck = specialist
    for k, (prompt, length) in enumerate(_prompt(ck, "telescopic")):
        assert complete(model, vocab, prompt, 1, ctype="telescopic", length=length, seed=k)


def test_completions_keep_the_prompt_and_follow_the_rules(specialist):
    model, vocab, ck = specialist
    prompt, length = next(_prompt(ck))
    got = complete(model, vocab, prompt, 4, ctype="opamp1", length=length, seed=3, **sampling_defaults(ck))
    head = [vocab.tokens[t] for t in prompt]
    assert len(got) == 4
    for s in got:
        assert s.tokens[:3] == ["<bos>", "<type:opamp1>", "VSS"] and s.tokens[3:3 + len(head)] == head
        assert (s.graph is None) != (s.error is None)
    assert any(s.graph is not None for s in got)
    # the same seed draws the same completions
    again = complete(model, vocab, prompt, 4, ctype="opamp1", length=length, seed=3, **sampling_defaults(ck))
    assert [s.tokens for s in again] == [s.tokens for s in got]


def test_a_prompt_the_grammar_refuses_is_a_clear_error(specialist):
    model, vocab, _ = specialist
    # a port straight after VSS: a net never joins two ports (a structural rule, held even for a prompt)
    with pytest.raises(InputError, match=r"prompt token 1 \('VDD'\) is not a valid continuation"):
        complete(model, vocab, [vocab.index["VDD"]], 2, ctype="opamp1", length=200)
    with pytest.raises(InputError, match="leaves no room"):
        complete(model, vocab, [vocab.index["NM1_S"]] * 10, 2, ctype="opamp1", length=12)


def test_vary_keeps_only_new_valid_variants(specialist, tmp_path):
    """Variants of a library two-stage op-amp: valid, not the circuit itself, not a training circuit, no repeats;
    the CLI writes them with a report; a share outside (0, 1) is refused."""
    from typer.testing import CliRunner

    from eda.cli.topo import app
    from eda.generators.topology_check import check_circuit
    from eda.generators.topology_vary import vary
    from eda.graphs.canon import GraphSet
    from eda.graphs.pin_graph import circuit_to_graph
    from eda.paths import PATHS
    from eda.read.topology_dataset import read_netlist_topology

    model, vocab, ck = specialist
    path = PATHS.topologies / "opamp2" / "twostage_miller.cir"
    src = read_netlist_topology(path).circuit
    res = vary(model, vocab, ck, src, 3, keep=0.5, ctype="opamp2", seed=0, **sampling_defaults(ck))
    assert len(res.circuits) == 3 and res.drawn >= res.valid >= 3
    assert res.valid == 3 + res.same_as_source + res.in_training + res.repeats
    train, kept = training_set(ck, vocab), GraphSet()
    for _, c in res.circuits:
        g = circuit_to_graph(c)
        assert check_circuit(c, run_sim=False).valid and g not in train and g not in GraphSet([circuit_to_graph(src)])
        assert kept.add(g)
    r = CliRunner().invoke(app, ["vary", str(path), "--n", "2", "--no-simulate", "--pdk", "generic",
                                 "--out", str(tmp_path / "v")])
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "v" / "report.json").read_text())
    assert rep["written"] == 2 and all((tmp_path / "v" / f).is_file() for f in rep["files"])
    bad = CliRunner().invoke(app, ["vary", str(path), "--keep", "1.5", "--out", str(tmp_path / "w")])
    assert bad.exit_code != 0 and "keep" in bad.output


def test_vary_names_the_file_of_a_circuit_that_does_not_encode(tmp_path):
    from typer.testing import CliRunner

    from eda.cli.topo import app

    bad = tmp_path / "novss.sp"
    bad.write_text("* no supply\nR1 a b 1k\n.end\n")
    r = CliRunner().invoke(app, ["vary", str(bad), "--n", "1", "--out", str(tmp_path / "v")])
    # (the sub-app leaves the message to the main CLI's handler: the exception carries it)
    assert r.exit_code == 1 and "novss.sp: cannot vary this circuit" in str(r.exception) and "VSS" in str(r.exception)
