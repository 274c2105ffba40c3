"""Topology GPT fine-tuning: type-balanced draws of training tours, starting from a checkpoint."""

from __future__ import annotations

import copy
import hashlib
import random
from collections import Counter

import pytest
import torch
from typer.testing import CliRunner

from eda.cli.topo import app
from eda.errors import InputError
from eda.generators.topology_checkpoint import load_checkpoint
from eda.generators.topology_gpt import GPTConfig
from eda.generators.topology_train import TrainParams, balanced_draw, dropout_probs, train
from eda.graphs.euler import Vocab
from eda.read.topology_dataset import load_library

TINY = GPTConfig(n_layer=1, n_head=2, n_embd=32, block_size=240, length_embed=True)


def test_balanced_draw_evens_out_types():
    types = ["a"] * 900 + ["b"] * 90 + ["c"] * 10
    assert balanced_draw(types, 0.0, 1, random.Random(0)) == list(range(1000))  # natural: every index once
    got = Counter(types[i] for i in balanced_draw(types, 1.0, 1, random.Random(0)))
    assert sum(got.values()) == 1000
    assert all(280 < got[t] < 390 for t in "abc"), got  # ~1/3 each
    half = Counter(types[i] for i in balanced_draw(types, 0.5, 1, random.Random(0)))
    assert got["a"] < half["a"] < 900 and 10 < half["c"] < got["c"]  # in between
    # a tiny type is weighted as if it had `floor` members: not repeated without end
    floored = Counter(types[i] for i in balanced_draw(types, 1.0, 90, random.Random(0)))
    assert floored["c"] < floored["b"] / 5


def test_natural_any_keeps_the_natural_mix_among_dropped_rows():
    types = ["a"] * 900 + ["b"] * 90 + ["c"] * 10
    assert (dropout_probs(types, 1.0, 1, 0.2, False) == 0.2).all()  # off: one rate for all
    assert (dropout_probs(types, 0.0, 1, 0.2, True) == 0.2).all()  # nothing balanced, nothing to undo
    p = dropout_probs(types, 0.5, 1, 0.2, True)
    rng = random.Random(1)
    dropped, kept = Counter(), Counter()
    for _ in range(40):
        for i in balanced_draw(types, 0.5, 1, rng):
            (dropped if rng.random() < p[i] else kept)[types[i]] += 1
    n = sum(dropped.values())
    assert abs(n / (n + sum(kept.values())) - 0.2) < 0.02  # the overall rate stays as asked
    assert all(abs(dropped[t] / n - k / 1000) < 0.02 for t, k in (("a", 900), ("b", 90), ("c", 10))), dropped
    assert kept["c"] / sum(kept.values()) > 0.05  # the conditioned rows stay balanced (natural: 1 %)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    lib = load_library()[::5]
    path = tmp_path_factory.mktemp("m") / "base.pt"
    model, vocab, _ = train(lib, TINY, TrainParams(steps=4, tours=1, batch_tokens=2048, threads=1),
                            progress=False, checkpoint=path)
    return lib, model, vocab, path


def test_fine_tune_starts_from_the_weights(base):
    lib, model, vocab, _ = base
    params = TrainParams(steps=2, tours=1, batch_tokens=2048, threads=1, lr=1e-4, balance=1.0, seed=0)
    start = copy.deepcopy(model)
    start.train()
    tuned, _, hist = train(lib, None, params, vocab=vocab, progress=False, init=start)
    assert tuned is start  # trained in place, same config
    scratch, _, hist0 = train(lib, TINY.model_copy(update={"vocab_size": len(vocab)}), params, vocab=vocab,
                              progress=False)
    # a small learning rate moves the weights little: the fine-tune stays near the base model
    diff = max(float((a - b).abs().max()) for a, b in zip(tuned.state_dict().values(),
                                                          model.state_dict().values(), strict=True))
    assert 0 < diff < 0.01
    assert hist.val_loss[-1][1] < hist0.val_loss[-1][1]  # far below a fresh model's loss


def test_fine_tune_refuses_another_vocabulary(base):
    lib, model, vocab, _ = base
    other = Vocab(list(vocab.tokens)[:-3])
    with pytest.raises(InputError, match="vocabulary"):
        train(lib, None, TrainParams(steps=1, tours=1, threads=1), vocab=other, progress=False,
              init=copy.deepcopy(model))


def test_cli_fine_tune_records_its_start(base, tmp_path):
    _, _, _, path = base
    out = tmp_path / "ft.pt"
    r = CliRunner().invoke(app, ["train", "--compose", "0", "--steps", "2", "--tours", "1", "--init", str(path),
                                 "--balance", "1", "--lr", "1e-4", "--out", str(out)])
    assert r.exit_code == 0, r.output
    _, _, ck = load_checkpoint(out)
    assert ck["meta"]["init"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ck["meta"]["train"]["balance"] == 1.0
    assert ck["config"] == torch.load(path, weights_only=True)["config"]  # the base's shape, not the options'
    r = CliRunner().invoke(app, ["train", "--compose", "0", "--steps", "1", "--balance", "2", "--out", str(out)])
    assert r.exit_code != 0 and "balance" in r.output.lower()
