"""Testbenches for the non-amplifier types, at the default sky130 sizes (``eda topo measure``).

* **current mirror**: the input (``IB1``) fed 10 µA (into an N mirror, out of a P mirror), every output
  held by a voltage source that sweeps 0.2–1.6 V: output current per output, matching
  Iout/Iin at mid-supply, output resistance dV/dI there.
* **comparator**: inputs at Vcm + dv and Vcm; clocked ones (``VCLKk``; odd k the clock, even k its
  complement) get one evaluation edge in a transient. Delay: clock edge (or input step) to the
  outputs 0.9 V apart (differential) or crossing mid-supply; offset: the input difference at which
  the decision flips (bisection over ±50 mV).
* **bandgap**: the reference port swept over −40…125 °C (``dc temp``): mean, spread and the
  box-method temperature coefficient in ppm/°C.

All results are plain dicts ready for JSON.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from eda.circuit import Circuit, Device, Waveform, is_ground, unique_names
from eda.errors import InputError
from eda.export.to_sky130 import BIAS_N, BIAS_P, to_sky130
from eda.export.to_spice import to_spice
from eda.generators.sizing.testbench import VDD
from eda.generators.topology_check import port_polarity, sinks_bias_current

VCM = 0.9
I_IN = 10e-6


def _base(circuit: Circuit, corner: str) -> tuple[Circuit, list[Device], list[str]]:
    """sky130 circuit, supply/bias sources, and the names of its nets."""
    c = replace(circuit, devices=unique_names([replace(d, nodes=tuple("VSS" if is_ground(n) else n for n in d.nodes))
                                               for d in circuit.without_sources().devices]), analyses=[], extra=[])
    nets = c.nets
    src = [Device("VVDD", "V", ("VDD", "0"), value=VDD), Device("VVSS", "V", ("VSS", "0"), value=0.0)]
    for n in nets:
        u = n.upper()
        if u.startswith("VB"):
            pol = port_polarity(c, n)
            src.append(Device(f"V{n}", "V", (n, "VSS"), value=BIAS_N if pol == "n" else
                              VDD - BIAS_P if pol == "p" else VDD / 2))
    return to_sky130(c, corner), src, nets


def _run(c: Circuit, devices: list[Device], commands: list[str], saves: list[str]) -> list[dict]:
    from eda.sim.ngspice import run_deck

    deck = to_spice(replace(c, devices=c.devices + devices, extra=c.extra + [".save " + " ".join(saves)],
                            options={"gmin": 1e-12}))
    return [v for _, v in run_deck(deck, commands)]


def measure_mirror(circuit: Circuit, corner: str = "tt") -> dict:
    """Output currents, matching and output resistance of a current mirror."""
    outs = [n for n in circuit.nets if n.upper().startswith(("VOUT", "IOUT"))]
    # a load between a supply and an output would add its own current to the output's: measure without
    loads = [d.name for d in circuit.devices if d.kind in "RC" and {n.upper() for n in d.nodes} & {"VDD", "VSS"}
             and set(d.nodes) & set(outs)]
    c, src, nets = _base(replace(circuit, devices=[d for d in circuit.devices if d.name not in loads]), corner)
    ins = [n for n in nets if n.upper().startswith(("IB", "IREF", "IIN"))]
    if not ins or not outs:
        raise InputError(f"{circuit.title or 'mirror'}: needs an input (IB1) and an output (VOUT1/IOUT1) port")
    for n in ins:  # (the way the port's transistors conduct, as in the other test benches)
        src.append(Device(f"I{n}", "I", (n, "VSS") if sinks_bias_current(circuit, n) else ("VDD", n), value=I_IN))
    for n in outs:
        src.append(Device(f"V{n}", "V", (n, "VSS"), value=VCM))
    sweep = f"dc v{outs[0].lower()} 0.2 1.6 0.02"
    (v,) = _run(c, src, [sweep], [f"v{n.lower()}#branch" for n in outs] + [f"v({outs[0]})"])
    vo = np.real(v[outs[0].lower()])
    io = np.abs(np.real(v[f"v{outs[0].lower()}#branch"]))
    k = int(np.argmin(np.abs(vo - VCM)))
    slope = np.gradient(io, vo)[k]
    res = {"type": "current_mirror", "i_in": I_IN, "i_out": float(io[k]), "matching": float(io[k] / I_IN),
           "r_out": float(1 / abs(slope)) if slope != 0 else float("inf"),
           "compliance_v": float(vo[np.argmax(io >= 0.9 * io[k])]) if (io >= 0.9 * io[k]).any() else None}
    res["outputs"] = {n: float(abs(np.real(v[f"v{n.lower()}#branch"][k]))) for n in outs}
    res["loads_removed"] = loads
    return res


def measure_bandgap(circuit: Circuit, corner: str = "tt") -> dict:
    """Reference voltage over −40…125 °C and its temperature coefficient."""
    c, src, nets = _base(circuit, corner)
    refs = [n for n in nets if n.upper().startswith(("VREF", "VOUT"))]
    if not refs:
        raise InputError(f"{circuit.title or 'bandgap'}: needs a reference port (VREF1)")
    (v,) = _run(c, src, ["dc temp -40 125 5"], [f"v({refs[0]})"])
    vr = np.real(v[refs[0].lower()])
    temp = np.arange(-40, 125.001, 5)[: len(vr)]
    mean = float(vr.mean())
    return {"type": "bandgap", "vref_mean": mean, "vref_min": float(vr.min()), "vref_max": float(vr.max()),
            "tc_ppm_per_c": float((vr.max() - vr.min()) / (abs(mean) * 165) * 1e6) if mean else None,
            "temperature_c": temp.tolist(), "vref": vr.tolist()}


def _comparator_sources(nets: list[str], vin1: Device, t_clk: float) -> list[Device]:
    ins = sorted(n for n in nets if n.upper().startswith("VIN"))
    src = [vin1] + ([Device(f"V{ins[1]}", "V", (ins[1], "VSS"), value=VCM)] if len(ins) > 1 else [])
    for n in nets:
        if n.upper().startswith("VCLK"):
            k = int("".join(ch for ch in n if ch.isdigit()) or 1)
            lo, hi = (0.0, VDD) if k % 2 else (VDD, 0.0)
            src.append(Device(f"V{n}", "V", (n, "VSS"), value=lo,
                              waveform=Waveform("pulse", (lo, hi, t_clk, 10e-12, 10e-12, 1.0, 2.0))))
    return src


def _differential(v: dict, outs: list[str]) -> np.ndarray:
    o1 = np.real(v[outs[0].lower()])
    return o1 - np.real(v[outs[1].lower()]) if len(outs) > 1 else o1 - VDD / 2


def measure_comparator(circuit: Circuit, corner: str = "tt", t_clk: float = 1e-9, stop: float = 10e-9) -> dict:
    """Delay (10 mV overdrive) and input offset of a comparator (two 7-point grids over ±50 mV: the
    offset to ±1.4 mV, ``offset_resolution_v``)."""
    c, src, nets = _base(circuit, corner)
    ins = sorted(n for n in nets if n.upper().startswith("VIN"))
    outs = sorted(n for n in nets if n.upper().startswith("VOUT"))
    outs = outs or sorted(n for n in nets if n.upper().startswith("LOGICQ"))  # a latch's Q outputs (real data)
    if not ins or not outs:
        raise InputError(f"{circuit.title or 'comparator'}: needs input (VINk) and output (VOUTk or LOGICQk) ports; "
                         f"its ports: {' '.join(circuit.ports) or 'none'}")
    clocked = any(n.upper().startswith("VCLK") for n in nets)
    name = f"V{ins[0]}"
    step = Device(name, "V", (ins[0], "VSS"), value=VCM + 10e-3)
    if not clocked:  # an input step at t_clk instead of a clock edge
        step.waveform = Waveform("pulse", (VCM - 10e-3, VCM + 10e-3, t_clk, 10e-12, 10e-12, 1.0, 2.0))
    tran = f"tran {stop / 500:.3g} {stop:.3g}"
    (v,) = _run(c, src + _comparator_sources(nets, step, t_clk), [tran], [f"v({n})" for n in outs])
    t, diff = np.real(v["time"]), _differential(v, outs)
    thr = VDD / 2 if len(outs) > 1 else 0.0
    hit = np.nonzero((t >= t_clk) & (np.abs(diff) >= thr) & (np.sign(diff) == np.sign(diff[-1])))[0]
    res = {"type": "comparator", "clocked": clocked,
           "delay_s": float(t[hit[0]] - t_clk) if len(hit) and abs(diff[-1]) >= thr else None}
    # offset: the decision's sign over a grid of input differences, one parse, alter between runs
    fixed = Device(name, "V", (ins[0], "VSS"), value=VCM)
    srcs = src + _comparator_sources(nets, fixed, t_clk)
    lo, hi = -50e-3, 50e-3
    for points in (7, 7):
        grid = np.linspace(lo, hi, points)
        if clocked:
            cmds = [x for dv in grid for x in (f"alter {name.lower()} dc = {VCM + dv:.6g}", tran)]
            runs = [r for r in _run(c, srcs, cmds, [f"v({n})" for n in outs]) if r]
            signs = np.array([np.sign(_differential(r, outs)[-1]) for r in runs])
        else:
            (r,) = _run(c, srcs, [f"dc {name.lower()} {VCM + lo:.6g} {VCM + hi:.6g} {(hi - lo) / (points - 1):.6g}"],
                        [f"v({n})" for n in outs])
            signs = np.sign(_differential(r, outs))[:points]
        flips = np.nonzero(signs[1:] != signs[:-1])[0]
        if len(flips) == 0:
            res["offset_v"] = None
            return res
        lo, hi = grid[flips[0]], grid[flips[0] + 1]
    res["offset_v"] = float(0.5 * (lo + hi))
    res["offset_resolution_v"] = float(0.5 * (hi - lo))
    return res
