"""Issue #17: how well the generator's function check (``generators.sizing.search.function_check``, ``eda topo generate
--size --function-check``) separates circuits the sizer can make meet the spec from those it cannot, on circuits whose
sizing outcome is already recorded in ``benchmarks/results/sizing.json``: the library's op-amp types, the public
set's op-amps (``public_s12``, read from the dataset folder) and sample sets drawn by ``bench_sizing.py`` (its cached
pickles, each with the results key of its sizing run).

    .venv/bin/python benchmarks/bench_function_check.py --public ../shared/analoggenie/Dataset \\
        --samples val999_self1_s24=/tmp/eda_bench_sizing_samples_fec6180aa6b53599_..._30_999.pkl --key function_check

Per set: kept and met, kept and missed, rejected and met, rejected and missed (the plain check, 0 dB, and with each
of ``--floors``, default the shipped floor); the met ones rejected with why; CPU s; per circuit the verdict at 0 dB,
the sizing outcome and the weaker input's open-loop gain at the check's designs (dB).
FET bodies follow the rails rule everywhere (as for generated samples; ``public_s12`` was sized with the netlist's).
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from bench_sizing import OPAMP_TYPES, RESULTS, _function_check

from eda.generators.sizing.search import FUNCTION_FLOOR_DB


def tally(items: list, rows: dict, pool, floors: tuple[float, ...]) -> dict:
    """The check at 0 dB (both inputs move the output, oppositely) on every circuit of a set; from the weaker input's
    open-loop gain it measured, the same check with each floor of ``floors`` (``floor_<dB>``)."""
    verdicts = list(pool.map(partial(_function_check, floor_db=0.0), [c for _, c in items]))
    named = list(zip((n for n, _ in items), verdicts, strict=True))

    def counts(floor: float) -> dict:
        ok = {n: v["passed"] and (v["weaker_db"] or 0.0) >= floor for n, v in named}
        tab = Counter((ok[n], rows[n]["met"]) for n, _ in named)
        return {"kept_met": tab[(True, True)], "kept_missed": tab[(True, False)], "rejected_met": tab[(False, True)],
                "rejected_missed": tab[(False, False)]}

    return {**counts(0.0), "cpu_s": round(sum(v["cpu_s"] for _, v in named), 1),
            "met_rejected_why": {n: v["diagnosis"] for n, v in named if rows[n]["met"] and not v["passed"]},
            **{f"floor_{f:g}": counts(f) for f in floors},
            # per circuit: passed at 0 dB, met, the weaker input's open-loop gain in dB (what a floor looks at) and the
            # signed open-loop slope of each input
            "circuits": {n: [v["passed"], rows[n]["met"], v["weaker_db"], v["transfer"]] for n, v in named}}


def main() -> None:
    from eda.read.topology_dataset import load_library, read_topology_dataset

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library-key", default="library_lightR_s20", help="sizing.json key of a library run")
    ap.add_argument("--public", type=Path, default=None, help="the public dataset folder (public_s12's circuits)")
    ap.add_argument("--samples", nargs="*", default=[], metavar="KEY=PKL", help="a sized sample set and its pickle")
    ap.add_argument("--key", default="function_check")
    ap.add_argument("--floors", default=f"{FUNCTION_FLOOR_DB:g}", help="comma-separated floors (dB) to tally too")
    a = ap.parse_args()
    res = json.loads(RESULTS.read_text())
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
            out[key] = tally(items, rows, pool, tuple(float(f) for f in a.floors.split(",") if f))
            print(key, json.dumps({k: v for k, v in out[key].items() if k != "circuits"}), flush=True)
    merged = json.loads(RESULTS.read_text())  # as it is now (another part may have finished meanwhile)
    merged[a.key] = out
    RESULTS.write_text(json.dumps(merged, indent=1, default=float))
    print(f"wrote {RESULTS} [{a.key}]")


if __name__ == "__main__":
    main()
