"""`eda acim explore` and the ACIM demo stage."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from eda.cli import app
from eda.generators.acim_dse import ExploreSpec
from eda.generators.acim_model import ParamError


def test_explore_writes_front_and_pick(tmp_path):
    r = CliRunner().invoke(app, ["acim", "explore", "--rows", "64", "--cols", "32", "--pop", "16", "--gens", "4",
                                 "--require", "snr_db>=10", "--out", str(tmp_path), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "best snr_db" in r.output and "best area_mm2" in r.output
    designs = json.loads((tmp_path / "pareto.json").read_text())
    meta = json.loads((tmp_path / "exploration.json").read_text())
    picked = designs[meta["picked"]]
    assert picked["metrics"]["snr_db"] >= 10
    assert f"--pick {meta['picked']}" in r.output
    assert (tmp_path / "pareto.png").is_file() and (tmp_path / "pareto.csv").is_file()


def test_explore_bad_spec_is_typed_error(tmp_path):
    r = CliRunner().invoke(app, ["acim", "explore", "--rows", "1", "--cols", "32", "--out", str(tmp_path)])
    assert r.exit_code == 1 and "--rows" in r.output and len(r.output.strip().splitlines()) == 1
    with pytest.raises(ParamError) as e:
        ExploreSpec(rows=1, cols=32)
    assert e.value.field == "rows"


@pytest.mark.parametrize("manifest, says", [
    (None, "no manifest.json"),
    (b"\x00\xff junk", "manifest"),
    (b'{"roles": {"bitcell": "x"}, "cells": {"x": {"width_um": "wide"}}}', "cells.x"),
])
def test_explore_junk_cell_library_is_one_line(tmp_path, manifest, says):
    lib = tmp_path / "cells"
    lib.mkdir()
    if manifest is not None:
        (lib / "manifest.json").write_bytes(manifest)
    r = CliRunner().invoke(app, ["acim", "explore", "--rows", "64", "--cols", "32", "--pop", "8", "--gens", "2",
                                 "--cells", str(lib), "--out", str(tmp_path / "o"), "--no-progress"])
    assert r.exit_code == 1, r.output
    assert says in r.output and "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1


def test_explore_infeasible_prints_clean_message(tmp_path):
    p = subprocess.run([sys.executable, "-c", "from eda.cli import main; main()", "acim", "explore", "--rows", "64",
                        "--cols", "32", "--pop", "8", "--gens", "2", "-c", "snr_db>=500", "--out", str(tmp_path),
                        "--no-progress"], capture_output=True, text=True)
    assert p.returncode == 1
    assert "error:" in p.stderr and "snr_db>=500" in p.stderr and "Traceback" not in p.stderr


def test_demo_stage(tmp_path):
    from eda.generators.acim_demo import demo

    res = demo(tmp_path)
    assert res["n_pareto"] > 0 and res["picked_snr_db"] >= 20
    sim, model = res["sim_check_snr_db"]
    assert abs(sim - model) < 1.5
    assert (tmp_path / "acim_dse" / "pareto.png").is_file()
