"""The sizing search keeps its wall-time budget even when a candidate's simulation stalls: it stops waiting
OVERRUN_S after the budget, stops the stalled workers, reports how many candidates it abandoned, and a run
over many circuits (`pools()`) hands the next circuit a fresh pool."""

import time
from contextlib import closing

import pytest

from eda.generators.sizing.spec import parse_spec
from eda.paths import PATHS
from eda.read.topology_dataset import parse_topology
from eda.tech import sky130_models

needs_sky130 = pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)

STALL_S = 120.0  # longer than the test allows: a search that waits for it fails the time bound below


def stalled_evaluate(bench, u):  # runs in the pool's workers: a candidate whose analyses never end
    time.sleep(STALL_S)
    return {"ok": False, "reason": "stalled"}


@needs_sky130
def test_a_stalled_candidate_costs_its_overrun_not_the_run(monkeypatch):
    from eda.generators.sizing import run, search
    from eda.generators.sizing.gmid import load_table
    from eda.generators.sizing.space import Space
    from eda.generators.sizing.testbench import AmpBench

    circuit = parse_topology((PATHS.topologies / "opamp1" / "ota_5t.cir").read_text(), "ota").circuit
    bench = AmpBench(circuit, corner="tt", cl=1e-12)  # models and the gm/Id table loaded before the clock
    bench.evaluate(Space(bench).starts(load_table("tt"))[0])
    monkeypatch.setattr(search, "_evaluate", stalled_evaluate)
    monkeypatch.setattr(search, "OVERRUN_S", 1.0)
    budget = 6.0
    with closing(run.pools()) as pools:
        pool = next(pools)
        t0 = time.monotonic()
        res = search.size(circuit, parse_spec("gain>=200dB, cl=1pF"), budget_s=budget, pool=pool,
                          progress=False, extras=False, stop_when_met=True)
        took = time.monotonic() - t0
        assert took < budget + 1.0 + 20.0, f"the search waited {took:.0f} s for stalled candidates"
        assert res.evaluations == 1 and res.abandoned >= 2  # the start only: no candidate came back (2 stalled,
        # the rest of the first population queued behind them)
        assert not res.met and res.perf.get("gain") is not None  # the gm/Id start, re-simulated
        assert not search.usable(pool)  # its stalled workers were stopped
        fresh = next(pools)
        assert fresh is not pool and search.usable(fresh)
