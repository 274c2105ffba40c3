"""Pool workers end with the main process (eda.workers): a killed `eda topo size` or sampler leaves nothing
simulating. Each case starts a main process that fills a pool with sleeping tasks, SIGKILLs it, and checks
that its workers are gone within a few seconds; the plain pool (no set-up) is the control that must fail."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

MAIN = textwrap.dedent("""
    import sys, time
    from concurrent.futures import ProcessPoolExecutor
    from eda import workers
    from eda.generators.sizing.search import make_pool

    def main(kind):
        if kind == "sizing":
            pool = make_pool(2)
        elif kind == "plain":
            pool = ProcessPoolExecutor(2, mp_context=workers.context())
        else:
            pool = workers.pool(2, method=kind)
        for _ in range(2):
            pool.submit(time.sleep, 600)
        while len(pool._processes) < 2:
            time.sleep(0.05)
        time.sleep(1.0)  # the workers have run their set-up
        print(" ".join(str(p) for p in pool._processes), flush=True)
        time.sleep(600)

    if __name__ == "__main__":
        main(sys.argv[1])
""")


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    """Pids of ``pids`` still running (not zombies) after ``seconds``."""
    def running(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.time() + seconds
    while time.time() < deadline and any(running(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if running(p)]


def _kill_main_and_list_survivors(tmp_path, kind: str) -> list[int]:
    script = tmp_path / "main.py"
    script.write_text(MAIN)
    # (stderr dropped: the killed process's resource tracker reports the semaphores it was left with; TMPDIR: the
    # killed process cannot remove its multiprocessing folder, left under tmp_path instead of the temporary folder)
    proc = subprocess.Popen([sys.executable, str(script), kind], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.getcwd(),
                                                          "TMPDIR": str(tmp_path)})
    try:
        line = proc.stdout.readline()
        pids = [int(x) for x in line.split()]
        assert len(pids) == 2, f"main process said {line!r}"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    alive = _gone_within(pids, 5.0)
    for pid in alive:  # never leak them into the rest of the suite
        os.kill(pid, signal.SIGKILL)
    return alive


@pytest.mark.parametrize("kind", ["sizing", "forkserver", "spawn"])
def test_workers_end_with_a_killed_main_process(tmp_path, kind):
    assert not _kill_main_and_list_survivors(tmp_path, kind), f"{kind} workers outlived the main process"


def test_control_plain_forkserver_workers_outlive_the_main_process(tmp_path):
    """Without the set-up a fork server's children are orphaned and keep running: what the set-up is for."""
    assert _kill_main_and_list_survivors(tmp_path, "plain")
