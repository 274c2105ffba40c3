"""Issue #17: how well the generator's function check (``generators.sizing.search.function_check``, ``eda topo generate
--size --function-check``) separates circuits the sizer can make meet the spec from those it cannot, on circuits whose
sizing outcome is already recorded in ``benchmarks/results/sizing.json``: the library's op-amp types, the public
set's op-amps (``public_s12``, read from the dataset folder) and sample sets drawn by ``bench_sizing.py`` (its cached
pickles, each with the results key of its sizing run).

    .venv/bin/python benchmarks/bench_function_check.py --public ../shared/analoggenie/Dataset \\
        --samples val999_self1_s24=/tmp/eda_bench_sizing_samples_fec6180aa6b53599_..._30_999.pkl --key function_check

Per set: kept and met, kept and missed, rejected and met, rejected and missed (the plain check, 0 dB, and with each
of ``--floors``, default the shipped floor), and per op-amp type at the shipped floor; the met ones rejected with why;
CPU s; per circuit the verdict at 0 dB, the sizing outcome and the weaker input's open-loop gain at the check's designs
(dB). ``--recount --key K`` only adds the per-type counts to a stored result.
FET bodies follow the rails rule everywhere (as for generated samples; ``public_s12`` was sized with the netlist's).
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from bench_sizing import OPAMP_TYPES, RESULTS, _function_check
from train_opamp_self import sample_type

from eda.generators.sizing.search import FUNCTION_FLOOR_DB


def tally(items: list, rows: dict, pool, floors: tuple[float, ...], types: dict[str, str]) -> dict:
    """The check at 0 dB (both inputs move the output, oppositely) on every circuit of a set; from the weaker input's
    open-loop gain it measured, the same check with each floor of ``floors`` (``floor_<dB>``); the same counts per
    op-amp type (``types``: name -> type) at the shipped floor (``by_type``)."""
    verdicts = list(pool.map(partial(_function_check, floor_db=0.0), [c for _, c in items]))
    named = list(zip((n for n, _ in items), verdicts, strict=True))
    # per circuit: passed at 0 dB, met, the weaker input's open-loop gain in dB (what a floor looks at) and the signed
    # open-loop slope of each input
    circuits = {n: [v["passed"], rows[n]["met"], v["weaker_db"], v["transfer"]] for n, v in named}
    return {**counts(circuits, 0.0), "cpu_s": round(sum(v["cpu_s"] for _, v in named), 1),
            "met_rejected_why": {n: v["diagnosis"] for n, v in named if rows[n]["met"] and not v["passed"]},
            **{f"floor_{f:g}": counts(circuits, f) for f in floors}, "by_type": by_type(circuits, types),
            "circuits": circuits}


def counts(circuits: dict, floor: float) -> dict:
    """Kept and met, kept and missed, rejected and met, rejected and missed, with the check's floor at ``floor`` dB,
    from :func:`tally`'s per-circuit records."""
    tab = Counter((passed and (weaker or 0.0) >= floor, met) for passed, met, weaker, *_ in circuits.values())
    return {"kept_met": tab[(True, True)], "kept_missed": tab[(True, False)], "rejected_met": tab[(False, True)],
            "rejected_missed": tab[(False, False)]}


def by_type(circuits: dict, types: dict[str, str], floor: float = FUNCTION_FLOOR_DB) -> dict:
    """:func:`counts` per type of ``types``."""
    groups: dict[str, dict] = {}
    for n, rec in circuits.items():
        groups.setdefault(types[n], {})[n] = rec
    return {t: counts(group, floor) for t, group in sorted(groups.items())}


def set_types(names, library: dict[str, str]) -> dict[str, str]:
    """The op-amp type of each circuit of a set: a library circuit's label, a drawn or completed sample's from its name
    (:func:`train_opamp_self.sample_type`), else ``opamp`` (the public set's op-amps, numbered)."""
    return {n: library.get(n) or (sample_type(n) if re.match(r"(gen|cmp)\d+_", n) else "opamp") for n in names}


def main() -> None:
    from eda.read.topology_dataset import load_library, read_topology_dataset

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library-key", default="library_lightR_s20", help="sizing.json key of a library run")
    ap.add_argument("--public", type=Path, default=None, help="the public dataset folder (public_s12's circuits)")
    ap.add_argument("--samples", nargs="*", default=[], metavar="KEY=PKL", help="a sized sample set and its pickle")
    ap.add_argument("--key", default="function_check")
    ap.add_argument("--floors", default=f"{FUNCTION_FLOOR_DB:g}", help="comma-separated floors (dB) to tally too")
    ap.add_argument("--recount", action="store_true", help="only add the per-type counts to every set of --key from "
                                                           "its recorded circuits (no check is run)")
    a = ap.parse_args()
    res = json.loads(RESULTS.read_text())
    lib_types = {t.name: t.ctype for t in load_library()}
    if a.recount:
        for key, part in res[a.key].items():
            part["by_type"] = by_type(part["circuits"], set_types(part["circuits"], lib_types))
            print(key, json.dumps(part["by_type"]), flush=True)
        RESULTS.write_text(json.dumps(res, indent=1, default=float))
        print(f"wrote {RESULTS} [{a.key}]")
        return
    sets: dict[str, tuple[list, dict]] = {}
    done = {k: {r["name"]: r for r in res[k]["rows"] if "skipped" not in r} for k in
            [a.library_key] + (["public_s12"] if a.public else []) + [s.split("=", 1)[0] for s in a.samples]}
    lib = done[a.library_key]
    sets[a.library_key] = ([(t.name, t.circuit.without_sources()) for t in load_library()
                            if t.ctype in OPAMP_TYPES and t.name in lib], lib)
    if a.public:
        pub = done["public_s12"]
        public = read_topology_dataset(a.public, on_error="skip")
        sets["public_s12"] = ([(t.name, t.circuit.without_sources()) for t in public
                               if t.ctype == "opamp" and t.name in pub], pub)
    for s in a.samples:
        key, path = s.split("=", 1)
        sets[key] = ([(n, c) for n, c in pickle.loads(Path(path).read_bytes()) if n in done[key]], done[key])
    out = {}
    with ProcessPoolExecutor(2) as pool:
        for key, (items, rows) in sets.items():
            floors = tuple(float(f) for f in a.floors.split(",") if f)
            out[key] = tally(items, rows, pool, floors, set_types((n for n, _ in items), lib_types))
            print(key, json.dumps({k: v for k, v in out[key].items() if k != "circuits"}), flush=True)
    merged = json.loads(RESULTS.read_text())  # as it is now (another part may have finished meanwhile)
    merged[a.key] = out
    RESULTS.write_text(json.dumps(merged, indent=1, default=float))
    print(f"wrote {RESULTS} [{a.key}]")


if __name__ == "__main__":
    main()
