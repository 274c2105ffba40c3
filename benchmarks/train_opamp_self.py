"""Issue #17 experiment: a round of self-training (expert iteration) of the op-amp specialist. A model's own
op-amp-type samples that met the sizing spec in screening runs of ``bench_sizing.py`` (each a results key and its
seed, drawn on training seeds, never a validation or README seed) join the op-amp family as training circuits, and
``eda topo train`` runs with the arguments after ``--`` (a fine-tune from the shipped specialist). ``--checked KEY``
takes instead (or as well) the samples of a ``screen_opamp_check.py`` run that passed the function check. Each
circuit is added REPEAT times; with ``--hold-mix`` the copies are shared out so that every op-amp type keeps its
share of the family (the bench draws types in the checkpoint's training proportions: without it, a type that meets
more often would gain draws, and the met rate would rise by the mix alone):

    .venv/bin/python benchmarks/bench_sizing.py --generated 300 --seed 5000 --cpu-budget 5 --gen-budget 20 \\
        --gen-key screen5000_s17
    .venv/bin/python benchmarks/train_opamp_self.py --screen screen5000_s17 5000 --repeat 20 -- \\
        --data ../shared/analoggenie/Dataset --types opamp-family --init data/models/topology_gpt_opamp.pt \\
        --out out/s17/opamp_self1.pt --steps 100000 --time-budget 360 --tours 8 --lr 5e-4 --sample-guidance 3 \\
        --threads 2 --val-points 6 --keep-best --workers 2 --save-every 0
    .venv/bin/python benchmarks/bench_sizing.py --generated 150 --seed 5104 --cpu-budget 5 --gen-budget 20 \\
        --checkpoint out/s18/opamp_self3.pt --types opamp2 --gen-key screen5104_self3_opamp2_s18  # (a lagging type)
    .venv/bin/python benchmarks/bench_sizing.py --generated 30 --seed 999 --cpu-budget 25 --gen-budget 90 \\
        --checkpoint out/s17/opamp_self1.pt --gen-key val999_self1_s17

The checkpoint stores the added circuits with its training tours, so ``--checkpoint`` judges novelty against them too.
A screening run's rows that met carry their netlist (library form), so a round can be repeated on a fresh machine
(the sample caches live in the temporary folder); older runs need their cached samples.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter


def copies(met: list[tuple[str, str]], family: Counter, repeat: int, hold_mix: bool) -> dict[str, int]:
    """Copies of each circuit that met (``(name, type)`` pairs): ``repeat`` each, or with ``hold_mix`` the same total
    shared so that each type's copies are in proportion to its share of ``family`` (type counts of the op-amp
    family's real circuits), split evenly among that type's circuits (at least one copy each)."""
    if not hold_mix:
        return {n: repeat for n, _ in met}
    per_type = Counter(t for _, t in met)
    share = {t: family[t] / sum(family[u] for u in per_type) for t in per_type}
    total = repeat * len(met)
    return {n: max(1, round(total * share[t] / per_type[t])) for n, t in met}


def distinct(met: list[tuple[str, str]], circuits: dict) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """``met`` with one circuit per isomorphism class (the first; canonical forms of the pin graphs), and for each
    dropped one the circuit it repeats. A screen of a self-trained model draws its favourite circuits again and
    again (session 26: 13 positives of one screen were 9 circuits, one of them 4 times); copied ``repeat`` times each,
    a repeat would weigh double and the next round would draw it more still (the validation seed's samples that met
    were then copies of positives)."""
    from eda.graphs.canon import canonical_form, repeat_of
    from eda.graphs.pin_graph import circuit_to_graph

    earlier = repeat_of({name: canonical_form(circuit_to_graph(circuits[name])) for name, _ in met})
    return [(n, t) for n, t in met if earlier[n] is None], {n: m for n, m in earlier.items() if m is not None}


def sample_type(name: str) -> str:
    """The op-amp type in a sample's bench name: ``genNNN_<type>`` (drawn) or ``cmpNNN_<type>_srcI`` (a completion of
    training circuit I, ``bench_opamp_prompted.py``)."""
    return re.sub(r"_src\d+$", "", name.split("_", 1)[1])


def checked_positives(key: str, results=None) -> list[tuple[str, str, object]]:
    """``(name, type, circuit)`` of the samples of a ``screen_opamp_check.py`` run (``results``: its results file, by
    default the one it writes) that passed the function check and are new against the training circuits of the
    checkpoint that drew them (a copy of one adds nothing)."""
    import bench_sizing as bs
    from screen_opamp_check import RESULTS, passed

    part = json.loads((results or RESULTS).read_text())[key]
    got = passed(part)
    rows = [r for r, _ in got]
    circuits = {f"{key}_{r['name']}": c for r, c in got}
    was = bs.DRAW["checkpoint"]
    bs.DRAW["checkpoint"] = bs.ROOT.parent / part["model"]["file"]  # novelty against the screened model's circuits
    try:
        new = bs.novelty(circuits)
    finally:
        bs.DRAW["checkpoint"] = was
    out = [(n, r["type"], circuits[n]) for n, r in zip(circuits, rows, strict=True) if new[n]["novel"]]
    print(f"{key}: {len(out)} of {len(rows)} samples that passed the check are new", flush=True)
    return out


def main() -> None:
    import bench_sizing as bs

    import eda.generators.topology_train as tt
    from eda.cli.topo import app
    from eda.read.topology_dataset import parse_topology
    from eda.topology import Topology

    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--screen", nargs=2, action="append", default=[], metavar=("KEY", "SEED"),
                    help="bench_sizing results key of a screening run and its --seed (repeatable)")
    ap.add_argument("--checked", action="append", default=[], metavar="KEY",
                    help="screen_opamp_check.py results key: its samples that passed the function check (repeatable)")
    ap.add_argument("--repeat", type=int, default=20, help="copies of each circuit that met (on average, --hold-mix)")
    ap.add_argument("--hold-mix", action="store_true", help="keep each op-amp type's share of the family")
    a = ap.parse_args(argv[:cut])
    if not a.screen and not a.checked:
        ap.error("give --screen KEY SEED or --checked KEY")
    results = json.loads(bs.RESULTS.read_text()) if a.screen else {}
    met: list[tuple[str, str]] = []
    circuits: dict[str, object] = {}
    for key in a.checked:
        for name, ctype, c in checked_positives(key):
            met.append((name, ctype))
            circuits[name] = c
    for key, seed in a.screen:
        part, samples = results[key], None
        for r in part["rows"]:
            # a copy of a training circuit adds nothing; the type is in the bench's name, genNNN_<type>
            if r.get("met") and r.get("novel", True):
                name = f"{key}_{r['name']}"
                met.append((name, sample_type(r["name"])))
                if "netlist" in r:  # recorded with the row (library form)
                    circuits[name] = parse_topology(r["netlist"], name).circuit
                    continue
                # else from the sample cache, under the run's model, sampler and sampling (--types, --temperature)
                samples = samples or dict(bs._cached_samples(part["n"], int(seed), part["model"]["sha256"],
                                                             part["sampler"], tag=part["sampling"]))
                circuits[name] = samples[r["name"]]
    met, dropped = distinct(met, circuits)
    if dropped:
        print(f"{len(dropped)} positives repeat another and are left out: "
              + ", ".join(f"{n} = {m}" for n, m in dropped.items()), flush=True)
    load = tt.load_training_topologies

    def with_own(*args, **kw) -> list:
        tops = load(*args, **kw)
        family = Counter(t.ctype for t in tops if t.ctype in bs.DRAWABLE_TYPES)
        n_copies = copies(met, family, a.repeat, a.hold_mix)
        print(f"{len(met)} own positives ({dict(Counter(t for _, t in met))}); family {dict(family)}; copies "
              + ", ".join(f"{t} {sum(n_copies[n] for n, u in met if u == t)}" for t in sorted({t for _, t in met})),
              flush=True)
        return tops + [Topology(name=f"{n}_r{k}", circuit=circuits[n], ctype=t, meta={"own_sample": n})
                       for n, t in met for k in range(n_copies[n])]

    tt.load_training_topologies = with_own
    app(["train", *argv[cut + 1:]], standalone_mode=True)


if __name__ == "__main__":
    main()
