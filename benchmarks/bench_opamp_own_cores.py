"""Issue #17 experiment: are the op-amp specialist's *own* amplifier cores sizable? Op-amp-type samples drawn
without the op-amp grammar (general sampling rules only: the port roles and the amplifier-core skeleton of
``eda.graphs.grammar_amp`` / ``grammar_core`` switched off), kept afterwards when they have amplifier ports, pass
the validity rules and have an amplifier core (``core_violations`` empty): the circuits the model draws by itself,
not the ones the op-amp rules push it into. Types in the training proportions, as ``bench_sizing.py`` draws them.

    .venv/bin/python benchmarks/bench_opamp_own_cores.py --n 30 --seed 999 --minutes 15 --out /tmp/own_cores.pkl
    .venv/bin/python benchmarks/bench_sizing.py --generated 30 --seed 999 --cpu-budget 25 --gen-budget 90 \\
        --samples-file /tmp/own_cores.pkl --gen-key val999_core_nogrammar_s16

Writes the pickled ``(name, Circuit)`` list and, beside it, a JSON of draws per type: drawn, decoded, with
amplifier ports, valid, with a core. One process (the grammar switch is a class attribute, not passed to workers).
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path

OPAMP_TYPES = ("opamp1", "opamp2", "folded_cascode", "telescopic")


def main() -> None:
    from eda.generators.sizing.roles import find_roles
    from eda.generators.topology_check import check_circuit
    from eda.generators.topology_checkpoint import checkpoint_for, load_checkpoint, sampling_defaults, training_types
    from eda.generators.topology_report import type_inputs
    from eda.generators.topology_sample import sample
    from eda.graphs.grammar import TourGrammar
    from eda.graphs.grammar_core import core_violations
    from eda.graphs.pin_graph import graph_to_circuit

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--seed", type=int, default=999)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--out", type=Path, default=Path("/tmp/own_cores.pkl"))
    a = ap.parse_args()
    TourGrammar.AMP_ROLE_TYPES = ()  # the op-amp grammar off: general sampling rules for every type
    model, vocab, ck = load_checkpoint(checkpoint_for(OPAMP_TYPES[0]))
    counts = {t: training_types(ck).count(t) for t in OPAMP_TYPES}
    want = {t: max(1, round(a.n * c / sum(counts.values()))) for t, c in counts.items()}
    st = {t: dict.fromkeys(("drawn", "decoded", "roles", "valid", "core"), 0) for t in OPAMP_TYPES}
    kw = {t: {"ctype": t, "threads": 2, **type_inputs(ck, vocab, t), **sampling_defaults(ck)} for t in OPAMP_TYPES}
    picked: dict[str, list] = {t: [] for t in OPAMP_TYPES}
    t0, rnd = time.perf_counter(), 0
    while time.perf_counter() - t0 < 60 * a.minutes and any(len(picked[t]) < want[t] for t in OPAMP_TYPES):
        for t in (t for t in OPAMP_TYPES if len(picked[t]) < want[t]):
            s = st[t]
            for smp in sample(model, vocab, 200, seed=a.seed + 7919 * rnd, **kw[t]):
                s["drawn"] += 1
                if smp.graph is None or len(picked[t]) >= want[t]:
                    continue
                s["decoded"] += 1
                c = graph_to_circuit(smp.graph, title=f"generated {t} {len(picked[t])}")
                try:
                    find_roles(c)
                except Exception:  # noqa: BLE001 - no amplifier ports
                    continue
                s["roles"] += 1
                if not check_circuit(c, run_sim=False).valid:
                    continue
                s["valid"] += 1
                if not core_violations(smp.graph):
                    s["core"] += 1
                    picked[t].append(c)
        rnd += 1
        print(f"round {rnd} ({time.perf_counter() - t0:.0f} s):",
              ", ".join(f"{t} {len(picked[t])}/{want[t]} of {st[t]['drawn']}" for t in OPAMP_TYPES), flush=True)
    out = [(f"gen{k:03d}_{t}", c) for k, (t, c) in enumerate((t, c) for t in OPAMP_TYPES for c in picked[t])]
    a.out.write_bytes(pickle.dumps(out))
    a.out.with_suffix(".json").write_text(json.dumps({"want": want, "per_type": st, "seed": a.seed,
                                                      "seconds": round(time.perf_counter() - t0, 1)}, indent=1))
    print(f"kept {len(out)} in {time.perf_counter() - t0:.0f} s -> {a.out}")


if __name__ == "__main__":
    main()
