"""Topology sampling in several processes (`sample(jobs=N)`, `eda topo generate --jobs`): the
samples do not depend on the number of processes; chunks cover the run and share its work."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eda.errors import InputError
from eda.generators.topology_gpt import GPTConfig, TopologyGPT
from eda.generators.topology_sample import chunk_bounds, sample
from eda.graphs.euler import Vocab


@pytest.fixture(scope="module")
def untrained():
    """A small untrained model: the grammar makes every sample a circuit all the same."""
    torch.manual_seed(0)
    vocab = Vocab.build()
    model = TopologyGPT(GPTConfig(vocab_size=len(vocab), n_layer=1, n_head=2, n_embd=32, block_size=200)).eval()
    return model, vocab


def test_chunks_cover_the_run_and_share_its_work():
    rng = np.random.default_rng(0)
    for n, bs in [(1, 128), (31, 128), (100, 128), (1000, 128), (500, 16)]:
        budgets = np.sort(rng.integers(40, 900, n))
        cb = chunk_bounds(budgets, bs)
        assert cb[0][0] == 0 and cb[-1][1] == n
        assert all(a < b <= a + bs for a, b in cb) and all(x[1] == y[0] for x, y in zip(cb, cb[1:], strict=False))
        k = max(-(-n // bs), min(8, -(-n // 32)))
        # no chunk carries more than its share of the work (beyond one row)
        assert max(budgets[a:b - 1].sum() for a, b in cb) <= budgets.sum() / k + 1e-9
    assert len(chunk_bounds(np.arange(100, 200), 128)) == 4  # small runs still split: 2 processes share them


def test_jobs_give_the_same_samples(untrained):
    model, vocab = untrained
    kw = dict(n=24, batch_size=8, seed=3, lengths=[40, 70, 120], threads=1)
    one, st1 = sample(model, vocab, **kw, jobs=1, stats=(s1 := {})), s1
    two, st2 = sample(model, vocab, **kw, jobs=2, stats=(s2 := {})), s2
    assert st1["processes"] == 1 and st2["processes"] == 2 and st1["chunks"] == st2["chunks"] >= 3
    assert st2["cpu_s"] > 0
    assert all(s.graph is not None for s in one), [s.error for s in one]
    assert [s.tokens for s in two] == [s.tokens for s in one]  # same samples, same order
    assert len({tuple(s.tokens) for s in one}) > 12  # (not one sample repeated)
    # mutation: another seed draws other samples, so the equality above is not vacuous
    other = sample(model, vocab, **{**kw, "seed": 4}, jobs=2)
    assert [s.tokens for s in other] != [s.tokens for s in one]
    with pytest.raises(InputError, match="jobs"):
        sample(model, vocab, 2, jobs=0)


def test_cli_generate_jobs(untrained, tmp_path):
    """`eda topo generate --jobs 2` writes the same decks as one process and says how it sampled."""
    import json

    from typer.testing import CliRunner

    from eda.cli.topo import app
    from eda.generators.topology_checkpoint import save_checkpoint
    from eda.generators.topology_train import encode_topologies
    from eda.read.topology_dataset import load_library

    model, vocab = untrained
    _, canon, _, _ = encode_topologies(load_library()[:40:4], vocab, 1, 0, 200)
    ck = save_checkpoint(tmp_path / "m.pt", model, vocab, canon)
    decks = {}
    for j in (1, 2):
        out = tmp_path / f"j{j}"
        r = CliRunner().invoke(app, ["generate", "--n", "40", "--model", str(ck), "--no-simulate", "--pdk", "generic",
                                     "--jobs", str(j), "--seed", "2", "--out", str(out)])
        assert r.exit_code == 0, r.output
        rep = json.loads((out / "report.json").read_text())
        assert rep["sampling"]["processes"] == j and rep["sampling"]["cpu_s"] > 0
        assert (rep["sampling"]["worker_cpu_s"] > 0) == (j > 1)
        decks[j] = {p.name: p.read_text() for p in out.glob("gen_*.sp")}
    assert decks[1] and decks[1] == decks[2]


def test_net_sizes_of_the_requested_type(untrained, tmp_path):
    """Conditioned sampling draws net-size limits from the requested type's circuits only."""
    from collections import Counter

    from eda.generators.topology_checkpoint import save_checkpoint, training_types
    from eda.generators.topology_sample import training_net_sizes
    from eda.generators.topology_train import encode_topologies
    from eda.read.topology_dataset import load_library

    model, vocab = untrained
    _, canon, _, _ = encode_topologies(load_library()[::3], vocab, 1, 0, 200)
    ck = torch.load(save_checkpoint(tmp_path / "m.pt", model, vocab, canon), weights_only=True)
    types = Counter(t for t in training_types(ck) if t)
    every = training_net_sizes(ck, vocab)
    t = next(t for t, k in types.items() if k >= 2)
    mine = training_net_sizes(ck, vocab, t)
    assert 0 < len(mine) < len(every) and not Counter(mine) - Counter(every)  # a part of the whole
    assert len(training_net_sizes(ck, vocab, "no_such_type")) == len(every)  # unknown type: all
