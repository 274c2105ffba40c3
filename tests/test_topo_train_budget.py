"""Topology GPT training for a GPU run of unknown speed: a wall-time budget, the best validation weights kept,
tours and grammar masks prepared in worker processes, batch masks unpacked where the model is."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eda.generators import topology_train as tt
from eda.generators.topology_checkpoint import load_checkpoint
from eda.generators.topology_gpt import GPTConfig
from eda.generators.topology_train import TrainParams, train
from eda.graphs.euler import Vocab, VocabTables
from eda.read.topology_dataset import load_library

TINY = GPTConfig(n_layer=1, n_head=2, n_embd=32, block_size=240, length_embed=True)


@pytest.fixture(scope="module")
def lib():
    return load_library()[::4]


def test_workers_prepare_the_same_tours_and_masks(lib):
    one, bad1 = tt.tour_sets(lib, 3, 7)
    two, bad2 = tt.tour_sets(lib, 3, 7, workers=2)
    assert one == two and bad1 == bad2  # topology i draws with seed + i in any process
    vocab = Vocab.for_topologies(lib)
    seqs, _, _, full = tt.encode_topologies(lib, vocab, 3, 7, 240, one)
    tables = VocabTables(vocab)
    a = tt._with_masks(seqs, full, tables, 240)
    b = tt._with_masks(seqs, full, tables, 240, workers=2)
    assert a[0] == b[0] and a[1] == b[1] and a[3] == b[3]
    assert len(a[2]) == len(b[2]) > 20 and all((x == y).all() for x, y in zip(a[2], b[2], strict=True))


def test_batch_masks_unpack_like_numpy():
    rng = np.random.default_rng(0)
    v = 37  # not a multiple of 8: the last byte's spare bits are cut
    rows = [rng.random((n, v)) < 0.4 for n in (5, 9, 3)]
    packed = [np.packbits(r, axis=1) for r in rows]
    got = tt._mask_tensor(packed, [2, 0, 1], 10, v)
    want = np.ones((3, 9, v), bool)  # padding rows allow everything
    for r, i in enumerate([2, 0, 1]):
        want[r, : len(rows[i])] = rows[i]
    assert got.dtype == torch.bool and got.shape == (3, 9, v)
    assert (got.numpy() == want).all()


def test_validation_points_spread_over_the_schedule(lib):
    _, _, hist = train(lib, TINY, TrainParams(steps=10, tours=1, batch_tokens=2048, threads=1, val_points=5),
                       progress=False)
    assert [s for s, _ in hist.val_loss] == [2, 4, 6, 8, 10]
    assert hist.steps_done == 10 and hist.best_step is None


def test_time_budget_ends_the_run_and_records_its_steps(lib, tmp_path):
    p = TrainParams(steps=10**6, time_budget=1.0, tours=1, batch_tokens=2048, threads=1, val_points=3)
    _, _, hist = train(lib, TINY, p, progress=False, checkpoint=tmp_path / "t.pt")
    assert 1 <= hist.steps_done < 10**6
    assert 1 <= len(hist.val_loss) <= 4 and hist.val_loss[-1][0] == hist.steps_done  # the last step is validated
    _, _, ck = load_checkpoint(tmp_path / "t.pt")
    assert ck["meta"]["steps_done"] == hist.steps_done and ck["meta"]["train"]["time_budget"] == 1.0


def test_keep_best_ends_with_the_lowest_validation_weights(lib, tmp_path, monkeypatch):
    losses = iter([3.0, 1.0, 2.0, 2.5])  # the second evaluation (step 4 of 8) is the best
    seen: list[dict] = []

    def scripted(model, *a, **k):
        seen.append({n: w.detach().clone() for n, w in model.state_dict().items()})
        return next(losses)

    monkeypatch.setattr(tt, "evaluate", scripted)
    p = TrainParams(steps=8, tours=1, batch_tokens=2048, threads=1, val_points=4, keep_best=True, lr=5e-3)
    model, _, hist = train(lib, TINY, p, progress=False, checkpoint=tmp_path / "b.pt")
    assert [s for s, _ in hist.val_loss] == [2, 4, 6, 8] and hist.best_step == 4
    state = model.state_dict()
    assert all(torch.equal(state[n], w) for n, w in seen[1].items())  # step 4's weights, not step 8's
    assert not all(torch.equal(state[n], w) for n, w in seen[3].items())
    _, _, ck = load_checkpoint(tmp_path / "b.pt")
    assert ck["meta"]["history"]["best_step"] == 4
    saved = ck["state_dict"]["tok.weight"].float()
    assert torch.allclose(saved, seen[1]["tok.weight"].half().float())


def test_cli_takes_the_budget_options(tmp_path):
    from typer.testing import CliRunner

    from eda.cli.topo import app

    out = tmp_path / "c.pt"
    r = CliRunner().invoke(app, ["train", "--compose", "0", "--steps", "100000", "--time-budget", "1", "--tours", "1",
                                 "--n-layer", "1", "--n-embd", "32", "--n-head", "2", "--val-points", "2",
                                 "--keep-best", "--dropout", "0.1", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert " steps, " in r.output
    _, _, ck = load_checkpoint(out)
    assert ck["config"]["dropout"] == 0.1 and ck["meta"]["train"]["keep_best"] is True
    assert ck["meta"]["steps_done"] < 100000
    r = CliRunner().invoke(app, ["train", "--compose", "0", "--time-budget", "0", "--out", str(out)])
    assert r.exit_code != 0 and "time-budget" in r.output

