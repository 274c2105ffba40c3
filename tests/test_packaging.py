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


def test_every_package_folder_is_listed():
    """A sub-package folder missing from pyproject's `packages` would be left out of a non-editable install."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    dirs = {v: k for k, v in cfg["package-dir"].items()}
    found = set()
    for folder, name in dirs.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([name, *rel.parts]))
    assert found <= listed, sorted(found - listed)


def test_package_data_patterns_match_files():
    """Every package-data pattern ships at least one file (a pattern matching nothing is a stale promise)."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    dirs = cfg["package-dir"]
    for pkg, patterns in cfg.get("package-data", {}).items():
        folder = ROOT / dirs.get(pkg, pkg.replace(".", "/"))
        for pat in patterns:
            assert any(p.is_file() for p in folder.glob(pat)), f"{pkg}: {pat} matches no file"
