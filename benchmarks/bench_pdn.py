"""PDN engine benchmarks; prints a table and saves ``benchmarks/results/pdn.json``.

Cases (each in its own process so that peak memory is its own):

1. ``ibmpg2``: a generated 5-layer grid of IBM-pg2 size (~130k nodes): write, parse, static solve,
   fill-reducing orderings compared, and ngspice ``.op`` on the same deck in the same run (capped).
2. ``static_1p7m``: a 1.7M-node grid, static solve time and peak memory.
3. ``transient_1m``: a 1M-node grid with decaps and PULSE loads, 100 trapezoidal steps, one
   factorisation, time per step.

4. ``e2e``: ``eda irdrop solve DECK`` end to end (a subprocess: start-up, parse, solve, contest map, writing
   ``voltages.csv``/``ir_drop_map.csv``/``summary.json``), on the 130k-node contest-style grid and on the same
   grid written IBM style (``n<layer>_<x>_<y>`` names, no layer token), with and without pictures; the
   phase times come from ``summary.json``. Wall and CPU seconds, and the load average, are recorded.

   ``--e2e-vs REV`` adds the same runs of git revision ``REV``'s ``eda/`` (same interpreter, this tree's compiled
   modules), interleaved with this tree's, and their ratio: on a shared, noisy machine the ratio is the figure.
   With ``--vs-key KEY`` (and ``--only e2e``) only that comparison runs (``--vs-repeats`` runs per deck and side)
   and it is saved under ``KEY``, the absolute ``e2e`` figures left as they are.

5. ``parse``: the byte tokeniser against the line-by-line reader (the parser before it) on the same 130k-node
   deck, contest and IBM naming, interleaved runs, identical results checked.

Usage: ``python benchmarks/bench_pdn.py [--quick] [--ngspice-cap S] [--skip-rcm] [--only e2e|parse]
[--e2e-vs REV [--vs-key KEY]]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "pdn.json"


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB on Linux → GB


def case_ibmpg2(n_nodes: int, ngspice_cap: float, skip_rcm: bool, skip_ngspice: bool = False) -> dict:
    import numpy as np

    from eda.pdn.grid import grid_for_nodes, make_grid
    from eda.pdn.ngspice import have_ngspice, ngspice_op
    from eda.pdn.parse import read_pdn
    from eda.pdn.solve import solve_static
    from eda.pdn.write import write_pdn

    out: dict = {}
    with tempfile.TemporaryDirectory() as d:
        deck = Path(d) / "grid.sp"
        t = time.perf_counter()
        write_pdn(make_grid(grid_for_nodes(n_nodes, pad_pitch_um=100, total_current=0.5, seed=2)), deck)
        out["generate_write_s"] = time.perf_counter() - t
        out["deck_lines"] = sum(1 for _ in deck.open())
        out["deck_mb"] = deck.stat().st_size / 1e6
        runs = []
        for _ in range(3):  # first run is cold; the best of three is less disturbed by other load
            t0, c0 = time.perf_counter(), time.process_time()
            pdn = read_pdn(deck)
            t1, c1 = time.perf_counter(), time.process_time()
            res = solve_static(pdn)
            t2, c2 = time.perf_counter(), time.process_time()
            runs.append({"parse_s": t1 - t0, "solve_s": t2 - t1, "total_s": t2 - t0, "parse_cpu_s": c1 - c0,
                         "solve_cpu_s": c2 - c1, "total_cpu_s": c2 - c0, **res.seconds})
        out["runs"] = runs
        best = min(runs, key=lambda r: r["total_s"])
        out.update(nodes=pdn.n_nodes, resistors=len(pdn.res_value), unknowns=res.n_unknowns,
                   ordering=res.ordering, parse_s=best["parse_s"], solve_s=best["solve_s"],
                   parse_plus_solve_s=best["total_s"], parse_plus_solve_first_s=runs[0]["total_s"],
                   parse_plus_solve_cpu_s=best["total_cpu_s"],
                   worst_drop_mV=res.worst_drop * 1e3)
        orderings = {}
        for o in ("nd", "mmd", "colamd") + (() if skip_rcm else ("rcm",)):
            r = solve_static(pdn, method="direct", ordering=o)
            orderings[o] = {"factor_s": r.seconds["factor"], "solve_s": r.seconds["solve"],
                            "max_diff_V": float(np.abs(r.voltage - res.voltage).max())}
            print(f"  ordering {o:7s} factor {r.seconds['factor']:8.2f} s", flush=True)
        out["orderings"] = orderings
        t = time.perf_counter()
        r = solve_static(pdn, method="iterative")
        out["amg_cg"] = {"total_s": time.perf_counter() - t, "iterations": r.iterations,
                         "max_diff_V": float(np.abs(r.voltage - res.voltage).max())}
        if have_ngspice() and not skip_ngspice:
            c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            try:
                v, secs = ngspice_op(pdn, timeout=ngspice_cap)
                out["ngspice"] = {"op_s": secs, "capped": False,
                                  "max_diff_V": float(np.nanmax(np.abs(v - res.voltage)))}
            except TimeoutError:
                out["ngspice"] = {"op_s": ngspice_cap, "capped": True}
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            ng = out["ngspice"]
            # CPU of a killed child is not collected; then only the wall-clock ratio is meaningful
            ng["op_cpu_s"] = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime) if not ng["capped"] else None
            ng["speedup"] = ng["op_s"] / out["parse_plus_solve_s"]
            ng["speedup_is_lower_bound"] = ng["capped"]
    out["peak_gb"] = _peak_gb()
    return out


def case_static_large(n_nodes: int) -> dict:
    from eda.pdn.grid import grid_for_nodes, make_grid
    from eda.pdn.solve import solve_static

    t = time.perf_counter()
    pdn = make_grid(grid_for_nodes(n_nodes, pad_pitch_um=100, total_current=2.0, seed=3))
    gen = time.perf_counter() - t
    t, c = time.perf_counter(), time.process_time()
    res = solve_static(pdn)
    solve, cpu = time.perf_counter() - t, time.process_time() - c
    return {"solve_cpu_s": cpu, "nodes": pdn.n_nodes, "resistors": len(pdn.res_value), "unknowns": res.n_unknowns,
            "generate_s": gen, "solve_s": solve, "method": res.method, "ordering": res.ordering, **res.seconds,
            "iterations": res.iterations, "worst_drop_mV": res.worst_drop * 1e3, "peak_gb": _peak_gb()}


def case_transient(n_nodes: int, steps: int) -> dict:
    from eda.pdn.grid import grid_for_nodes, make_grid
    from eda.pdn.solve import solve_transient

    step = 1e-11
    t = time.perf_counter()
    pdn = make_grid(grid_for_nodes(n_nodes, pad_pitch_um=100, total_current=2.0, decap=1e-13,
                                   pad_inductance=1e-11, pulse=(2e-10, 5e-11, 5e-11, 2e-10, 6e-10), seed=4))
    gen = time.perf_counter() - t
    t, c = time.perf_counter(), time.process_time()
    res = solve_transient(pdn, step, steps * step, progress=False)
    total, cpu = time.perf_counter() - t, time.process_time() - c
    return {"total_cpu_s": cpu, "nodes": pdn.n_nodes, "unknowns": res.n_unknowns, "steps": len(res.times) - 1,
            "factorizations": res.factorizations, "method": res.method, "generate_s": gen, "total_s": total,
            "dc_s": res.seconds["dc"], "factor_s": res.seconds["factor"], "per_step_s": res.seconds["per_step"],
            "worst_drop_mV": res.worst * 1e3, "peak_gb": _peak_gb()}


#: The last revision before the contest-convention issue's work: its parser is the issue's "before".
ISSUE_PARSER_REV = "6d3c40e"


#: read_pdn's readers, fastest first: the compiled tokeniser, the NumPy byte tokeniser, the line-by-line reader.
_READERS = (("compiled", {}), ("byte_tokeniser", {"compiled": False}), ("line_reader", {"byte_tokeniser": False}))
_SAME_FIELDS = ("node_names", "node_net", "node_x", "node_y", "node_layer", "res_a", "res_b", "res_value", "is_a",
                "is_b", "is_value", "is_names", "is_kind", "vs_a", "vs_b", "vs_value", "vs_names")


def case_parse(n_nodes: int, repeats: int = 5, before: str | None = ISSUE_PARSER_REV,
               also: tuple[int, ...] = (335_000,)) -> dict:
    """The three readers of ``read_pdn`` on one deck (interleaved runs, identical results checked), at ``n_nodes``
    and at each size in ``also`` (keys ``<naming>_<size>``); and vs the parser as the contest-convention issue
    found it (``before``: a git revision, needs the history; first size only)."""
    import numpy as np

    from eda.pdn import fast
    from eda.pdn.grid import grid_for_nodes, make_grid
    from eda.pdn.parse import read_pdn
    from eda.pdn.write import write_pdn

    out: dict = {"compiled_available": fast.available()}
    for size in (n_nodes, *also):
        pdn = make_grid(grid_for_nodes(size, pad_pitch_um=100, total_current=0.5, seed=2))
        tag = "" if size == n_nodes else f"_{size // 1000}k"
        if not tag:
            names = pdn.node_names  # the writers' node names: the first deck's
        with tempfile.TemporaryDirectory() as d:
            decks = {f"contest_style{tag}": write_pdn(pdn, Path(d) / "grid.sp"),
                     f"ibm_style{tag}": write_pdn(_ibm_style(pdn), Path(d) / "ibm.sp")}
            for name, deck in decks.items():
                out[name] = _parse_runs(deck, repeats if not tag else 3, np, read_pdn)
                print(f"  {name}: {out[name]}", flush=True)
                if before and not tag:
                    _vs_issue_parser(out[name], deck, before, repeats)
    out["writers"] = _writer_runs(names, repeats)
    print(f"  writers: {out['writers']}", flush=True)
    out["load_average"] = list(__import__("os").getloadavg())
    return out


def _writer_runs(names, repeats: int) -> dict:
    """The compiled CSV writers (eda/pdn/_fastwrite.c) against the Python ones: a 1380 x 1380 map (the 130k-node
    grid's contest map, 1.9M values) and ``voltages.csv`` for ``names``; best CPU s, identical bytes checked."""
    import numpy as np

    from eda.pdn import mapcsv, write

    rng = np.random.default_rng(0)
    m, v = np.abs(rng.normal(size=(1380, 1380))) * 1e-3, 1.1 - np.abs(rng.normal(size=len(names))) * 1e-2
    fast = mapcsv._fastwrite
    out: dict = {"compiled_available": fast is not None, "map_values": int(m.size), "voltage_rows": len(names)}
    with tempfile.TemporaryDirectory() as d:
        got: dict = {}
        for key, mod in (("compiled", fast), ("python", None)):
            mapcsv._fastwrite = write._fastwrite = mod
            try:
                for what, fn in (("map", lambda f: mapcsv.write_map_csv(m, f)),
                                 ("voltages", lambda f: write.write_voltages_csv(names, v, f))):
                    best = 9e9
                    for _ in range(repeats):
                        c = time.process_time()
                        fn(Path(d) / f"{what}_{key}.csv")
                        best = min(best, time.process_time() - c)
                    out[f"{what}_{key}_cpu_s"] = best
                    got[(what, key)] = (Path(d) / f"{what}_{key}.csv").read_bytes()
            finally:
                mapcsv._fastwrite = write._fastwrite = fast
        out["same_bytes"] = all(got[(w, "compiled")] == got[(w, "python")] for w in ("map", "voltages"))
    return out


def _parse_runs(deck: Path, repeats: int, np, read_pdn) -> dict:
    times: dict[str, list] = {k: [] for k, _ in _READERS}
    res = {}
    for _ in range(repeats):
        for key, kw in _READERS:
            t, c = time.perf_counter(), time.process_time()
            res[key] = read_pdn(deck, **kw)
            times[key].append((time.perf_counter() - t, time.process_time() - c))
    ref = res["line_reader"]
    same = {k: bool(r.layer_names == ref.layer_names and all(
        np.array_equal(getattr(r, f), getattr(ref, f), equal_nan=getattr(r, f).dtype.kind == "f")
        for f in _SAME_FIELDS)) for k, r in res.items()}
    best = {k: (min(w for w, _ in v), min(c for _, c in v)) for k, v in times.items()}
    return {"nodes": ref.n_nodes, "resistors": len(ref.res_value), "res_sum": float(ref.res_value.sum()),
            "lines": sum(1 for _ in open(deck)), "deck_mb": deck.stat().st_size / 1e6,
            "reader_used": {k: r.reader for k, r in res.items()}, "same_result": all(same.values()),
            **{f"{k}_s": w for k, (w, _) in best.items()}, **{f"{k}_cpu_s": c for k, (_, c) in best.items()},
            # read_pdn as it runs by default (the compiled reader when built) against the line-by-line reader
            "speedup": best["line_reader"][0] / best["compiled"][0],
            "speedup_cpu": best["line_reader"][1] / best["compiled"][1],
            "numpy_speedup": best["line_reader"][0] / best["byte_tokeniser"][0],
            "numpy_speedup_cpu": best["line_reader"][1] / best["byte_tokeniser"][1],
            "compiled_vs_numpy_cpu": best["byte_tokeniser"][1] / best["compiled"][1],
            "compiled_vs_lines_cpu": best["line_reader"][1] / best["compiled"][1]}


def _vs_issue_parser(row: dict, deck: Path, before: str, repeats: int) -> None:
    try:
        ref = _issue_parser(deck, before, repeats)
    except (OSError, __import__("subprocess").CalledProcessError) as e:  # no git, shallow clone
        row["issue_parser"] = {"revision": before, "unavailable": str(e)}
        return
    row["issue_parser"] = ref
    ref["speedup"] = ref["wall_s"] / row["compiled_s"]
    ref["speedup_cpu"] = ref["cpu_s"] / row["compiled_cpu_s"]
    ref["numpy_speedup"] = ref["wall_s"] / row["byte_tokeniser_s"]
    ref["numpy_speedup_cpu"] = ref["cpu_s"] / row["byte_tokeniser_cpu_s"]
    ref["same_network"] = bool(ref["nodes"] == row["nodes"] and ref["resistors"] == row["resistors"]
                               and abs(ref["res_sum"] - row["res_sum"]) <= 1e-9 * ref["res_sum"])
    print(f"  vs the parser at {before}: {ref}", flush=True)


def _unpack_eda(repo: Path, rev: str, into: Path) -> None:
    """Unpack git revision ``rev``'s ``eda/`` from ``repo``'s history into the folder ``into``."""
    import subprocess

    tar = subprocess.run(["git", "archive", rev, "eda"], cwd=repo, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=tar, check=True)


def _issue_parser(deck: Path, rev: str, repeats: int) -> dict:
    """Best wall/CPU time of ``read_pdn`` as it was at git revision ``rev`` (its ``eda/`` unpacked from this
    clone's history and imported in a child process), on the same deck."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    code = ("import sys, time, json; sys.path.insert(0, sys.argv[1]); from eda.pdn.parse import read_pdn\n"
            "assert read_pdn.__code__.co_filename.startswith(sys.argv[1]), read_pdn.__code__.co_filename\n"
            "best = [9e9, 9e9]\n"
            "for _ in range(int(sys.argv[3])):\n"
            "    t, c = time.perf_counter(), time.process_time(); p = read_pdn(sys.argv[2])\n"
            "    best = [min(best[0], time.perf_counter() - t), min(best[1], time.process_time() - c)]\n"
            "print(json.dumps({'wall_s': best[0], 'cpu_s': best[1], 'nodes': p.n_nodes, "
            "'resistors': len(p.res_value), 'res_sum': float(p.res_value.sum())}))")
    with tempfile.TemporaryDirectory() as old:
        _unpack_eda(repo, rev, Path(old))
        got = subprocess.run([sys.executable, "-c", code, old, str(deck), str(repeats)], check=True,
                             capture_output=True, text=True)
    return {"revision": rev, **json.loads(got.stdout.strip().splitlines()[-1])}


def _ibm_style(pdn):
    """The same network with IBM power-grid names (``n<layer number>_<x>_<y>``, no layer token)."""
    from dataclasses import replace

    import numpy as np

    from eda.pdn.model import PDN

    rank = np.array([0, *pdn.layer_rank.tolist()])[pdn.node_layer + 1]
    names = np.char.add(np.char.add(np.char.add("n", rank.astype(str)), "_"),
                        np.char.add(np.char.add(pdn.node_x.astype(np.int64).astype(str), "_"),
                                    pdn.node_y.astype(np.int64).astype(str)))
    fresh = PDN.from_names(names)
    return replace(pdn, node_names=fresh.node_names, node_net=fresh.node_net, node_layer=fresh.node_layer,
                   node_x=fresh.node_x, node_y=fresh.node_y, layer_names=fresh.layer_names)


def case_e2e(n_nodes: int, repeats: int = 3, vs: str | None = None, vs_only: bool = False) -> dict:
    """``vs_only``: only the interleaved comparison with revision ``vs``, ``repeats`` runs per deck and side."""
    import subprocess
    import sys

    from eda.pdn.grid import grid_for_nodes, make_grid
    from eda.pdn.write import write_pdn

    out: dict = {}
    pdn = make_grid(grid_for_nodes(n_nodes, pad_pitch_um=100, total_current=0.5, seed=2))
    eda = [sys.executable, "-c", "from eda.cli import main; main()", "irdrop", "solve"]
    with tempfile.TemporaryDirectory() as d:
        decks = {"contest_style": write_pdn(pdn, Path(d) / "grid.sp"),
                 "ibm_style": write_pdn(_ibm_style(pdn), Path(d) / "ibm.sp")}
        if vs and vs_only:
            return _e2e_vs(decks, vs, eda, Path(d), repeats)
        if vs:
            out["vs"] = _e2e_vs(decks, vs, eda, Path(d), 4 * repeats)
        for name, deck in decks.items():
            for pics in ("--no-pictures", "--pictures"):
                runs = []
                for _ in range(repeats):
                    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t = time.perf_counter()
                    subprocess.run([*eda, str(deck), "--out", f"{d}/o", pics], check=True, capture_output=True)
                    wall = time.perf_counter() - t
                    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    s = json.loads(Path(f"{d}/o/summary.json").read_text())
                    runs.append({"wall_s": wall, "cpu_s": (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime),
                                 **{f"{k}_s": v for k, v in s["seconds"].items()}})
                best = min(runs, key=lambda r: r["wall_s"])
                out[f"{name}{'' if pics == '--pictures' else '_no_pictures'}"] = {
                    "nodes": s["nodes"], "map_shape": s.get("map_shape"), "best": best, "runs": runs}
                print(f"  {name} {pics}: best wall {best['wall_s']:.2f} s (cpu {best['cpu_s']:.2f} s) "
                      f"{ {k: round(v, 3) for k, v in best.items()} }", flush=True)
    out["load_average"] = list(__import__("os").getloadavg())
    return out


def _e2e_vs(decks: dict, rev: str, eda: list, d: Path, repeats: int) -> dict:
    """Wall times of ``eda irdrop solve --no-pictures`` from this tree and from revision ``rev``'s ``eda/``,
    alternating run by run on each deck; best and median of each, and the ratios (this / rev)."""
    import os
    import statistics
    import subprocess

    repo = Path(__file__).resolve().parent.parent
    old = d / "rev"
    old.mkdir()
    _unpack_eda(repo, rev, old)
    for so in (repo / "eda" / "pdn").glob("_*.so"):  # compiled modules are built, not tracked
        (old / "eda" / "pdn" / so.name).write_bytes(so.read_bytes())
    res: dict = {"revision": rev, "load_average_at_start": list(os.getloadavg())}
    for name, deck in decks.items():
        walls: dict[str, list[float]] = {"this": [], "rev": []}
        for _ in range(repeats):
            for who, path in (("rev", old), ("this", repo)):
                env = {**os.environ, "PYTHONPATH": str(path)}
                t = time.perf_counter()
                subprocess.run([*eda, str(deck), "--out", str(d / who), "--no-pictures"], check=True,
                               capture_output=True, env=env, cwd=path)
                walls[who].append(time.perf_counter() - t)
        row = {f"{who}_{k}": f(w) for who, w in walls.items() for k, f in (("best_s", min),
                                                                             ("median_s", statistics.median))}
        row.update(ratio_best=row["this_best_s"] / row["rev_best_s"],
                   ratio_median=row["this_median_s"] / row["rev_median_s"],
                   same_map=(d / "this" / "ir_drop_map.csv").read_bytes() == (d / "rev" / "ir_drop_map.csv")
                   .read_bytes(), runs=walls)
        res[name] = row
        print(f"  {name} vs {rev}: this best {row['this_best_s']:.2f} / median {row['this_median_s']:.2f} s, "
              f"{rev} {row['rev_best_s']:.2f} / {row['rev_median_s']:.2f} s: ratio {row['ratio_best']:.3f} / "
              f"{row['ratio_median']:.3f}, same map {row['same_map']}", flush=True)
    res["load_average_at_end"] = list(os.getloadavg())
    return res


def _child(q, fn, args):
    try:
        q.put(("ok", fn(*args)))
    except Exception as e:  # noqa: BLE001 - reported in the results
        q.put(("error", f"{type(e).__name__}: {e}"))


def run_isolated(fn, *args) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q, fn, args))
    p.start()
    status, val = q.get()
    p.join()
    return val if status == "ok" else {"error": val}


def targets(out: dict) -> dict:
    """The issue's targets, judged on wall-clock times."""
    ib, st, tr = out.get("ibmpg2", {}), out.get("static_1p7m", {}), out.get("transient_1m", {})
    return {
        "ibmpg2_parse_plus_solve_under_2s": ib.get("parse_plus_solve_s", 1e9) < 2.0,
        "ibmpg2_100x_vs_ngspice": ib.get("ngspice", {}).get("speedup", 0) >= 100,
        "static_1p7m_under_30s": st.get("solve_s", 1e9) < 30.0,
        "static_1p7m_under_8GB": st.get("peak_gb", 1e9) < 8.0,
        "transient_one_factorisation": tr.get("factorizations") == 1,
        "e2e_irdrop_solve_ibmpg2_size_under_1s": out.get("e2e", {}).get("ibm_style_no_pictures", {})
        .get("best", {}).get("wall_s", 1e9) <= 1.0,
        "parse_3x_faster_same_result": all(out.get("parse", {}).get(k, {}).get("speedup", 0) >= 3.0
                                           and out.get("parse", {}).get(k, {}).get("same_result", False)
                                           for k in ("contest_style", "ibm_style")),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run, not the targets)")
    ap.add_argument("--ngspice-cap", type=float, default=600.0, help="time cap for ngspice .op (s)")
    ap.add_argument("--skip-rcm", action="store_true", help="skip the (slow) RCM ordering")
    ap.add_argument("--skip-ngspice", action="store_true",
                    help="with --only ibmpg2: keep the saved ngspice comparison (from its own run)")
    ap.add_argument("--e2e-vs", metavar="REV", help="e2e: also time git revision REV's eda/, interleaved")
    ap.add_argument("--vs-key", metavar="KEY", help="with --only e2e --e2e-vs: run only the comparison, save it as KEY")
    ap.add_argument("--vs-repeats", type=int, default=16, help="with --vs-key: runs per deck and side")
    ap.add_argument("--only", choices=("ibmpg2", "static_1p7m", "transient_1m", "e2e", "parse"),
                    help="run one case and update it in the saved results")
    a = ap.parse_args()
    if a.vs_key:
        if a.only != "e2e" or not a.e2e_vs:
            ap.error("--vs-key needs --only e2e and --e2e-vs REV")
        old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        old[a.vs_key] = run_isolated(case_e2e, 130_000, a.vs_repeats, a.e2e_vs, True)
        RESULTS.write_text(json.dumps(old, indent=2, default=float))
        print(json.dumps({k: v for k, v in old[a.vs_key].items() if k != "runs"}, indent=1, default=float))
        return
    if a.only:
        old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        fn, size = {"ibmpg2": (case_ibmpg2, 130_000), "static_1p7m": (case_static_large, 1_700_000),
                    "transient_1m": (case_transient, 1_000_000), "e2e": (case_e2e, 130_000),
                    "parse": (case_parse, 130_000)}[a.only]
        args = (size, a.ngspice_cap, a.skip_rcm, a.skip_ngspice) if a.only == "ibmpg2" \
            else (size, 3, a.e2e_vs) if a.only == "e2e" else (size,) if a.only in ("static_1p7m", "parse") \
            else (size, 100)
        prev = old.get(a.only, {})
        old[a.only] = run_isolated(fn, *args)
        old[a.only]["load_average"] = list(__import__("os").getloadavg())
        if a.only == "ibmpg2" and a.skip_rcm and "rcm" in prev.get("orderings", {}):
            old[a.only].setdefault("orderings", {})["rcm"] = {**prev["orderings"]["rcm"], "from_previous_run": True}
        for k in ("orderings_full_run",):
            if k in prev:
                old[a.only][k] = prev[k]
        if a.only == "ibmpg2" and a.skip_ngspice and "ngspice" in prev:
            # the ratio stays the one measured in that run (same deck, same load), not a mixed one
            old[a.only]["ngspice"] = {**prev["ngspice"], "from_previous_run": True,
                                      "parse_plus_solve_s_in_that_run": prev["parse_plus_solve_s"]}
        old["targets_met"] = targets(old)
        RESULTS.write_text(json.dumps(old, indent=2, default=float))
        print(json.dumps(old[a.only], indent=1, default=float))
        return
    sizes = (20_000, 100_000, 100_000) if a.quick else (130_000, 1_700_000, 1_000_000)
    out = {"machine": {"python": platform.python_version(), "cpu_count": mp.cpu_count(),
                       "platform": platform.platform()},
           "load_average_at_start": list(__import__("os").getloadavg())}
    print(f"== ibmpg2-size deck ({sizes[0]} nodes)", flush=True)
    out["ibmpg2"] = run_isolated(case_ibmpg2, sizes[0], a.ngspice_cap, a.skip_rcm)
    print(json.dumps(out["ibmpg2"], indent=1, default=float), flush=True)
    print(f"== static {sizes[1]} nodes", flush=True)
    out["static_1p7m"] = run_isolated(case_static_large, sizes[1])
    print(json.dumps(out["static_1p7m"], indent=1, default=float), flush=True)
    print(f"== transient {sizes[2]} nodes, 100 steps", flush=True)
    out["transient_1m"] = run_isolated(case_transient, sizes[2], 100)
    print(json.dumps(out["transient_1m"], indent=1, default=float), flush=True)
    print(f"== parsing, byte tokeniser vs line reader, {sizes[0]} nodes", flush=True)
    out["parse"] = run_isolated(case_parse, sizes[0])
    print(f"== eda irdrop solve end to end, {sizes[0]} nodes", flush=True)
    out["e2e"] = run_isolated(case_e2e, sizes[0], 3, a.e2e_vs)
    out["load_average_at_end"] = list(__import__("os").getloadavg())
    out["targets_met"] = targets(out)
    out["quick"] = a.quick
    if not a.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(out, indent=2, default=float))
        print(f"saved {RESULTS}")
    print(json.dumps(out["targets_met"], indent=1))


if __name__ == "__main__":
    main()
