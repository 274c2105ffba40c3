"""Simulations in worker processes that can be killed: one wedged deck costs one deadline, not the run.

libngspice is one simulator per process, and an analysis that ngspice's ``bg_halt`` does not stop keeps its
thread running: every later analysis in that process then waits for it and times out (seen on a generated
74-device deck: it failed the next checks, which converge on their own). :class:`IsolatedRunner` runs a
picklable function on each item in ``workers`` long-lived processes (each started once, so a check costs
what it costs in-process plus a pickle) and, when a call passes its deadline or its result says the worker's
simulator may be stuck, kills that worker and starts a fresh one for the next item. ``recycle_after`` retires a
worker after that many calls: libngspice keeps ~5 MB of every deck it loaded (measured: 600 sky130 operating
points, 0.8 -> 3.1 GB resident, each deck 14 -> 50 ms), so a long run in one process runs slower and out of memory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any


class StuckWorker(Exception):
    """Returned (not raised) for an item whose call passed its deadline or whose worker died."""


class IsolatedRunner:
    """``fn(item)`` for many items in ``workers`` killable processes.

    Args:
        fn: a module-level function (picklable); it may return a value for which ``stuck(value)`` is true
            to say that its process should not be used again (e.g. an analysis ngspice had to halt).
        workers: processes (each runs one call at a time).
        deadline: seconds one call may take (start-up of a fresh worker included) before its process is
            killed; the item then gets a :class:`StuckWorker`.
        stuck: see ``fn``.
        recycle_after: calls after which a worker is retired and the next call starts a fresh one (None: never).
    """

    def __init__(self, fn: Callable[[Any], Any], workers: int = 1, deadline: float = 120.0,
                 stuck: Callable[[Any], bool] | None = None, recycle_after: int | None = None):
        if workers < 1 or not deadline > 0 or (recycle_after is not None and recycle_after < 1):
            raise ValueError(f"IsolatedRunner: workers >= 1, deadline > 0 and recycle_after >= 1 (or None), got "
                             f"{workers}, {deadline}, {recycle_after}")
        self.fn, self.deadline, self.stuck, self.recycle_after = fn, float(deadline), stuck, recycle_after
        from eda import workers as worker_pools

        # workers fork from a clean server with the driver imported once (spawn where there is none)
        self._ctx = worker_pools.context(["eda.sim.ngspice"])
        self._pools: list[ProcessPoolExecutor | None] = [None] * workers
        self._calls = [0] * workers  # calls served by each slot's current worker
        self.replaced = 0  # workers killed and replaced (deadline passed, died, or said stuck)
        self.recycled = 0  # workers retired after recycle_after calls

    def _pool(self, k: int) -> ProcessPoolExecutor:
        if self._pools[k] is None:
            from eda.workers import die_with_parent  # Ctrl-C ignored, ends with this process

            self._pools[k] = ProcessPoolExecutor(1, mp_context=self._ctx, initializer=die_with_parent,
                                                 initargs=(os.getpid(),))
        return self._pools[k]

    def _replace(self, k: int, count: bool = True) -> None:
        from eda.workers import stop

        if self._pools[k] is not None:
            stop(self._pools[k])
        self._pools[k] = None
        self._calls[k] = 0
        self.replaced += count

    def _served(self, k: int) -> None:
        """One more call done by slot ``k``'s worker; retired (ends cleanly) after ``recycle_after``."""
        self._calls[k] += 1
        if self.recycle_after is not None and self._calls[k] >= self.recycle_after and self._pools[k] is not None:
            self._pools[k].shutdown(wait=False)
            self._pools[k], self._calls[k] = None, 0
            self.recycled += 1

    def map(self, items: Iterable[Any]) -> Iterator[tuple[int, Any]]:
        """(index, result) per item as calls finish (not in order); a call past the deadline or whose worker
        died gives a :class:`StuckWorker` instance as its result; other exceptions ``fn`` raises propagate."""
        todo = list(enumerate(items))[::-1]
        busy: dict[Future, tuple[int, int, float]] = {}  # future -> (slot, index, started)
        free = list(range(len(self._pools)))
        try:
            while todo or busy:
                while todo and free:
                    k, (i, item) = free.pop(), todo.pop()
                    busy[self._pool(k).submit(self.fn, item)] = (k, i, time.monotonic())
                first = min(t for _, _, t in busy.values())
                done, _ = wait(busy, timeout=max(0.0, first + self.deadline - time.monotonic()),
                               return_when=FIRST_COMPLETED)
                for f in done:
                    k, i, _ = busy.pop(f)
                    try:
                        res = f.result()
                    except BrokenProcessPool as e:
                        self._replace(k)
                        res = StuckWorker(f"worker process died ({e})")
                    else:
                        if self.stuck is not None and self.stuck(res):
                            self._replace(k)
                        else:
                            self._served(k)
                    free.append(k)
                    yield i, res
                now = time.monotonic()
                for f, (k, i, t) in list(busy.items()):
                    if now - t >= self.deadline and not f.done():
                        del busy[f]
                        self._replace(k)
                        free.append(k)
                        yield i, StuckWorker(f"no result within {self.deadline:g} s (worker killed)")
        finally:  # left early (an exception, or the caller stopped): calls still running are abandoned
            for k, p in enumerate(self._pools):
                if p is not None and any(s == k for s, _, _ in busy.values()):
                    self._replace(k, count=False)

    def close(self) -> None:
        for p in self._pools:
            if p is not None:
                p.shutdown(wait=True, cancel_futures=True)
        self._pools = [None] * len(self._pools)

    def __enter__(self) -> IsolatedRunner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["IsolatedRunner", "StuckWorker"]
