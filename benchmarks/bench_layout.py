"""Layout benchmark: ACIM macro build + DRC + LVS (the 256x256 < 60 s / < 4 GB target).

Runs the full `eda acim build` pipeline (place/route, GDS + SPICE write, KLayout DRC and LVS
in-process) for several sizes, one process per size so peak memory is per build. Prints and saves
benchmarks/results/layout.json. The machine load is recorded next to each timing because the
development machine is shared (2 cores).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [(64, 64, 8, 3), (128, 128, 8, 4), (256, 256, 16, 4)]


def one(h: int, w: int, l: int, b: int, out: Path) -> dict:
    from eda.layout.build import build
    from eda.layout.macro import MacroParams

    t = time.perf_counter()
    s = build(MacroParams(h, w, l, b), out, render=False, progress=False)
    total = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux
    return {"rows": h, "cols": w, "local": l, "adc_bits": b, "wall_s": round(total, 2),
            "times_s": s["times_s"], "peak_rss_mib": round(rss, 1), "drc_clean": s["drc_clean"],
            "lvs_clean": s["lvs_clean"], "area_mm2": s["area_mm2"], "um2_per_bit": s["um2_per_bit"],
            "F2_per_bit": s["F2_per_bit"], "load_avg_1min": round(os.getloadavg()[0], 2)}


def main() -> None:
    if len(sys.argv) == 6:  # child: one build
        h, w, l, b = map(int, sys.argv[1:5])
        print(json.dumps(one(h, w, l, b, Path(sys.argv[5]))))
        return
    out_root = ROOT / "out" / "bench_layout"
    rows = []
    for h, w, l, b in CONFIGS:
        r = subprocess.run([sys.executable, __file__, str(h), str(w), str(l), str(b), str(out_root / f"{h}x{w}")],
                           capture_output=True, text=True, check=True)
        res = json.loads(r.stdout.strip().splitlines()[-1])
        rows.append(res)
        print(f"{h}x{w} L={l} B={b}: {res['wall_s']:.1f} s total ({res['times_s']}), "
              f"peak {res['peak_rss_mib']:.0f} MiB, "
              f"DRC clean={res['drc_clean']} LVS clean={res['lvs_clean']}, {res['area_mm2']} mm², "
              f"load {res['load_avg_1min']}")
    big = rows[-1]
    result = {"configs": rows, "target": "256x256 build+DRC+LVS < 60 s and < 4 GB",
              "target_met": big["wall_s"] < 60 and big["peak_rss_mib"] < 4096 and big["drc_clean"]
              and big["lvs_clean"], "cpu_count": os.cpu_count()}
    path = ROOT / "benchmarks" / "results" / "layout.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"target met: {result['target_met']} → {path}")


if __name__ == "__main__":
    main()
