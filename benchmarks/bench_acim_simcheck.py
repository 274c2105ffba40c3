"""The DSE model's ngspice cross-check (``CHECK_CONFIGS``: mismatch-, quantisation-, comparator-noise-dominated
and mixed columns) on the sky130 BSIM4 models at several corners and temperatures.

Each run simulates the configuration's Monte-Carlo columns in ngspice (real sky130 switch, MIM caps; the SAR runs on
the simulated voltages) and compares the SNR with the analytical model (``check_column``; ``snr_ideal_db``: the
same Monte-Carlo draws on an ideal circuit, so ideal − model is the sampling error). One process per run
(``--jobs``); finished runs are kept in ``benchmarks/results/acim_sim_check_sky130.json`` and skipped on a rerun,
so a long sweep can be resumed. ``--corners tt:27 ff:27 ss:27 tt:85`` (default), ``--configs NAME ...`` (names of
``CHECK_CONFIGS``; default all), ``--result PATH`` (another results file, e.g. a rerun after a harness change:
``benchmarks/results/acim_sim_check_sky130_fixed.json``).

Run: ``.venv/bin/python benchmarks/bench_acim_simcheck.py [--jobs 2] [--corners tt:27 ...] [--configs ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from eda.generators.acim_model import load_cell_sizes
from eda.generators.acim_sim import CHECK_CONFIGS, check_column

RESULT = Path(__file__).resolve().parent / "results" / "acim_sim_check_sky130.json"
KEEP = ("snr_sim_db", "snr_model_db", "snr_ideal_db", "transfer_max_err_lsb", "transfer_nonlinearity_lsb",
        "transfer_gain_error_pct", "n_samples", "pedestal_mV", "w_rst_um", "n_caps", "v_unit_mV", "ideal_transfer")


def _key(name: str, corner: str, temp_c: float) -> str:
    return f"{name} | {corner} {temp_c:g} C"


def one(name: str, corner: str, temp_c: float) -> dict:
    """One configuration at one corner/temperature: the check's numbers, its wall and CPU time, the load."""
    cfg = CHECK_CONFIGS[name].model_copy(update={"corner": corner, "temp_c": temp_c, "models": "sky130"})
    t0, c0 = time.perf_counter(), time.process_time()
    r = check_column(cfg, load_cell_sizes())
    row = {"config": name, "corner": corner, "temp_c": temp_c, **{k: r[k] for k in KEEP if k in r}}
    row["snr_diff_db"] = r["snr_sim_db"] - r["snr_model_db"]
    row["seconds"] = round(time.perf_counter() - t0, 1)
    row["cpu_s"] = round(time.process_time() - c0, 1)  # ngspice runs in this process (its shared library)
    row["load_avg_1min"] = round(os.getloadavg()[0], 2)
    return row


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--corners", nargs="+", default=["tt:27", "ff:27", "ss:27", "tt:85"], help="CORNER:TEMP_C")
    ap.add_argument("--configs", nargs="+", default=list(CHECK_CONFIGS), choices=list(CHECK_CONFIGS))
    ap.add_argument("--result", type=Path, default=RESULT, help="results file (kept runs are skipped)")
    ap.add_argument("--figure", type=Path, help="plot the ideal transfers and SNRs of the first corner's runs here "
                    "(README's acim_sim_check.png; kept runs without a transfer are redone)")
    args = ap.parse_args(argv)
    result: Path = args.result
    done = json.loads(result.read_text())["runs"] if result.is_file() else {}
    corners = [(c, float(t)) for c, t in (x.split(":") for x in args.corners)]
    first = corners[0]
    todo = [(n, *c) for c in corners for n in args.configs]
    todo = [t for t in todo if _key(*t) not in done
            or (args.figure and t[1:] == first and "ideal_transfer" not in done[_key(*t)])]
    print(f"{len(todo)} runs to do ({len(done)} kept from {result.name})", flush=True)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = {pool.submit(one, *t): t for t in todo}
        for f in as_completed(futs):
            row = f.result()
            done[_key(*futs[f])] = row
            result.write_text(json.dumps({"runs": done}, indent=1))
            print(f"{_key(*futs[f])}: SNR ngspice {row['snr_sim_db']:.2f} dB, model {row['snr_model_db']:.2f} dB "
                  f"(diff {row['snr_diff_db']:+.2f}), {row['seconds']} s", flush=True)
    worst = max(abs(r["snr_diff_db"]) for r in done.values()) if done else float("nan")
    out = {"runs": done, "max_abs_diff_db": round(worst, 3), "target_1p5_db_met": bool(worst < 1.5)}
    result.write_text(json.dumps(out, indent=1))
    if args.figure:
        from bench_acim import _plot_sim  # the same figure bench_acim.py draws from its level-1-era check

        _plot_sim({n: {**done[_key(n, *first)], "_transfer": done[_key(n, *first)]["ideal_transfer"]}
                   for n in args.configs}, args.figure)
        print(f"figure: {args.figure}")
    print(f"max |SNR ngspice - model| over {len(done)} runs: {worst:.2f} dB (target < 1.5 dB) -> {result}")
    return out


if __name__ == "__main__":
    main()
