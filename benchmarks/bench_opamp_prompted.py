"""Issue #17 experiment: can the op-amp specialist *finish* an amplifier it did not start? Each of every K-th op-amp
of its training set gives a prompt, the first FRACTION of its compact tour; the model completes it N times
(``eda.generators.topology_sample.complete``: the sampling grammar with the op-amp rules and the validity rules, the
checkpoint's temperature and guidance and the type's support; no net-size limits: a prompt's real nets often exceed
the drawn ones, and the grammar would refuse them) and the first completion that is valid, has amplifier
ports and is new (not isomorphic to any circuit either shipped model was trained on, nor to an earlier kept one) is
kept. The prompt itself is held to the structural tour rules only (the sampling rules steer fresh draws and refuse
many real tour orders); every rule applies from its end on.

    .venv/bin/python benchmarks/bench_opamp_prompted.py --fraction 0.5 --every 7 --n 8 --want 25 --seed 999 \\
        --out /tmp/prompted.pkl
    .venv/bin/python benchmarks/bench_sizing.py --generated 25 --seed 999 --cpu-budget 25 --gen-budget 90 \\
        --samples-file /tmp/prompted.pkl --gen-key val999_prompted50_s16

Writes the pickled ``(name, Circuit)`` list and, beside it, a JSON of the counts. Compare with the samples drawn from
``<bos> <type> VSS`` alone (``bench_sizing.py --generated``): the difference is what starting costs.
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path

OPAMP_LABELS = ("opamp1", "opamp2", "folded_cascode", "telescopic", "opamp")


def main() -> None:
    from eda.errors import InputError
    from eda.generators.sizing.roles import find_roles
    from eda.generators.topology_check import check_circuit
    from eda.generators.topology_checkpoint import (
        checkpoint_for,
        load_checkpoint,
        sampling_defaults,
        training_set,
        training_types,
    )
    from eda.generators.topology_report import type_inputs
    from eda.generators.topology_sample import complete
    from eda.graphs.canon import canonical_form
    from eda.graphs.pin_graph import circuit_to_graph, graph_to_circuit
    from eda.graphs.tour import compact_sequence

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fraction", type=float, default=0.5, help="share of each source's compact tour given as the "
                                                                "prompt")
    ap.add_argument("--every", type=int, default=7, help="every K-th op-amp of the training set is a source")
    ap.add_argument("--n", type=int, default=8, help="completions drawn per source")
    ap.add_argument("--want", type=int, default=25)
    ap.add_argument("--seed", type=int, default=999)
    ap.add_argument("--out", type=Path, default=Path("/tmp/prompted.pkl"))
    ap.add_argument("--per-source", type=int, default=1, help="keep up to this many distinct new completions of "
                                                               "each source (default the first)")
    ap.add_argument("--types", default=",".join(OPAMP_LABELS),
                    help="sources of these labels only, comma-separated (default every op-amp label)")
    a = ap.parse_args()
    t0 = time.perf_counter()
    model, vocab, ck = load_checkpoint(checkpoint_for(OPAMP_LABELS[0]))
    refs = set()
    for path in (checkpoint_for(OPAMP_LABELS[0]), checkpoint_for(None)):
        _, v2, ck2 = load_checkpoint(path)
        refs |= training_set(ck2, v2).forms
    flat, off = ck["train_tours"].tolist(), ck["train_offsets"].tolist()
    labels = set(a.types.split(","))
    if not labels <= set(OPAMP_LABELS):
        ap.error(f"--types {a.types}: expected some of {', '.join(OPAMP_LABELS)}")
    sources = [i for i, t in enumerate(training_types(ck)) if t in labels][::a.every]
    defaults = sampling_defaults(ck)
    st = dict.fromkeys(("sources", "prompt_refused", "drawn", "valid", "roles", "new"), 0)
    kept, forms = [], set()
    for k, i in enumerate(sources):
        if len(kept) >= a.want:
            break
        mine = 0
        seq = flat[off[i]:off[i + 1]]
        ctype = vocab.tokens[seq[1]][len("<type:"):-1]
        walk = compact_sequence(seq)[3:-1]  # after <bos> <type> VSS, before <eos>; the stored tours are full
        st["sources"] += 1
        ti = type_inputs(ck, vocab, ctype)
        try:
            got = complete(model, vocab, walk[:int(a.fraction * len(walk))], a.n, ctype=ctype, length=len(seq),
                           seed=a.seed + k, net_sizes=None, support=ti["support"], **defaults)
        except InputError:
            st["prompt_refused"] += 1
            continue
        for s in got:
            st["drawn"] += 1
            if s.graph is None:
                continue
            c = graph_to_circuit(s.graph, title=f"completion of training op-amp {i}")
            if not check_circuit(c, run_sim=False).valid:
                continue
            st["valid"] += 1
            try:
                find_roles(c)
            except Exception:  # noqa: BLE001 - no amplifier ports
                continue
            st["roles"] += 1
            form = canonical_form(circuit_to_graph(c))
            if form in refs or form in forms:
                continue
            st["new"] += 1
            forms.add(form)
            kept.append((f"cmp{len(kept):03d}_{ctype}_src{i}", c))
            mine += 1
            if mine >= a.per_source or len(kept) >= a.want:
                break
        print(f"source {i} ({ctype}): kept {len(kept)}/{a.want}, {st}", flush=True)
    a.out.write_bytes(pickle.dumps(kept))
    a.out.with_suffix(".json").write_text(json.dumps({**st, "fraction": a.fraction, "every": a.every, "n": a.n,
                                                      "seed": a.seed, "seconds": round(time.perf_counter() - t0, 1)},
                                                     indent=1))
    print(f"kept {len(kept)} in {time.perf_counter() - t0:.0f} s -> {a.out}")


if __name__ == "__main__":
    main()
