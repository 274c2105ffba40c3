"""The CLI's boundary layer: one-line errors, --debug / EDA_DEBUG, option types and path checks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer
from pydantic import BaseModel, Field, ValidationError
from typer.testing import CliRunner

from eda.cli import app, describe_error
from eda.cli.options import check_out_dir, check_out_file, float_range
from eda.errors import InputError


def _run(args, env=None):
    return subprocess.run([sys.executable, "-c", "from eda.cli import main; main()", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


def test_one_line_then_debug_traceback(tmp_path):
    r = _run(["dataset", "info", str(tmp_path / "nope")])
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: --") or str(tmp_path / "nope") in r.stderr
    for args, env in ((["--debug", "dataset", "verify", str(tmp_path)], None),
                      (["dataset", "verify", str(tmp_path)], {"EDA_DEBUG": "1"})):
        r = _run(args, env)
        assert r.returncode == 1 and "Traceback" in r.stderr, r.stderr
        assert r.stderr.strip().splitlines()[-1].startswith("error: ") and "dataset.json" in r.stderr


def test_usage_errors_name_the_option():
    r = CliRunner().invoke(app, ["dataset", "verify", ".", "--n", "0"])
    assert r.exit_code == 1 and r.stderr.startswith("error: --n: ") and r.stderr.count("\n") == 1
    r = CliRunner().invoke(app, ["dataset", "irdrop", "--out", "x", "--seed", str(2**64)])
    assert r.exit_code == 1 and r.stderr.startswith("error: --seed: ")
    r = CliRunner().invoke(app, ["spice", "convert", "a.sp"])
    assert r.exit_code == 1 and r.stderr == "error: SRC: a.sp: no such file\n"
    r = CliRunner().invoke(app, ["dataset", "info"])
    assert r.exit_code == 1 and "Missing argument" in r.stderr


def test_describe_error_kinds(tmp_path):
    class P(BaseModel):
        max_temperature: float = Field(..., gt=0)

    try:
        P(max_temperature=-1)
    except ValidationError as e:
        msg, code, ok = describe_error(e)
    assert ok and code == 1 and msg.startswith("--max-temperature: ")
    msg, code, ok = describe_error(InputError("bad value", file="a.sp", line=3, text="R1 a b x\n"))
    assert msg == "a.sp:3: bad value  [R1 a b x]" and ok
    msg, _, ok = describe_error(FileNotFoundError(2, "No such file or directory", "x.csv"))
    assert ok and msg == "x.csv: No such file or directory"
    msg, code, ok = describe_error(RuntimeError("boom"))
    assert not ok and code == 1 and msg.startswith("internal error: RuntimeError: boom")
    msg, code, _ = describe_error(KeyboardInterrupt("d: interrupted; 3 samples kept, rerun to resume"))
    assert code == 130 and msg.startswith("d: interrupted; 3")
    f = tmp_path / "bin.txt"
    f.write_bytes(b"\xff\xfe\x00")
    try:
        f.read_text()
    except UnicodeDecodeError as e:
        msg, _, ok = describe_error(e)
    assert ok and msg.startswith(f"{f}: not UTF-8 text")


@pytest.mark.parametrize("value,ok", [("1", True), ("0", False), ("-1", False), ("nan", False), ("inf", False),
                                      ("-inf", False), ("abc", False), ("1e-300", True), ("100", True),
                                      ("100.5", False)])
def test_float_range(value, ok):
    parse = float_range(0, 100, lo_open=True)
    if ok:
        assert parse(value) == float(value)
    else:
        with pytest.raises(typer.BadParameter):
            parse(value)


def test_output_path_checks(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    d = tmp_path / "adir"
    d.mkdir()
    assert check_out_dir(d) is None and check_out_dir(d / "new" / "deeper") is None
    assert "is a file" in check_out_dir(f)
    assert "is a file, not a folder" in check_out_dir(f / "x")
    assert check_out_file(d / "x.json") is None and check_out_file(f) is None
    assert "is a folder" in check_out_file(d)
    assert "is a file, not a folder" in check_out_file(f / "x.json")
    assert not list(d.iterdir())  # the writability probe leaves nothing behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_output_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert "cannot write" in check_out_dir(ro) and "cannot write" in check_out_file(ro / "x.json")
    finally:
        ro.chmod(0o700)


def test_a_cache_folder_that_cannot_be_made_is_one_clear_error(tmp_path, monkeypatch):
    """EDA_CACHE naming a file: the command that needs the cache (derived sky130 models) says which folder and which
    variable, in one line, instead of a bare "File exists"."""
    from eda.errors import ConfigError
    from eda.paths import PATHS, user_cache_dir

    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setenv("EDA_CACHE", str(blocker))
    with pytest.raises(ConfigError, match=r"EDA_CACHE: cannot make the cache folder .*a_file/models"):
        user_cache_dir("models")
    r = _run(["topo", "measure", str(PATHS.topologies / "opamp2" / "twostage_miller.cir")])
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert "EDA_CACHE" in r.stderr and str(blocker) in r.stderr and "set EDA_CACHE" in r.stderr
    assert blocker.read_text() == "x"
