"""Shared test fixtures."""

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models run fastest on one thread; two threads on a shared 2-core box oversubscribe it."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


SHARED_ENV = "EDA_SHARED"


def shared_root():
    import os
    from pathlib import Path

    env = os.environ.get(SHARED_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def shared():
    """The folder of real third-party data (``../shared`` beside the clone, or ``$EDA_SHARED``).

    Tests that read real data take this fixture and name the sub-folder they need with
    ``shared_path(shared, "iccad23/real/testcase1")``; they skip with a message when it is absent.
    """
    root = shared_root()
    if not root.is_dir():
        pytest.skip(f"real data folder {root} is absent (set ${SHARED_ENV} to its path to run this test)")
    return root


def shared_path(root, rel):
    """``root / rel``, skipping the test with a message when that part of the real data is absent."""
    p = root / rel
    if not p.exists():
        pytest.skip(f"real data {p} is absent")
    return p


def assert_drc_lvs_clean(gds, circuit) -> None:
    """Our DRC clean on ``gds`` and its LVS against ``circuit`` clean (the first mismatches in the message)."""
    from eda.verify.drc import run_drc
    from eda.verify.lvs import run_lvs

    assert run_drc(gds).clean, gds
    r = run_lvs(gds, circuit)
    assert r.clean, (r.mismatches[:3], r.extraction_errors[:3])


@pytest.fixture(scope="module")
def vocab():
    """The topology tokens' vocabulary (grammar and tour tests)."""
    from eda.graphs.euler import Vocab

    return Vocab.build()


@pytest.fixture(scope="module")
def tables(vocab):
    """The grammar's lookup tables over :func:`vocab`."""
    from eda.graphs.euler import VocabTables

    return VocabTables(vocab)


@pytest.fixture(scope="module")
def ota():
    """The library's five-transistor OTA: M1/M2 pair on n2, M3 tail to VSS, M4/M5 PMOS mirror load to VDD, VOUT1 on
    M2/M5."""
    from eda.read.topology_dataset import load_library

    return next(t.circuit for t in load_library() if t.name == "ota_5t")


def bench_module(name: str, alias: str | None = None):
    """A script of ``benchmarks/`` loaded as a module (its folder on ``sys.path`` while it loads, for its own
    imports); ``alias`` names the module when a test must not share it with another test's copy."""
    import importlib.util
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parent.parent / "benchmarks"
    sys.path.insert(0, str(bench))
    try:
        spec = importlib.util.spec_from_file_location(alias or name, bench / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(bench))
