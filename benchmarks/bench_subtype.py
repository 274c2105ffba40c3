"""Issue #17 diagnostic: does the op-amp specialist draw the sub-type it is asked for?

Each drawn sample is read by structure (``generators.topology_subtype.opamp_subtype``: input pair, cascodes,
stages) and counted against the sub-type it was drawn for. The samples are drawn as ``bench_sizing.py --generated``
draws them (``eda topo generate --type T``'s defaults, rule-clean, amplifier ports), here in equal shares of the four
sub-types, and cached with bench_sizing's samples. The same reading of the library's 40 labelled op-amps is the
check on the reader (all must agree), and of the public set's plain ``opamp`` circuits (``--data``) their spread.

    .venv/bin/python benchmarks/bench_subtype.py --n 40 --seed 321 --minutes 15 [--checkpoint CKPT] \\
        [--data ../shared/analoggenie/Dataset] [--key shipped_321]

``--recorded`` instead crosses every recorded ``bench_sizing`` run whose sample cache is on this machine (the caches
live in the temporary folder) with its sizing outcome: met / sized per asked type and structure.

Results: benchmarks/results/topo_subtype.json (merged by ``--key``).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import bench_sizing as bs

RESULTS = Path(__file__).resolve().parent / "results" / "topo_subtype.json"


def agreement(samples: list[tuple[str, object]]) -> dict:
    """Per asked type of ``(asked type, circuit)`` pairs: how many, how they read by structure and the share that
    reads as asked (:func:`~eda.generators.topology_subtype.read_as_asked`)."""
    from eda.generators.topology_subtype import read_as_asked

    by: dict[str, list] = {}
    for asked, c in samples:
        by.setdefault(asked, []).append(c)
    return {a: {"n": len(cs), **read_as_asked(a, cs)} for a, cs in by.items()}


def recorded() -> dict:
    """Met / sized per (asked type, structure) over the recorded bench_sizing runs with a sample cache here."""
    import pickle

    from eda.generators.topology_subtype import opamp_subtype

    runs, cells = [], {}
    for key, part in json.loads(bs.RESULTS.read_text()).items():
        if not isinstance(part, dict) or not {"rows", "model", "sampler", "n"} <= set(part):
            continue
        tag = f"{part['model']['sha256']}_{part['sampler']}_{part.get('sampling', '')}"
        rows, samples = [r for r in part["rows"] if "skipped" not in r], None
        # the record does not name its seed: the cache (one per seed) whose samples have every row's device count
        for f in Path(bs.tempfile.gettempdir()).glob(f"eda_bench_sizing_samples_{tag}_{part['n']}_*.pkl"):
            cand = dict(pickle.loads(f.read_bytes()))
            if rows and all(r["name"] in cand and len(cand[r["name"]].devices) == r.get("devices") for r in rows):
                samples = cand
                break
        if samples is None:
            continue
        for r in rows:
            cell = cells.setdefault(f"{r['name'].split('_', 1)[1]} -> {opamp_subtype(samples[r['name']]) or 'none'}",
                                    [0, 0])
            cell[0] += bool(r.get("met"))
            cell[1] += 1
        runs.append([key, len(rows)])
    for cell, (met, n) in sorted(cells.items()):
        print(f"asked -> structure {cell:35s} met {met:3d} / {n:4d}")
    print(f"{len(runs)} runs, {sum(n for _, n in runs)} sized samples")
    return {"runs": runs, "met_of_sized": dict(sorted(cells.items()))}


def drawn(a: argparse.Namespace) -> dict:
    """The reader on the library (and ``--data``'s plain op-amps), then on samples drawn for each sub-type."""
    from eda.generators.topology_subtype import opamp_subtype
    from eda.read.topology_dataset import load_library, load_topologies

    out = {"library": agreement([(t.ctype, t.circuit) for t in load_library() if t.ctype in bs.OPAMP_TYPES])}
    if a.data:
        pub = Counter(opamp_subtype(t.circuit) or "none" for t in load_topologies(a.data) if t.ctype == "opamp")
        out["public_opamp"] = dict(pub.most_common())
        print(f"public plain op-amps: {out['public_opamp']}")
    bs.DRAW.update(checkpoint=a.checkpoint, mix={t: 1.0 for t in bs.OPAMP_TYPES})
    picked = bs._cached_samples(a.n, a.seed, create=True, minutes=a.minutes)
    out["samples"] = agreement([(name.split("_", 1)[1], c) for name, c in picked])
    out |= {"model": bs.model_version(), "seed": a.seed, "n_drawn": len(picked), "sampling": bs.sampling_tag()}
    for part in ("library", "samples"):
        for asked, row in out[part].items():
            print(f"{part:8s} asked {asked:15s} n={row['n']:3d} as asked {100 * row['structure_as_asked']:5.1f} %  "
                  f"{row['structure']}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="samples in all (equal shares of the four sub-types)")
    ap.add_argument("--seed", type=int, default=321)
    ap.add_argument("--minutes", type=float, default=15.0, help="sampling time limit")
    ap.add_argument("--checkpoint", type=Path, default=None, help="draw from this checkpoint (default the shipped "
                                                                  "op-amp specialist)")
    ap.add_argument("--data", type=Path, default=None, help="also read the public set's plain op-amps")
    ap.add_argument("--key", default="shipped")
    ap.add_argument("--recorded", action="store_true", help="cross the recorded bench_sizing runs (see above)")
    a = ap.parse_args()
    out = recorded() if a.recorded else drawn(a)
    res = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    res[a.key] = out
    RESULTS.write_text(json.dumps(res, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
