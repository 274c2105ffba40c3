"""`eda irdrop solve | maps | score` and the shipped example decks."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from eda.cli import app
from eda.paths import PATHS
from eda.pdn import maps as pm
from eda.pdn.ngspice import have_ngspice, ngspice_tran
from eda.pdn.parse import read_pdn
from eda.pdn.solve import solve_static, solve_transient

runner = CliRunner()
ICCAD = PATHS.pdn / "iccad_style_48um.sp"
IBM = PATHS.pdn / "ibm_style_tiny.sp"


def test_solve_static_writes_outputs(tmp_path):
    r = runner.invoke(app, ["irdrop", "solve", str(ICCAD), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "summary.json").read_text())
    pdn = read_pdn(ICCAD)
    assert s["nodes"] == pdn.n_nodes and s["unknowns"] > 0
    rows = (tmp_path / "voltages.csv").read_text().splitlines()
    assert rows[0] == "node,voltage" and len(rows) == pdn.n_nodes + 1
    v = dict(line.split(",") for line in rows[1:])
    ref = solve_static(pdn)
    k = int(np.argmax(ref.drop))
    assert float(v[pdn.node_names[k]]) == ref.voltage[k]
    assert s["worst_static_drop_V"] == pytest.approx(ref.worst_drop)
    m = pm.read_map_csv(tmp_path / "ir_drop_map.csv")
    assert m.shape == pm.map_shape(pdn) and (tmp_path / "ir_drop.png").stat().st_size > 1000


def test_solve_dynamic_with_probe(tmp_path):
    r = runner.invoke(app, ["irdrop", "solve", str(IBM), "--out", str(tmp_path), "--mode", "dynamic",
                            "--probe", "n0_2000_0", "--probe", "n3_2000_0"])
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["steps"] == 2000 and s["step_sizes"] == 1
    w = np.loadtxt(tmp_path / "waveforms.csv", delimiter=",", skiprows=1)
    assert w.shape == (2001, 3)
    pdn = read_pdn(IBM)
    tr = solve_transient(pdn, probes=["n0_2000_0"])
    np.testing.assert_allclose(w[:, 1], tr.probes["n0_2000_0"])
    assert s["worst_dynamic_drop_V"] == pytest.approx(tr.worst) and tr.worst > solve_static(pdn).worst_drop
    assert (tmp_path / "worst_drop.csv").exists() and (tmp_path / "waveforms.png").exists()


def test_maps_and_score(tmp_path):
    r = runner.invoke(app, ["irdrop", "maps", str(ICCAD), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    for f in ("current_map", "pdn_density", "eff_dist_map", "ir_drop_map"):
        assert (tmp_path / f"{f}.csv").exists() and (tmp_path / f"{f}.png").exists()
    gold = tmp_path / "ir_drop_map.csv"
    r = runner.invoke(app, ["irdrop", "score", str(gold), str(gold)])
    assert r.exit_code == 0
    s = json.loads(r.output)
    assert s["mae"] == 0 and s["cc"] == pytest.approx(1) and s["hotspot_f1"] == 1
    pred = tmp_path / "pred.csv"
    np.savetxt(pred, pm.read_map_csv(gold) * 0.5, delimiter=",")
    s = json.loads(runner.invoke(app, ["irdrop", "score", str(pred), str(gold)]).output)
    assert s["mae"] > 0 and s["hotspot_f1"] == 0


def test_bad_deck_is_a_clean_error(tmp_path):
    bad = tmp_path / "bad.sp"
    bad.write_text("R1 a b 1\nR2 a b -2\nV1 a 0 1\n")
    proc = subprocess.run([sys.executable, "-c", "from eda.cli import main; main()", "irdrop", "solve", str(bad),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "bad.sp:2" in proc.stderr and "Traceback" not in proc.stderr


def test_console_solve_ends_quickly_with_every_file_and_line(tmp_path):
    """The console entry point ends the process right after a successful solve (no interpreter teardown): stdout
    is complete, every file is written whole and the status is 0; a failing solve still exits 1."""
    cmd = [sys.executable, "-c", "from eda.cli import main; main()", "irdrop", "solve", str(ICCAD)]
    proc = subprocess.run([*cmd, "--out", str(tmp_path / "o"), "--no-pictures"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith(f"wrote {tmp_path / 'o'}/")
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert s["read_ahead"] is True  # the console entry point loaded the case before Typer parsed the line
    m = pm.read_map_csv(tmp_path / "o" / "ir_drop_map.csv")
    assert list(m.shape) == s["map_shape"]
    assert len((tmp_path / "o" / "voltages.csv").read_text().splitlines()) == s["nodes"] + 1
    bad = subprocess.run([*cmd, "--out", str(tmp_path / "o"), "--dbu-per-um", "1"], capture_output=True, text=True)
    assert bad.returncode == 1 and "error:" in bad.stderr


@pytest.mark.skipif(not have_ngspice(), reason="ngspice not installed")
def test_ibm_example_transient_matches_ngspice():
    pdn = read_pdn(IBM)
    t, ref, _ = ngspice_tran(pdn, 1e-12, 2e-9, ["n0_2000_0", "n3_2000_0"])
    tr = solve_transient(pdn, 2.5e-13, 2e-9, probes=["n0_2000_0", "n3_2000_0"])
    for n in ("n0_2000_0", "n3_2000_0"):
        assert np.abs(np.interp(t, tr.times, tr.probes[n]) - ref[n]).max() < 1e-6



def test_read_ahead_finds_the_case_among_the_options(tmp_path):
    """`eda irdrop solve|maps` start loading the case while the command line is parsed: the argument is told apart
    from option values (even a value that names an existing deck) and flags, --dbu-per-um and --map-method are
    passed on; a case folder means its netlist.sp; other commands, --help, a missing argument or a value Typer
    will refuse start nothing."""
    from eda.cli import irdrop
    from eda.pdn import pipeline as pl

    deck, other, case = tmp_path / "d.sp", tmp_path / "probe.sp", tmp_path / "testcase9"
    case.mkdir()
    for p in (deck, other, case / "netlist.sp"):
        p.write_text(ICCAD.read_text())

    def ahead(*args):
        pl._AHEAD.clear()
        started = irdrop.read_ahead(list(args))
        got = pl._AHEAD[0] if pl._AHEAD else None
        if got is not None:
            got.thread.join()
        pl._AHEAD.clear()
        assert started == (got is not None)
        return None if got is None else (got.key[1][0], *got.key[2:])

    real = {p: str(p.resolve()) for p in (deck, other, case / "netlist.sp")}
    assert ahead("solve", "--probe", str(other), "--no-pictures", str(deck), "--out", str(tmp_path)) == \
        (real[deck], None, "contest")
    assert ahead("solve", f"--out={tmp_path}", "--pictures", "--map-method", "griddata", str(deck)) == \
        (real[deck], None, "griddata")
    assert ahead("maps", "--dbu-per-um", "2000", str(case)) == (real[case / "netlist.sp"], 2000.0, "contest")
    assert ahead("solve", "--", str(deck)) == (real[deck], None, "contest")
    assert ahead("solve", str(deck), "--map-method", "griddata", "--probe", str(other), "--dbu-per-um=1000") == \
        (real[deck], 1000.0, "griddata")  # options after CASE count too
    assert ahead("maps", str(case), "--no-pictures", "--", "--out") == (real[case / "netlist.sp"], None, "contest")
    for refused in (("score", str(deck), str(other)), ("solve", "--probe", str(other)), ("solve", str(tmp_path)),
                    ("solve", str(tmp_path / "absent.sp")), ("solve", str(deck), "--help"),
                    ("solve", "--dbu-per-um", "x", str(deck)), ("solve", "--map-method", "nope", str(deck)), ()):
        assert ahead(*refused) is None, refused
