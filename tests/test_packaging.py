"""A non-editable install maps every folder under the one `eda` namespace and ships package data."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_install_maps_namespace(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(ROOT)], check=True, capture_output=True)
    tops = {p.name for p in target.iterdir() if not p.name.endswith(".dist-info") and p.name != "bin"}
    assert tops == {"eda"}, tops
    code = ("import eda.graphs, eda.layout, eda.predictors, eda.generators, eda.paths as p;"
            "assert (p.PATHS.netlists / 'two_stage_opamp.sp').is_file();"
            "import importlib.util as u; assert u.find_spec('graphs') is None")
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
