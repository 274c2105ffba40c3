"""`eda dataset topo`: composed topologies on the shared batch runner, info and verify (which must fail on a
tampered sample)."""

import json

from typer.testing import CliRunner

from eda.cli import app

runner = CliRunner()


def test_build_info_verify_and_tamper(tmp_path):
    out = tmp_path / "topo"
    r = runner.invoke(app, ["dataset", "topo", "--out", str(out), "--n", "3", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["built"] == 3
    ids = sorted(p.name for p in (out / "raw").iterdir())
    assert len(ids) == 3
    r = runner.invoke(app, ["dataset", "topo", "--out", str(out), "--n", "3", "--no-progress"])
    assert r.exit_code == 0 and json.loads(r.output)["skipped"] == 3  # resumed, nothing redone
    info = json.loads(runner.invoke(app, ["dataset", "info", str(out)]).output)
    assert info["kind"] == "topo" and info["ok"] == 3
    r = runner.invoke(app, ["dataset", "verify", str(out), "--n", "3"])
    assert r.exit_code == 0 and json.loads(r.output)["ok"] is True
    # short every terminal of the first device onto one net: the verifier must catch it
    cir = out / "raw" / ids[0] / "topology.cir"
    lines = cir.read_text().splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("M"))
    name, model = lines[i].split()[0], lines[i].split(")")[1]
    lines[i] = f"{name} (VSS VSS VSS VSS){model}"
    cir.write_text("\n".join(lines) + "\n")
    r = runner.invoke(app, ["dataset", "verify", str(out), "--n", "3"])
    assert r.exit_code == 1
