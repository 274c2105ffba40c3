"""Probe one column conversion decision by decision: the compute line and the reference INN just
before each comparator decision (CLK rise), on sky130 in ngspice, to separate a charge loss on the
compute line (the line off its ideal DAC value) from a wrong decision (the line right, the
comparator's result not).

At 8 bits (N = 256, tt 27 °C, k = 128, the settled timing) the line sits where the DAC puts it at every
trial (the last trial, D = 129, 2.7 mV above INN = 0.38 LSB), and the comparator still reads
"below": the code is 129 (``benchmarks/results/acim_column/probe_b8_k128_*.json``, max step 1 and 2 ns).
:func:`comparator_small_overdrive` shows why: at the 2 ns max step the StrongARM gets most ±0.5 … 3 mV
decisions wrong, at 50 ps none (its offset is < 0.5 mV) — a time-step error of the simulation.
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


def comparator_small_overdrive(max_step: float, overdrives_V: tuple[float, ...] = (-3e-3, -1.5e-3, -0.5e-3, 0.5e-3,
                                                                                1.5e-3, 3e-3),
                               t_clk: float = 47e-9, corner: str = "tt") -> dict[str, Any]:
    """The library's StrongARM with its real loads (output stage, 8 result flip-flops on CMP) deciding
    small overdrives, each right after a large one (+200 mV: a SAR's late trials), with the 8-bit
    clock (period ``t_clk``, CLK high 0.5 … 1.15 periods) at ngspice ``max_step``. INP: 680 fF (an 8-bit
    compute line) behind 1 kΩ, so it is capacitive during the decision; INN stiff at VCM.
    Returns ``decided_above`` per overdrive (True: INP > INN read) and ``wrong``."""
    from eda.circuit import Circuit, Device, Waveform
    from eda.layout.library import load_library
    from eda.read.from_spice import read_spice
    from eda.sim.ngspice import transient

    lib, vdd, vcm = load_library(), 1.8, 0.9
    roles = ("comparator", "cmp_buf", "sar_bit")
    subs = {s.name.lower(): s for r in roles for s in read_spice(lib.cell(r).spice).subckts}
    name = {r: lib.cell(r).name for r in roles}
    seq = [x for d in overdrives_V for x in (0.2, d)]
    pwl = [0.0, vcm + seq[0]]
    for i, dv in enumerate(seq):
        pwl += [i * t_clk + 0.05e-9, vcm + dv, (i + 1) * t_clk, vcm + dv]
    devs = [Device("XCMP", "X", ("INP", "INN", "CLK", "OUTP", "OUTN", "VDD", "VSS"), model=name["comparator"]),
            Device("XBUF", "X", ("OUTP", "OUTN", "CMP", "INP", "VSS", "VCM", "VDD", "VSS"), model=name["cmp_buf"])]
    devs += [Device(f"XS{k}", "X", ("CMP", "VSS", "VSS", f"B{k}", "VDD", "VSS"), model=name["sar_bit"])
             for k in range(8)]
    devs += [Device("VDD", "V", ("VDD", "0"), value=vdd), Device("VSS", "V", ("VSS", "0"), value=0.0),
             Device("VCMS", "V", ("VCM", "0"), value=vcm), Device("VINN", "V", ("INN", "0"), value=vcm),
             Device("VSRC", "V", ("SRC", "0"), value=vcm, waveform=Waveform("pwl", tuple(pwl))),
             Device("RIN", "R", ("SRC", "INP"), value=1e3), Device("CIN", "C", ("INP", "0"), value=680e-15),
             Device("VCLK", "V", ("CLK", "0"), value=0.0,
                    waveform=Waveform("pulse", (0.0, vdd, 0.5 * t_clk, 50e-12, 50e-12, 0.65 * t_clk, t_clk)))]
    circ = Circuit(title="* StrongARM small-overdrive probe", subckts=[subs[n.lower()] for n in name.values()],
                   devices=devs)
    circ = bind_models(circ, "sky130", corner, 27.0)
    t0 = time.perf_counter()
    t, w = transient(circ, 20e-12, len(seq) * t_clk, max_step=max_step)
    above = [bool(np.interp((i + 0.9) * t_clk, t, w["OUTP"]) < vdd / 2) for i in range(len(seq))]
    small = above[1::2]
    return {"max_step": max_step, "t_clk": t_clk, "corner": corner, "overdrive_mV": [d * 1e3 for d in overdrives_V],
            "decided_above": small, "large_right": all(above[0::2]),
            "wrong": sum(a != (d > 0) for a, d in zip(small, overdrives_V, strict=True)),
            "seconds": round(time.perf_counter() - t0, 1)}
