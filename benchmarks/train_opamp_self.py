"""Issue #17 experiment: one round of self-training (expert iteration) of the op-amp specialist. The model's own
op-amp-type samples that met the sizing spec in a screening run of ``bench_sizing.py`` (its results key, drawn on a
training seed, never a validation or README seed) join the op-amp family as training circuits, each REPEAT times, and
``eda topo train`` runs with the arguments after ``--`` (a fine-tune from the shipped specialist):

    .venv/bin/python benchmarks/bench_sizing.py --generated 300 --seed 5000 --cpu-budget 5 --gen-budget 20 \\
        --gen-key screen5000_s17
    .venv/bin/python benchmarks/train_opamp_self.py --key screen5000_s17 --seed 5000 --repeat 20 -- \\
        --data ../shared/analoggenie/Dataset --types opamp-family --init data/models/topology_gpt_opamp.pt \\
        --out out/s17/opamp_self1.pt --steps 100000 --time-budget 360 --tours 8 --lr 5e-4 --sample-guidance 3 \\
        --threads 2 --val-points 6 --keep-best --workers 2 --save-every 0
    .venv/bin/python benchmarks/bench_sizing.py --generated 30 --seed 999 --cpu-budget 25 --gen-budget 90 \\
        --checkpoint out/s17/opamp_self1.pt --gen-key val999_self1_s17

The checkpoint stores the added circuits with its training tours, so ``--checkpoint`` judges novelty against them too.
"""

from __future__ import annotations

import argparse
import json
import sys


def main() -> None:
    import bench_sizing as bs

    import eda.generators.topology_train as tt
    from eda.cli.topo import app
    from eda.topology import Topology

    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--key", required=True, help="bench_sizing results key of the screening run")
    ap.add_argument("--seed", type=int, required=True, help="its --seed")
    ap.add_argument("--repeat", type=int, default=20, help="copies of each circuit that met")
    a = ap.parse_args(argv[:cut])
    part = json.loads(bs.RESULTS.read_text())[a.key]
    samples = dict(bs._cached_samples(part["n"], a.seed, part["model"]["sha256"], part["sampler"]))
    met = [r["name"] for r in part["rows"] if r.get("met")]
    own = [Topology(name=f"{n}_r{k}", circuit=samples[n], ctype=n.split("_", 1)[1], meta={"own_sample": a.key})
           for n in met for k in range(a.repeat)]
    print(f"{len(met)} own samples met in {a.key}: {', '.join(met)}; each added {a.repeat} times", flush=True)
    load = tt.load_training_topologies
    tt.load_training_topologies = lambda *args, **kw: load(*args, **kw) + own
    app(["train", *argv[cut + 1:]], standalone_mode=True)


if __name__ == "__main__":
    main()
