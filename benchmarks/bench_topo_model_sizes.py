"""CPU sampling cost of larger topology GPTs (for the GPU training recipe, benchmarks/train_topo_gpu.sh): 200 op-amp
draws through the op-amp grammar, as bench_sizing draws them, by the shipped specialist and by untrained models of
the recipe's sizes (the cost per token does not depend on the weights; lengths come from the type's budgets).

    .venv/bin/python benchmarks/bench_topo_model_sizes.py [--n 200] [--threads 2]

Writes benchmarks/results/topo_model_sizes.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent
SIZES = ((3, 128, 4, 1), (4, 192, 4, 1), (6, 256, 8, 2))  # n_layer, n_embd, n_head, n_kv_head


def main() -> None:
    from eda.generators.topology_checkpoint import checkpoint_for, load_checkpoint, sampling_defaults
    from eda.generators.topology_gpt import GPTConfig, TopologyGPT
    from eda.generators.topology_report import type_inputs
    from eda.generators.topology_sample import sample

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "topo_model_sizes.json")
    a = ap.parse_args()
    spec, vocab, ck = load_checkpoint(checkpoint_for("opamp2"))
    kw = {**type_inputs(ck, vocab, "opamp2"), **sampling_defaults(ck)}
    torch.manual_seed(0)
    models = [("shipped specialist", spec)] + [
        (f"{nl}x{ne} untrained", TopologyGPT(GPTConfig(vocab_size=len(vocab), n_layer=nl, n_embd=ne, n_head=nh,
                                                      n_kv_head=kv)).eval()) for nl, ne, nh, kv in SIZES]
    rows = []
    for name, m in models:
        t = time.perf_counter()
        out = sample(m, vocab, a.n, ctype="opamp2", seed=5, threads=a.threads, jobs=1, **kw)
        wall = time.perf_counter() - t
        tokens = sum(len(s.tokens) for s in out)
        rows.append({"model": name, "params_m": round(m.n_params() / 1e6, 2), "draws": a.n, "wall_s": round(wall, 2),
                     "tokens": tokens, "tokens_per_s": round(tokens / wall), "draws_per_s": round(a.n / wall, 1)})
        print(rows[-1], flush=True)
    a.out.parent.mkdir(exist_ok=True)
    a.out.write_text(json.dumps({"rows": rows, "threads": a.threads, "load_avg_1min": os.getloadavg()[0]}, indent=1))


if __name__ == "__main__":
    main()
