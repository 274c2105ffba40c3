"""Dataset building speed: samples per minute at ``small`` with 1 and 2 workers, peak memory per worker,
and the ``large`` size (PDN nodes per sample, seconds, memory).

Prints a table and saves ``benchmarks/results/dataset.json``. Options: ``--n`` samples per small run,
``--large`` large samples to build, ``--quick`` (a fast smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def _build(out: Path, n: int, size: str, workers: int, seed: int = 0) -> dict:
    from eda.dataset.runner import read_manifest
    from eda.generators.irdrop_sample import build_irdrop_dataset

    t0 = time.perf_counter()
    rep = build_irdrop_dataset(out, n, size=size, seed=seed, workers=workers, progress=False)
    wall = time.perf_counter() - t0
    rows = [r for r in read_manifest(out).values() if r["status"] == "ok"]
    infos = [r["info"] for r in rows]
    return {
        "size": size, "workers": workers, "samples": rep.built, "failed": rep.failed, "wall_s": round(wall, 2),
        "samples_per_min": round(60.0 * rep.built / wall, 2),
        "sample_s_mean": round(float(np.mean([r["seconds"] for r in rows])), 3),
        "peak_rss_mb_per_worker": round(float(max(r["peak_rss_mb"] for r in rows)), 1),
        "nodes_min": int(min(i["nodes"] for i in infos)), "nodes_max": int(max(i["nodes"] for i in infos)),
        "mb_per_sample": round(float(np.mean([r["bytes"] for r in rows])) / 2**20, 2),
        "phase_s_mean": {k: round(float(np.mean([i["timings"][k] for i in infos])), 3)
                         for k in infos[0]["timings"]},
    }


def _sleep_sample(seed: int, out: Path) -> dict:
    """Runner check: a sample that waits (no CPU), so worker concurrency shows even on a busy machine."""
    time.sleep(0.25)
    (out / "done.txt").write_text(f"{seed}\n")
    return {}


def _cpu_sample(seed: int, out: Path) -> dict:
    """Runner check: a sample that only burns CPU (about 0.3 s on one free core)."""
    x = 0
    for i in range(3_000_000):
        x += i * i
    (out / "done.txt").write_text(f"{x}\n")
    return {}


def _runner_scaling(tmp: Path, n: int = 40) -> dict:
    """Samples/min of the bare runner with 1 and 2 workers on waiting and CPU-bound toy samples."""
    from eda.dataset.runner import build_dataset

    out = {}
    for name, fn in (("sleep", _sleep_sample), ("cpu", _cpu_sample)):
        rates = []
        for w in (1, 2):
            rep = build_dataset(tmp / f"toy_{name}_{w}", n, fn, kind="toy", builder=name, config={}, workers=w,
                                progress=False)
            rates.append(round(rep.rate_per_min, 1))
        out[name] = {"per_min_1_worker": rates[0], "per_min_2_workers": rates[1],
                     "scaling": round(rates[1] / rates[0], 2)}
    return out


def _large_nodes(seeds: range) -> list[int]:
    """PDN node counts of large designs (generation only, no solve)."""
    from eda.generators.synth_design import make_design, sample_design_params
    from eda.generators.synth_pdn import make_pdn, sample_pdn_params

    out = []
    for s in seeds:
        rng = np.random.default_rng(s)
        d = make_design(sample_design_params(rng, "large", seed=int(rng.integers(0, 2**31 - 1))))
        out.append(make_pdn(d, sample_pdn_params(d, rng, "large")).n_nodes)
    return out


def _dt_convergence(seeds: range) -> dict:
    """Error of the worst dynamic drop vs the transient step, against a 0.5 ps reference (small designs)."""
    from eda.generators.synth_design import make_design, sample_design_params
    from eda.generators.synth_pdn import make_pdn, sample_pdn_params
    from eda.pdn.solve import solve_transient

    out: dict[str, list[float]] = {}
    for s in seeds:
        rng = np.random.default_rng(s)
        d = make_design(sample_design_params(rng, "small", seed=int(rng.integers(0, 2**31 - 1))))
        net = make_pdn(d, sample_pdn_params(d, rng, "small"))
        ref = None
        for dt_ps in (0.5, 50, 25, 12, 6, 3):
            n = int(np.ceil(d.period / (dt_ps * 1e-12)))
            dyn, (t, cur) = net.dynamic_pdn(n)
            w = solve_transient(dyn, times=t, load_waveform=(t, cur)).worst_drop
            if ref is None:
                ref = w
                continue
            out.setdefault(f"{dt_ps:g}ps", []).append(round(float(abs(w.max() - ref.max()) / ref.max()), 4))
    return {"worst_drop_rel_err": out, "seeds": list(seeds)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=16, help="samples per small run")
    ap.add_argument("--large", type=int, default=1, help="large samples to build")
    ap.add_argument("--quick", action="store_true", help="smoke run: few samples, no large build")
    ap.add_argument("--small-only", action="store_true",
                    help="only the small 1- vs 2-worker runs; other results are kept from the last full run")
    args = ap.parse_args()
    n = 4 if args.quick else args.n
    tmp = Path(tempfile.mkdtemp(prefix="bench_dataset_"))
    load0 = os.getloadavg()[0]  # the machine may be shared: record how busy it was
    try:
        runs = [_build(tmp / f"small_w{w}", n, "small", w) for w in (1, 2)]
        toy = _runner_scaling(tmp)
        res = {"runner_toy_scaling": toy, "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "load_avg_1min_start": round(load0, 2), "load_avg_1min_end": round(os.getloadavg()[0], 2)},
               "small": runs,
               "scaling_2_vs_1": round(runs[1]["samples_per_min"] / runs[0]["samples_per_min"], 2)}
        out_json = Path(__file__).parent / "results" / "dataset.json"
        if args.small_only and out_json.exists():
            old = json.loads(out_json.read_text())
            res.update({k: v for k, v in old.items() if k not in res})
        elif not args.quick:
            res["medium"] = _build(tmp / "medium", 2, "medium", 1)
            if args.large:
                res["large"] = _build(tmp / "large", args.large, "large", 1)
            nodes = _large_nodes(range(100, 106))
            res["large_nodes_6_seeds"] = {"min": min(nodes), "max": max(nodes), "all": nodes,
                                          "meets_250k": min(nodes) >= 250_000}
            res["dynamic_dt_convergence"] = _dt_convergence(range(3))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'size':8} {'workers':>7} {'samples':>7} {'per min':>8} {'s/sample':>9} {'peak MB':>8} "
          f"{'nodes':>15} {'MB/sample':>9}")
    for r in [*res["small"], res.get("medium"), res.get("large")]:
        if r:
            print(f"{r['size']:8} {r['workers']:>7} {r['samples']:>7} {r['samples_per_min']:>8} "
                  f"{r['sample_s_mean']:>9} {r['peak_rss_mb_per_worker']:>8} "
                  f"{str(r['nodes_min']) + '-' + str(r['nodes_max']):>15} {r['mb_per_sample']:>9}")
    print(f"scaling 2 vs 1 worker: {res['scaling_2_vs_1']}x (load average {res['machine']['load_avg_1min_start']}"
          f" -> {res['machine']['load_avg_1min_end']} on {res['machine']['cpus']} CPUs)")
    print("bare runner, 1 vs 2 workers:", res["runner_toy_scaling"])
    if "dynamic_dt_convergence" in res:
        print("dynamic worst-drop relative error vs step (0.5 ps reference):",
              res["dynamic_dt_convergence"]["worst_drop_rel_err"])
    if "large_nodes_6_seeds" in res:
        print(f"large PDN nodes over 6 seeds: {res['large_nodes_6_seeds']['min']} - "
              f"{res['large_nodes_6_seeds']['max']} (>= 250k: {res['large_nodes_6_seeds']['meets_250k']})")
    out = Path(__file__).parent / "results" / "dataset.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
