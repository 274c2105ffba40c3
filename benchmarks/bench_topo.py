"""Topology generation benchmark: validity, novelty, uniqueness, size, structure and speed of the
shipped model, and what type conditioning does.

Samples with grammar-constrained decoding on 1 thread and on 2 (model step on a worker thread
beside the grammar) and without the grammar, checks every circuit (ERC + ngspice operating
point), measures novelty against the model's own training circuits and uniqueness (WL hash +
exact isomorphism), internal nets per device against the training set and the hand-written
library, times sampling + ERC and splits one run's time into model, grammar and the rest.
Type conditioning: for a few types, conditioned samples are classified by a nearest-neighbour
classifier over WL subtree features of the labelled training circuits and compared with
unconditioned samples. Also times the composer. Prints a table, saves
``benchmarks/results/topo.json`` and figures under ``benchmarks/figures/``.

Usage: ``.venv/bin/python benchmarks/bench_topo.py [--n 256] [--model CKPT]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
COND_TYPES = ("opamp2", "ldo", "comparator", "oscillator", "current_mirror", "folded_cascode")


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256, help="circuits sampled with the grammar")
    ap.add_argument("--n-free", type=int, default=64, help="circuits sampled without the grammar")
    ap.add_argument("--n-type", type=int, default=48, help="circuits sampled per conditioned type")
    ap.add_argument("--model", default=None, help="checkpoint (default: the shipped model)")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2, help="threads of the second grammar run")
    args = ap.parse_args()

    import numpy as np
    import torch

    from eda.generators.topology_compose import compose_family
    from eda.generators.topology_gpt import (
        GenerateParams,
        generate,
        internal_nets,
        load_checkpoint,
        training_graphs,
        training_types,
    )
    from eda.graphs.pin_graph import graph_to_circuit
    from eda.read.topology_dataset import load_library

    model, vocab, ck = load_checkpoint(args.model)
    results: dict = {
        "model": {"params": model.n_params(), "config": ck["config"], "meta": ck.get("meta", {}),
                  "file_bytes": (Path(args.model) if args.model else _default_model()).stat().st_size},
        "machine": {"cpus": os.cpu_count(), "load_avg_1min_start": os.getloadavg()[0],
                    "torch_threads_sampling": [1, args.threads], "torch": torch.__version__},
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench_topo_"))
    graphs: dict[str, list] = {}
    runs = (("grammar", True, args.n, 1), (f"grammar_{args.threads}threads", True, args.n, args.threads),
            ("free", False, args.n_free, 1))
    for name, grammar, n, threads in runs:
        t0 = time.perf_counter()
        graphs[name] = []
        rep = generate(model, vocab, ck, GenerateParams(n=n, grammar=grammar, temperature=args.temperature,
                                                        seed=123, batch_size=128, threads=threads), tmp / name,
                       graphs=graphs[name])
        rep["threads"] = threads
        rep["wall_s"] = time.perf_counter() - t0
        rep["load_avg_1min"] = os.getloadavg()[0]
        rep.pop("files", None)
        results[name] = rep
    results["time_split_1thread"] = _time_split(model, vocab, ck)
    # structure: internal nets per device of training circuits and of the hand-written library
    tg = training_graphs(ck, vocab)
    tcirc = [graph_to_circuit(g) for g in tg]
    results["training_internal_nets_per_device"] = float(np.mean([internal_nets(c) / len(c.devices)
                                                                   for c in tcirc]))
    results["training_mean_devices"] = float(np.mean([len(c.devices) for c in tcirc]))
    lib = load_library()
    results["library_internal_nets_per_device"] = float(np.mean([internal_nets(t.circuit) / len(t.circuit.devices)
                                                                 for t in lib]))
    results["type_conditioning"] = _type_conditioning(model, vocab, ck, tg, training_types(ck), tcirc,
                                                      graphs["grammar"], args)
    if (tmp / "grammar" / "gallery.png").is_file():
        from PIL import Image

        # a 64-colour palette keeps the committed figure small (< 300 KB)
        Image.open(tmp / "grammar" / "gallery.png").convert("RGB").quantize(colors=64).save(
            HERE / "figures" / "topo_gallery.png", optimize=True)
    t0 = time.perf_counter()
    fam = compose_family(100, seed=777)
    results["composer"] = {"n": len(fam), "seconds": time.perf_counter() - t0,
                           "valid_distinct_per_s": len(fam) / (time.perf_counter() - t0),
                           "max_devices": max(len(t.circuit.devices) for t in fam)}
    results["machine"]["load_avg_1min_end"] = os.getloadavg()[0]
    _figure(results, [len(c.devices) for c in tcirc])
    out = HERE / "results" / "topo.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    _print(results, args.threads)
    print(f"saved {out}")
    return results


def _default_model() -> Path:
    from eda.paths import PATHS

    return PATHS.models / "topology_gpt.pt"


def _time_split(model, vocab, ck, n: int = 128) -> dict:
    """Where one 1-thread sampling run of ``n`` circuits spends its time: the model's decode
    steps, the grammar (masks and steps), and the rest (drawing tokens, decoding to graphs)."""
    from eda.generators import topology_gpt as tg
    from eda.graphs.euler import TourGrammar

    acc = {"model": 0.0, "grammar": 0.0}

    def timed(fn, key):
        def wrap(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                acc[key] += time.perf_counter() - t0
        return wrap

    orig = (model.step, TourGrammar.mask, TourGrammar.step)
    model.step = timed(orig[0], "model")
    TourGrammar.mask = timed(orig[1], "grammar")
    TourGrammar.step = timed(orig[2], "grammar")
    try:
        t0 = time.perf_counter()
        out = tg.sample(model, vocab, n, seed=5, batch_size=128, threads=1, lengths=tg.training_lengths(ck))
        total = time.perf_counter() - t0
    finally:
        del model.step
        TourGrammar.mask, TourGrammar.step = orig[1], orig[2]
    toks = [len(s.tokens) for s in out]
    return {"n": n, "total_s": total, "model_s": acc["model"], "grammar_s": acc["grammar"],
            "other_s": total - acc["model"] - acc["grammar"], "circuits_per_s": n / total,
            "mean_full_tour_tokens": sum(toks) / len(toks)}


def _type_conditioning(model, vocab, ck, tg, ttypes, tcirc, uncond_graphs, args) -> dict:
    """Per type: conditioned samples' validity, the share a nearest-neighbour type classifier
    (trained on the labelled training circuits) assigns to the conditioned type, against the
    share among unconditioned samples, and device counts against the training circuits of
    that type."""
    import numpy as np

    from eda.generators.topology_check import TypeClassifier
    from eda.generators.topology_gpt import GenerateParams, generate

    lab = [i for i, t in enumerate(ttypes) if t]
    clf = TypeClassifier([tg[i] for i in lab], [ttypes[i] for i in lab], k=5)
    loo = clf.leave_one_out([tg[i] for i in lab], max_n=300)
    uncond = [clf.predict(g) for g in uncond_graphs]
    out: dict = {"classifier": "5-NN, cosine over idf-weighted WL subtree features (2 hops) of the labelled "
                               "training circuits",
                 "classifier_leave_one_out_accuracy": loo, "n_labelled_training": len(lab), "types": {}}
    for ct in COND_TYPES:
        if f"<type:{ct}>" not in vocab.index:
            continue
        gs: list = []
        rep = generate(model, vocab, ck, GenerateParams(n=args.n_type, ctype=ct, seed=321, batch_size=128,
                                                        threads=1, temperature=args.temperature), None, graphs=gs)
        pred = [clf.predict(g) for g in gs]
        tdev = [len(tcirc[i].devices) for i in lab if ttypes[i] == ct]
        out["types"][ct] = {
            "n": rep["n"], "valid": rep["valid"], "unique": rep["unique"], "novel": rep["novel"],
            "classified_as_type": sum(p == ct for p in pred) / max(len(pred), 1),
            "unconditioned_classified_as_type": sum(p == ct for p in uncond) / max(len(uncond), 1),
            "training_share_of_type": len(tdev) / len(lab),
            "mean_devices": rep["mean_devices"], "training_mean_devices": float(np.mean(tdev)) if tdev else None,
            "internal_nets_per_device": rep["internal_nets_per_device"],
        }
    return out


def _print(results: dict, threads: int) -> None:
    print(f"{'decoding':18s} {'n':>5s} {'decoded':>8s} {'ERC':>6s} {'valid':>6s} {'unique':>7s} {'novel':>6s} "
          f"{'maxdev':>6s} {'int/dev':>7s} {'circ/s':>7s}")
    for name in ("grammar", f"grammar_{threads}threads", "free"):
        r = results[name]
        print(f"{name:18s} {r['n']:5d} {r['decoded']:8.1%} {r['erc_clean']:6.1%} {r['valid']:6.1%} "
              f"{r['unique']:7.1%} {(r['novel'] or 0):6.1%} {r['max_devices']:6d} "
              f"{r['internal_nets_per_device']:7.3f} {r['circuits_per_s_sample_erc']:7.1f}")
    print("top failures (grammar):", list(results["grammar"]["failures"].items())[:5])
    print(f"internal nets per device: generated {results['grammar']['internal_nets_per_device']:.3f}, "
          f"training set {results['training_internal_nets_per_device']:.3f}, "
          f"library {results['library_internal_nets_per_device']:.3f}")
    print("time split (1 thread):", {k: round(v, 2) if isinstance(v, float) else v
                                     for k, v in results["time_split_1thread"].items()})
    tc = results["type_conditioning"]
    print(f"type conditioning (classifier leave-one-out accuracy {tc['classifier_leave_one_out_accuracy']:.0%}):")
    for ct, r in tc["types"].items():
        print(f"  {ct:16s} valid {r['valid']:.0%}  classified as {ct}: conditioned {r['classified_as_type']:.0%} "
              f"vs unconditioned {r['unconditioned_classified_as_type']:.0%}  devices {r['mean_devices']:.1f} "
              f"(training {r['training_mean_devices']:.1f})")
    print(f"composer: {results['composer']['valid_distinct_per_s']:.1f} distinct valid circuits/s "
          f"(ERC + ngspice), largest {results['composer']['max_devices']} devices")


def _figure(results: dict, train_devices: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 3.2))
    h = {int(k): v for k, v in results["grammar"]["device_histogram"].items()}
    n = sum(h.values())
    if n:
        ax.bar([k - 0.2 for k in h], [v / n for v in h.values()], width=0.4, color="#1b9e77",
               label=f"generated: {results['grammar']['valid']:.0%} valid of {results['grammar']['n']}")
    cnt = np.bincount(train_devices)
    ks = np.flatnonzero(cnt)
    ax.bar(ks + 0.2, cnt[ks] / len(train_devices), width=0.4, color="#7570b3",
           label=f"training circuits ({len(train_devices)})")
    ax.set_xlabel("devices per circuit")
    ax.set_ylabel("fraction")
    ax.legend(fontsize=8)
    ax.set_title("shipped topology GPT: valid generated circuits (ERC + ngspice) vs training", fontsize=9)
    fig.tight_layout()
    fig.savefig(HERE / "figures" / "topo_devices.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
