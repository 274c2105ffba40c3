"""Hostile-input fuzz test of the whole CLI (issue #19): every command, driven with bad paths, encodings,
values, options and corrupt companion files, must end in exit status 1 with one line naming the file or the
option, never a traceback, never a silent success, never a hang.

Each case is one pytest item (``test_hostile[<command>-<what>]``). Cases whose fix belongs to another area and
has not landed yet are marked ``xfail(strict=False)`` with the owner (see ``OWNED``); the list is mirrored in
/work/notes/hostile_failures.md. ``python tests/test_hostile_cli.py`` prints the tally (clean errors,
tracebacks, silent accepts, hangs) and each failing case.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NETLISTS = ROOT / "data" / "netlists"
PDN_DECK = ROOT / "data" / "pdn" / "iccad_style_48um.sp"

#: Seconds one case may run before it counts as a hang.
CASE_TIMEOUT = 60


@dataclass
class Case:
    id: str
    args: list[str]
    names: tuple[str, ...]  # the message must name one of these (file, option)
    kind: str  # paths | encodings | values | options | companions


# ---------------------------------------------------------------------------------------------- fixtures
BINARY = bytes(range(256)) * 8


def _dataset(root: Path, name: str, *, dataset_json=None, manifest=None, sample_files=None) -> Path:
    """A hand-made dataset folder: identity, manifest rows and one sample folder (s000000)."""
    d = root / name
    (d / "raw").mkdir(parents=True)
    ident = {"kind": "irdrop", "builder": "eda.generators.irdrop_sample:make_irdrop_sample",
             "verifier": "eda.dataset.irdrop:verify_sample", "config": {"size": "small"}, "seed": 0, "format": 1}
    js = dataset_json if dataset_json is not None else json.dumps(ident).encode()
    (d / "dataset.json").write_bytes(js)
    rows = manifest if manifest is not None else (json.dumps(
        {"id": "s000000", "index": 0, "seed": 1, "status": "ok", "seconds": 1.0, "files": 1, "bytes": 10,
         "peak_rss_mb": 1.0, "error": None, "info": {"nodes": 10}}) + "\n").encode()
    (d / "manifest.jsonl").write_bytes(rows)
    if sample_files is not None:
        s = d / "raw" / "s000000"
        s.mkdir()
        for f, data in sample_files.items():
            (s / f).write_bytes(data)
    return d


def _pickled_npy(path: Path) -> bytes:
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return path.read_bytes()


def _materials(t: Path) -> dict[str, Path]:
    m: dict[str, Path] = {}
    m["afile"] = t / "afile"
    m["afile"].write_text("x\n")
    m["adir"] = t / "adir"
    m["adir"].mkdir()
    m["missing"] = t / "missing.sp"
    m["bin"] = t / "binary.sp"
    m["bin"].write_bytes(BINARY)
    m["latin1"] = t / "latin1.sp"
    m["latin1"].write_bytes("title\nR1 a 0 1k \xe9\xe8\n.end\n".encode("latin-1"))
    m["empty"] = t / "empty.sp"
    m["empty"].write_text("")
    m["good"] = t / "good.sp"
    m["good"].write_text((NETLISTS / "rc_ladder.sp").read_text())
    for tag, val in {"nan": "nan", "inf": "inf", "minf": "-inf", "text": "abc", "dots": "1.0.5"}.items():
        m[f"val_{tag}"] = t / f"val_{tag}.sp"
        m[f"val_{tag}"].write_text(f"title\nV1 in 0 1\nR1 in out {val}\nR2 out 0 1k\n.end\n")
    m["junk_tokens"] = t / "junk_tokens.sp"
    m["junk_tokens"].write_text("title\nV1 in 0 1\nR1 in out 1k xxxxx\nR2 out 0 1k\n.end\n")
    m["pdn_nan"] = t / "pdn_nan.sp"
    m["pdn_nan"].write_text(PDN_DECK.read_text().replace(" 3.2\n", " nan\n", 1))
    m["csv_bin"] = t / "bin.csv"
    m["csv_bin"].write_bytes(BINARY)
    m["csv_nan"] = t / "nan.csv"
    m["csv_nan"].write_text("0.1,nan\n0.2,0.3\n")
    m["csv_good"] = t / "good.csv"
    m["csv_good"].write_text("0.1,0.2\n0.2,0.3\n")
    m["csv_shape"] = t / "shape.csv"
    m["csv_shape"].write_text("0.1,0.2,0.3\n")
    m["pt_junk"] = t / "junk.pt"
    m["pt_junk"].write_bytes(BINARY)
    m["gds_junk"] = t / "junk.gds"
    m["gds_junk"].write_bytes(BINARY)
    m["gds_trunc"] = t / "trunc.gds"
    m["gds_trunc"].write_bytes(b"\x00\x06\x00\x02\x02\x58\x00\x1c\x01\x02")
    m["json_bin"] = t / "junk.json"
    m["json_bin"].write_bytes(BINARY)
    m["json_list"] = t / "list.json"
    m["json_list"].write_text("[1, 2, 3]")
    m["cells_junk"] = t / "cells_junk"
    m["cells_junk"].mkdir()
    (m["cells_junk"] / "manifest.json").write_bytes(BINARY)
    # datasets
    m["ds_bin"] = _dataset(t, "ds_bin", dataset_json=BINARY)
    m["ds_list"] = _dataset(t, "ds_list", dataset_json=b"[1, 2]")
    m["ds_manifest_junk"] = _dataset(t, "ds_manifest_junk", manifest=b'{"id": 5}\n[1]\nnot json\n')
    m["ds_manifest_bin"] = _dataset(t, "ds_manifest_bin", manifest=BINARY)
    m["ds_gone"] = _dataset(t, "ds_gone")  # manifest says ok, sample folder is gone
    m["ds_params_junk"] = _dataset(t, "ds_params_junk", sample_files={"params.json": BINARY})
    m["ds_params_shape"] = _dataset(t, "ds_params_shape", sample_files={"params.json": b'{"summary": 3}'})
    m["ds_pickle"] = _dataset(t, "ds_pickle", sample_files={"load_times.npy": _pickled_npy(t / "p.npy")})
    m["ds_empty"] = t / "ds_empty"
    m["ds_empty"].mkdir()
    # a real one-sample dataset, then copies with one corrupt companion each
    import shutil

    from eda.generators.irdrop_sample import build_irdrop_dataset

    real = t / "ds_real"
    build_irdrop_dataset(real, 3, size="small", seed=3, n_steps=32, n_slices=2, progress=False)
    for tag, f, data in [("ds_real_params_junk", "params.json", BINARY),
                         ("ds_real_params_shape", "params.json", b'{"format": 1, "seed": 1, "size": "small"}'),
                         ("ds_real_pickle", "load_times.npy", _pickled_npy(t / "p2.npy")),
                         ("ds_real_csv_bin", "ir_drop_map.csv", BINARY)]:
        shutil.copytree(real, t / tag)
        (t / tag / "raw" / "s000000" / f).write_bytes(data)
        m[tag] = t / tag
    return m


def _cases(m: dict[str, Path]) -> list[Case]:
    P = {k: str(v) for k, v in m.items()}
    af, ad = P["afile"], P["adir"]
    under = f"{af}/x"
    C: list[Case] = []

    def add(cid, args, names, kind):
        C.append(Case(cid, [str(a) for a in args], tuple(str(n) for n in names), kind))

    # --- spice check / convert / op
    for tag in ("bin", "latin1", "empty", "val_nan", "val_inf", "val_minf", "val_text", "val_dots", "junk_tokens"):
        add(f"spice-check-{tag}", ["spice", "check", P[tag]], [P[tag]], "encodings" if tag in ("bin", "latin1")
            else "values")
        add(f"spice-convert-{tag}", ["spice", "convert", P[tag], m["adir"] / f"{tag}.out.sp"], [P[tag]],
            "values")
    add("spice-check-missing", ["spice", "check", P["missing"]], [P["missing"]], "paths")
    add("spice-check-dir", ["spice", "check", ad], [ad], "paths")
    add("spice-convert-under-file", ["spice", "convert", P["good"], under + ".sp"], [af, "DST"], "paths")
    add("spice-convert-to-dir", ["spice", "convert", P["good"], ad], [ad, "DST"], "paths")
    add("spice-op-bin", ["spice", "op", P["bin"]], [P["bin"]], "encodings")
    add("spice-op-nan", ["spice", "op", P["val_nan"]], [P["val_nan"]], "values")
    add("spice-op-missing", ["spice", "op", P["missing"]], [P["missing"]], "paths")
    # --- irdrop solve / maps / score
    deck = str(PDN_DECK)
    add("irdrop-solve-out-file", ["irdrop", "solve", deck, "--out", af], ["--out"], "paths")
    add("irdrop-solve-out-under-file", ["irdrop", "solve", deck, "--out", under], ["--out"], "paths")
    add("irdrop-solve-method", ["irdrop", "solve", deck, "--out", m["adir"] / "s1", "--method", "bogus"],
        ["--method"], "options")
    add("irdrop-solve-mode", ["irdrop", "solve", deck, "--out", m["adir"] / "s2", "--mode", "bogus"], ["--mode"],
        "options")
    add("irdrop-solve-stop-inf", ["irdrop", "solve", deck, "--mode", "dynamic", "--out", m["adir"] / "s3",
                                  "--stop", "inf"], ["--stop"], "values")
    add("irdrop-solve-step-tiny", ["irdrop", "solve", deck, "--mode", "dynamic", "--out", m["adir"] / "s4",
                                   "--step", "1e-30"], ["--step"], "values")
    add("irdrop-solve-step-nan", ["irdrop", "solve", deck, "--mode", "dynamic", "--out", m["adir"] / "s5",
                                  "--step", "nan"], ["--step"], "values")
    add("irdrop-solve-bin", ["irdrop", "solve", P["bin"], "--out", m["adir"] / "s6"], [P["bin"]], "encodings")
    add("irdrop-solve-nan", ["irdrop", "solve", P["pdn_nan"], "--out", m["adir"] / "s7"], [P["pdn_nan"]],
        "values")
    add("irdrop-solve-empty", ["irdrop", "solve", P["empty"], "--out", m["adir"] / "s8"], [P["empty"]], "values")
    add("irdrop-solve-missing", ["irdrop", "solve", P["missing"], "--out", m["adir"] / "s9"], [P["missing"]],
        "paths")
    add("irdrop-maps-out-file", ["irdrop", "maps", deck, "--out", af], ["--out"], "paths")
    add("irdrop-maps-bin", ["irdrop", "maps", P["bin"], "--out", m["adir"] / "m1"], [P["bin"]], "encodings")
    add("irdrop-score-bin", ["irdrop", "score", P["csv_bin"], P["csv_good"]], [P["csv_bin"]], "encodings")
    add("irdrop-score-nan", ["irdrop", "score", P["csv_nan"], P["csv_good"]], [P["csv_nan"]], "values")
    add("irdrop-score-shape", ["irdrop", "score", P["csv_shape"], P["csv_good"]], [P["csv_shape"], "shape"],
        "values")
    add("irdrop-score-missing", ["irdrop", "score", P["missing"], P["csv_good"]], [P["missing"]], "paths")
    # --- irdrop train / evaluate / predict / compare
    ds = P["ds_params_junk"]
    tr = ["irdrop", "train", "--data", ds, "--epochs", "1"]
    add("irdrop-train-out-under-file", tr + ["--out", under + ".pt"], ["--out"], "paths")
    add("irdrop-train-out-dir", tr + ["--out", ad], ["--out"], "paths")
    add("irdrop-train-lr-inf", tr + ["--out", m["adir"] / "t.pt", "--lr", "inf"], ["--lr"], "values")
    add("irdrop-train-lr-neg", tr + ["--out", m["adir"] / "t.pt", "--lr", "-1"], ["--lr"], "values")
    add("irdrop-train-seed-neg", tr + ["--out", m["adir"] / "t.pt", "--seed", "-1"], ["--seed"], "values")
    add("irdrop-train-seed-big", tr + ["--out", m["adir"] / "t.pt", "--seed", str(2**64)], ["--seed"], "values")
    add("irdrop-train-hparams-type", tr + ["--out", m["adir"] / "t.pt", "--hparams", '{"hidden": "abc"}'],
        ["--hparams", "hidden"], "options")
    add("irdrop-train-hparams-json", tr + ["--out", m["adir"] / "t.pt", "--hparams", "{nope"], ["--hparams"],
        "options")
    add("irdrop-train-threads-neg", tr + ["--out", m["adir"] / "t.pt", "--threads", "-1"], ["--threads"], "values")
    add("irdrop-train-model", tr + ["--out", m["adir"] / "t.pt", "--model", "bogus"], ["--model"], "options")
    add("irdrop-train-params-junk", tr + ["--out", m["adir"] / "t.pt"], [ds], "companions")
    add("irdrop-train-data-missing", ["irdrop", "train", "--data", P["missing"], "--out", m["adir"] / "t.pt"],
        [P["missing"], "--data"], "paths")
    ev = ["irdrop", "evaluate", "--data", ds]
    add("irdrop-evaluate-model-junk", ev + ["--model", P["pt_junk"]], [P["pt_junk"]], "companions")
    add("irdrop-evaluate-json-dir", ev + ["--model", P["pt_junk"], "--json", ad], ["--json"], "paths")
    add("irdrop-evaluate-json-under-file", ev + ["--model", P["pt_junk"], "--json", under + ".json"], ["--json"],
        "paths")
    add("irdrop-evaluate-threads-neg", ev + ["--model", P["pt_junk"], "--threads", "-1"], ["--threads"], "values")
    pr = ["irdrop", "predict", deck]
    add("irdrop-predict-out-file", pr + ["--out", af], ["--out"], "paths")
    add("irdrop-predict-threads-huge", pr + ["--out", m["adir"] / "p1", "--threads", "100000"], ["--threads"],
        "values")
    add("irdrop-predict-threads-neg", pr + ["--out", m["adir"] / "p2", "--threads", "-1"], ["--threads"], "values")
    add("irdrop-predict-model-junk", pr + ["--out", m["adir"] / "p3", "--model", P["pt_junk"]], [P["pt_junk"]],
        "companions")
    add("irdrop-predict-bin", ["irdrop", "predict", P["bin"], "--out", m["adir"] / "p4"], [P["bin"]], "encodings")
    add("irdrop-predict-target", pr + ["--out", m["adir"] / "p5", "--target", "bogus"], ["--target"], "options")
    cp = ["irdrop", "compare", "--data", ds]
    add("irdrop-compare-models-empty", cp + ["--out", m["adir"] / "c1", "--models", ""], ["--models"], "options")
    add("irdrop-compare-out-file", cp + ["--out", af], ["--out"], "paths")
    add("irdrop-compare-seed-neg", cp + ["--out", m["adir"] / "c2", "--seed", "-1"], ["--seed"], "values")
    add("irdrop-compare-epochs-neg", cp + ["--out", m["adir"] / "c3", "--epochs", "-1"], ["--epochs"], "values")
    # --- dataset irdrop / topo / info / verify
    dsi = ["dataset", "irdrop", "--no-progress", "--out"]
    add("dataset-irdrop-n-neg", dsi + [m["adir"] / "d1", "--n", "-1"], ["--n"], "values")
    add("dataset-irdrop-steps-0", dsi + [m["adir"] / "d2", "--n", "1", "--steps", "0"], ["--steps"], "values")
    add("dataset-irdrop-slices-0", dsi + [m["adir"] / "d3", "--n", "1", "--slices", "0"], ["--slices"], "values")
    add("dataset-irdrop-seed-neg", dsi + [m["adir"] / "d4", "--seed", "-1"], ["--seed"], "values")
    add("dataset-irdrop-seed-big", dsi + [m["adir"] / "d5", "--seed", str(2**64 + 1)], ["--seed"], "values")
    add("dataset-irdrop-workers-0", dsi + [m["adir"] / "d6", "--workers", "0"], ["--workers"], "values")
    add("dataset-irdrop-size", dsi + [m["adir"] / "d7", "--size", "bogus"], ["--size"], "options")
    add("dataset-irdrop-pad", dsi + [m["adir"] / "d8", "--pad-pattern", "bogus"], ["--pad-pattern"], "options")
    add("dataset-irdrop-huge", dsi + [m["adir"] / "d11", "--n", "100000000", "--size", "large"], ["--force"],
        "values")
    add("dataset-irdrop-out-file", dsi + [af], ["--out"], "paths")
    add("dataset-irdrop-out-under-file", dsi + [under], ["--out"], "paths")
    add("dataset-irdrop-scheduler-bogus", dsi + [m["adir"] / "d9", "--n", "1", "--scheduler", "bogus"],
        ["--scheduler"], "options")
    add("dataset-irdrop-scheduler-closed", dsi + [m["adir"] / "d10", "--n", "1", "--scheduler",
                                                  "tcp://127.0.0.1:1"], ["--scheduler", "127.0.0.1:1"], "options")
    add("dataset-irdrop-into-junk", dsi + [P["ds_bin"], "--n", "1"], [P["ds_bin"]], "companions")
    add("dataset-irdrop-into-list", dsi + [P["ds_list"], "--n", "1"], [P["ds_list"]], "companions")
    dst = ["dataset", "topo", "--no-progress", "--out"]
    add("dataset-topo-n-neg", dst + [m["adir"] / "e1", "--n", "-1"], ["--n"], "values")
    add("dataset-topo-seed-neg", dst + [m["adir"] / "e2", "--seed", "-1"], ["--seed"], "values")
    add("dataset-topo-workers-neg", dst + [m["adir"] / "e3", "--workers", "-2"], ["--workers"], "values")
    add("dataset-topo-out-file", dst + [af], ["--out"], "paths")
    for tag in ("ds_bin", "ds_list", "ds_manifest_junk", "ds_manifest_bin", "ds_gone", "ds_empty"):
        add(f"dataset-info-{tag}", ["dataset", "info", P[tag]], [P[tag]], "companions")
    add("dataset-info-missing", ["dataset", "info", P["missing"]], [P["missing"]], "paths")
    add("dataset-info-file", ["dataset", "info", af], [af], "paths")
    add("dataset-verify-n-0", ["dataset", "verify", P["ds_params_junk"], "--n", "0"], ["--n"], "values")
    add("dataset-verify-n-neg", ["dataset", "verify", P["ds_params_junk"], "--n", "-1"], ["--n"], "values")
    add("dataset-verify-seed-neg", ["dataset", "verify", P["ds_params_junk"], "--seed", "-1"], ["--seed"],
        "values")
    for tag in ("ds_params_junk", "ds_params_shape", "ds_pickle", "ds_bin", "ds_gone", "ds_real_params_junk",
                "ds_real_params_shape", "ds_real_pickle", "ds_real_csv_bin"):
        add(f"dataset-verify-{tag}", ["dataset", "verify", P[tag], "--no-dynamic"], [P[tag]], "companions")
    for tag in ("ds_real_params_junk", "ds_real_csv_bin"):
        add(f"irdrop-train-{tag}", ["irdrop", "train", "--data", P[tag], "--epochs", "1", "--out",
                                    m["adir"] / f"{tag}.pt"], [P[tag]], "companions")
    # --- topo train / generate / check
    tt = ["topo", "train", "--compose", "0", "--steps", "1"]
    add("topo-train-lr-neg", tt + ["--out", m["adir"] / "g.pt", "--lr", "-1"], ["--lr"], "values")
    add("topo-train-lr-nan", tt + ["--out", m["adir"] / "g.pt", "--lr", "nan"], ["--lr"], "values")
    add("topo-train-threads-neg", tt + ["--out", m["adir"] / "g.pt", "--threads", "-1"], ["--threads"], "values")
    add("topo-train-compose-neg", ["topo", "train", "--steps", "1", "--compose", "-1", "--out", m["adir"] / "g.pt"],
        ["--compose"], "values")
    add("topo-train-steps-0", ["topo", "train", "--compose", "0", "--steps", "0", "--out", m["adir"] / "g.pt"],
        ["--steps"], "values")
    add("topo-train-seed-neg", tt + ["--out", m["adir"] / "g.pt", "--seed", "-1"], ["--seed"], "values")
    add("topo-train-out-dir", tt + ["--out", ad], ["--out"], "paths")
    add("topo-train-out-under-file", tt + ["--out", under + ".pt"], ["--out"], "paths")
    add("topo-train-data-file", tt + ["--out", m["adir"] / "g.pt", "--data", af], [af, "--data"], "paths")
    tg = ["topo", "generate", "--n", "2", "--no-simulate"]
    for v in ("nan", "inf", "0", "-1"):
        add(f"topo-generate-temperature-{v}", tg + ["--out", m["adir"] / f"gen{v}", "--temperature", v],
            ["--temperature"], "values")
    add("topo-generate-n-neg", ["topo", "generate", "--n", "-1", "--out", m["adir"] / "gen1"], ["--n"], "values")
    add("topo-generate-seed-neg", tg + ["--out", m["adir"] / "gen2", "--seed", "-1"], ["--seed"], "values")
    add("topo-generate-out-file", tg + ["--out", af], ["--out"], "paths")
    add("topo-generate-model-junk", tg + ["--out", m["adir"] / "gen3", "--model", P["pt_junk"]], [P["pt_junk"]],
        "companions")
    add("topo-generate-threads-neg", tg + ["--out", m["adir"] / "gen4", "--threads", "-1"], ["--threads"], "values")
    for tag in ("bin", "empty", "val_nan", "val_inf", "val_text", "val_dots", "missing"):
        add(f"topo-check-{tag}", ["topo", "check", "--no-simulate", P[tag]], [P[tag]], "values")
    # --- acim explore / build
    ex = ["acim", "explore", "--pop", "4", "--gens", "1", "--no-progress"]
    add("acim-explore-rows-0", ex + ["--rows", "0", "--cols", "8", "--out", m["adir"] / "x1"], ["--rows"], "values")
    add("acim-explore-cols-neg", ex + ["--rows", "8", "--cols", "-1", "--out", m["adir"] / "x2"], ["--cols"],
        "values")
    add("acim-explore-seed-neg", ex + ["--rows", "8", "--cols", "8", "--seed", "-1", "--out", m["adir"] / "x3"],
        ["--seed"], "values")
    add("acim-explore-out-file", ex + ["--rows", "8", "--cols", "8", "--out", af], ["--out"], "paths")
    add("acim-explore-cells-junk", ex + ["--rows", "8", "--cols", "8", "--cells", P["cells_junk"],
                                         "--out", m["adir"] / "x4"], [P["cells_junk"]], "companions")
    add("acim-explore-pop-0", ["acim", "explore", "--rows", "8", "--cols", "8", "--pop", "0", "--gens", "1",
                               "--no-progress", "--out", m["adir"] / "x5"], ["--pop"], "values")
    bd = ["acim", "build", "--no-check", "--no-render"]
    add("acim-build-out-file", bd + ["--rows", "8", "--cols", "8", "--local", "8", "--adc-bits", "3", "--out", af],
        ["--out"], "paths")
    add("acim-build-huge", bd + ["--rows", "131072", "--cols", "131072", "--local", "8", "--adc-bits", "3",
                                 "--out", m["adir"] / "b1"], ["--rows", "--cols", "--force"], "values")
    add("acim-build-pareto-junk", bd + ["--from-pareto", P["json_bin"], "--out", m["adir"] / "b2"],
        [P["json_bin"]], "companions")
    add("acim-build-pareto-list", bd + ["--from-pareto", P["json_list"], "--out", m["adir"] / "b3"],
        [P["json_list"]], "companions")
    add("acim-build-cells-junk", bd + ["--rows", "8", "--cols", "8", "--local", "8", "--adc-bits", "3",
                                       "--cells", P["cells_junk"], "--out", m["adir"] / "b4"], [P["cells_junk"]],
        "companions")
    add("acim-build-rows-0", bd + ["--rows", "0", "--cols", "8", "--local", "8", "--adc-bits", "3",
                                   "--out", m["adir"] / "b5"], ["--rows"], "values")
    # --- verify drc / lvs
    add("verify-drc-junk", ["verify", "drc", P["gds_junk"]], [P["gds_junk"]], "encodings")
    add("verify-drc-trunc", ["verify", "drc", P["gds_trunc"]], [P["gds_trunc"]], "companions")
    add("verify-drc-missing", ["verify", "drc", P["missing"]], [P["missing"]], "paths")
    add("verify-drc-tech", ["verify", "drc", P["gds_junk"], "--tech", "bogus"], ["--tech", "bogus"], "options")
    add("verify-drc-report-dir", ["verify", "drc", P["gds_junk"], "--report", ad], ["--report"], "paths")
    add("verify-drc-json-under-file", ["verify", "drc", P["gds_junk"], "--json", under + ".json"], ["--json"],
        "paths")
    add("verify-lvs-junk", ["verify", "lvs", P["gds_junk"], P["good"]], [P["gds_junk"]], "encodings")
    add("verify-lvs-spice-bin", ["verify", "lvs", P["gds_trunc"], P["bin"]], [P["gds_trunc"], P["bin"]],
        "encodings")
    # --- demo
    add("demo-out-file", ["demo", "--out", af], ["--out"], "paths")
    add("demo-out-under-file", ["demo", "--out", under], ["--out"], "paths")
    return C


#: case id → area whose fix has not landed yet (xfail, strict=False). Mirrored in /work/notes/hostile_failures.md.
OWNED: dict[str, str] = {}


# ---------------------------------------------------------------------------------------------- runner
def _invoke(args: list[str]) -> dict:
    from typer.testing import CliRunner

    from eda.cli import app

    r = CliRunner().invoke(app, args, catch_exceptions=True)
    exc = r.exception
    return {"exit": r.exit_code, "out": r.stdout, "err": r.stderr,
            "exc": None if exc is None or isinstance(exc, SystemExit) else f"{type(exc).__name__}: {exc}"}


def _forked(args: list[str], timeout: float) -> dict:
    """Run one command in a forked child (isolation from segfaults, hangs and leaked state such as torch's
    thread count); the parent has imported the CLI already, so a child starts in milliseconds."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(rfd)
        if "torch" in sys.modules:
            # GNU OpenMP is not fork-safe: once this (pytest) process has run a parallel torch op -- any earlier
            # test may have -- a child's first parallel op waits forever for pool threads that fork did not
            # copy (measured: 5 of 5 forked children hung; with one thread, 0 of 5). A real `eda` run starts
            # fresh, so one thread here only removes the harness's own hang.
            sys.modules["torch"].set_num_threads(1)
        try:
            res = _invoke(args)
        except BaseException as e:  # noqa: BLE001
            res = {"exit": -1, "out": "", "err": "", "exc": f"{type(e).__name__}: {e}"}
        with os.fdopen(wfd, "w") as f:
            f.write(json.dumps(res))
        os._exit(0)
    os.close(wfd)
    import select
    import time

    chunks, t_end = [], time.monotonic() + timeout
    with os.fdopen(rfd) as f:
        while True:
            left = t_end - time.monotonic()
            ready, _, _ = select.select([f], [], [], max(left, 0))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"hang": True}
            data = f.read()
            chunks.append(data)
            break
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) or not "".join(chunks):
        return {"crash": f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else "no result"}
    return json.loads("".join(chunks))


#: Library modules the commands import, loaded once in the parent so that each forked child starts warm.
PRELOAD = ("eda.cli", "eda.pdn.pipeline", "eda.dataset.irdrop", "eda.dataset.report", "eda.predictors.train",
           "eda.predictors.predict", "eda.predictors.evaluate", "eda.generators.topology_report",
           "eda.generators.topology_check", "eda.generators.acim_dse", "eda.layout.build", "eda.verify.drc",
           "eda.verify.lvs", "eda.sim.ngspice")


def _preload() -> None:
    import importlib

    for m in PRELOAD:
        try:
            importlib.import_module(m)
        except ImportError:  # a module being renamed by its owner: its commands just start cold
            pass


def run_case(case: Case) -> tuple[str, str]:
    """Run one case; (verdict, detail). verdict: clean | traceback | silent | hang | crash | unclear."""
    _preload()

    r = _forked(case.args, CASE_TIMEOUT)
    if r.get("hang"):
        return "hang", f"still running after {CASE_TIMEOUT} s"
    if "crash" in r:
        return "crash", r["crash"]
    out, err = r["out"], r["err"]
    if r["exc"] or "Traceback" in out + err or "internal error" in err:
        return "traceback", f"exit {r['exit']}: {(err or out).strip()[-300:] or r['exc']}"
    if r["exit"] == 0:
        return "silent", f"exit 0: {out.strip()[-200:]}"
    if r["exit"] != 1:
        return "unclear", f"exit {r['exit']}: {(err or out).strip()[-200:]}"
    err_lines = [ln for ln in err.splitlines() if ln.strip()]
    fail_lines = [ln for ln in out.splitlines() if ln.startswith("FAIL ")]
    if err_lines:  # a one-line error
        if len(err_lines) != 1 or not err_lines[0].startswith("error: "):
            return "unclear", "stderr is not one 'error: ...' line: " + " / ".join(err_lines)[:300]
        line = err_lines[0]
    elif fail_lines:  # check commands: one FAIL line per file
        line = fail_lines[0]
    else:
        return "unclear", f"exit 1 without an error line: {out.strip()[-200:]}"
    if not any(n in line for n in case.names):
        return "unclear", f"message names none of {case.names}: {line[:300]}"
    return "clean", line


@pytest.fixture(scope="module")
def materials(tmp_path_factory):
    return _materials(tmp_path_factory.mktemp("hostile"))


def _ids() -> list[str]:
    # the ids only: paths are placeholders here, the module fixture supplies real ones
    fake = {k: Path(f"/nonexistent/{k}") for k in _MATERIAL_KEYS}
    return [c.id for c in _cases(fake)]


_MATERIAL_KEYS = ("afile adir missing bin latin1 empty good val_nan val_inf val_minf val_text val_dots junk_tokens "
                  "pdn_nan csv_bin csv_nan csv_good csv_shape pt_junk gds_junk gds_trunc json_bin json_list "
                  "cells_junk ds_bin ds_list ds_manifest_junk ds_manifest_bin ds_gone ds_params_junk "
                  "ds_params_shape ds_pickle ds_empty ds_real_params_junk ds_real_params_shape ds_real_pickle "
                  "ds_real_csv_bin").split()


def _params():
    out = []
    for cid in _ids():
        marks = [pytest.mark.xfail(strict=False, reason=f"owned by {OWNED[cid]}")] if cid in OWNED else []
        out.append(pytest.param(cid, id=cid, marks=marks))
    return out


@pytest.mark.parametrize("cid", _params())
def test_hostile(cid, materials):
    case = next(c for c in _cases(materials) if c.id == cid)
    verdict, detail = run_case(case)
    assert verdict == "clean", f"{verdict}: eda {' '.join(case.args)} -> {detail}"


def test_forked_case_survives_parallel_torch_in_the_parent(monkeypatch):
    """A forked case whose command runs a parallel torch op must not hang because an earlier test ran one in
    this process (GNU OpenMP after fork). Fails as a 'hang' without the one-thread line in :func:`_forked`."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        x = torch.randn(2000, 2000)
        float((x * 2 + 1).sum())  # a parallel region in this process

        def work(args):
            y = torch.randn(2000, 2000)
            return {"exit": 0, "out": f"{float((y * 0 + 1).sum()):.0f}", "err": "", "exc": None}

        monkeypatch.setattr(sys.modules[__name__], "_invoke", work)
        r = _forked([], timeout=30)
    finally:
        torch.set_num_threads(n)
    assert not r.get("hang") and r == {"exit": 0, "out": "4000000", "err": "", "exc": None}, r


def test_materials_keys_complete(materials):
    assert sorted(materials) == sorted(_MATERIAL_KEYS)


def main() -> int:  # pragma: no cover - manual tally
    import tempfile
    from collections import Counter

    with tempfile.TemporaryDirectory() as t:
        cases = _cases(_materials(Path(t)))
        tally: Counter = Counter()
        bad = []
        import time

        for c in cases:
            t0 = time.perf_counter()
            v, d = run_case(c)
            tally[v] += 1
            if v != "clean":
                bad.append((c, v, d))
            print(f"{v:9s} {time.perf_counter() - t0:6.2f} s  {c.id}", file=sys.stderr, flush=True)
    print(json.dumps({"cases": len(cases), **tally}, indent=1))
    for c, v, d in bad:
        print(f"[{v}] {c.id} ({OWNED.get(c.id, 'unowned')}): eda {' '.join(c.args)}\n    -> {d}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("EDA_HOSTILE_MAIN", "1")
    sys.exit(main())


def test_topo_check_judges_decks_as_written(tmp_path):
    """The shipped op-amp deck passes; decks ngspice rejects or cannot solve, and floating nets, fail."""
    from typer.testing import CliRunner

    from eda.cli import app

    r = CliRunner().invoke(app, ["topo", "check", str(NETLISTS / "two_stage_opamp.sp"), str(NETLISTS / "rc_ladder.sp")])
    assert r.exit_code == 0, r.output
    decks = {"float": "V1 a 0 1\nR1 a b 1k\nR2 b c 1k\n", "div": "V1 a 0 1\nR1 a 0 {1/0}\n",
             "loop": "V1 a 0 1\nV2 a 0 2\nR1 a 0 1k\n", "nan": "V1 a 0 1\nR1 a 0 nan\n"}
    for k, body in decks.items():
        f = tmp_path / f"{k}.sp"
        f.write_text(f"deck\n{body}.op\n.end\n")
        r = CliRunner().invoke(app, ["topo", "check", str(f)])
        assert r.exit_code == 1 and f"FAIL {f}" in r.output and "Traceback" not in r.output, (k, r.output)
