"""Topology generation benchmark: validity, novelty, uniqueness, size and speed of the shipped model.

Samples with and without grammar-constrained decoding, checks every circuit (ERC + ngspice
operating point), measures novelty against the model's own training circuits and uniqueness
(WL hash + exact isomorphism), and times sampling + ERC. Also times the composer. Prints a
table, saves ``benchmarks/results/topo.json`` and figures under ``benchmarks/figures/``.

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


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256, help="circuits sampled with the grammar")
    ap.add_argument("--n-free", type=int, default=64, help="circuits sampled without the grammar")
    ap.add_argument("--model", default=None, help="checkpoint (default: the shipped model)")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2, help="torch threads of the second grammar run")
    args = ap.parse_args()

    import torch
    from eda.generators.topology_compose import compose_family
    from eda.generators.topology_gpt import GenerateParams, generate, load_checkpoint

    model, vocab, ck = load_checkpoint(args.model)
    results: dict = {
        "model": {"params": model.n_params(), "config": ck["config"], "meta": ck.get("meta", {})},
        "machine": {"cpus": os.cpu_count(), "load_avg_1min": os.getloadavg()[0],
                    "torch_threads_sampling": [1, args.threads], "torch": torch.__version__},
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench_topo_"))
    runs = (("grammar", True, args.n, 1), (f"grammar_{args.threads}threads", True, args.n, args.threads),
            ("free", False, args.n_free, 1))
    for name, grammar, n, threads in runs:
        t0 = time.perf_counter()
        rep = generate(model, vocab, ck, GenerateParams(n=n, grammar=grammar, temperature=args.temperature,
                                                        seed=123, batch_size=128, threads=threads), tmp / name)
        rep["threads"] = threads
        rep["wall_s"] = time.perf_counter() - t0
        rep.pop("files", None)
        results[name] = rep
    results["model_only"] = {f"{th}threads": _model_only(model, th) for th in (1, 2)}
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
    from eda.generators.topology_gpt import internal_nets

    from eda.read.topology_dataset import load_library

    lib = load_library()
    results["library_internal_nets_per_device"] = sum(internal_nets(t.circuit) / len(t.circuit.devices)
                                                      for t in lib) / len(lib)
    _figure(results)
    out = HERE / "results" / "topo.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"{'decoding':10s} {'n':>5s} {'decoded':>8s} {'ERC':>6s} {'valid':>6s} {'unique':>7s} {'novel':>6s} "
          f"{'maxdev':>6s} {'circ/s':>7s}")
    for name in ("grammar", f"grammar_{args.threads}threads", "free"):
        r = results[name]
        print(f"{name:10s} {r['n']:5d} {r['decoded']:8.1%} {r['erc_clean']:6.1%} {r['valid']:6.1%} "
              f"{r['unique']:7.1%} {(r['novel'] or 0):6.1%} {r['max_devices']:6d} "
              f"{r['circuits_per_s_sample_erc']:7.1f}")
    print("top failures (grammar):", list(results["grammar"]["failures"].items())[:5])
    print(f"internal nets per device: generated {results['grammar']['internal_nets_per_device']:.3f}, "
          f"library {results['library_internal_nets_per_device']:.3f}")
    print(f"composer: {results['composer']['valid_distinct_per_s']:.1f} distinct valid circuits/s "
          f"(ERC + ngspice), largest {results['composer']['max_devices']} devices")
    print("model forward alone (no grammar, no decoding), circuits/s at full length:",
          {k: round(v["circuits_per_s"], 1) for k, v in results["model_only"].items()})
    print(f"saved {out}")
    return results


def _model_only(model, threads: int, batch: int = 128) -> dict:
    """Ceiling of sampling speed: the KV-cached forward passes alone for ``batch`` sequences of
    the model's full length (grammar-constrained tours of the shipped model use all of it)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode():
            length = model.config.block_size
            caches = model.new_cache(batch, length)
            model(torch.zeros(batch, 3, dtype=torch.long), caches, 0)
            x = torch.zeros(batch, dtype=torch.long)
            t0 = time.perf_counter()
            for pos in range(3, length):
                model.step(x, caches, pos)
            dt = time.perf_counter() - t0
    finally:
        torch.set_num_threads(old)
    return {"threads": threads, "batch": batch, "length": length, "seconds": dt, "circuits_per_s": batch / dt}


def _figure(results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    for name, col in (("grammar", "#1b9e77"), ("free", "#d95f02")):
        h = {int(k): v for k, v in results[name]["device_histogram"].items()}
        if h:
            ax.bar([k + (0.2 if name == "free" else -0.2) for k in h], list(h.values()), width=0.4, color=col,
                   label=f"{name}: {results[name]['valid']:.0%} valid of {results[name]['n']}")
    ax.set_xlabel("devices per valid generated circuit")
    ax.set_ylabel("circuits")
    ax.legend(fontsize=8)
    ax.set_title("shipped topology GPT: valid circuits (ERC + ngspice)", fontsize=9)
    fig.tight_layout()
    fig.savefig(HERE / "figures" / "topo_devices.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
