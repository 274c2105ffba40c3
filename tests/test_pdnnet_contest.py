"""PDNNet on ICCAD'23 contest layouts: tiny inline cases in both layouts (always run), the physics channel,
training that improves, the contest table, maps-only refusal, hostile options; the real cases when present."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from conftest import shared_path
from pdnnet_util import grid_case
from typer.testing import CliRunner

from eda.cli import app
from eda.errors import InputError

runner = CliRunner()
TINY = '{"hidden": 8, "layers": 2, "base": 4, "depth": 2}'
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _contest_maps(seed: int, w: float = 30.0, h: float = 24.0):
    from eda.pdn.maps import ir_drop_map
    from eda.pdn.solve import solve_static

    pdn, maps, _ = grid_case(seed, w, h)
    gold = ir_drop_map(pdn, solve_static(pdn).drop, maps["current"].shape, method="contest")
    return pdn, {**maps, "ir_drop": gold}


def write_folder_case(d, seed: int, **kw):
    """``testcaseN/{netlist.sp, current_map.csv, pdn_density.csv, eff_dist_map.csv, ir_drop_map.csv}``."""
    from eda.pdn.contest import FOLDER_FILES
    from eda.pdn.mapcsv import write_map_csv
    from eda.pdn.write import write_pdn

    pdn, maps = _contest_maps(seed, **kw)
    d.mkdir(parents=True, exist_ok=True)
    write_pdn(pdn, d / "netlist.sp")
    for k, f in FOLDER_FILES.items():
        write_map_csv(maps[k], d / f)
    return d


def write_flat_case(folder, name: str, seed: int):
    """``current_mapNN.sp`` beside ``current_mapNN_{current,pdn_density,eff_dist,ir_drop}.csv``."""
    from eda.pdn.mapcsv import write_map_csv
    from eda.pdn.write import write_pdn

    pdn, maps = _contest_maps(seed)
    folder.mkdir(parents=True, exist_ok=True)
    write_pdn(pdn, folder / f"{name}.sp")
    for k, m in maps.items():
        write_map_csv(m, folder / f"{name}_{k}.csv")


@pytest.fixture(scope="module")
def contest(tmp_path_factory):
    root = tmp_path_factory.mktemp("contest")
    write_folder_case(root / "real" / "testcase1", 21)
    write_flat_case(root / "fake", "current_map01", 22)
    return root


@pytest.fixture(scope="module")
def trained(contest, tmp_path_factory):
    ck = tmp_path_factory.mktemp("ck") / "c.pt"
    r = runner.invoke(app, ["irdrop", "train", "--data", str(contest / "real"), "--data", str(contest / "fake"),
                            "--out", str(ck), "--epochs", "6", "--hparams", TINY, "--lr", "3e-3"])
    assert r.exit_code == 0, r.output + repr(r.exception)
    return ck, json.loads(r.output[r.output.index("{"):])


def test_physics_estimate_converges_to_the_exact_drop():
    from eda.graphs.pdn_physics import estimate_drop
    from eda.pdn.solve import solve_static

    pdn, _, _ = grid_case(5, 90.0, 80.0)                        # 2k nodes: a multi-level AMG
    exact = solve_static(pdn).drop
    errs = [np.abs(estimate_drop(pdn, k) - exact).max() for k in (0, 1, 2, 25)]
    assert errs[0] == pytest.approx(exact.max())                 # zero iterations: the zero-drop guess
    assert errs[0] > errs[1] > errs[2] > errs[3] and errs[3] < 1e-6 * exact.max()


def test_rail_raster_interpolates_along_then_across_rails():
    from eda.graphs.pdn_physics import rail_raster

    x = np.array([0.0, 4.0, 0.0, 4.0])
    y = np.array([0.0, 0.0, 2.0, 2.0])
    v = np.array([0.0, 4.0, 2.0, 6.0])                          # v = x + y: bilinear, reproduced exactly
    m = rail_raster(x, y, v, (5, 3))
    gx, gy = np.meshgrid(np.arange(5), np.arange(3), indexing="ij")
    assert np.allclose(m, gx + gy)
    assert np.allclose(rail_raster(y, x, v, (3, 5), along="y"), (gx + gy).T)


def test_contest_training_runs_end_to_end_and_improves(contest, trained):
    ck, res = trained
    assert res["train"] and res["val"] and ck.exists()
    hist = torch.load(ck, weights_only=True)["info"]["history"]
    assert len(hist) >= 2 and min(h["val_mae"] for h in hist[1:]) <= hist[0]["val_mae"]
    from eda.graphs.dataset import contest_graphs
    from eda.graphs.pdn_graph import GraphParams
    from eda.predictors.contest import contest_cases
    from eda.predictors.train import TrainParams, train_model

    # the same two cases, physics channel off: training lowers the error of the zero-initialised model
    gs = contest_graphs(contest_cases([contest]), GraphParams(physics_iters=0), cache=False)
    _, _, hist = train_model(gs[:1], gs[1:], TrainParams(epochs=40, patience=40, lr=1e-2, ema=0.0,
                                                         hparams=json.loads(TINY)), progress=False)
    assert min(h["train_loss"] for h in hist[-5:]) < 0.7 * hist[0]["train_loss"]


def test_evaluate_prints_the_contest_table(contest, trained, tmp_path):
    ck, root = trained[0], tmp_path / "contest"
    shutil.copytree(contest, root)
    for name, drop in (("testcase17", "netlist.sp"), ("testcase3", "pdn_density.csv")):  # left out, said why
        shutil.copytree(contest / "real" / "testcase1", root / "real" / name)
        (root / "real" / name / drop).unlink()
    r = runner.invoke(app, ["irdrop", "evaluate", str(root), "--model", str(ck), "--json",
                            str(tmp_path / "ev.json"), "--figures", str(tmp_path / "fig")])
    assert r.exit_code == 0, r.output + repr(r.exception)
    assert "| case | MAE (mV) |" in r.output and "testcase1" in r.output and "current_map01" in r.output
    assert "skipped testcase17: no netlist (maps only)" in r.output
    assert "skipped testcase3: missing map(s): pdn_density" in r.output
    ev = json.loads((tmp_path / "ev.json").read_text())
    assert len(ev["rows"]) == 2 and all(row["exact_s"] > 0 and row["infer_s"] > 0 for row in ev["rows"])
    assert [sk["case"] for sk in ev["skipped"]] == ["testcase17", "testcase3"]
    assert (tmp_path / "fig" / "testcase1.png").exists()


def test_maps_only_case_is_refused_clearly(contest, trained, tmp_path):
    case = tmp_path / "testcase17"
    shutil.copytree(contest / "real" / "testcase1", case)
    (case / "netlist.sp").unlink()
    r = runner.invoke(app, ["irdrop", "predict", str(case), "--out", str(tmp_path / "o"), "--model",
                            str(trained[0])])
    assert r.exit_code == 1 and "no netlist" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o" / "ir_drop_map.csv").exists()


def test_predict_contest_folder_and_dbu_override(contest, trained, tmp_path):
    case = contest / "real" / "testcase1"
    r = runner.invoke(app, ["irdrop", "predict", str(case), "--out", str(tmp_path / "o"), "--model",
                            str(trained[0])])
    assert r.exit_code == 0 and "vs golden" in r.output, r.output
    r = runner.invoke(app, ["irdrop", "predict", str(case), "--out", str(tmp_path / "o2"), "--model",
                            str(trained[0]), "--dbu-per-um", "1000"])
    assert r.exit_code == 1 and "1000" in r.output and "Traceback" not in r.output


def test_floating_island_and_nan_checkpoint_are_errors(contest, trained, tmp_path):
    from eda.predictors.predict import predict_case

    deck = tmp_path / "island.sp"
    text = (contest / "real" / "testcase1" / "netlist.sp").read_text()
    deck.write_text(text.replace(".end", "R_island n1_m1_100000_100000 n1_m1_102000_100000 1\n"
                                         "I_island n1_m1_100000_100000 0 1e-3\n.end"))
    with pytest.raises(InputError, match="float"):
        predict_case(deck, tmp_path / "o", trained[0])
    ck = torch.load(trained[0], weights_only=True)
    k = next(k for k, v in ck["state"].items() if v.is_floating_point())
    ck["state"][k] = torch.full_like(ck["state"][k], float("nan"))
    bad = tmp_path / "nan.pt"
    torch.save(ck, bad)
    with pytest.raises(InputError, match="non-finite weights"):
        predict_case(contest / "real" / "testcase1", tmp_path / "o", bad)


@pytest.mark.parametrize("args, needle", [
    (["predict", "X", "--threads", "100000"], "--threads"),
    (["predict", "X", "--threads", "-1"], "--threads"),
    (["train", "--lr", "inf"], "--lr"),
    (["train", "--lr", "nan"], "--lr"),
    (["train", "--level-bound", "-1"], "--level-bound"),
    (["train", "--level-bound", "nan"], "--level-bound"),
    (["train", "--hparams", '{"hidden": "abc"}'], "hidden"),
    (["train", "--hparams", '{"nope": 1}'], "nope"),
    (["train", "--hparams", "[1]"], "--hparams"),
    (["compare", "--models", ""], "--models"),
    (["compare", "--models", "pdnnet,bogus"], "--models"),
])
def test_hostile_options_are_one_line_errors(contest, tmp_path, args, needle):
    cmd, rest = args[0], args[1:]
    rest = [str(contest / "real" / "testcase1") if a == "X" else a for a in rest]
    base = {"predict": ["--out", str(tmp_path / "o")],
            "train": ["--data", str(contest / "real"), "--data", str(contest / "fake"), "--out", str(tmp_path / "m.pt"),
                      "--epochs", "1"],
            "compare": ["--data", str(contest), "--out", str(tmp_path / "c")]}[cmd]
    r = runner.invoke(app, ["irdrop", cmd, *rest, *base])
    assert r.exit_code == 1, r.output
    assert needle in r.output and "Traceback" not in r.output
    assert not (tmp_path / "m.pt").exists()


def test_train_checks_the_output_path_before_training(contest, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    r = runner.invoke(app, ["irdrop", "train", "--data", str(contest / "real"), "--data", str(contest / "fake"),
                            "--out", str(blocker / "m.pt"), "--epochs", "1"])
    assert r.exit_code == 1 and "--out" in r.output and "epoch" not in r.output.lower()
    from eda.predictors.train import TrainParams, train_contest

    with pytest.raises(InputError, match="folder"):
        train_contest([contest], TrainParams(epochs=1), tmp_path)


@pytest.mark.slow
def test_real_case_physics_estimate_is_close(shared):
    """On a real ICCAD'23 case the physics channel alone is within a few tens of µV of the golden map."""
    from eda.graphs.dataset import contest_graph
    from eda.graphs.pdn_graph import GraphParams
    from eda.pdn.contest import read_case
    from eda.predictors.contest import physics_rows

    case = read_case(shared_path(shared, "iccad23/real/testcase11"))
    row = physics_rows([contest_graph(case, GraphParams(physics_iters=4))])[0]
    assert row["mae"] < 1e-4 and row["hotspot_f1"] > 0.7


def test_maps_only_real_case_is_refused(shared, tmp_path):
    from eda.predictors.predict import predict_case

    with pytest.raises(InputError, match="no netlist"):
        predict_case(shared_path(shared, "iccad23/real/testcase17"), tmp_path / "o")


def test_an_unreadable_cached_graph_is_built_again(contest, tmp_path, monkeypatch):
    """The PDNGraph cache: a second call reads the file; a file cut short or foreign is built again and rewritten."""
    from eda.graphs import dataset as ds
    from eda.graphs.pdn_graph import GraphParams
    from eda.predictors.contest import contest_cases

    monkeypatch.setenv("EDA_CACHE", str(tmp_path))
    cases, params = contest_cases([contest])[:1], GraphParams(physics_iters=0)
    first = ds.contest_graphs(cases, params)[0]
    (f,) = (tmp_path / "pdngraph").rglob("*.pt")
    good, real_build = f.read_bytes(), ds.contest_graph
    built: list = []

    def counted(*a):
        built.append(a)
        return real_build(*a)

    monkeypatch.setattr(ds, "contest_graph", counted)
    for bad in (b"junk", good[: len(good) // 2]):
        f.write_bytes(bad)
        again = ds.contest_graphs(cases, params)[0]
        assert torch.equal(again["pdn_node"].x, first["pdn_node"].x) and f.read_bytes() != bad
        ds.contest_graphs(cases, params)  # now read from the rewritten file
    assert len(built) == 2  # built once per bad file, never for the reads after
