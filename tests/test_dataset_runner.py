"""Batch runner: local pool, Dask LocalCluster, resumability after a kill, failures, refusal to mix."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from eda.dataset.runner import build_dataset, read_manifest, sample_id, sample_seed
from eda.errors import InputError


def toy(seed: int, out: Path, fail_every: int = 0) -> dict:
    """A tiny deterministic sample: random numbers from the seed."""
    if fail_every and seed % fail_every == 0:
        raise ValueError(f"bad seed {seed}")
    v = np.random.default_rng(seed).random(5)
    (out / "values.txt").write_text(" ".join(repr(x) for x in v.tolist()) + "\n")
    return {"first": float(v[0])}


def interrupt_at(seed: int, out: Path, when: int) -> dict:
    if seed == when:
        raise KeyboardInterrupt
    return toy(seed, out)


def gated(seed: int, out: Path, fn, n: int, gate_from: int) -> dict:
    """``fn`` for the first ``gate_from`` of ``n`` samples; later ones write a half sample and then wait until
    the test kills or interrupts the build. Under a heavy load the test process can sleep for seconds while
    workers run on: without the gate the build could finish before the kill it is meant to survive."""
    if [sample_seed(0, i) for i in range(n)].index(seed) < gate_from:
        return fn(seed, out)
    (out / "part1.txt").write_text("half-written\n")
    time.sleep(600)  # killed long before (workers also die with the main process)
    raise RuntimeError("gate never released")


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _build(out, n, fn=toy, **kw):
    kw.setdefault("progress", False)
    return build_dataset(out, n, fn, kind="toy", builder="tests:toy", config={"v": 1}, **kw)


def test_seeds_are_stable_and_distinct():
    s = [sample_seed(0, i) for i in range(100)]
    assert len(set(s)) == 100
    assert s == [sample_seed(0, i) for i in range(100)]
    assert sample_seed(1, 0) != sample_seed(0, 0)
    assert all(0 <= x < 2**63 for x in s)


def test_build_local_and_resume(tmp_path):
    rep = _build(tmp_path / "d", 4)
    assert (rep.built, rep.failed, rep.skipped) == (4, 0, 0)
    rows = read_manifest(tmp_path / "d")
    assert sorted(rows) == [sample_id(i) for i in range(4)]
    r = rows["s000002"]
    assert r["status"] == "ok" and r["seed"] == sample_seed(0, 2) and r["files"] == 1 and r["bytes"] > 0
    assert r["info"]["first"] == np.random.default_rng(r["seed"]).random(1)[0]
    # same command: nothing redone; a larger n builds only the rest
    rep2 = _build(tmp_path / "d", 4)
    assert (rep2.built, rep2.skipped) == (0, 4)
    rep3 = _build(tmp_path / "d", 6)
    assert (rep3.built, rep3.skipped) == (2, 4)
    assert len((tmp_path / "d" / "manifest.jsonl").read_text().splitlines()) == 6


def test_pool_matches_in_process(tmp_path):
    _build(tmp_path / "a", 5, workers=1)
    rep = _build(tmp_path / "b", 5, workers=2)
    assert rep.built == 5
    assert _files(tmp_path / "a" / "raw") == _files(tmp_path / "b" / "raw")


def test_dask_local_cluster(tmp_path):
    from distributed import Client, LocalCluster

    _build(tmp_path / "a", 4)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cl, \
            Client(cl) as client:
        rep = _build(tmp_path / "b", 4, scheduler=client)
        assert (rep.built, rep.failed) == (4, 0)
        # address string path: the runner opens and closes its own client
        rep2 = _build(tmp_path / "c", 2, scheduler=cl.scheduler_address, fn=partial(toy, fail_every=0))
        assert rep2.built == 2
    assert _files(tmp_path / "a" / "raw") == _files(tmp_path / "b" / "raw")


def test_failures_are_recorded_and_retried(tmp_path):
    fn = partial(toy, fail_every=3)
    seeds = [sample_seed(0, i) for i in range(8)]
    bad = {sample_id(i) for i, s in enumerate(seeds) if s % 3 == 0}
    assert bad, "test needs at least one failing seed"
    rep = _build(tmp_path / "d", 8, fn=fn)
    assert rep.failed == len(bad) and rep.built == 8 - len(bad)
    assert set(rep.failures) == bad
    rows = read_manifest(tmp_path / "d")
    for i in bad:
        assert rows[i]["status"] == "failed" and "ValueError: bad seed" in rows[i]["error"]
        assert not (tmp_path / "d" / "raw" / i).exists()
    assert not list((tmp_path / "d" / "raw").glob(".tmp-*"))
    # a retry runs the failed ones again (still failing, still recorded), skips the good ones
    rep2 = _build(tmp_path / "d", 8, fn=fn)
    assert rep2.failed == len(bad) and rep2.skipped == 8 - len(bad) and rep2.built == 0


def test_interrupt_then_resume(tmp_path):
    when = sample_seed(0, 3)
    with pytest.raises(KeyboardInterrupt):
        _build(tmp_path / "d", 6, fn=partial(interrupt_at, when=when))
    rows = read_manifest(tmp_path / "d")
    assert sorted(rows) == [sample_id(i) for i in range(3)]
    assert not list((tmp_path / "d" / "raw").glob(".tmp-*"))
    rep = _build(tmp_path / "d", 6, fn=partial(interrupt_at, when=-1))
    assert (rep.built, rep.skipped) == (3, 3)


_KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from functools import partial
    sys.path.insert(0, {tests!r})
    from test_dataset_runner import gated, slow_toy
    from eda.dataset.runner import build_dataset
    build_dataset(Path({out!r}), 12, partial(gated, fn=slow_toy, n=12, gate_from=6), kind="toy",
                  builder="tests:slow_toy", config={{"v": 1}}, workers={workers}, progress=False)
""")


def slow_toy(seed: int, out: Path) -> dict:
    (out / "part1.txt").write_text("half-written\n")
    time.sleep(0.15)
    return toy(seed, out)


@pytest.mark.parametrize("workers", [1, 2])
def test_kill_then_resume(tmp_path, workers):
    out = tmp_path / "d"
    script = _KILL_SCRIPT.format(tests=str(Path(__file__).parent), out=str(out), workers=workers)
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            rows = read_manifest(out) if (out / "manifest.jsonl").exists() else {}
            if len(rows) >= 3:
                break
            time.sleep(0.02)
        else:
            pytest.fail("build made no progress")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: pool workers included
        proc.wait()
    done_before = {k for k, r in read_manifest(out).items() if r["status"] == "ok"}
    assert 3 <= len(done_before) < 12
    before = {i: _files(out / "raw" / i) for i in done_before}
    rep = build_dataset(out, 12, slow_toy, kind="toy", builder="tests:slow_toy", config={"v": 1}, progress=False)
    assert rep.built + rep.skipped + rep.recovered == 12 and rep.failed == 0
    assert rep.skipped >= len(done_before)
    assert not list((out / "raw").glob(".tmp-*"))
    rows = read_manifest(out)
    assert sorted(rows) == [sample_id(i) for i in range(12)]
    for i in range(12):
        d = out / "raw" / sample_id(i)
        assert (d / "values.txt").read_text() == " ".join(
            repr(x) for x in np.random.default_rng(sample_seed(0, i)).random(5).tolist()) + "\n"
    for i, files in before.items():  # finished samples were not touched
        assert _files(out / "raw" / i) == files


def test_lost_manifest_row_is_recovered(tmp_path):
    out = tmp_path / "d"
    _build(out, 3)
    lines = (out / "manifest.jsonl").read_text().splitlines()
    (out / "manifest.jsonl").write_text("\n".join(lines[:1]) + "\n" + '{"id": "s0000')  # lost rows + torn line
    stamp = (out / "raw" / "s000002" / "values.txt").stat().st_mtime_ns
    rep = _build(out, 3)
    assert (rep.recovered, rep.built) == (2, 0)
    assert (out / "raw" / "s000002" / "values.txt").stat().st_mtime_ns == stamp
    rows = read_manifest(out)
    assert sorted(rows) == ["s000000", "s000001", "s000002"]
    assert rows["s000002"]["status"] == "ok" and rows["s000002"]["recovered"]
    assert rows["s000001"]["recovered"]
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        _build(f, 1)


def test_refuses_other_configuration(tmp_path):
    out = tmp_path / "d"
    _build(out, 1)
    with pytest.raises(InputError, match="different configuration.*config"):
        build_dataset(out, 1, toy, kind="toy", builder="tests:toy", config={"v": 2}, progress=False)
    with pytest.raises(InputError, match="seed"):
        build_dataset(out, 1, toy, kind="toy", builder="tests:toy", config={"v": 1}, seed=5, progress=False)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a dataset"):
        _build(other, 1)
    with pytest.raises(InputError, match="workers"):
        _build(tmp_path / "x", 1, workers=0)
    assert json.loads((out / "dataset.json").read_text())["config"] == {"v": 1}


# ---------------------------------------------------------------------------------------------- interruption
_CTRL_C_SCRIPT = textwrap.dedent("""
    import signal
    import sys
    from pathlib import Path
    # a terminal's Ctrl-C reaches a foreground job; a suite started in the background (nohup, `cmd &` in a
    # script) inherits SIGINT ignored, and Python then installs no handler: restore the terminal's disposition
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, {tests!r})
    from functools import partial
    from test_dataset_runner import gated, slower_toy
    from eda.cli import handle_error
    from eda.dataset.runner import build_dataset
    try:
        build_dataset(Path({out!r}), 40, partial(gated, fn=slower_toy, n=40, gate_from=12), kind="toy",
                      builder="tests:slower_toy", config={{"v": 1}}, workers={workers}, progress=False)
    except BaseException as e:
        sys.exit(handle_error(e))
""")


def slower_toy(seed: int, out: Path) -> dict:
    (out / "part1.txt").write_text("half-written\n")
    time.sleep(0.4)
    return toy(seed, out)


def _children(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _survivors(kids, within: float = 5.0) -> list[int]:
    """Pids of ``kids`` still running (not zombies) after waiting up to ``within`` s for them to end: the
    workers and multiprocessing's resource tracker exit on their own once the main process is gone, which
    takes a moment under load; one still running after 5 s has hung."""
    def running(k) -> bool:
        try:
            return k.is_running() and k.status() != "zombie"
        except Exception:  # noqa: BLE001 - psutil.NoSuchProcess: gone between the two calls
            return False

    deadline = time.time() + within
    while time.time() < deadline and any(running(k) for k in kids):
        time.sleep(0.1)
    return [k.pid for k in kids if running(k)]


def _start_and_wait(tmp_path, workers: int, n_done: int = 2):
    out = tmp_path / "d"
    script = _CTRL_C_SCRIPT.format(tests=str(Path(__file__).parent), out=str(out), workers=workers)
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        rows = read_manifest(out) if (out / "manifest.jsonl").exists() else {}
        if sum(r["status"] == "ok" for r in rows.values()) >= n_done:
            return proc, out
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("build made no progress")


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_ends_build_cleanly(tmp_path, workers):
    """Ctrl-C (SIGINT to the whole foreground group, as a terminal sends it): exit within a few seconds with
    one line, workers gone, finished samples untouched, a rerun resumes."""
    proc, out = _start_and_wait(tmp_path, workers)
    kids = _children(proc.pid)
    assert len(kids) >= (workers if workers > 1 else 0)
    before = {i: _files(out / "raw" / i) for i, r in read_manifest(out).items() if r["status"] == "ok"}
    stamps = {i: (out / "raw" / i / "values.txt").stat().st_mtime_ns for i in before}
    t0 = time.time()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("build did not stop within 10 s of Ctrl-C")
    assert time.time() - t0 < 6
    assert proc.returncode == 130
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("error: ") and "interrupted;" in lines[0] and "rerun to resume" in lines[0]
    kept = int(lines[0].split("interrupted; ")[1].split()[0])
    assert kept >= len(before)
    assert not _survivors(kids), "workers survived Ctrl-C"
    assert not list((out / "raw").glob(".tmp-*"))
    rep = build_dataset(out, 6, slower_toy, kind="toy", builder="tests:slower_toy", config={"v": 1},
                        progress=False)
    assert rep.failed == 0 and rep.skipped + rep.recovered >= len(before)
    for i, files in before.items():  # never rewritten
        assert _files(out / "raw" / i) == files
        assert (out / "raw" / i / "values.txt").stat().st_mtime_ns == stamps[i]


def test_killed_main_leaves_no_orphans(tmp_path):
    """SIGKILL of the main process alone: its pool workers notice and exit (no orphans)."""
    proc, out = _start_and_wait(tmp_path, workers=2, n_done=1)
    kids = _children(proc.pid)
    assert kids
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    alive = _survivors(kids)
    for pid in alive:  # do not leak them into the rest of the suite
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"orphans after the main process died: {alive}"


def test_failed_configuration_does_not_bind_folder(tmp_path):
    """A configuration whose every sample failed (e.g. a refused option) must not block the corrected rerun."""
    out = tmp_path / "d"
    rep = build_dataset(out, 2, partial(toy, fail_every=1), kind="toy", builder="tests:toy", config={"v": 0},
                        progress=False)
    assert rep.failed == 2
    rep = build_dataset(out, 2, toy, kind="toy", builder="tests:toy", config={"v": 1}, progress=False)
    assert rep.built == 2
    assert json.loads((out / "dataset.json").read_text())["config"] == {"v": 1}
    with pytest.raises(InputError, match="different configuration"):  # once it holds samples, it is bound
        build_dataset(out, 2, toy, kind="toy", builder="tests:toy", config={"v": 2}, progress=False)


def test_unreachable_scheduler_is_one_quick_error(tmp_path):
    t0 = time.time()
    with pytest.raises(InputError, match="--scheduler tcp://127.0.0.1:1: cannot reach"):
        _build(tmp_path / "d", 1, scheduler="tcp://127.0.0.1:1")
    assert time.time() - t0 < 20
    assert not (tmp_path / "d").exists()  # nothing written


def test_malformed_manifest_rows_are_reported(tmp_path):
    from eda.dataset.runner import dataset_status

    out = tmp_path / "d"
    _build(out, 2)
    with open(out / "manifest.jsonl", "ab") as f:
        f.write(b'{"id": 5}\n[1, 2]\n\xff\xfe junk\n{"id": "s0000')  # two bad rows, binary, a torn last line
    st = dataset_status(out)
    assert st["ok"] == ["s000000", "s000001"]
    assert len(st["problems"]) == 3 and st["problems"][0].startswith("manifest.jsonl:3:")
    import shutil

    shutil.rmtree(out / "raw" / "s000001")
    assert dataset_status(out)["missing"] == ["s000001"]


def test_size_guard(tmp_path):
    from eda.dataset.runner import check_build_size

    est = check_build_size(tmp_path / "d", 100, 2, seconds_per_sample=0.6, mb_per_sample=3, rss_mb_per_worker=240)
    assert est["hours"] < 0.1 and est["disk_gb"] == pytest.approx(0.3)
    with pytest.raises(InputError, match=r"build too large: .*GB of samples.*h \(limit 24 h\).*--force"):
        check_build_size(tmp_path / "d", 10**8, 2, seconds_per_sample=80, mb_per_sample=210, rss_mb_per_worker=1300)
    with pytest.raises(InputError, match="workers but"):
        check_build_size(tmp_path / "d", 1, 10**4, seconds_per_sample=1, mb_per_sample=1, rss_mb_per_worker=1300)
    est = check_build_size(tmp_path / "d", 10**8, 2, seconds_per_sample=80, mb_per_sample=210,
                           rss_mb_per_worker=1300, force=True)
    assert est["hours"] > 24
    assert not (tmp_path / "d").exists()
