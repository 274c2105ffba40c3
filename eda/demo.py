"""``make demo``: run each pipeline on built-in defaults, writing under ``out/demo``.

Each pipeline contributes one stage: a function ``demo(out: Path) -> dict`` in a ``demo`` module beside the
pipeline (``eda/pdn/demo.py``, ``predictors/demo.py``...), never in the CLI. Stages run in order; a failing
stage is reported and the demo exits 1. ``eda demo`` calls :func:`run_demo`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

#: (title, module) of each demo stage, in run order.
STAGES: list[tuple[str, str]] = [
    ("SPICE round trip + ngspice", "eda.sim.demo"),
    ("PDN IR-drop solve", "eda.pdn.demo"),
    ("Dataset build", "eda.generators.irdrop_demo"),
    ("IR-drop prediction (PDNNet)", "eda.predictors.demo"),
    ("Analog topology generation", "eda.generators.topology_demo"),
    ("ACIM design-space exploration", "eda.generators.acim_demo"),
    ("ACIM layout synthesis (64x64, DRC + LVS)", "eda.layout.demo"),
]


def run_demo(out: str | Path) -> dict:
    import importlib

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, dict] = {}
    for title, modname in STAGES:
        fn = importlib.import_module(modname).demo
        print(f"\n=== {title} ===", flush=True)
        t0 = time.perf_counter()
        try:
            res = fn(out) or {}
            res["seconds"] = round(time.perf_counter() - t0, 2)
            report[title] = res
            print(f"ok {title} ({res['seconds']} s)", flush=True)
        except Exception as e:  # noqa: BLE001 - the demo reports every stage, then fails
            report[title] = {"error": f"{type(e).__name__}: {e}"}
            print(f"FAILED {title}: {type(e).__name__}: {e}", flush=True)
    (out / "demo_report.json").write_text(json.dumps(report, indent=2, default=str))
    print(f"report: {out / 'demo_report.json'}")
    bad = [t for t, r in report.items() if "error" in r]
    if bad:
        from eda.errors import EdaError

        raise EdaError(f"{len(bad)} demo stage(s) failed ({'; '.join(bad)}); report: {out / 'demo_report.json'}")
    return report
