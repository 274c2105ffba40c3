"""Contest IR-drop map: exactness on the ICCAD'23 cases and cost; prints and saves ``results/contest_map.json``.

1. ``cases``: every complete case in ``../shared/iccad23`` (skipped when absent): exact static solve, then the
   map by each method (``contest``, ``griddata``) against the published ``ir_drop_map.csv``: MAE, largest
   error, hotspot F1 per case.
2. ``timing``: a contest-like m1 grid of ~62k points (2.4 µm lattice, m4 crossings every 14 µm, 560 µm
   square): the interpolation of both methods and Qhull's share, best of 3, wall and CPU seconds.

Usage: ``python benchmarks/bench_contest_map.py [--no-cases] [--root ../shared/iccad23]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "contest_map.json"
METHODS = ("contest", "griddata")


def bench_cases(root: Path) -> list[dict]:
    from eda.pdn import maps as pm
    from eda.pdn.contest import find_cases
    from eda.pdn.metrics import score
    from eda.pdn.solve import solve_static

    rows = []
    for case in find_cases(root, complete=True):
        drop = solve_static(case.pdn).drop
        row = {"case": case.name, "m1_points": int(len(pm.contest_nodes(case.pdn)))}
        for method in METHODS:
            s = score(pm.ir_drop_map(case.pdn, drop, case.shape, dbu_per_um=case.dbu_per_um, method=method),
                      case.maps["ir_drop"])
            row[method] = {"mae_uv": s["mae"] * 1e6, "max_error_uv": s["max_error"] * 1e6, "f1": s["hotspot_f1"]}
        rows.append(row)
        print(f"{case.name:15s} " + "  ".join(f"{m}: MAE {row[m]['mae_uv']:.3f} uV max {row[m]['max_error_uv']:.3f} "
                                               f"uV F1 {row[m]['f1']:.4f}" for m in METHODS), flush=True)
    return rows


def _best(fn, n: int = 3) -> tuple[float, float]:
    wall = cpu = float("inf")
    for _ in range(n):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - w), min(cpu, time.process_time() - c)
    return wall, cpu


def bench_timing(size_um: int = 560) -> dict:
    from scipy.spatial import Delaunay

    from eda.pdn import maps as pm

    lattice = np.arange(0, size_um, 2.4)
    straps = np.arange(2.0, size_um, 14.0)
    straps = straps[np.abs(straps / 2.4 - np.round(straps / 2.4)) > 1e-6]
    x, y = (a.ravel() for a in np.meshgrid(np.r_[lattice[1:], straps], lattice, indexing="ij"))
    v = 1e-3 * (1 + np.sin(x / 40) * np.cos(y / 30))
    shape = (size_um, size_um)
    out = {"m1_points": int(len(x)), "shape": list(shape)}
    runs = {"contest": lambda: pm._contest_interpolate(x, y, v, shape),
            "griddata": lambda: pm._contest_interpolate(x, y, v, shape, fill="node"),
            "qhull_delaunay": lambda: Delaunay(np.column_stack([x, y]))}
    for name, fn in runs.items():
        wall, cpu = _best(fn)
        out[name] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
        print(f"{name:15s} {len(x)} points: wall {wall:.2f} s, CPU {cpu:.2f} s", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "iccad23")
    ap.add_argument("--no-cases", action="store_true", help="timing only")
    a = ap.parse_args()
    res: dict = {"load_average": os.getloadavg()[0]}
    if not a.no_cases and a.root.exists():
        res["cases"] = bench_cases(a.root)
        for m in METHODS:
            f1 = [r[m]["f1"] for r in res["cases"]]
            res[f"{m}_summary"] = {"mae_uv_max": max(r[m]["mae_uv"] for r in res["cases"]),
                                   "max_error_uv": max(r[m]["max_error_uv"] for r in res["cases"]),
                                   "f1_min": min(f1), "f1_ge_0.95": sum(f >= 0.95 for f in f1), "n": len(f1)}
            print(m, res[f"{m}_summary"])
    res["timing"] = bench_timing()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=1) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
