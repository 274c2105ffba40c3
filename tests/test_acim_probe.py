"""acim_probe: one column conversion probed decision by decision (sky130, tt): the code is the MAC
value, and each decision's bit is 1 exactly where the probed compute line sat below INN."""

from __future__ import annotations

import numpy as np
import pytest

from eda.generators.acim_column import ColumnBench
from eda.generators.acim_probe import probe_decisions

sky130 = pytest.importorskip("eda.tech.sky130_models")


@pytest.mark.skipif(not sky130.available(), reason=sky130.INSTALL_HINT)
def test_probe_matches_its_decisions():
    r = probe_decisions(ColumnBench(adc_bits=2), 1)
    assert r["code"] == 1 and len(r["cl_minus_inn_mV"]) == 2
    below = (np.array(r["cl_minus_inn_mV"]) < 0).astype(int).tolist()
    assert below == r["bits"], r
    # the first trial sees the sampled line (MSB line up before RST reconnects the plates)
    assert abs(r["cl_before_decision"][0] - r["v_sample"]) < 0.2 * r["v_unit_mV"] * 1e-3, r


@pytest.mark.slow
@pytest.mark.skipif(not sky130.available(), reason=sky130.INSTALL_HINT)
def test_comparator_small_overdrive_needs_a_fine_time_step():
    """The StrongARM with its loads decides ±0.5 … 3 mV right after a +200 mV decision at a 50 ps max
    step (offset < 0.5 mV); at the 2 ns max step the 8-bit column runs used, most of those decisions
    come out wrong (measured 5 of 6): the 8-bit one-LSB errors are the simulation's, not the circuit's."""
    from eda.generators.acim_probe import comparator_small_overdrive

    assert comparator_small_overdrive(50e-12)["wrong"] == 0
    assert comparator_small_overdrive(2e-9)["wrong"] >= 2
