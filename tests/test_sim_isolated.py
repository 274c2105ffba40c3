"""Simulations in killable worker processes (eda.sim.isolated): a call that hangs costs one deadline and its
worker, never the calls after it; the generator's ngspice checks go through it."""

from __future__ import annotations

import os
import time

import pytest

from eda.sim.isolated import IsolatedRunner, StuckWorker


def _work(x):
    """Test payload (module level: picklable): 'hang' sleeps past any deadline, 'die' ends its process,
    'boom' raises, 'stuck' returns a value the runner is told means a stuck worker."""
    if x == "hang":
        time.sleep(600)
    if x == "die":
        os._exit(3)
    if x == "boom":
        raise ValueError("boom")
    return (x, os.getpid())


def _is_stuck(res) -> bool:
    return res[0] == "stuck"


def test_a_hanging_call_costs_one_deadline_and_its_worker_only():
    t0 = time.monotonic()
    with IsolatedRunner(_work, workers=1, deadline=3.0) as run:
        got = dict(run.map([1, "hang", 2, 3]))
        assert run.replaced == 1
    assert isinstance(got[1], StuckWorker) and "3 s" in str(got[1])
    assert [got[i][0] for i in (0, 2, 3)] == [1, 2, 3]
    assert got[0][1] != got[2][1] == got[3][1]  # a fresh worker after the kill, then kept
    assert time.monotonic() - t0 < 60


def test_a_worker_that_dies_or_says_stuck_is_replaced():
    with IsolatedRunner(_work, workers=1, deadline=60.0, stuck=_is_stuck) as run:
        got = dict(run.map(["a", "die", "b", "stuck", "c"]))
        assert run.replaced == 2
    assert isinstance(got[1], StuckWorker) and "died" in str(got[1])
    assert got[0][1] != got[2][1] == got[3][1] != got[4][1]


def test_two_workers_share_the_items_and_errors_propagate():
    with IsolatedRunner(_work, workers=2, deadline=60.0) as run:
        got = dict(run.map(range(8)))
        assert sorted(got) == list(range(8)) and [got[i][0] for i in range(8)] == list(range(8))
        assert run.replaced == 0
        with pytest.raises(ValueError, match="boom"):
            dict(run.map([1, "boom"]))


def test_a_worker_is_retired_after_recycle_after_calls():
    """(libngspice keeps every deck it loaded: a long run recycles its workers.)"""
    with IsolatedRunner(_work, workers=1, deadline=60.0, recycle_after=2) as run:
        got = dict(run.map(range(5)))
        assert run.recycled == 2 and run.replaced == 0
    pids = [got[i][1] for i in range(5)]
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="workers >= 1"):
        IsolatedRunner(_work, workers=0)
    with pytest.raises(ValueError, match="recycle_after >= 1"):
        IsolatedRunner(_work, recycle_after=0)


def test_op_check_worker_functions(ota):
    from eda.generators.topology_check import op_reason, op_worker_stuck

    assert op_reason((ota, None)) is None
    assert op_worker_stuck("no operating point: ngspice 'op' exceeded 60.0 s")
    assert op_worker_stuck("ngspice 'op' did not stop after bg_halt")
    assert not op_worker_stuck("ngspice 'run' failed (no convergence?):") and not op_worker_stuck(None)
