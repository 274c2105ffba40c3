def test_import():
    import eda

    assert eda.__version__


def test_import_is_cheap_and_entry_points_resolve():
    """`import eda` loads nothing heavy; every advertised entry point resolves to a callable or class."""
    import subprocess
    import sys

    code = ("import sys, eda; heavy = [m for m in ('numpy', 'scipy', 'torch', 'klayout', 'matplotlib') "
            "if m in sys.modules]; print(heavy)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]", r.stdout
    import eda

    for name in eda.__all__:
        if name != "__version__":
            assert callable(getattr(eda, name)), name
