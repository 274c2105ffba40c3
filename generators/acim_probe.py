"""Probe one column conversion decision by decision: the compute line and the reference INN just
before each comparator decision (CLK rise), on sky130 in ngspice, to separate a charge loss on the
compute line (the line off its ideal DAC value) from a wrong decision (the line right, the
comparator's result not).

At 8 bits (N = 256, tt 27 °C, k = 128, the settled timing) the line sits where the DAC puts it at every
trial (the last trial, D = 129, 2.7 mV above INN = 0.38 LSB), and the comparator still reads
"below": the code is 129 (``benchmarks/results/acim_column/probe_b8_k128_*.json``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from eda.generators.acim_column import _T_SAR, ColumnBench, bind_models, column_netlist, saving, testbench


def probe_decisions(bench: ColumnBench, k: int) -> dict[str, Any]:
    """One conversion of MAC value ``k`` through ``bench``'s column (schematic): the code and, per SAR
    decision, the compute line ``CL_0`` 50 ps before the CLK rise and its distance to INN (mV)."""
    from eda.sim.ngspice import transient

    n, b = bench.caps, bench.adc_bits
    sub, leaf = column_netlist(bench)
    inputs = (np.arange(n)[None, :] < k).astype(int)
    circ, tm = testbench(bench, sub, leaf, np.ones(n, dtype=int), inputs, np.zeros(1))
    circ = saving(bind_models(circ, bench.models, bench.corner, bench.temp_c),
                  [f"BIT_{i}_0" for i in range(b)] + ["CL_0", "INN"])
    t0 = time.perf_counter()
    t, w = transient(circ, 20e-12, tm["t_stop"], max_step=bench.max_step)
    T = bench.t_sclk
    rises = tm["t_write"] + bench.t_mac_extra + _T_SAR + (np.arange(b) + 0.5) * T
    cl = np.interp(rises - 0.05e-9, t, w["CL_0"])
    inn = float(np.interp(rises[0] - 0.05e-9, t, w["INN"]))
    bits = [int(np.interp(tm["t_read"][0], t, w[f"BIT_{i}_0"]) > bench.vdd / 2) for i in range(b)]
    return {"k": k, "adc_bits": b, "n_caps": n, "corner": bench.corner, "temp_c": bench.temp_c,
            "max_step": bench.max_step, "t_sclk": T, "t_mac_extra": bench.t_mac_extra,
            "code": int(sum(x << (b - 1 - i) for i, x in enumerate(bits))), "bits": bits,
            "v_sample": float(np.interp(tm["t_sample"][0], t, w["CL_0"])), "inn": inn,
            "cl_before_decision": np.round(cl, 6).tolist(), "cl_minus_inn_mV": np.round((cl - inn) * 1e3, 3).tolist(),
            "v_unit_mV": bench.v_unit() * 1e3, "seconds": round(time.perf_counter() - t0, 1)}
