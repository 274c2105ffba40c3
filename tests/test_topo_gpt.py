"""Topology GPT: tiny training, checkpoints, grammar-constrained sampling, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from typer.testing import CliRunner

from eda.cli.topo import app
from eda.errors import InputError
from eda.generators.topology_checkpoint import load_checkpoint, training_graphs, training_lengths
from eda.generators.topology_gpt import GPTConfig, TopologyGPT
from eda.generators.topology_report import GenerateParams, generate
from eda.generators.topology_sample import LENGTH_SLACK, _shrink_cache, draw_budgets, sample
from eda.generators.topology_train import TrainParams, encode_topologies, grammar_masks, train
from eda.graphs.euler import VocabTables, sequence_to_graph
from eda.graphs.pin_graph import circuit_to_graph, graphs_isomorphic
from eda.read.topology_dataset import load_library

TINY = GPTConfig(n_layer=1, n_head=2, n_embd=32, block_size=240, length_embed=True)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    lib = load_library()[::4]
    path = tmp_path_factory.mktemp("m") / "tiny.pt"
    model, vocab, hist = train(lib, TINY, TrainParams(steps=6, tours=2, batch_tokens=2048, threads=1),
                               progress=False, checkpoint=path)
    ck = torch.load(path, weights_only=True)
    return lib, model, vocab, hist, ck, path


def test_training_runs_and_loss_drops(tiny):
    _, model, _, hist, _, _ = tiny
    assert len(hist.train_loss) == 6 and len(hist.val_loss) >= 2
    # the same held-out circuits score better after training (batch losses are too noisy)
    assert hist.val_loss[-1][1] < hist.val_loss[0][1]


def test_kv_cache_matches_full_forward(tiny):
    _, model, vocab, _, _, _ = tiny
    x = torch.randint(3, len(vocab), (2, 12))
    budget = torch.tensor([100, 9])  # (the second runs past its budget: clamped at 0 left)
    with torch.no_grad():
        full = model(x, budget=budget)
        caches = model.new_cache(2, 12)
        step = [model(x[:, :5], caches, 0, budget)]
        for i in range(5, 12):
            step.append(model(x[:, i:i + 1], caches, i, budget, ctype=x[:, 1]))
        assert torch.allclose(full, torch.cat(step, dim=1), atol=1e-5)
        # the budget is an input: another budget, other logits
        assert not torch.allclose(full, model(x, budget=torch.tensor([50, 50])), atol=1e-4)
        # the type reaches every position (type_embed), not only through the token at position 1
        assert model.config.type_embed
        other = x[:, 1].flip(0) if x[0, 1] != x[1, 1] else x[:, 1] + 1
        late = model(x[:, 5:6], model.new_cache(2, 12), 0, budget, ctype=other)
        assert not torch.allclose(late, model(x[:, 5:6], model.new_cache(2, 12), 0, budget, ctype=x[:, 1]), atol=1e-4)
        with pytest.raises(InputError, match="type token"):
            model(x[:, 5:6], caches, 5, budget)


def test_checkpoint_round_trip_weights_only(tiny, tmp_path):
    lib, model, vocab, _, ck, path = tiny
    m2, v2, ck2 = load_checkpoint(path)
    assert v2.tokens == vocab.tokens and m2.config == model.config
    graphs = training_graphs(ck2, v2)
    # every training circuit that fit is recorded, as the same graph
    assert len(graphs) == ck["train_offsets"].numel() - 1 > 0
    assert any(graphs_isomorphic(graphs[0], circuit_to_graph(t.circuit)) for t in lib)
    bad = tmp_path / "bad.pt"
    torch.save({"format": "other"}, bad)
    with pytest.raises(InputError, match="not a topology-GPT"):
        load_checkpoint(bad)
    with pytest.raises(InputError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_grammar_sampling_always_decodes(tiny):
    _, model, vocab, _, _, _ = tiny
    out = sample(model, vocab, 12, grammar=True, batch_size=6, seed=1, max_len=200)
    assert all(s.graph is not None for s in out), [s.error for s in out]
    assert all(len(s.tokens) <= 200 for s in out)
    free = sample(model, vocab, 6, grammar=False, batch_size=6, seed=1, max_len=120)
    assert len(free) == 6  # free sampling may fail to decode; each failure carries its reason
    assert all(s.graph is not None or s.error for s in free)


def test_sampling_rejects_bad_args(tiny):
    _, model, vocab, _, _, _ = tiny
    for t in (0, float("nan"), float("inf")):
        with pytest.raises(InputError, match="temperature"):
            sample(model, vocab, 1, temperature=t)
    with pytest.raises(InputError, match="not in the model's vocabulary"):
        sample(model, vocab, 1, ctype="toaster")


def test_generate_report(tiny, tmp_path):
    _, model, vocab, _, ck, _ = tiny
    rep = generate(model, vocab, ck, GenerateParams(n=8, batch_size=8, seed=2), tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    for key in ("valid", "unique", "novel", "device_histogram", "failures", "erc_clean", "decoded"):
        assert key in data
    assert rep["decoded"] == 1.0
    assert len(data["files"]) == round(rep["valid"] * 8)
    from eda.sim.ngspice import run_deck

    for f in data["files"]:
        text = (tmp_path / f).read_text()
        assert "sky130_fd_pr__" in text  # sky130 devices through the model library
        assert run_deck(text)[0][1]  # each deck simulates as written


def test_model_size_config():
    with pytest.raises(ValidationError, match="n_embd"):
        GPTConfig(n_embd=30, n_head=4)
    for bad in ({"lr": float("nan")}, {"lr": -1}, {"threads": -1}, {"seed": -1}):
        with pytest.raises(ValidationError, match=next(iter(bad))):
            TrainParams(**bad)
    for t in (float("nan"), float("inf"), 0):
        with pytest.raises(ValidationError, match="temperature"):
            GenerateParams(temperature=t)
    assert TopologyGPT(GPTConfig()).n_params() < 3_000_000


def test_cli_check(tmp_path):
    good = tmp_path / "ota.cir"
    good.write_text("* ota\n*.ports VDD VSS VIN1 VB1 VOUT1\nM1 (VOUT1 VIN1 VSS VSS) nmos4\n"
                    "M2 (VOUT1 VB1 VDD VDD) pmos4\n")
    bad = tmp_path / "7.cir"  # Cadence body form with its port file
    bad.write_text("M1 (VOUT1 VIN1 VSS VSS) nmos4\nM2 (VOUT1 x VDD VDD) pmos4\n")
    (tmp_path / "Port7.txt").write_text("VDD VSS VIN1 VOUT1")
    r = CliRunner().invoke(app, ["check", str(good)])
    assert r.exit_code == 0 and "ok" in r.output
    # a simulation deck (with its own sources) checks too
    from eda.export.to_spice import write_spice
    from eda.generators.topology_check import simulation_deck
    from eda.read.topology_dataset import read_topology

    deck = write_spice(simulation_deck(read_topology(good).circuit), tmp_path / "deck.sp")
    r = CliRunner().invoke(app, ["check", str(deck)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["check", str(good), str(bad)])
    assert r.exit_code == 1 and "internal net x has only 1 pin" in r.output


def test_cli_train_generate(tmp_path):
    ck = tmp_path / "m.pt"
    r = CliRunner().invoke(app, ["train", "--compose", "0", "--steps", "2", "--tours", "1", "--n-layer", "1",
                                 "--n-embd", "32", "--n-head", "2", "--block-size", "240", "--out", str(ck)])
    assert r.exit_code == 0, r.output
    out = tmp_path / "gen"
    r = CliRunner().invoke(app, ["generate", "--n", "4", "--model", str(ck), "--out", str(out), "--no-simulate"])
    assert r.exit_code == 0, r.output
    assert (out / "report.json").is_file()
    kept = len(__import__("json").loads((out / "report.json").read_text())["files"])
    assert f"wrote {kept} SPICE decks" in r.output
    assert ("gallery.png" in r.output) == (kept > 0) == (out / "gallery.png").is_file()
    assert (f"{4 - kept} of 4 samples not kept" in r.output) == (kept < 4)


def test_generate_says_why_samples_were_not_kept():
    from eda.cli.topo import _not_kept

    line = _not_kept(10, 2, {"decode: op-amp skeleton rules broken at the end of the budget: ports": 7,
                              "rule floating_net: internal net X has only 1 pin (floating)": 1})
    assert line.startswith("8 of 10 samples not kept; most often (7): decode: op-amp skeleton")
    assert "--n" in line.splitlines()[1]
    why = "rule floating_net: internal net X has only 1 pin (floating)"
    assert _not_kept(4, 3, {why: 1}) == f"1 of 4 samples not kept; most often (1): {why}"


def test_decode_step_matches_cached_forward(tiny):
    _, model, vocab, _, _, _ = tiny
    x = torch.randint(3, len(vocab), (3, 14))
    budget = torch.tensor([40, 12, 200])
    with torch.inference_mode():
        c1, c2 = model.new_cache(3, 14), model.new_cache(3, 14)
        model(x[:, :4], c1, 0, budget)
        model(x[:, :4], c2, 0, budget)
        for i in range(4, 14):
            ref = model(x[:, i:i + 1], c1, i, budget, x[:, 1])[:, -1]
            assert torch.allclose(model.step(x[:, i], c2, i, budget, x[:, 1]), ref, atol=1e-5)
    with pytest.raises(InputError, match="block_size"):
        model.step(x[:, 0], model.new_cache(3, 14), model.config.block_size)


def test_grammar_masks_cover_training_tours(tiny):
    """The masked loss's masks allow each training token; a corrupted tour is rejected."""
    lib, _, vocab, _, _, _ = tiny
    tables = VocabTables(vocab)
    seqs, canon, skipped, full = encode_topologies(lib[:6], vocab, 2, 0, 240)
    assert seqs and len(full) == len(seqs) and not skipped
    for q, n in zip(seqs, full, strict=True):
        assert len(q) < n  # compact: the walk back to VSS is implied
        m = np.unpackbits(grammar_masks(q, tables, 240), axis=1, count=len(vocab)).astype(bool)
        assert all(m[j, q[j + 1]] for j in range(len(q) - 1))
        assert m[2:].sum(1).min() >= 1 and m[2:].sum() < m[2:].size / 4  # masks do exclude
    bad = list(seqs[0])
    bad[5] = vocab.index["VDD"] if vocab.tokens[bad[5]] != "VDD" else vocab.index["VSS"]
    assert grammar_masks(bad, tables, 240) is None


def test_length_budgets(tiny):
    """Samples stay within their drawn budget (+ slack) and decode; dropping finished rows from
    the batch (and its key/value cache) changes nothing: batches of 5 and of 1 draw alike."""
    _, model, vocab, _, ck, _ = tiny
    lens = training_lengths(ck)
    assert len(lens) == ck["train_offsets"].numel() - 1 and lens.min() > 4
    one = sample(model, vocab, 10, batch_size=5, seed=4, lengths=[60], threads=1)
    assert all(s.graph is not None for s in one), [s.error for s in one]
    assert all(len(s.tokens) <= 60 + LENGTH_SLACK for s in one)
    for s in one:  # the grammar's graph is the strict decoding of the (closed) tokens
        g, _ = sequence_to_graph(s.tokens, strict=True)
        assert {frozenset(e) for e in g.edges} == {frozenset(e) for e in s.graph.edges}
    again = sample(model, vocab, 10, batch_size=5, seed=4, lengths=[60], threads=1)
    assert [s.tokens for s in again] == [s.tokens for s in one]  # seeded
    # classifier-free guidance: twin rows conditioned on <type:any>, still decoding, seeded
    ct = vocab.types[1]
    g1 = sample(model, vocab, 6, ctype=ct, batch_size=3, seed=4, lengths=[40, 90], guidance=2.0)
    g2 = sample(model, vocab, 6, ctype=ct, batch_size=3, seed=4, lengths=[40, 90], guidance=2.0)
    assert all(s.graph is not None for s in g1) and [s.tokens for s in g1] == [s.tokens for s in g2]
    g0 = sample(model, vocab, 6, ctype=ct, batch_size=3, seed=4, lengths=[40, 90])
    assert [s.tokens for s in g0] != [s.tokens for s in g1]
    mixed = sample(model, vocab, 6, batch_size=6, seed=9, lengths=[40, 90, 150])
    assert all(s.graph is not None for s in mixed)
    assert all(len(s.tokens) <= 150 + LENGTH_SLACK for s in mixed)
    # finished rows leave the batch: the shrunk key/value cache gives the kept rows' logits
    x = torch.randint(3, len(vocab), (3, 8))
    budget = torch.tensor([30, 40, 50])
    with torch.inference_mode():
        caches = model.new_cache(3, 20)
        model(x[:, :7], caches, 0, budget)
        full = model.step(x[:, 7], caches, 7, budget, x[:, 1])
        caches = model.new_cache(3, 20)
        model(x[:, :7], caches, 0, budget)
        keep = torch.tensor([0, 2])
        small = _shrink_cache(caches, keep, 7, 12)
        assert torch.allclose(model.step(x[keep, 7], small, 7, budget[keep], x[keep, 1]), full[keep], atol=1e-5)


def test_budgets_follow_the_training_sizes_tail_included():
    """Stratified budgets: n draws cover the distribution's quantiles, the largest circuit's
    slice included, where independent draws would usually miss a 1-in-1000 size."""
    rng = np.random.default_rng(0)
    lengths = np.r_[np.full(999, 100), 900]
    b = draw_budgets(lengths, 1000, rng)
    assert (b == 900).sum() == 1 and (b == 100).sum() == 999 and list(b) == sorted(b)
    b = draw_budgets(np.arange(1, 101), 10, rng)
    assert [(k * 10 < v <= (k + 1) * 10) for k, v in enumerate(b)] == [True] * 10


def _dataset_folder(root):
    """Three circuits in the public layout: one op-amp-chapter circuit, one current mirror with
    a port name outside the known classes, and one that does not parse."""
    root.mkdir()
    (root / "data_categorization.md").write_text("- 1-1: operational amplifiers\n- 2-2: current mirrors\n")
    files = {"1": ("M0 (VOUT1 VIN1 net1 VSS) nmos4\nM1 (VOUT1 VB1 VDD VDD) pmos4\nM2 (net1 VB2 VSS VSS) nmos4\n",
                   "VDD VSS VIN1 VOUT1 VB1 VB2"),
             "2": ("M0 (IIN1 IIN1 VSS VSS) nmos4\nM1 (IOUT1 IIN1 VSS VSS) nmos4\n", "VDD VSS IIN1 IOUT1"),
             "3": ("M0 (VOUT1 VIN1\n", "VDD VSS VIN1 VOUT1")}
    for k, (net, ports) in files.items():
        (root / k).mkdir()
        (root / k / f"{k}.cir").write_text(net)
        (root / k / f"Port{k}.txt").write_text(ports)
    return root


def test_train_on_dataset_folder_with_periodic_checkpoints(tmp_path):
    """A public-layout folder trains with the built-in library: type labels from its chapters,
    the unparsable netlist skipped and named, a checkpoint usable after the first save."""
    from eda.generators.topology_checkpoint import training_types
    from eda.generators.topology_train import load_training_topologies

    errors: list = []
    tops = load_training_topologies(_dataset_folder(tmp_path / "ds"), errors=errors)
    assert [str(f) for f, _ in errors] == [str(tmp_path / "ds" / "3" / "3.cir")]
    assert [t.ctype for t in tops[:2]] == ["opamp", "current_mirror"] and len(tops) > 100
    ck = tmp_path / "m.pt"
    _, vocab, hist = train(tops[:2] + tops[2::20], TINY.model_copy(update={"block_size": 320}),
                           TrainParams(steps=4, tours=1, batch_tokens=1024, val_frac=0, threads=1),
                           progress=False, checkpoint=ck, save_every=2)
    assert "IOUT1" in vocab.index and "<type:opamp>" in vocab.index
    m, v, saved = load_checkpoint(ck)
    assert saved["meta"]["steps_done"] == 4 and v.tokens == vocab.tokens
    assert {"opamp", "current_mirror"} <= set(training_types(saved))
    assert len(training_graphs(saved, v)) == hist.n_train_circuits


def test_cli_refuses_bad_numbers_in_one_line(tmp_path):
    from eda.cli import app as root

    cases = [["topo", "train", "--compose", "-1"], ["topo", "train", "--lr", "-1"], ["topo", "train", "--lr", "nan"],
             ["topo", "train", "--threads", "-1"], ["topo", "train", "--seed", "-1"],
             ["topo", "generate", "--temperature", "nan"], ["topo", "generate", "--temperature", "inf"],
             ["topo", "generate", "--n", "10000000", "--out", str(tmp_path / "g")]]
    for args in cases:
        r = CliRunner().invoke(root, args + ["--out", str(tmp_path / "x.pt")] if args[1] == "train" else args)
        lines = [ln for ln in r.output.splitlines() if ln.strip()]
        assert r.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error:"), (args, r.output)
        assert args[2] in lines[0], (args, lines)


def test_stop_after_gives_the_periodic_checkpoint(tmp_path, monkeypatch):
    """--stop-after N reproduces a full run's step-N checkpoint exactly (what the shipped model
    relies on), and differs from the full run's end."""
    from eda.generators import topology_checkpoint

    saved: dict = {}
    real = topology_checkpoint.save_checkpoint

    def spy(path, model, vocab, tours, meta=None):
        saved[(str(path), meta["steps_done"])] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return real(path, model, vocab, tours, meta)

    monkeypatch.setattr(topology_checkpoint, "save_checkpoint", spy)
    lib = load_library()[::10]
    p = TrainParams(steps=6, tours=1, batch_tokens=1024, threads=1, val_frac=0.1)
    train(lib, TINY, p, progress=False, checkpoint=tmp_path / "full.pt", save_every=3)
    train(lib, TINY, p.model_copy(update={"stop_after": 3}), progress=False, checkpoint=tmp_path / "stop.pt")
    full3, full6 = saved[(str(tmp_path / "full.pt"), 3)], saved[(str(tmp_path / "full.pt"), 6)]
    stop = saved[(str(tmp_path / "stop.pt"), 3)]
    assert all(torch.equal(v, full3[k]) for k, v in stop.items())
    assert not all(torch.equal(v, full6[k]) for k, v in stop.items())
    assert load_checkpoint(tmp_path / "stop.pt")[2]["meta"]["steps_done"] == 3
