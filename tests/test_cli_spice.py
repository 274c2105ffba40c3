"""`eda` CLI basics and `eda spice check`."""

import subprocess
import sys

from typer.testing import CliRunner

from eda import __version__
from eda.cli import GROUPS, app
from eda.paths import PATHS

runner = CliRunner()


def test_help_lists_groups():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for g in GROUPS:
        assert g in r.output


def test_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and __version__ in r.output


def test_spice_check_good_and_bad(tmp_path):
    bad = tmp_path / "bad.sp"
    bad.write_text("title\nR1 a b 1k\nM1 a b c\n")
    good = PATHS.netlists / "two_stage_opamp.sp"
    r = runner.invoke(app, ["spice", "check", str(good)])
    assert r.exit_code == 0 and "devices" in r.output
    r = runner.invoke(app, ["spice", "check", str(good), str(bad)])
    assert r.exit_code == 1
    assert f"{bad}:3" in r.output and "expected 4 nodes" in r.output


def test_console_script_prints_clean_error(tmp_path):
    bad = tmp_path / "bad.sp"
    bad.write_text("title\nR1 a b\n")
    r = subprocess.run([sys.executable, "-c", "from eda.cli import main; main()", "spice", "op", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and f"{bad}:2" in r.stderr


def test_spice_convert_cadence(tmp_path):
    src = tmp_path / "1.cir"
    src.write_text("M0 (a b VSS VSS) nmos4\nR0 (a VDD) resistor\n")
    dst = tmp_path / "1.sp"
    r = runner.invoke(app, ["spice", "convert", "--cadence", str(src), str(dst)])
    assert r.exit_code == 0
    assert "M0 a b VSS VSS nmos4" in dst.read_text()
