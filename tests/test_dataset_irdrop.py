"""IR-drop samples: files and shapes, byte-identical per seed, labels re-solved (and checked by ngspice),
verify catches tampering, CLI, Dask path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from eda.dataset.irdrop import read_sample, verify_sample
from eda.errors import InputError
from eda.generators.irdrop_sample import build_irdrop_dataset, make_irdrop_sample

FILES = ("netlist.sp", "current_map.csv", "pdn_density.csv", "eff_dist_map.csv", "ir_drop_map.csv",
         "ir_drop_dynamic_map.csv", "netlist_dynamic.sp", "load_times.npy", "load_currents.npy",
         "current_maps_t.npy", "node_drop.csv", "cells.csv", "params.json")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict]:
    d = tmp_path_factory.mktemp("irdrop") / "s"
    info = make_irdrop_sample(12345, d, size="small", n_steps=24, n_slices=4)
    return d, info


def _bytes(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_sample_files_shapes_and_units(sample):
    d, info = sample
    assert sorted(p.name for p in d.iterdir()) == sorted(FILES)
    params = json.loads((d / "params.json").read_text())
    assert params["seed"] == 12345 and params["size"] == "small" and params["format"] == 3
    s = params["summary"]
    assert s == {k: info[k] for k in s}
    maps = {f: np.loadtxt(d / f, delimiter=",") for f in FILES if f.endswith(".csv") and "map" in f
            or f == "pdn_density.csv"}
    shape = maps["ir_drop_map.csv"].shape
    assert all(m.shape == shape for m in maps.values())
    W, H = params["design"]["width_um"], params["design"]["height_um"]
    assert abs(shape[0] - W) <= 2 and abs(shape[1] - H) <= 2  # 1 µm tiles, row = x
    ct = np.load(d / "current_maps_t.npy")
    assert ct.dtype == np.float32 and ct.shape == (4, *shape)
    cur = maps["current_map.csv"]
    assert cur.sum() == pytest.approx(s["total_current_a"], rel=1e-6)
    assert ct.mean(axis=0) == pytest.approx(cur, rel=1e-4, abs=1e-12)  # slices average to the DC map
    t, i = np.load(d / "load_times.npy"), np.load(d / "load_currents.npy")
    assert t.shape == (25,) and i.shape == (25, s["loads"]) and t[-1] == pytest.approx(params["clock_period_s"])
    sm, dm = maps["ir_drop_map.csv"], maps["ir_drop_dynamic_map.csv"]
    # contest maps: cubic interpolation of the m1 drops may overshoot the worst node a little, never by much
    assert 0.9 * s["worst_static_drop_v"] < sm.max() <= 1.05 * s["worst_static_drop_v"]
    assert dm.max() >= sm.max()  # the worst over a period is never below the DC drop here (decaps start at DC)
    assert s["worst_dynamic_drop_v"] > s["worst_static_drop_v"]
    cells = (d / "cells.csv").read_text().splitlines()
    assert cells[0].split(",")[-6:] == ["node_a", "weight_a", "node_b", "weight_b", "internal_w", "switching_w"]
    row = dict(zip(cells[0].split(","), cells[1].split(","), strict=True))
    assert float(row["internal_w"]) + float(row["switching_w"]) == pytest.approx(float(row["dynamic_w"]), rel=1e-5)
    assert len(cells) - 1 == s["cells"]
    nd = (d / "node_drop.csv").read_text().splitlines()
    assert len(nd) - 1 == s["nodes"]


def test_same_seed_is_byte_identical(sample, tmp_path):
    d, _ = sample
    make_irdrop_sample(12345, tmp_path / "again", size="small", n_steps=24, n_slices=4)
    assert _bytes(tmp_path / "again") == _bytes(d)
    make_irdrop_sample(12346, tmp_path / "other", size="small", n_steps=24, n_slices=4)
    assert _bytes(tmp_path / "other")["netlist.sp"] != _bytes(d)["netlist.sp"]


def test_verify_resolves_and_catches_tampering(sample, tmp_path):
    import shutil

    d, _ = sample
    res = verify_sample(d)
    assert res["ok"], res
    assert res["static_max_err_v"] < 1e-9 and res["dynamic_max_err_v"] < 1e-9
    bad = tmp_path / "bad"
    shutil.copytree(d, bad)
    m = np.loadtxt(bad / "ir_drop_map.csv", delimiter=",")
    m[np.unravel_index(np.argmax(m), m.shape)] *= 1.01
    np.savetxt(bad / "ir_drop_map.csv", m, delimiter=",", fmt="%.9g")
    assert not verify_sample(bad, dynamic=False)["ok"]
    shutil.copytree(d, bad, dirs_exist_ok=True)
    i = np.load(bad / "load_currents.npy")
    np.save(bad / "load_currents.npy", i * 1.05)  # waveforms no longer match the dynamic label
    r = verify_sample(bad)
    assert r["static_max_err_v"] < 1e-9 and not r["ok"]
    shutil.copytree(d, bad, dirs_exist_ok=True)
    (bad / "eff_dist_map.csv").unlink()
    with pytest.raises(InputError, match="missing eff_dist_map.csv"):
        verify_sample(bad)


def test_static_label_matches_ngspice(sample):
    from eda.pdn.ngspice import have_ngspice, ngspice_op

    if not have_ngspice():
        pytest.skip("ngspice not installed")
    d, _ = sample
    s = read_sample(d, dynamic=False)
    v, _ = ngspice_op(s.static)
    vdd = json.loads((d / "params.json").read_text())["summary"]["vdd"]
    rows = [ln.split(",") for ln in (d / "node_drop.csv").read_text().splitlines()[1:]]
    want = dict((r[0], float(r[1])) for r in rows)
    got = vdd - v
    names = s.static.node_names.tolist()
    err = max(abs(got[k] - want[n]) for k, n in enumerate(names))
    assert err < 1e-6


def test_read_sample_dynamic_deck_reproduces_the_label(sample):
    from eda.pdn import maps as pm
    from eda.pdn.solve import solve_transient, source_currents

    d, _ = sample
    s = read_sample(d)
    t, i = np.load(d / "load_times.npy"), np.load(d / "load_currents.npy")
    assert np.allclose(source_currents(s.dynamic, t[5]), i[5])
    assert set(s.maps) == {"current", "pdn_density", "eff_dist", "current_t"} and set(s.labels) == {"static",
                                                                                                    "dynamic"}
    r = solve_transient(s.dynamic, times=t)  # PWL sources in the deck, no side waveform
    keep = ~np.char.startswith(s.dynamic.node_names.astype(str), "_X_")
    from eda.dataset.irdrop import _subset

    m = pm.ir_drop_map(_subset(s.dynamic, keep), r.worst_drop[keep], shape=s.labels["dynamic"].shape)
    assert np.abs(m - s.labels["dynamic"]).max() < 1e-9


def test_cli_build_info_verify_and_refusal(tmp_path):
    from eda.cli.dataset import app

    out = tmp_path / "ds"
    run = CliRunner()
    r = run.invoke(app, ["irdrop", "--out", str(out), "--n", "2", "--steps", "8", "--slices", "2", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["built"] == 2
    r = run.invoke(app, ["info", str(out)])
    assert r.exit_code == 0 and json.loads(r.output)["ok"] == 2
    r = run.invoke(app, ["verify", str(out), "--n", "1", "--no-dynamic"])
    assert r.exit_code == 0 and json.loads(r.output)["ok"]
    r = run.invoke(app, ["irdrop", "--out", str(out), "--n", "2", "--size", "medium", "--no-progress"])
    assert r.exit_code != 0 and isinstance(r.exception, InputError)
    assert "different configuration" in str(r.exception)


def test_dask_build_matches_local(tmp_path):
    from distributed import Client, LocalCluster

    build_irdrop_dataset(tmp_path / "a", 1, n_steps=8, n_slices=2, progress=False)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            Client(cl) as client:
        rep = build_irdrop_dataset(tmp_path / "b", 1, n_steps=8, n_slices=2, progress=False, scheduler=client)
    assert rep.built == 1
    for sid in ("s000000",):
        assert _bytes(tmp_path / "a" / "raw" / sid) == _bytes(tmp_path / "b" / "raw" / sid)


def test_bad_options():
    with pytest.raises(InputError, match="size"):
        make_irdrop_sample(0, Path("/nonexistent/x"), size="huge")
    with pytest.raises(InputError, match="n_steps"):
        make_irdrop_sample(0, Path("/nonexistent/x"), n_steps=1)


@pytest.mark.slow
def test_large_sample_reaches_250k_nodes(tmp_path):
    info = make_irdrop_sample(1, tmp_path / "L", size="large", n_slices=2)
    assert info["nodes"] >= 250_000


def test_older_sample_formats_keep_their_map_conventions():
    from eda.dataset.irdrop import SAMPLE_FORMAT, sample_grid

    assert sample_grid({"format": SAMPLE_FORMAT})["method"] == "contest"
    assert sample_grid({"format": 2}) == {"dbu_per_um": 2000.0, "method": "griddata", "current_method": "contest"}
    assert sample_grid({"format": 1})["method"] == "tile-max"
