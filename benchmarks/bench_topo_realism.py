"""How often generated topologies repeat a device where real circuits do not (issue #16's "what makes a circuit a
circuit", measured; no validity rule names these; since session 16 the sampling grammar never completes a passive
across two nets one of its kind already joins, ``TourGrammar._no_parallel_passive``).

    .venv/bin/python benchmarks/bench_topo_realism.py [--n 300] [--seed 999] [--data ../shared/analoggenie/Dataset]

Per circuit, three structural facts (``eda.generators.topology_report.repeated_devices``; none is an electrical
rule violation; ``eda topo generate`` reports the same shares in report.json's ``repeated_devices``):

* ``parallel_passive``: two resistors, capacitors or inductors of one kind between the same two nets (one
  element of another value would do);
* ``parallel_fet``: two transistors of one type with every terminal on the same nets (one wider device);
* ``dead_end``: an internal net joined only by passives whose other ends all sit on one net (no current can
  flow through them: they could be removed).

Counted on the training circuits (public set + library), on ``n`` rule-clean samples of the shipped general
model (unconditioned) and on the op-amp-type samples of ``bench_sizing.py`` runs (``--pickles``: its cached
``(name, Circuit)`` lists). Writes ``benchmarks/results/topo_realism.json``.
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def samples(n: int, seed: int, ctypes: tuple) -> list:
    """``n`` rule-clean samples of the shipped checkpoint of ``ctypes`` (drawn as ``eda topo generate --type``)."""
    from eda.generators.topology_check import check_circuit
    from eda.generators.topology_checkpoint import checkpoint_for, load_checkpoint, sampling_defaults
    from eda.generators.topology_report import type_inputs
    from eda.generators.topology_sample import sample
    from eda.graphs.pin_graph import graph_to_circuit

    model, vocab, ck = load_checkpoint(checkpoint_for(ctypes[0]))
    out, rnd = [], 0
    while len(out) < n and rnd < 200:
        for t in ctypes:
            for s in sample(model, vocab, 200, seed=seed + 7919 * rnd, ctype=t, jobs=2,
                            **type_inputs(ck, vocab, t), **sampling_defaults(ck)):
                if s.graph is not None and len(out) < n:
                    c = graph_to_circuit(s.graph)
                    if check_circuit(c, run_sim=False).valid:
                        out.append(c)
        rnd += 1
    return out


def main() -> None:
    from eda.generators.topology_checkpoint import OPAMP_FAMILY
    from eda.generators.topology_report import repeat_shares as shares
    from eda.generators.topology_train import load_training_topologies

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=999)
    ap.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "analoggenie" / "Dataset")
    ap.add_argument("--pickles", type=Path, nargs="*", default=[], help="bench_sizing sample caches to count")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "topo_realism.json")
    a = ap.parse_args()
    t0 = time.perf_counter()
    tops = load_training_topologies(a.data if a.data.is_dir() else "builtin", compose=0)
    amps = [t for t in tops if t.ctype in OPAMP_FAMILY]
    res = {"training": shares([t.circuit for t in tops]), "training_opamp_family": shares([t.circuit for t in amps]),
           "general_samples": shares(samples(a.n, a.seed, (None,))),
           "opamp_samples": shares([c for p in a.pickles for _, c, *_ in pickle.loads(p.read_bytes())]),
           "pickles": [p.name for p in a.pickles],
           "seed": a.seed, "data": str(a.data), "seconds": round(time.perf_counter() - t0, 1)}
    for k, v in res.items():
        print(k, v)
    a.out.parent.mkdir(exist_ok=True)
    a.out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
