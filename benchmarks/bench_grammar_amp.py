"""Op-amp rules of the sampling grammar (issue #16 for #17): real op-amps against the rules, and the
shipped model's op-amp-type samples through them.

    .venv/bin/python benchmarks/bench_grammar_amp.py [--n 100] [--seed 321] [--data ../shared/analoggenie/Dataset]
    .venv/bin/python benchmarks/bench_grammar_amp.py --yield-models shipped,CKPT --yield-n 200 --out FILE

Part 1 (real data): AnalogGenie op-amp chapters and the library's op-amps with two inputs and an output,
per rule of :func:`eda.graphs.grammar_amp.amp_violations` (enforced while sampling: ``skeleton=False``;
measured only: the differential pair and signal paths). Part 2 (samples): ``n`` op-amp-type samples picked
as ``bench_sizing`` picks them (type shares of the training set, ``check_circuit`` valid, amplifier roles
found), drawn with each type's training sizes (``lengths``, ``net_sizes``, shipped guidance: as ``eda topo
generate``), in rounds of ``3 * want`` until ``want`` per type; how many were drawn, what the kept ones
are (pair, paths, sizes, ``bench_sizing.structure_flags``). Writes benchmarks/results/grammar_amp.json and,
with ``--save``, the kept circuits as a pickle of (name, Circuit) for ``bench_sizing``.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))


def real_rules(data: Path | None) -> dict:
    from eda.graphs.grammar import TourGrammar
    from eda.graphs.grammar_amp import amp_facts, amp_violations
    from eda.graphs.grammar_core import core_violations
    from eda.graphs.pin_graph import circuit_to_graph, graph_nets
    from eda.read.topology_dataset import load_library, load_topologies

    sets = {"library": [t for t in load_library() if t.ctype in TourGrammar.AMP_ROLE_TYPES]}
    if data is not None and data.is_dir():
        sets["analoggenie"] = [t for t in load_topologies(data) if t.ctype in TourGrammar.AMP_ROLE_TYPES]
    out = {}
    for name, tops in sets.items():
        broken: Counter = Counter()
        n = enforced = every = core_ok = 0
        core_broken: Counter = Counter()
        crowd, pins = [], []
        for t in tops:
            g = circuit_to_graph(t.circuit)
            f = amp_facts(g)
            if f["inputs"] < 2 or f["outputs"] < 1:
                continue
            n += 1
            v = amp_violations(g, f)
            broken.update(v)
            every += not v
            enforced += not amp_violations(g, f, skeleton=False)
            if not amp_violations(g, f, skeleton=False):  # the amplifier core, required at <eos> too
                cv = core_violations(g)
                core_broken.update(cv)
                core_ok += not cv
            crowd.append(f["crowd"])
            pins.append(max((len(p) for port, p in graph_nets(g) if not port), default=0))
        out[name] = {"circuits": n, "pass_enforced": enforced, "pass_all": every, "broken": dict(broken),
                     "pass_enforced_and_core": core_ok, "core_broken": dict(core_broken),
                     "crowd_median": float(np.median(crowd)) if crowd else None,
                     "largest_internal_net_pins": max(pins, default=0)}
        print(f"{name}: {n} op-amps with two inputs and an output; enforced rules pass {enforced}, "
              f"all rules {every}; broken {dict(broken)}; enforced + amplifier core {core_ok} "
              f"(core broken {dict(core_broken)})", flush=True)
    return out


def samples(n: int, seed: int, rounds: int = 20) -> tuple[dict, list]:
    import torch
    from bench_sizing import OPAMP_TYPES
    from sizing_structure import structure_flags

    from eda.generators.sizing.roles import find_roles
    from eda.generators.topology_check import check_circuit
    from eda.generators.topology_checkpoint import (
        checkpoint_for,
        load_checkpoint,
        sampling_defaults,
        training_lengths,
        training_types,
    )
    from eda.generators.topology_sample import sample, training_net_sizes
    from eda.graphs.grammar_amp import amp_facts
    from eda.graphs.pin_graph import graph_to_circuit

    torch.set_num_threads(1)
    model, vocab, ck = load_checkpoint(checkpoint_for(OPAMP_TYPES[0]))  # as bench_sizing (specialist if shipped)
    counts = {t: training_types(ck).count(t) for t in OPAMP_TYPES}
    total = sum(counts.values())
    picked, stats, facts, flags = [], Counter(), Counter(), Counter()
    t0 = time.perf_counter()
    for ctype, cnt in counts.items():
        want, got = max(1, round(n * cnt / total)), 0
        kw = dict(lengths=training_lengths(ck, ctype), net_sizes=training_net_sizes(ck, vocab, ctype),
                  **sampling_defaults(ck))
        for k in range(rounds):
            if got >= want:
                break
            for s in sample(model, vocab, want * 3, ctype=ctype, seed=seed + 1000 * k, **kw):
                stats["drawn"] += 1
                if s.graph is None:
                    stats["failed_rules"] += 1
                    continue
                stats["passed_rules"] += 1
                if got >= want:
                    continue
                c = graph_to_circuit(s.graph, title=f"generated {ctype} {len(picked)}")
                try:
                    find_roles(c)
                except Exception:  # noqa: BLE001 - no amplifier ports: skipped, as bench_sizing does
                    stats["no_roles"] += 1
                    continue
                if not check_circuit(c, run_sim=False).valid:
                    stats["invalid"] += 1
                    continue
                f = amp_facts(s.graph)
                facts["pair"] += f["pair"]
                facts["paths"] += not f["no_path"]
                facts["devices"] += f["devices"]
                flags.update(k2 for k2, v in structure_flags(c).items() if v)
                picked.append((f"gen{len(picked):03d}_{ctype}", c))
                got += 1
        stats[f"kept_{ctype}"] = got
    kept = len(picked)
    res = {"n": kept, "seed": seed, "drawn": stats["drawn"], "stats": dict(stats),
           "yield_of_drawn": round(stats["passed_rules"] / max(1, stats["drawn"]), 4),
           "pair": facts["pair"], "paths_from_every_input_drain": facts["paths"],
           "mean_devices": round(facts["devices"] / max(1, kept), 2), "structure_flags": dict(flags),
           "sampling_wall_s": round(time.perf_counter() - t0, 1)}
    print(f"samples: {kept} kept of {stats['drawn']} drawn ({stats['passed_rules']} passed the op-amp rules); "
          f"pair {facts['pair']}, paths {facts['paths']}, mean devices {res['mean_devices']}, "
          f"structure flags {dict(flags)}", flush=True)
    return res, picked


def type_yield(model: Path | None, n: int, seed: int, types: tuple[str, ...]) -> dict:
    """Per op-amp type, ``n`` draws as ``eda topo generate --type T`` draws them (op-amp grammar with the
    amplifier core, the type's training sizes, the checkpoint's temperature and guidance), through
    :func:`eda.generators.topology_report.generate`: the share passing the grammar (``decoded``), rules,
    rules + ngspice OP (sky130 tt), uniqueness, novelty against the checkpoint's training circuits and
    against the general model's (``novel_vs_general``), device counts."""
    import hashlib

    from eda.generators.topology_checkpoint import load_checkpoint, sampling_defaults, training_set
    from eda.generators.topology_report import GenerateParams, generate
    from eda.graphs.canon import novelty_uniqueness

    m, vocab, ck = load_checkpoint(model)
    path = model or Path(ROOT.parent / "data" / "models" / "topology_gpt.pt")
    _, gvocab, gck = load_checkpoint(None)
    general = training_set(gck, gvocab)
    out = {"model": str(path), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16],
           "n_per_type": n, "seed": seed, **sampling_defaults(ck), "types": {}}
    for ctype in types:
        graphs: list = []
        t0 = time.perf_counter()
        rep = generate(m, vocab, ck, GenerateParams(n=n, ctype=ctype, seed=seed, **sampling_defaults(ck)),
                       graphs=graphs)
        row = {k: rep[k] for k in ("decoded", "rule_clean", "valid", "unique", "novel", "mean_devices",
                                   "max_devices", "n_train_circuits")}
        row["passed"] = round(rep["decoded"] * n)
        row["valid_n"] = len(graphs)
        row["novel_vs_general"] = novelty_uniqueness(graphs, general)["novel"] if graphs else None
        row["failures"] = dict(list(rep["failures"].items())[:6])
        row["seconds"] = round(time.perf_counter() - t0, 1)
        out["types"][ctype] = row
        print(f"{Path(path).name} {ctype}: {row['passed']}/{n} pass the op-amp grammar, valid {row['valid_n']}, "
              f"novel {row['novel']:.2f} (vs general {row['novel_vs_general']}), mean devices "
              f"{row['mean_devices']:.1f}, max {row['max_devices']} ({row['seconds']} s)", flush=True)
    tot = sum(r["passed"] for r in out["types"].values())
    out["pass_rate"] = tot / (n * len(types))
    out["valid_rate"] = sum(r["valid_n"] for r in out["types"].values()) / (n * len(types))
    return out


def tour_replay(model: Path | None) -> dict:
    """The checkpoint's own training tours (compact form, as trained) replayed token by token through the
    sampling grammar (:func:`eda.graphs.grammar.grammar_accepts`): how many a sampler could draw at all,
    under the general sampling rules (``sampling``, FET-body rule), with the op-amp rules and core
    (``ctype=opamp``), without the body rule, and the lenient training grammar; the op-amp rules again with
    the session-9 orders (``RoleRules.RAIL_LEAVE`` and ``IO_LATE`` off); the most frequent first refusals."""
    import re

    from eda.generators.topology_checkpoint import load_checkpoint, training_types
    from eda.graphs.euler import VocabTables, compact_sequence
    from eda.graphs.grammar import TourGrammar, grammar_accepts

    _, vocab, ck = load_checkpoint(model)
    tables = VocabTables(vocab)
    flat, off = ck["train_tours"].tolist(), ck["train_offsets"].tolist()
    types = training_types(ck)
    modes = {"lenient": {"lenient": True}, "sampling": {"sampling": True, "bodies": True},
             "opamp_rules_no_bodies": {"sampling": True, "ctype": "opamp"},
             "opamp_rules": {"sampling": True, "bodies": True, "ctype": "opamp"}}
    out: dict = {"circuits": 0, **{m: 0 for m in modes}}
    why: dict[str, Counter] = {m: Counter() for m in modes}
    for k, (a, b) in enumerate(zip(off[:-1], off[1:], strict=True)):
        if types[k] not in TourGrammar.AMP_ROLE_TYPES:
            continue
        e = flat[a:b]
        seq = compact_sequence(e)
        out["circuits"] += 1
        for m, kw in modes.items():
            r = grammar_accepts(seq, tables, **kw)
            out[m] += r is None
            if r is not None:  # "'PM2_B' after 'PM1_B' is not allowed ..." -> "'PM_B' after 'PM_B'"
                why[m][re.sub(r"\d+", "", r[1].split(" is ")[0])] += 1
    # the op-amp rules with the session-9 orders (before RoleRules.RAIL_LEAVE / IO_LATE)
    saved = {k: getattr(TourGrammar, k) for k in ("RAIL_LEAVE", "IO_LATE")}
    try:
        for k in saved:
            setattr(TourGrammar, k, False)
        out["opamp_rules_session9_orders"] = sum(
            grammar_accepts(compact_sequence(flat[a:b]), tables, **modes["opamp_rules"]) is None
            for k, (a, b) in enumerate(zip(off[:-1], off[1:], strict=True)) if types[k] in TourGrammar.AMP_ROLE_TYPES)
    finally:
        for k, v in saved.items():
            setattr(TourGrammar, k, v)
    out["first_refusal"] = {m: dict(c.most_common(6)) for m, c in why.items()}
    print(f"real op-amp tours replayed through the sampling grammar: {out}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=321)
    ap.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "analoggenie" / "Dataset")
    ap.add_argument("--save", type=Path, default=None, help="pickle of the kept (name, Circuit) samples")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "grammar_amp.json")
    ap.add_argument("--yield-models", default="", help="comma-separated checkpoints ('shipped': the general "
                    "model): per op-amp type draws as `eda topo generate --type T` (only this part; --out)")
    ap.add_argument("--yield-n", type=int, default=200, help="draws per type with --yield-models")
    a = ap.parse_args()
    if a.yield_models:
        from bench_sizing import OPAMP_TYPES

        res = {"replay": tour_replay(Path(a.yield_models.split(",")[-1])),
               "yield": [type_yield(None if p == "shipped" else Path(p), a.yield_n, a.seed, OPAMP_TYPES + ("opamp",))
                         for p in a.yield_models.split(",")]}
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(res, indent=1))
        print(f"wrote {a.out}")
        return
    res = {"real": real_rules(a.data)}
    res["samples"], picked = samples(a.n, a.seed)
    if a.save:
        a.save.write_bytes(pickle.dumps(picked))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=1))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
