"""``make demo``: run each pipeline on built-in defaults, writing under ``out/demo``.

Each pipeline contributes one stage: a function ``demo(out: Path) -> dict`` in its CLI module
(``eda.cli.<group>``). Stages run in order; a failing stage is reported and the demo exits 1.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.console import Console

#: (title, module) of each demo stage, in run order.
STAGES: list[tuple[str, str]] = [
    ("SPICE round trip + ngspice", "eda.cli.spice"),
    ("PDN IR-drop solve", "eda.cli.irdrop"),
    ("Dataset build", "eda.cli.dataset"),
    ("IR-drop prediction (PDNNet)", "eda.cli.irdrop_ml"),
    ("Analog topology generation", "eda.cli.topo"),
    ("ACIM design-space exploration", "eda.cli.acim"),
    ("ACIM layout synthesis (64x64, DRC + LVS)", "eda.cli.verify"),
]


def run_demo(out: str | Path) -> dict:
    import importlib

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    console = Console()
    report: dict[str, dict] = {}
    failed = False
    for title, modname in STAGES:
        mod = importlib.import_module(modname)
        fn = getattr(mod, "demo", None)
        if fn is None:
            continue
        console.rule(f"[bold]{title}")
        t0 = time.perf_counter()
        try:
            res = fn(out) or {}
            res["seconds"] = round(time.perf_counter() - t0, 2)
            report[title] = res
            console.print(f"[green]ok[/] {title} ({res['seconds']} s)")
        except Exception as e:  # noqa: BLE001 - the demo reports every stage, then fails
            failed = True
            report[title] = {"error": f"{type(e).__name__}: {e}"}
            console.print(f"[red]FAILED[/] {title}: {type(e).__name__}: {e}")
    (out / "demo_report.json").write_text(json.dumps(report, indent=2, default=str))
    console.print(f"report: {out / 'demo_report.json'}")
    if failed:
        raise SystemExit(1)
    return report
