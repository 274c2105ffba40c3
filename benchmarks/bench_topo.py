"""Topology generation benchmark of the shipped model against the targets of issue #16.

One run of ``--n`` (1,000) samples at the shipped temperature, grammar-constrained, in ``--jobs``
(2) processes of ``--threads`` (1) torch threads each: every decoded circuit is checked by the validity rules
(:mod:`eda.generators.topology_check`) and every rule-clean one by an ngspice operating point
with the sky130 tt models; novelty against the model's own training circuits and uniqueness are
exact (canonical forms, :mod:`eda.graphs.canon`). Sizes and device types are compared with the
training circuits (also checked against every rule, so a rule that rejects real circuits
shows). Type conditioning: for every type with at least ``--min-type`` labelled training
circuits, ``--n-type`` conditioned samples are labelled by a linear SVM over WL subtree
features fitted on the labelled training circuits (``LinearTypeClassifier``; its own accuracy on
held-out training circuits, 5-fold cross-validation, is reported beside); the accuracy is the
share of rule-clean conditioned samples labelled as the requested type. Prints a table, saves
``benchmarks/results/topo.json`` and ``benchmarks/figures/topo_devices.png`` (device counts and
device types, generated vs training) and ``topo_gallery.png``. Speed: the same ``--speed-n`` (300)
samples at 1 and at 2 processes, each twice (1, 2, 2, 1: the shared machine's load drifts), in the
same run, with the load average around each (``speed`` in the JSON; ``--speed-only`` reruns it).

Usage: ``.venv/bin/python benchmarks/bench_topo.py [--n 1000] [--model CKPT] [--no-simulate]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Targets of issue #16 (checked and printed; never asserted).
TARGETS = {"valid": 0.98, "novel": 0.99, "unique": 0.99, "mean_devices_rel": 0.10, "max_devices": 63,
           "type_accuracy": 0.90, "valid_per_s": 20.0}


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="samples of the main run")
    ap.add_argument("--n-type", type=int, default=24, help="samples per conditioned type")
    ap.add_argument("--sim-n", type=int, default=None, help="ngspice on at most this many rule-clean samples, spread "
                                                            "evenly (default: all)")
    ap.add_argument("--min-type", type=int, default=30, help="labelled training circuits a type needs to be measured")
    ap.add_argument("--model", default=None, help="checkpoint (default: the shipped model)")
    ap.add_argument("--temperature", type=float, default=None, help="default: the checkpoint's shipped temperature")
    ap.add_argument("--guidance", type=float, default=None, help="type guidance (default: the checkpoint's)")
    ap.add_argument("--type-weight", type=float, default=None, help="weight of the type preference of conditioned "
                    "samples (default: the shipped topology_support.TYPE_WEIGHT; 0: the support alone)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads while sampling (per process)")
    ap.add_argument("--no-simulate", action="store_true", help="skip ngspice (rules only)")
    ap.add_argument("--jobs", type=int, default=2, help="sampling processes of every run (this one and N-1 workers; "
                                                        "the samples do not depend on N)")
    ap.add_argument("--speed-n", type=int, default=300, help="samples of each run of the speed comparison (0: none)")
    ap.add_argument("--speed-jobs", default="1,2", help="process counts the speed comparison runs, each twice "
                                                        "(in order, then in reverse, to even out the machine's drift)")
    ap.add_argument("--out", default=str(HERE / "results" / "topo.json"))
    ap.add_argument("--types-only", action="store_true", help="rerun only the type conditioning and update --out")
    ap.add_argument("--speed-only", action="store_true", help="rerun only the speed comparison and update --out")
    ap.add_argument("--guidance-sweep", default=None, help="only sweep these guidance weights (e.g. 0,1,3,5) on "
                    "validation seeds and write benchmarks/results/topo_guidance.json")
    ap.add_argument("--sweep-n", type=int, default=16, help="conditioned samples per type and weight of the sweep")
    ap.add_argument("--sweep-out", default=None, help="JSON of the sweep (default: benchmarks/results/"
                    "topo_guidance.json)")
    ap.add_argument("--sweep-seed", type=int, default=999, help="seed of the sweep (the type part uses 321)")
    ap.add_argument("--type-seed", type=int, default=321, help="seed of the type part (pick candidates on another "
                    "seed, e.g. 999, and report 321)")
    ap.add_argument("--largest-seeds", default=None, help="only the main run's sampling (rules) at these seeds "
                    "(e.g. 123,124,125), the largest rule-clean samples of each checked by ngspice; writes "
                    "benchmarks/results/topo_largest.json")
    ap.add_argument("--no-types", action="store_true", help="skip the type conditioning (run it beside with "
                    "--types-only and join the two with --types-only --types-from)")
    ap.add_argument("--types-from", default=None, help="with --types-only: take the type conditioning from this "
                    "earlier --out JSON instead of rerunning it")
    args = ap.parse_args()
    if args.largest_seeds:
        return _largest_seeds(args)
    if args.guidance_sweep:
        return _guidance_sweep(args)
    if args.types_only:
        return _types_only(args)
    if args.speed_only:
        return _speed_only(args)

    import numpy as np
    import torch

    from eda.generators.topology_check import check_circuit
    from eda.generators.topology_checkpoint import (
        load_checkpoint,
        sampling_defaults,
        training_graphs,
    )
    from eda.generators.topology_report import GenerateParams, generate
    from eda.graphs.pin_graph import device_type, graph_to_circuit

    path = Path(args.model) if args.model else _default_model()
    model, vocab, ck = load_checkpoint(path)
    shipped = sampling_defaults(ck)
    temperature = args.temperature or shipped["temperature"]
    guidance = shipped["guidance"] if args.guidance is None else args.guidance
    res: dict = {
        "model": {"file": str(path), "file_bytes": path.stat().st_size, "params": model.n_params(),
                  "config": ck["config"], "meta": ck.get("meta", {})},
        "machine": {"cpus": os.cpu_count(), "load_avg_1min_start": os.getloadavg()[0], "torch": torch.__version__,
                    "torch_threads_sampling": args.threads},
        "targets": TARGETS,
    }
    job = (str(path), temperature, guidance, args.n_type, args.min_type, args.threads, args.jobs, args.type_seed,
           args.type_weight)
    if args.speed_n:
        res["speed"] = _speed(model, vocab, ck, args, temperature)
    t0 = time.perf_counter()
    tg = training_graphs(ck, vocab)
    tcirc = [graph_to_circuit(g) for g in tg]
    fails = [{r for r, _ in check_circuit(c, run_sim=False).violations} for c in tcirc]
    rule_fail = Counter(r for f in fails for r in f)
    tsizes = [len(c.devices) for c in tcirc]
    res["training"] = {
        "n": len(tcirc), "mean_devices": float(np.mean(tsizes)), "max_devices": max(tsizes),
        "device_types": dict(Counter(device_type(d, c) for c in tcirc for d in c.devices).most_common()),
        "pass_every_rule": sum(not f for f in fails) / len(tcirc),
        "rule_pass_rate": {r: 1 - rule_fail[r] / len(tcirc) for r in sorted(rule_fail)},
        "seconds": time.perf_counter() - t0,
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench_topo_"))
    t0 = time.perf_counter()
    rep = generate(model, vocab, ck, GenerateParams(n=args.n, temperature=temperature, seed=123, batch_size=128,
                                                    threads=args.threads, jobs=args.jobs, simulate=not args.no_simulate,
                                                    simulate_max=args.sim_n, gallery=6), tmp / "main", progress=True)
    rep["wall_s"] = time.perf_counter() - t0
    rep["load_avg_1min_end"] = os.getloadavg()[0]
    rep.pop("files", None)
    res["main"] = rep
    res["type_conditioning"] = None if args.no_types else _type_conditioning(*job)
    res["machine"]["load_avg_1min_end"] = os.getloadavg()[0]
    res["verdict"] = _verdict(res)
    if (tmp / "main" / "gallery.png").is_file():
        from PIL import Image

        # a 64-colour palette keeps the committed figure small
        Image.open(tmp / "main" / "gallery.png").convert("RGB").quantize(colors=64).save(
            HERE / "figures" / "topo_gallery.png", optimize=True)
    _figure(res, tsizes)
    if res["type_conditioning"]:
        _confusion_figure(res["type_conditioning"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2, default=str))
    _print(res)
    print(f"saved {out}")
    return res


def _types_only(args) -> dict:
    """Rerun the type conditioning of an earlier run's ``--out`` JSON and update it."""
    from eda.generators.topology_checkpoint import load_checkpoint, sampling_defaults

    out = Path(args.out)
    if not out.is_file():
        raise SystemExit(f"error: --types-only updates an earlier run's results: {out} does not exist (run the main "
                         f"part first, e.g. `bench_topo.py --no-types --out {out}`)")
    res = json.loads(out.read_text())
    path = Path(args.model) if args.model else _default_model()
    shipped = sampling_defaults(load_checkpoint(path)[2])
    temperature = args.temperature or shipped["temperature"]
    guidance = shipped["guidance"] if args.guidance is None else args.guidance
    if args.types_from:  # the same measurement, run beside the main run
        res["type_conditioning"] = json.loads(Path(args.types_from).read_text())["type_conditioning"]
    else:
        res["type_conditioning"] = _type_conditioning(str(path), temperature, guidance, args.n_type,
                                                      args.min_type, args.threads, args.jobs, args.type_seed,
                                                      args.type_weight)
    res["verdict"] = _verdict(res)
    _confusion_figure(res["type_conditioning"])
    out.write_text(json.dumps(res, indent=2, default=str))
    _print(res)
    print(f"saved {out}")
    return res


def _guidance_sweep(args) -> dict:
    """Per guidance weight, on validation seeds (not the type part's): for every measured type, how
    far its conditioned samples' motif means are from the type's training circuits (``gap``,
    :class:`~eda.generators.topology_motifs.MotifScale` over all labelled training circuits: the
    criterion W is chosen by), the rule-clean share, and, for information only, the share the
    shipped classifier labels as the type."""
    import numpy as np

    from eda.generators.topology_checkpoint import (
        load_checkpoint,
        sampling_defaults,
        training_graphs,
        training_types,
    )
    from eda.generators.topology_classify import LinearTypeClassifier
    from eda.generators.topology_motifs import MotifScale
    from eda.generators.topology_report import GenerateParams, generate

    model, vocab, ck = load_checkpoint(Path(args.model) if args.model else _default_model())
    temperature = args.temperature or sampling_defaults(ck)["temperature"]
    tg, tt = training_graphs(ck, vocab), training_types(ck)
    lab = [i for i, t in enumerate(tt) if t]
    counts = Counter(tt[i] for i in lab)
    types = [t for t, k in counts.most_common() if k >= args.min_type and f"<type:{t}>" in vocab.index]
    scale, clf = MotifScale([tg[i] for i in lab]), LinearTypeClassifier.load()
    out = Path(args.sweep_out) if args.sweep_out else HERE / "results" / "topo_guidance.json"
    res = {"n_per_type": args.sweep_n, "seed": args.sweep_seed, "types": types, "temperature": temperature,
           "model": str(args.model or "shipped"), "weights": {}}
    if out.is_file():  # weights of an earlier sweep with the same settings are kept (a sweep in parts)
        old = json.loads(out.read_text())
        if all(old.get(k, 1.0 if k == "temperature" else "shipped" if k == "model" else None) == res[k]
               for k in ("n_per_type", "seed", "types", "temperature", "model")):
            res["weights"] = old["weights"]
    for w in (float(x) for x in args.guidance_sweep.split(",")):
        t0, row = time.perf_counter(), {}
        for ct in types:
            gs: list = []
            rep = generate(model, vocab, ck, GenerateParams(n=args.sweep_n, ctype=ct, seed=args.sweep_seed, guidance=w,
                                                            temperature=temperature, threads=args.threads,
                                                            jobs=args.jobs, simulate=False),
                           None, graphs=gs)
            ref = [tg[i] for i in lab if tt[i] == ct]
            row[ct] = {"gap": scale.gap(gs, ref) if gs else None, "rule_clean": rep["rule_clean"],
                       "classified_as_type": float(np.mean([p == ct for p in clf.predict_many(gs)])) if gs else 0.0}
        res["weights"][str(w)] = {
            "mean_gap": float(np.mean([r["gap"] for r in row.values() if r["gap"] is not None])),
            "rule_clean": float(np.mean([r["rule_clean"] for r in row.values()])),
            "classified_as_type": float(np.mean([r["classified_as_type"] for r in row.values()])),
            "seconds": time.perf_counter() - t0, "load_avg_1min": os.getloadavg()[0], "per_type": row}
        out.write_text(json.dumps(res, indent=2))
        r = res["weights"][str(w)]
        print(f"W = {w}: motif gap {r['mean_gap']:.3f}, rule-clean {r['rule_clean']:.1%}, classified as the type "
              f"{r['classified_as_type']:.1%} ({r['seconds']:.0f} s)", flush=True)
    print(f"saved {out}")
    return res


def _largest_seeds(args, top: int = 5) -> dict:
    """Per seed: ``--n`` unconditioned samples as the main run draws them (its batch size and
    processes, rules only), then ngspice (sky130 tt) on the ``top`` largest rule-clean ones, in a worker
    process replaced after any halted analysis (:func:`_valid_isolated`); the largest that converges is
    the seed's largest valid sample. Also the rule-clean share, the mean size and how many rule-clean
    samples have at least 55 and 63 devices."""
    import numpy as np

    from eda.generators.topology_checkpoint import load_checkpoint, sampling_defaults
    from eda.generators.topology_report import GenerateParams, generate
    from eda.graphs.pin_graph import graph_to_circuit

    path = Path(args.model) if args.model else _default_model()
    model, vocab, ck = load_checkpoint(path)
    temperature = args.temperature or sampling_defaults(ck)["temperature"]
    out = HERE / "results" / "topo_largest.json"
    res = {"model": str(path), "n": args.n, "temperature": temperature, "seeds": {}}
    if out.is_file():  # seeds of an earlier run with the same model and settings are kept (a run in parts)
        old = json.loads(out.read_text())
        if all(old.get(k) == res[k] for k in ("model", "n", "temperature")):
            res["seeds"] = old["seeds"]
    for seed in (int(x) for x in args.largest_seeds.split(",")):
        t0, gs = time.perf_counter(), []
        rep = generate(model, vocab, ck, GenerateParams(n=args.n, temperature=temperature, seed=seed, batch_size=128,
                                                        threads=args.threads, jobs=args.jobs, simulate=False),
                       None, progress=True, graphs=gs)
        circ = sorted((graph_to_circuit(g) for g in gs), key=lambda c: -len(c.devices))[:top]
        sims = [(len(c.devices), ok) for c, ok in zip(circ, _valid_isolated(circ), strict=True)]
        sizes = np.array([len(graph_to_circuit(g).devices) for g in gs])
        res["seeds"][str(seed)] = {
            "rule_clean": rep["rule_clean"], "mean_devices": rep["mean_devices"],
            "largest_rule_clean": int(sizes.max()), "top_rule_clean_ngspice": sims,
            "largest_valid": max((k for k, ok in sims if ok), default=None),
            "at_least_63": int((sizes >= 63).sum()), "at_least_55": int((sizes >= 55).sum()),
            "seconds": time.perf_counter() - t0, "load_avg_1min": os.getloadavg()[0]}
        print(f"seed {seed}: {json.dumps(res['seeds'][str(seed)])}", flush=True)
        out.write_text(json.dumps(res, indent=2))
    print(f"saved {out}")
    return res


def _valid_isolated(circuits: list) -> list[bool]:
    """ngspice (sky130 tt) on rule-clean decks in a worker process that is replaced when an analysis has to be
    halted (:class:`eda.sim.isolated.IsolatedRunner`): an operating point that does not stop after ``bg_halt``
    leaves libngspice's thread running and failed every later check of the process it ran in (seen at seed 124:
    one 74-device deck failed the next four, which converge on their own)."""
    from eda.generators.topology_check import OP_TIMEOUT_S, op_reason, op_worker_stuck
    from eda.sim.isolated import IsolatedRunner

    with IsolatedRunner(op_reason, deadline=2 * OP_TIMEOUT_S + 30, stuck=op_worker_stuck) as run:
        got = dict(run.map((c, "sky130") for c in circuits))
    return [got[i] is None for i in range(len(circuits))]


def _speed_only(args) -> dict:
    """Rerun the speed comparison (:func:`_speed`) and update ``--out``."""
    from eda.generators.topology_checkpoint import load_checkpoint, sampling_defaults

    out = Path(args.out)
    res = json.loads(out.read_text()) if out.is_file() else {}
    model, vocab, ck = load_checkpoint(Path(args.model) if args.model else _default_model())
    res["speed"] = _speed(model, vocab, ck, args, args.temperature or sampling_defaults(ck)["temperature"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2, default=str))
    print(json.dumps({k: v for k, v in res["speed"].items() if k != "runs"}, indent=1))
    print(f"saved {out}")
    return res


def _speed(model, vocab, ck, args, temperature: float) -> dict:
    """Rule-clean circuits per second (sampling + the rules, no ngspice) of the same ``--speed-n``
    samples at each of ``--speed-jobs`` process counts, in order and then in reverse (the machine
    is shared: its load drifts), with the load average around each run and the CPU seconds of
    the sampling threads of all processes."""
    from eda.generators.topology_report import GenerateParams, generate

    counts = [int(x) for x in args.speed_jobs.split(",")]
    runs = []
    for j in counts + counts[::-1]:
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        rep = generate(model, vocab, ck, GenerateParams(n=args.speed_n, temperature=temperature, seed=5,
                                                        threads=args.threads, jobs=j, simulate=False), None)
        wall = time.perf_counter() - t0
        runs.append({"jobs": j, "wall_s": wall, "rule_clean": rep["rule_clean"],
                     "rule_clean_per_s": rep["rule_clean"] * rep["n"] / wall,
                     "sampling_cpu_s": rep["sampling"]["cpu_s"],
                     "rule_clean_per_sampling_cpu_s": rep["sampling"]["rule_clean_per_sampling_cpu_s"],
                     "load_avg_1min": [load0, os.getloadavg()[0]]})
        print(f"speed: {j} process(es): {runs[-1]['rule_clean_per_s']:.1f} rule-clean/s wall "
              f"({runs[-1]['rule_clean_per_sampling_cpu_s']:.1f} per sampling CPU-s), load {load0:.1f}", flush=True)
    mean = {j: sum(r["rule_clean_per_s"] for r in runs if r["jobs"] == j) / 2 for j in counts}
    return {"n": args.speed_n, "threads_per_process": args.threads, "cpus": os.cpu_count(), "runs": runs,
            "mean_rule_clean_per_s": mean, "ratio_to_1": {j: mean[j] / mean[counts[0]] for j in counts},
            "note": "wall time includes starting the worker processes (the fork server once, in the first run "
                    "with more than one process)"}


def _default_model() -> Path:
    from eda.paths import PATHS

    return PATHS.models / "topology_gpt.pt"


def _type_conditioning(path: str, temperature: float, guidance: float, n_type: int, min_type: int,
                       threads: int, jobs: int = 1, seed: int = 321, type_weight: float | None = None) -> dict:
    """Per measured type: conditioned samples (rules only), the share the classifier labels as the
    requested type, against the share among unconditioned samples; sizes against the training
    circuits of that type; how alike the samples are (``bench_topo_types.sample_diversity``).
    Self-contained (loads the checkpoint), so it can run in a second process beside the main run."""
    import numpy as np
    from bench_topo_types import diversity_space, sample_diversity

    from eda.generators.topology_checkpoint import load_checkpoint, training_graphs, training_types
    from eda.generators.topology_motifs import motif_means
    from eda.generators.topology_report import GenerateParams, generate
    from eda.generators.topology_support import TYPE_WEIGHT

    model, vocab, ck = load_checkpoint(path)
    tg, ttypes = training_graphs(ck, vocab), training_types(ck)
    lab = [i for i, t in enumerate(ttypes) if t]
    counts = Counter(ttypes[i] for i in lab)
    measured = [t for t, k in counts.most_common() if k >= min_type and f"<type:{t}>" in vocab.index]
    clf, cinfo = _classifier(tg, ttypes, lab)
    type_weight = TYPE_WEIGHT if type_weight is None else type_weight
    out: dict = {"guidance": guidance, "type_weight": type_weight, "n_per_type": n_type,
                 "min_training_circuits": min_type, **cinfo,
                 "n_labelled_training": len(lab), "training_type_counts": dict(counts.most_common()), "types": {},
                 "confusion": {}}
    base: list = []
    generate(model, vocab, ck, GenerateParams(n=4 * n_type, seed=77, threads=threads, jobs=jobs,
                                              temperature=temperature, simulate=False), None, graphs=base)
    uncond = clf.predict_many(base)
    hits = total = drawn = hits1 = 0
    picks: dict = {}
    space = diversity_space(tg)
    for ct in measured:
        gs, rep, n_drawn = _conditioned(path, (model, vocab, ck), ct, n_type, temperature, guidance, threads, jobs,
                                        seed, type_weight=type_weight)
        pred = clf.predict_many(gs)
        if gs:  # the sample of median size (samples come ordered by length budget)
            k = sorted(range(len(gs)), key=lambda i: gs[i].number_of_nodes())[len(gs) // 2]
            picks[ct] = (gs[k], pred[k])
        hit = sum(p == ct for p in pred)
        hits, total = hits + hit, total + len(pred)
        if n_drawn == n_type:  # one round (not the op-amp specialist's rounds, whose misses are its skeleton rules)
            hits1, drawn = hits1 + hit, drawn + n_drawn
        out["confusion"][ct] = dict(Counter(pred).most_common())
        same = [i for i in lab if ttypes[i] == ct]
        tdev = [sum(1 for n in tg[i] if tg[i].nodes[n].get("kind") == "device") for i in same]
        out["types"][ct] = {
            "n": rep["n"], "drawn": n_drawn, "model": rep["model"], "rule_clean": rep["rule_clean"],
            "unique": rep["unique"], "novel": rep["novel"],
            "classified_as_type": hit / max(len(pred), 1),
            "classifier_cv_recall": (cinfo.get("classifier_cv_per_type") or {}).get(ct),
            "unconditioned_classified_as_type": sum(p == ct for p in uncond) / max(len(uncond), 1),
            "training_share_of_type": len(tdev) / len(lab),
            "mean_devices": rep["mean_devices"], "training_mean_devices": float(np.mean(tdev)),
            "diversity": sample_diversity(space, same, gs) if gs else None,
            # what a designer would look for: motif means per circuit, [generated, training]
            "motifs": {k: [g, t] for (k, g), t in zip(motif_means(gs).items(), motif_means(
                [tg[i] for i in same]).values(), strict=True)},
        }
    out["accuracy"] = hits / max(total, 1)
    # over the types drawn in one round: samples failing the rules count as misses
    out["accuracy_of_all_drawn"] = hits1 / max(drawn, 1)
    out["seed"] = seed
    out["n_types"] = len(out["types"])
    _type_gallery(picks, seed)
    return out


GALLERY_TYPES = ("current_mirror", "amplifier", "lna", "mixer", "power_amplifier", "oscillator")


def _type_gallery(picks: dict, seed: int) -> None:
    """``figures/topo_type_gallery.png``: the median-size conditioned sample of a few small types, device
    level, each titled with the type asked for and the classifier's label."""
    from eda.generators.topology_draw import draw_gallery
    from eda.graphs.pin_graph import graph_to_circuit

    chosen = [(t, *picks[t]) for t in GALLERY_TYPES if picks.get(t)]
    if chosen:
        draw_gallery([graph_to_circuit(g) for _, g, _ in chosen], HERE / "figures" / "topo_type_gallery.png",
                     titles=[f"--type {t} (classified: {p})" for t, _, p in chosen],
                     heading=f"conditioned samples, the median-size one of each type (seed {seed})")


def _conditioned(path: str, loaded: tuple, ct: str, n_type: int, temperature: float, guidance: float,
                 threads: int, jobs: int, seed: int = 321, rounds: int = 8, *,
                 type_weight: float) -> tuple[list, dict, int]:
    """Rule-clean samples of type ``ct`` as ``eda topo generate --type ct`` draws them: from the general
    model ``path``, ``n_type`` draws; for an op-amp type, from the checkpoint the command uses for it (the op-amp
    specialist, whose samples must also pass the op-amp skeleton rules: about 1 in 100), rounds of
    ``25 * n_type`` draws until ``n_type`` pass (at most ``rounds``). (graphs, report, draws)."""
    from eda.generators.topology_checkpoint import OPAMP_FAMILY, checkpoint_for, load_checkpoint, sampling_defaults
    from eda.generators.topology_report import GenerateParams, _novelty, _sizes, generate
    from eda.graphs.pin_graph import graph_to_circuit

    model, vocab, ck = loaded
    spath = checkpoint_for(ct) if ct in OPAMP_FAMILY else Path(path)  # the shipped specialist, with any --model
    if spath != Path(path):
        model, vocab, ck = load_checkpoint(spath)
        d = sampling_defaults(ck)
        temperature, guidance = d["temperature"], d["guidance"]
    per_round = n_type if spath == Path(path) else 25 * n_type
    gs: list = []
    drawn = 0
    for r in range(rounds if per_round > n_type else 1):
        rep = generate(model, vocab, ck, GenerateParams(n=per_round, ctype=ct, seed=seed + r, batch_size=128,
                                                        threads=threads, jobs=jobs, temperature=temperature,
                                                        guidance=guidance, simulate=False,
                                                        type_weight=type_weight), None, graphs=gs)
        drawn += per_round
        if len(gs) >= n_type:
            break
    gs = gs[:n_type]
    rep = {**rep, "n": drawn, "rule_clean": len(gs) / drawn, "model": spath.name, **_novelty(ck, vocab, gs),
           "mean_devices": _sizes([graph_to_circuit(g) for g in gs])["mean_devices"]}
    return gs, rep, drawn


def _classifier(tg: list, ttypes: list, lab: list[int]):
    """The shipped type classifier (``data/models/topology_types.npz``, fitted on the labelled
    training circuits only, with its grouped cross-validation from its metadata), else one fitted
    here on the checkpoint's labelled training circuits (cross-validated here)."""
    from eda.generators.topology_classify import LinearTypeClassifier
    from eda.paths import PATHS

    shipped = PATHS.models / "topology_types.npz"
    if shipped.is_file():
        clf = LinearTypeClassifier.load(shipped)
        cv = clf.meta.get("cv") or {}
        src = f"shipped {shipped.name} ({clf.meta.get('n')} labelled circuits of {clf.meta.get('data')})"
    else:
        lg, lt = [tg[i] for i in lab], [ttypes[i] for i in lab]
        clf, cv = LinearTypeClassifier(lg, lt), LinearTypeClassifier.cross_validate_report(lg, lt)
        src = "fitted on the checkpoint's labelled training circuits"
    return clf, {"classifier": "class-balanced linear SVM over WL subtree (3 hops) + motif features; " + src,
                 "classifier_cv_accuracy": cv.get("accuracy"),
                 "classifier_cv_balanced_accuracy": cv.get("balanced_accuracy"),
                 "classifier_cv_per_type": cv.get("per_type"), "classifier_cv_groups": cv.get("groups"),
                 "classifier_cv_confusion": cv.get("confusion")}


def _confusion_figure(tc: dict) -> None:
    """Row-normalised confusion matrices over the measured types: the classifier on held-out real
    circuits (grouped CV) beside the shipped model's conditioned samples."""
    import numpy as np

    from eda.plot import plt

    types = list(tc["types"])
    cols = types + ["other"]
    panels = [("classifier on held-out training circuits\n(grouped 5-fold CV; row = true type, % of row)",
               tc.get("classifier_cv_confusion") or {}),
              (f"shipped GPT, {tc['n_per_type']} samples per requested type\n(row = requested type, % of row; "
               f"accuracy {tc['accuracy']:.1%})", tc["confusion"])]
    fig, axes = plt.subplots(1, 2, figsize=(12, 6.0), layout="constrained")
    for ax, (title, conf) in zip(axes, panels, strict=True):
        m = np.zeros((len(types), len(cols)))
        for i, t in enumerate(types):
            for p, k in (conf.get(t) or {}).items():
                m[i, cols.index(p) if p in types else len(types)] += k
        m = m / np.maximum(m.sum(1, keepdims=True), 1)
        ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
        for i, j in zip(*np.nonzero(m >= 0.05), strict=True):
            ax.text(j, i, f"{m[i, j]:.0%}"[:-1], ha="center", va="center", fontsize=6,
                    color="white" if m[i, j] > 0.6 else "black")
        ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(types)), types, fontsize=7)
        ax.set_xlabel("predicted type", fontsize=8)
        ax.set_title(title, fontsize=8)
    fig.savefig(HERE / "figures" / "topo_type_confusion.png", dpi=80)
    plt.close(fig)


def _verdict(res: dict) -> dict:
    m, t = res["main"], TARGETS
    tc = res["type_conditioning"] or {"accuracy": None, "n_types": 0}
    rel = abs(m["mean_devices"] / res["training"]["mean_devices"] - 1)
    return {
        "valid": [m["valid"], m["valid"] >= t["valid"]],
        "novel": [m["novel"], (m["novel"] or 0) >= t["novel"]],
        "unique": [m["unique"], m["unique"] >= t["unique"]],
        "mean_devices_rel_error": [rel, rel <= t["mean_devices_rel"]],
        "max_devices": [m["max_devices"], m["max_devices"] >= t["max_devices"]],
        "type_accuracy": [tc["accuracy"], tc["accuracy"] is not None and tc["accuracy"] >= t["type_accuracy"]
                          and tc["n_types"] >= 8],
        "valid_per_s_sample_rules": [m["valid_per_s_sample_rules"], m["valid_per_s_sample_rules"] >= t["valid_per_s"]],
        "rule_clean_per_cpu_s": [m["rule_clean_per_cpu_s"], None],
    }


def _print(res: dict) -> None:
    m, tr = res["main"], res["training"]
    print(f"model: {res['model']['params']} parameters, {res['model']['file_bytes'] / 1e6:.1f} MB, "
          f"{tr['n']} training circuits (mean {tr['mean_devices']:.1f} devices, largest {tr['max_devices']})")
    print(f"main run: {m['n']} samples at T={m['temperature']}: decoded {m['decoded']:.1%}, rule-clean "
          f"{m['rule_clean']:.1%}, valid {m['valid']:.1%} ({m['validity_checks']}; ngspice on {m['simulated']} "
          f"rule-clean samples, {(m['op_converged'] or 0):.1%} converged)")
    print(f"  unique {m['unique']:.1%}, novel {(m['novel'] or 0):.1%}, mean devices {m['mean_devices']:.1f}, "
          f"largest {m['max_devices']}")
    print(f"  speed: {m['valid_per_s_sample_rules']:.1f} rule-clean circuits/s sampled + checked "
          f"({res['machine']['torch_threads_sampling']} threads, load average {m['load_avg_1min']:.1f}); "
          f"{m['rule_clean_per_cpu_s']:.1f} per CPU-second; {m['valid_per_s_with_ngspice']:.1f} valid/s "
          f"with ngspice; seconds {({k: round(v, 1) for k, v in m['seconds'].items()})}")
    print("  top failures:", list(m["failures"].items())[:6])
    print(f"training circuits passing every rule: {tr['pass_every_rule']:.1%}; per rule: "
          f"{ {k: round(v, 3) for k, v in tr['rule_pass_rate'].items()} }")
    tc = res["type_conditioning"]
    if not tc:
        print("verdict (value, met):", json.dumps(res["verdict"]))
        return
    print(f"type conditioning over {tc['n_types']} types: accuracy {tc['accuracy']:.1%} (classifier on held-out "
          f"training circuits, grouped 5-fold: {tc['classifier_cv_accuracy']:.1%}, mean per type "
          f"{tc.get('classifier_cv_balanced_accuracy') or 0:.1%})")
    for ct, r in tc["types"].items():
        print(f"  {ct:16s} classified as {ct}: {r['classified_as_type']:.0%} (unconditioned "
              f"{r['unconditioned_classified_as_type']:.0%}, training share {r['training_share_of_type']:.0%}); "
              f"devices {r['mean_devices']:.1f} (training {r['training_mean_devices']:.1f})")
    print("verdict (value, met):", json.dumps(res["verdict"]))


def _figure(res: dict, train_devices: list[int]) -> None:
    import numpy as np

    from eda.plot import plt

    m = res["main"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [2, 1]})
    h = {int(k): v for k, v in m["device_histogram"].items()}
    n = sum(h.values())
    bins = np.arange(0, max(max(train_devices), max(h, default=0)) + 5, 4)
    if n:
        a.hist(list(Counter(h).elements()), bins=bins, density=True, alpha=0.6, color="#1b9e77",
               label=f"generated: {n} valid of {m['n']} (mean {m['mean_devices']:.1f}, max {m['max_devices']})")
    a.hist(train_devices, bins=bins, density=True, histtype="step", lw=1.5, color="#7570b3",
           label=f"training: {len(train_devices)} (mean {np.mean(train_devices):.1f}, max {max(train_devices)})")
    a.set_xlabel("devices per circuit")
    a.set_ylabel("density")
    a.legend(fontsize=7)
    types = list(res["training"]["device_types"])
    tt = np.array([res["training"]["device_types"][k] for k in types], float)
    gt = np.array([m["device_types"].get(k, 0) for k in types], float)
    x = np.arange(len(types))
    b.bar(x - 0.2, gt / max(gt.sum(), 1), 0.4, color="#1b9e77", label="generated")
    b.bar(x + 0.2, tt / tt.sum(), 0.4, color="#7570b3", label="training")
    b.set_xticks(x, types, fontsize=7)
    b.set_ylabel("share of devices")
    b.legend(fontsize=7)
    fig.suptitle("shipped topology GPT: valid generated circuits vs its training circuits", fontsize=9)
    fig.tight_layout()
    fig.savefig(HERE / "figures" / "topo_devices.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
