"""Worker processes, one set of rules for every process pool of the project.

* :func:`context` — workers fork from a clean fork server (``forkserver``: no threads, locks or BLAS
  pools copied from this process; the modules named in ``preload`` imported once, in the server), or
  start as fresh interpreters (``spawn``) where there is no fork server.
* :func:`die_with_parent` — the pool-worker set-up: Ctrl-C ignored (the main process decides what to
  stop) and the worker ends itself when the main process dies, also when it was forked by a fork server
  (whose children outlive the main process unless they watch it).
* :func:`pool` — a ``ProcessPoolExecutor`` with both; :func:`stop` ends one now (workers terminated and reaped).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor


def context(preload: Iterable[str] = (), method: str = "forkserver"):
    """A multiprocessing context: ``forkserver`` with ``preload`` (modules the server imports once; the
    first pool of a process starts the server, so the first caller's list counts) or ``spawn`` when asked
    for or where there is no fork server."""
    import multiprocessing as mp

    if method == "spawn" or "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    if preload:
        ctx.set_forkserver_preload(list(preload))
    return ctx


def die_with_parent(parent: int) -> None:
    """Pool-worker set-up: ignore Ctrl-C (the main process decides), and die with the main process ``parent``.
    Spawned by it: ``PR_SET_PDEATHSIG`` on Linux plus a thread that polls the parent pid; forked by a fork
    server (whose children outlive the main process): a thread that polls for the main process itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    direct = os.getppid() == parent
    if direct:
        try:
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):  # pragma: no cover - not Linux
            pass

    def alive() -> bool:
        if direct:
            return os.getppid() == parent
        try:
            os.kill(parent, 0)
        except (ProcessLookupError, PermissionError):  # (gone, or its pid reused by another user's process)
            return False
        return True

    if not alive():  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if not alive():
                os._exit(1)

    threading.Thread(target=watch, name="eda-parent-watch", daemon=True).start()


def stop(pool: ProcessPoolExecutor) -> None:
    """Stop a process pool now: terminate the workers and reap them (no zombies). Futures are not cancelled:
    the pool's own thread fails them as broken (cancelling first makes that thread raise on Python 3.11)."""
    procs = list(getattr(pool, "_processes", {}).values())
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + 3.0
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(1.0)
    pool.shutdown(wait=False)


def pool(workers: int, preload: Iterable[str] = (), method: str = "forkserver") -> ProcessPoolExecutor:
    """``workers`` processes from :func:`context` set up by :func:`die_with_parent`."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=context(preload, method),
                               initializer=die_with_parent, initargs=(os.getpid(),))


__all__ = ["context", "die_with_parent", "pool", "stop"]
