"""Op-amp specialist of the topology GPT: fine-tuning on a subset of types (`eda topo train --types`)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest
import torch
from typer.testing import CliRunner

from eda.cli.topo import app
from eda.errors import InputError
from eda.generators.topology_checkpoint import (
    BASE_FILE,
    GENERAL_FILE,
    OPAMP_FILE,
    checkpoint_for,
    checkpoint_id,
    load_checkpoint,
    training_types,
)
from eda.generators.topology_gpt import GPTConfig
from eda.generators.topology_train import (
    OPAMP_FAMILY,
    TrainParams,
    drawable_sets,
    load_training_topologies,
    parse_types,
    train,
)

TINY = GPTConfig(n_layer=1, n_head=2, n_embd=32, block_size=400, length_embed=True)


def test_parse_types_expands_the_family_and_refuses_unknown_names():
    assert parse_types(None) is None
    assert parse_types("opamp1, ldo,opamp1") == ("opamp1", "ldo")
    assert parse_types("opamp-family") == OPAMP_FAMILY
    assert parse_types("bandgap,opamp-family")[0] == "bandgap" and len(parse_types("bandgap,opamp-family")) == 6
    with pytest.raises(InputError, match="unknown type 'opamp3'"):
        parse_types("opamp1,opamp3")
    with pytest.raises(InputError, match="no type"):
        parse_types(" , ")


def test_loader_keeps_only_the_asked_types():
    every = Counter(t.ctype for t in load_training_topologies("builtin"))
    got = load_training_topologies("builtin", types=("opamp1", "opamp2"))
    assert Counter(t.ctype for t in got) == {k: every[k] for k in ("opamp1", "opamp2")}
    assert len(every) > 4 and len(got) < sum(every.values())  # the filter removed something


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    lib = load_training_topologies("builtin")[::4]
    path = tmp_path_factory.mktemp("m") / "base.pt"
    train(lib, TINY, TrainParams(steps=2, tours=1, batch_tokens=2048, threads=1), progress=False, checkpoint=path)
    return path


def test_cli_fine_tune_sees_only_the_asked_types(base, tmp_path):
    out = tmp_path / "spec.pt"
    r = CliRunner().invoke(app, ["train", "--compose", "0", "--steps", "2", "--tours", "1", "--init", str(base),
                                 "--types", "telescopic,folded_cascode", "--lr", "1e-4", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "of types telescopic, folded_cascode" in r.output
    _, _, ck = load_checkpoint(out)
    seen = Counter(training_types(ck))
    assert set(seen) == {"telescopic", "folded_cascode"}, seen  # training (and validation) circuits
    assert ck["meta"]["data"]["types"] == ["telescopic", "folded_cascode"]
    _, _, ck0 = load_checkpoint(base)
    assert len(set(training_types(ck0))) > 2  # the base saw other types


def test_cli_refuses_a_type_without_circuits(base, tmp_path):
    r = CliRunner().invoke(app, ["train", "--compose", "0", "--steps", "1", "--init", str(base),
                                 "--types", "pll", "--out", str(tmp_path / "x.pt")])
    assert r.exit_code != 0 and isinstance(r.exception, InputError) and "no training circuit" in str(r.exception)


def test_checkpoint_for_picks_the_specialist_for_op_amp_types_only(tmp_path):
    (tmp_path / GENERAL_FILE).write_bytes(b"general")
    for t in ("ldo", "bandgap", None, "amplifier"):
        assert checkpoint_for(t, tmp_path) == tmp_path / GENERAL_FILE
    assert checkpoint_for("opamp1", tmp_path) == tmp_path / GENERAL_FILE  # no specialist shipped: the general
    (tmp_path / OPAMP_FILE).write_bytes(b"opamp")
    for t in OPAMP_FAMILY:
        assert checkpoint_for(t, tmp_path) == tmp_path / OPAMP_FILE
    for t in ("ldo", "comparator", None):
        assert checkpoint_for(t, tmp_path) == tmp_path / GENERAL_FILE
    assert checkpoint_id(tmp_path / OPAMP_FILE) == {"checkpoint": OPAMP_FILE,
                                                     "sha256": hashlib.sha256(b"opamp").hexdigest()[:8]}


def test_the_shipped_specialist_loads_weights_only_and_was_tuned_on_op_amps_only():
    from eda.paths import PATHS

    path = PATHS.models / OPAMP_FILE
    assert path.stat().st_size < 50e6
    raw = torch.load(path, map_location="cpu", weights_only=True)  # plain tensors, numbers and strings
    base = PATHS.models / BASE_FILE
    assert raw["meta"]["init"]["sha256"] == hashlib.sha256(base.read_bytes()).hexdigest()  # tuned from it
    _, _, ck = load_checkpoint(path)
    assert set(training_types(ck)) == set(OPAMP_FAMILY)
    assert raw["config"] == torch.load(base, map_location="cpu", weights_only=True)["config"]


def test_the_shipped_general_model_is_a_balanced_fine_tune_of_the_base_model():
    """Its chain of fine-tunes (recorded oldest first, each with its checkpoint's sha256) starts at the shipped
    base model, and every step was type-balanced."""
    from eda.paths import PATHS

    general, base = PATHS.models / GENERAL_FILE, PATHS.models / BASE_FILE
    assert general.stat().st_size < 50e6 and base.stat().st_size < 50e6
    raw = torch.load(general, map_location="cpu", weights_only=True)
    init = raw["meta"]["init"]
    chain = [a["sha256"] for a in init.get("ancestors", [])] + [init["sha256"]]
    assert chain[0] == hashlib.sha256(base.read_bytes()).hexdigest()
    assert raw["meta"]["train"]["balance"] == 1.0
    assert raw["config"] == torch.load(base, map_location="cpu", weights_only=True)["config"]
    assert hashlib.sha256(general.read_bytes()).digest() != hashlib.sha256(base.read_bytes()).digest()


@pytest.mark.parametrize("ctype, file", [("opamp1", OPAMP_FILE), ("telescopic", OPAMP_FILE), ("ldo", GENERAL_FILE)])
def test_generate_says_which_checkpoint_drew(ctype, file, tmp_path):
    r = CliRunner().invoke(app, ["generate", "--type", ctype, "--n", "2", "--no-simulate", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    from eda.paths import PATHS

    sha = hashlib.sha256((PATHS.models / file).read_bytes()).hexdigest()[:8]
    assert f"{file} (sha256 {sha})" in r.output
    rep = json.loads((tmp_path / "report.json").read_text())
    assert rep["checkpoint"] == file and rep["sha256"] == sha


def test_drawable_sets_keep_only_tours_the_sampling_grammar_accepts():
    from eda.graphs.euler import Vocab, VocabTables, compact_tour, euler_tours
    from eda.graphs.grammar import grammar_accepts
    from eda.graphs.pin_graph import circuit_to_graph
    from eda.read.topology_dataset import load_library

    lib = {t.name: t for t in load_library()}
    ota, mirror = lib["ota_5t"], next(t for t in lib.values() if t.ctype == "current_mirror")
    vocab = Vocab.for_topologies([ota, mirror])
    tables = VocabTables(vocab)
    cand = euler_tours(circuit_to_graph(ota.circuit, ota.ports or None), 24, seed=3)

    def ok(x, ctype):
        e = vocab.encode(x, ctype)
        return grammar_accepts(e[:2] + compact_tour(e[2:-1]) + e[-1:], tables, sampling=True, bodies=True,
                               ctype=ctype) is None

    n_ok = sum(ok(x, "opamp1") for x in cand)
    assert 0 < n_ok < len(cand)  # some orders are drawable, some are not
    kept, dropped = drawable_sets([("opamp1", cand)], vocab, 2)
    assert dropped == 0 and len(kept[0][1]) == min(2, n_ok) and all(ok(x, "opamp1") for x in kept[0][1])
    # a current mirror labelled as an op-amp has no drawable tour under the op-amp rules: left out
    mtours = euler_tours(circuit_to_graph(mirror.circuit, mirror.ports or None), 4, seed=0)
    kept, dropped = drawable_sets([("opamp1", mtours), ("current_mirror", mtours)], vocab, 4)
    assert dropped == 1 and [k[0] for k in kept] == ["current_mirror"]
