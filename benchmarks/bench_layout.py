"""Layout benchmark: ACIM macro build + DRC + LVS (the 256x256 < 60 s / < 4 GB target), the sky130
precheck deck on the built macros (violations must be 0), and the density of every sweep point.

Runs the full `eda acim build` pipeline (place/route, GDS + SPICE write, KLayout DRC and LVS
in-process) for several sizes, one process per size so peak memory is per build; then the
precheck deck (``../shared/decks/sky130A_mr.drc``, feol/beol/offgrid on) through the klayout
binary on the 64x64 and 256x256 GDS (``--no-deck``: builds only; ``--precheck-only``: the deck on the
GDS an earlier run left under out/bench_layout, merged into layout.json). ``--sweep`` builds the
12-configuration sweep of the tests (build + in-process DRC + LVS + deck each) and records µm²/bit and
F²/bit per point, each point also with shared ADCs (S = the largest divisor of W up to 8: the
shared-ADC library, packed SAR register where it fits). Prints and saves
benchmarks/results/layout.json (layout_sweep.json). The machine load is recorded next to each
timing because the development machine is shared (2 cores). ``--only NAME`` (e.g. ``64x64_8_3_8``):
one config, merged into the rows of layout.json.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: (rows, cols, local, adc_bits, adc_share)
CONFIGS = [(64, 64, 8, 3, 1), (64, 64, 8, 3, 8), (64, 64, 16, 2, 8), (128, 128, 8, 4, 1), (256, 256, 16, 4, 1),
           (256, 256, 16, 3, 8)]
#: the precheck deck runs on these (256x256 with one ADC per column, ~10 min of deck time on a loaded machine:
#: ``--precheck-only --only 256x256`` runs it on the GDS of the last build and merges it into layout.json)
DECK_ON = {(64, 64, 8, 3, 1), (64, 64, 8, 3, 8), (64, 64, 16, 2, 8), (256, 256, 16, 3, 8)}
#: ``eda acim build`` with no options (explore's default pick) and the issue's density target on it
DEFAULT_PICK, DENSITY_TARGET_F2 = (64, 64, 16, 2, 8), 1000
SWEEP = [(4, 1, 2, 1), (8, 2, 2, 2), (16, 3, 2, 3), (32, 4, 2, 4), (16, 5, 4, 2), (32, 2, 4, 3),
         (64, 4, 4, 4), (24, 3, 3, 3), (48, 2, 3, 4), (12, 6, 3, 2), (64, 8, 16, 2), (32, 16, 8, 2)]


def _deck() -> Path | None:
    deck = Path(os.environ.get("EDA_SHARED", ROOT.parent / "shared")) / "decks" / "sky130A_mr.drc"
    return deck if deck.is_file() and shutil.which("klayout") else None


def _share(w: int) -> int:
    """The largest ADC sharing S > 1 that divides ``w`` (at most 8), else 1."""
    return max([s for s in range(2, 9) if w % s == 0], default=1)


def _name(cfg: tuple[int, ...]) -> str:
    """Output folder of a config: ``HxW`` (one ADC per column), ``HxW_L_B_S`` (shared ADCs)."""
    return "x".join(map(str, cfg[:2])) + ("" if cfg[4] == 1 else "_" + "_".join(map(str, cfg[2:])))


def one(h: int, w: int, l: int, b: int, s_: int, out: Path) -> dict:
    from eda.layout.build import build
    from eda.layout.macro import MacroParams

    t = time.perf_counter()
    s = build(MacroParams(h, w, l, b, s_), out, render=False, progress=False)
    total = time.perf_counter() - t
    ru = resource.getrusage(resource.RUSAGE_SELF)
    rss = ru.ru_maxrss / 1024  # MiB on Linux
    return {"rows": h, "cols": w, "local": l, "adc_bits": b, "adc_share": s_, "column_pitch_um": s["column_pitch_um"],
            "wall_s": round(total, 2),
            "cpu_s": round(ru.ru_utime + ru.ru_stime, 2),  # the process's CPU time: what load does not inflate
            "times_s": s["times_s"], "peak_rss_mib": round(rss, 1), "drc_clean": s["drc_clean"],
            "lvs_clean": s["lvs_clean"], "area_mm2": s["area_mm2"], "um2_per_bit": s["um2_per_bit"],
            "F2_per_bit": s["F2_per_bit"], "row_height_um": s["row_height_um"],
            "bits_per_row": s.get("bits_per_row", 1), "area_breakdown_um2_per_bit": s["area_breakdown_um2_per_bit"],
            "load_avg_1min": round(os.getloadavg()[0], 2)}


def _density(rows: list[dict]) -> dict | None:
    """The issue's density target on the 64x64 default pick (``eda acim build`` with no options):
    <= 1,000 F²/bit (22.5 µm²/bit at F = 0.15 µm); printed with the area breakdown."""
    r = next((r for r in rows if tuple(r.get(k, 1) for k in ("rows", "cols", "local", "adc_bits", "adc_share"))
              == DEFAULT_PICK), None)
    if r is None:
        return None
    d = {"config": _name(DEFAULT_PICK), "um2_per_bit": r["um2_per_bit"], "F2_per_bit": r["F2_per_bit"],
         "target_F2_per_bit": DENSITY_TARGET_F2, "met": r["F2_per_bit"] <= DENSITY_TARGET_F2,
         "breakdown_um2_per_bit": r.get("area_breakdown_um2_per_bit")}
    print(f"density (64x64 default pick): {d['um2_per_bit']} µm²/bit = {d['F2_per_bit']} F²/bit, target "
          f"<= {DENSITY_TARGET_F2}: {'met' if d['met'] else 'NOT met'}; per bit {d['breakdown_um2_per_bit']}")
    return d


def _child(cfg: tuple[int, ...], out: Path) -> dict:
    r = subprocess.run([sys.executable, __file__, *map(str, cfg), str(out)], capture_output=True, text=True,
                       check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def _run_deck(gds: Path, deck: Path) -> dict:
    from eda.verify.deck import run_deck

    r = run_deck(gds, deck, report=gds.with_suffix(".precheck.lyrdb"))
    return {"precheck_violations": r.count, "precheck_by_rule": {v.rule: v.count for v in r.violations},
            "precheck_s": round(r.seconds, 1), "precheck_load_avg_1min": round(os.getloadavg()[0], 2)}


def sweep(out_root: Path, deck: Path | None) -> None:
    rows = []
    for cfg in [c + (s,) for c in SWEEP for s in sorted({1, _share(c[1])})]:
        res = _child(cfg, out_root / "sweep" / "x".join(map(str, cfg)))
        if deck is not None:
            res.update(_run_deck(out_root / "sweep" / "x".join(map(str, cfg)) / "macro.gds", deck))
        rows.append(res)
        path = ROOT / "benchmarks" / "results" / "layout_sweep.json"
        path.write_text(json.dumps({"sweep": rows, "deck": str(deck) if deck else None}, indent=2))
        print(f"{cfg}: {res['um2_per_bit']} µm²/bit ({res['F2_per_bit']} F²/bit), DRC {res['drc_clean']}, "
              f"LVS {res['lvs_clean']}, precheck {res.get('precheck_violations', 'skipped')}")
    path = ROOT / "benchmarks" / "results" / "layout_sweep.json"
    path.write_text(json.dumps({"sweep": rows, "deck": str(deck) if deck else None}, indent=2))
    print(f"→ {path}")


def precheck_only(out_root: Path, deck: Path | None) -> None:
    """The precheck deck on the 64x64 and 256x256 GDS of an earlier run, merged into layout.json."""
    path = ROOT / "benchmarks" / "results" / "layout.json"
    if deck is None or not path.is_file():
        print("needs the klayout binary, the deck and an earlier benchmarks/results/layout.json")
        return
    result = json.loads(path.read_text())
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None  # e.g. --only 64x64
    for row in result["configs"]:
        cfg = tuple(row[k] for k in ("rows", "cols", "local", "adc_bits")) + (row.get("adc_share", 1),)
        size = _name(cfg)
        gds = out_root / size / "macro.gds"
        if (cfg in DECK_ON or only == size) and gds.is_file() and only in (None, size):
            row.update(_run_deck(gds, deck))
            print(f"{row['rows']}x{row['cols']}: precheck {row['precheck_violations']} violations in "
                  f"{row['precheck_s']} s (load {row['precheck_load_avg_1min']})", flush=True)
            path.write_text(json.dumps(result, indent=2))
    result["target_met"] = (result["target_met"] if "target_met" in result else True) and all(
        r.get("precheck_violations", 0) == 0 for r in result["configs"])
    path.write_text(json.dumps(result, indent=2))


def main() -> None:
    if len(sys.argv) == 7:  # child: one build
        h, w, l, b, s = map(int, sys.argv[1:6])
        print(json.dumps(one(h, w, l, b, s, Path(sys.argv[6]))))
        return
    out_root = ROOT / "out" / "bench_layout"
    deck = None if "--no-deck" in sys.argv else _deck()
    if "--precheck-only" in sys.argv:
        precheck_only(out_root, deck)
        return
    if deck is None:
        print("precheck deck runs skipped: " + ("--no-deck" if "--no-deck" in sys.argv else
                                                "the klayout binary or ../shared/decks/sky130A_mr.drc is absent"))
    if "--sweep" in sys.argv:
        sweep(out_root, deck)
        return
    rows = []
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    for cfg in CONFIGS:
        if only not in (None, _name(cfg)):
            continue
        h, w, l, b, s = cfg
        res = _child(cfg, out_root / _name(cfg))
        if deck is not None and cfg in DECK_ON:
            res.update(_run_deck(out_root / _name(cfg) / "macro.gds", deck))
        rows.append(res)
        print(f"{h}x{w} L={l} B={b} S={s}: {res['wall_s']:.1f} s total, {res['cpu_s']:.1f} s CPU ({res['times_s']}), "
              f"peak {res['peak_rss_mib']:.0f} MiB, DRC clean={res['drc_clean']} LVS clean={res['lvs_clean']}, "
              f"{res['area_mm2']} mm², {res['um2_per_bit']} µm²/bit, {res['F2_per_bit']} F²/bit, "
              f"precheck {res.get('precheck_violations', 'skipped')} in {res.get('precheck_s', '-')} s, "
              f"load {res['load_avg_1min']}")
    path = ROOT / "benchmarks" / "results" / "layout.json"
    if only is not None and path.is_file():  # one config: merged into the earlier run's rows
        def key(r: dict) -> tuple:
            return tuple(r.get(k, 1) for k in ("rows", "cols", "local", "adc_bits", "adc_share"))
        new = {key(r) for r in rows}
        rows = [r for r in json.loads(path.read_text())["configs"] if key(r) not in new] + rows
    big = next((r for r in rows if (r["rows"], r.get("adc_share", 1)) == (256, 1)), rows[-1])
    dens = _density(rows)
    result = {"configs": rows, "target": "256x256 build+DRC+LVS < 60 s and < 4 GB; precheck 0 violations",
              "target_met": big["wall_s"] < 60 and big["peak_rss_mib"] < 4096 and big["drc_clean"]
              and big["lvs_clean"] and all(r.get("precheck_violations", 0) == 0 for r in rows),
              "deck": str(deck) if deck else None, "cpu_count": os.cpu_count(), "density": dens}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"target met: {result['target_met']} → {path}")


if __name__ == "__main__":
    main()
