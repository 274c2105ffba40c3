"""Sizing on real circuits (issue #17): the public AnalogGenie set's op-amps, as `eda topo size --all` sizes them.

    nice -n 5 python benchmarks/bench_sizing_public.py ../shared/analoggenie/Dataset [--every 5] [--skip 0]
        [--cpu-budget 25] [--budget 90] [--key public]

Every ``--every``-th circuit (from ``--skip``) labelled ``opamp`` by ``data_categorization.md`` is sized for
the bench's spec (gain >= 40 dB, PM >= 45 deg, offset <= 50 mV, C_L = 1 pF, tt), FET bodies as drawn, stopping at
the first design that meets it or at ``--cpu-budget`` CPU seconds (this process plus its workers). This is
what a generator that reproduced real op-amps faithfully would score with this sizer (the ceiling of
the generated part), and a check of the sizer on circuits nobody wrote for it. Rows carry each circuit's
chapter; the summary splits textbook chapters from the op-amp papers (IDs 1781-2180).

Results: benchmarks/results/sizing.json under ``--key`` (merged with the other parts).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench_sizing import RESULTS, SPEC, _print_row, _summary, opamp_rule
from sizing_structure import structure_flags

from eda.errors import EdaError

PAPERS = range(1781, 2181)  # data_categorization.md: "Assorted Papers ... 1781-2180: opamp"


def run_public(folder: Path, every: int, skip: int, budget: float, cpu_budget: float, out: Path) -> dict:
    from eda.generators.sizing.run import pools, size_circuit
    from eda.generators.sizing.spec import parse_spec
    from eda.read.topology_dataset import read_topology_dataset

    tops = [t for t in read_topology_dataset(folder, on_error="skip") if t.ctype == "opamp"]
    rows = []
    pool = pools()
    try:
        for t in tops[skip::every]:
            c = t.circuit.without_sources()
            try:
                rec = size_circuit(c, t.name, parse_spec(SPEC), out, budget_s=budget, stop_when_met=True,
                                   progress=False, plot=False, extras=False, pool=next(pool), bulk="netlist",
                                   cpu_budget_s=cpu_budget)
            except EdaError as e:
                rows.append({"name": t.name, "chapter": t.meta.get("chapter"), "skipped": str(e).splitlines()[0][:200]})
                print(f"{t.name:6s} skipped: {rows[-1]['skipped']}", flush=True)
                continue
            rows.append({k: v for k, v in rec.items() if k not in ("operating_point", "design")}
                        | {"devices": len(c.devices), "chapter": t.meta.get("chapter"), **opamp_rule(c),
                           "structure": structure_flags(c)})
            _print_row(f"{t.name:6s} {len(c.devices):3d} dev", rec)
    finally:
        pool.close()
    papers = [r for r in rows if int(r["name"]) in PAPERS]
    books = [r for r in rows if int(r["name"]) not in PAPERS]
    return {"spec": SPEC, "folder": str(folder), "labelled_opamp": len(tops), "every": every, "skip": skip,
            "budget_s": budget, "cpu_budget_s": cpu_budget, "bulk": "netlist", "rows": rows, **_summary(rows),
            "papers_1781_2180": {k: v for k, v in _summary(papers).items() if k in ("sized", "met", "met_rate")},
            "textbooks": {k: v for k, v in _summary(books).items() if k in ("sized", "met", "met_rate")}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="a public dataset folder (N/N.cir + PortN.txt + data_categorization.md)")
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--budget", type=float, default=90.0, help="wall seconds per circuit (a cap)")
    ap.add_argument("--cpu-budget", type=float, default=25.0, help="CPU seconds per circuit")
    ap.add_argument("--key", default="public")
    ap.add_argument("--out", type=Path, default=Path("/tmp/eda_bench_sizing/public"))
    a = ap.parse_args()
    part = run_public(a.folder, a.every, a.skip, a.budget, a.cpu_budget, a.out)
    print(f"public op-amps: {part['met']}/{part['sized']} met ({100 * part['met_rate']:.0f} %); by the op-amp rule "
          f"{part['met_by_rule']}/{part['sized_by_rule']}; papers {part['papers_1781_2180']}, "
          f"textbooks {part['textbooks']}", flush=True)
    merged = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    merged[a.key] = part
    RESULTS.write_text(json.dumps(merged, indent=1, default=float))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
