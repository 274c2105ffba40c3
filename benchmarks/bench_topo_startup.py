"""What `eda topo generate` costs before its first sample: novelty needs the shipped model's training circuits up to
isomorphism (``training_set``: ~3,200 tours decoded to graphs and their canonical forms), which the user's cache keeps
per checkpoint since session 27.

    .venv/bin/python benchmarks/bench_topo_startup.py [--repeats 2]

In process, per shipped checkpoint: decoding the tours, their canonical forms, ``training_set`` with an empty cache
and again from the cache file (the process's own copy dropped). Then the command itself, ``eda topo generate --n 1
--type mixer --no-simulate --pdk generic``, in fresh processes with an empty cache and with a filled one, alternated
(the shared machine's load drifts). Writes benchmarks/results/topo_startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def in_process(cache: Path) -> dict:
    from eda.generators import topology_checkpoint as tc
    from eda.graphs.canon import GraphSet

    os.environ["EDA_CACHE"] = str(cache)
    out = {}
    for name in (tc.GENERAL_FILE, tc.OPAMP_FILE):
        _, vocab, ck = tc.load_checkpoint(tc.checkpoint_for(None).with_name(name))
        t0 = time.perf_counter()
        graphs = tc.training_graphs(ck, vocab)
        t1 = time.perf_counter()
        forms = GraphSet(graphs)
        t2 = time.perf_counter()
        tc._TRAINING_SETS.clear()
        cold = tc.training_set(ck, vocab)
        t3 = time.perf_counter()
        tc._TRAINING_SETS.clear()
        warm = tc.training_set(ck, vocab)
        t4 = time.perf_counter()
        assert cold.forms == warm.forms == forms.forms
        out[name] = {"circuits": len(graphs), "distinct": len(forms), "decode_s": round(t1 - t0, 3),
                     "forms_s": round(t2 - t1, 3), "training_set_empty_cache_s": round(t3 - t2, 3),
                     "training_set_from_cache_s": round(t4 - t3, 3)}
        print(f"{name}: {len(graphs)} circuits; decode {t1 - t0:.2f} s, forms {t2 - t1:.2f} s; training_set "
              f"{t3 - t2:.2f} s with an empty cache, {t4 - t3:.2f} s from the cache", flush=True)
    return out


def command(repeats: int) -> dict:
    eda = Path(sys.executable).with_name("eda")
    runs: dict[str, list[float]] = {"empty_cache": [], "filled_cache": []}
    with tempfile.TemporaryDirectory() as tmp:
        filled = Path(tmp) / "filled"
        for k in range(repeats):
            for which in ("empty_cache", "filled_cache"):
                cache = filled if which == "filled_cache" else Path(tmp) / f"empty{k}"
                env = dict(os.environ, EDA_CACHE=str(cache))
                if which == "filled_cache" and not filled.is_dir():  # fill it once, untimed
                    subprocess.run([str(eda), "topo", "generate", "--n", "1", "--type", "mixer", "--no-simulate",
                                    "--pdk", "generic", "--out", str(Path(tmp) / "fill")], env=env, check=True,
                                   capture_output=True)
                t0 = time.perf_counter()
                subprocess.run([str(eda), "topo", "generate", "--n", "1", "--type", "mixer", "--no-simulate", "--pdk",
                                "generic", "--seed", str(k), "--out", str(Path(tmp) / f"{which}{k}")], env=env,
                               check=True, capture_output=True)
                runs[which].append(round(time.perf_counter() - t0, 2))
                print(f"eda topo generate --n 1, {which.replace('_', ' ')}: {runs[which][-1]:.2f} s", flush=True)
    return {"command": "eda topo generate --n 1 --type mixer --no-simulate --pdk generic", "wall_s": runs,
            "load_avg": os.getloadavg()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "topo_startup.json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        res = {"in_process": in_process(Path(tmp)), "cli": command(a.repeats)}
    a.out.write_text(json.dumps(res, indent=1))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
