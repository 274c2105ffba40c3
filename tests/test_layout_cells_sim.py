"""Functional ngspice checks of the library cells' netlists (the ones LVS proves the layout matches).

No sky130 models ship offline, so the sky130 device names are bound to generic level-1 MOS models
(VT ≈ 0.45 V, 1.8 V supply) and an ideal 2 fF/µm² capacitor: this checks the *topology* (a buffer
buffers, the 8T cell writes, holds and is read, the StrongARM decides, the flip-flop captures),
not sky130 timing or margins.
"""

from __future__ import annotations

import numpy as np
import pytest
from eda.layout.library import load_library

from eda.circuit import Circuit, Device, Model, Subckt, Waveform
from eda.read.from_spice import read_spice

sim = pytest.importorskip("eda.sim.ngspice")
LIB = load_library()
VDD = 1.8


def _models() -> list[Subckt]:
    n = Subckt("sky130_fd_pr__nfet_01v8", ("d", "g", "s", "b"), params={"W": 1.0, "L": 0.15, "nf": 1.0},
               devices=[Device("M1", "M", ("d", "g", "s", "b"), model="ngen",
                               params={"w": "{W*1e-6}", "l": "{L*1e-6}"})],
               models=[Model("ngen", "nmos", {"level": 1.0, "vto": 0.45, "kp": 3e-4, "lambda": 0.1,
                                               "tox": 4e-9, "cgso": 3e-10, "cgdo": 3e-10, "cj": 1e-3})])
    p = Subckt("sky130_fd_pr__pfet_01v8", ("d", "g", "s", "b"), params={"W": 1.0, "L": 0.15, "nf": 1.0},
               devices=[Device("M1", "M", ("d", "g", "s", "b"), model="pgen",
                               params={"w": "{W*1e-6}", "l": "{L*1e-6}"})],
               models=[Model("pgen", "pmos", {"level": 1.0, "vto": -0.45, "kp": 1.2e-4, "lambda": 0.1,
                                               "tox": 4e-9, "cgso": 3e-10, "cgdo": 3e-10, "cj": 1e-3})])
    c = Subckt("sky130_fd_pr__cap_mim_m3_1", ("a", "b"), params={"W": 1.0, "L": 1.0, "MF": 1.0},
               devices=[Device("C1", "C", ("a", "b"), value="{W*L*2e-15}")])
    return [n, p, c]


def _bench(role: str, conn: dict[str, str], sources: list[Device]) -> Circuit:
    info = LIB.cell(role)
    sub = read_spice(info.spice).subckts[0]
    nodes = tuple(conn.get(p, p) for p in sub.ports)
    devs = [Device("XDUT", "X", nodes, model=sub.name), Device("VDD", "V", ("VDD", "0"), value=VDD),
            Device("VSS", "V", ("VSS", "0"), value=0.0)] + sources
    return Circuit(title="* cell bench", subckts=_models() + [sub], devices=devs)


def _pulse(name: str, node: str, v1: float, v2: float, td: float, pw: float, per: float = 1.0) -> Device:
    return Device(name, "V", (node, "0"), value=v1,
                  waveform=Waveform("pulse", (v1, v2, td, 50e-12, 50e-12, pw, per)))


def _at(t: np.ndarray, v: np.ndarray, when: float) -> float:
    return float(np.interp(when, t, v))


@pytest.mark.parametrize("role, a, y", [("wl_driver", "WLIN", "WL"), ("in_driver", "IN", "RWL")])
def test_drivers_buffer(role, a, y):
    for vin, want in ((0.0, 0.0), (VDD, VDD)):
        op = sim.operating_point(_bench(role, {}, [Device("VIN", "V", (a, "0"), value=vin)]))
        assert op[y] == pytest.approx(want, abs=0.05)


def test_bitcell_write_hold_read():
    """Write 0 then 1 through BL/BLB+WL; read through RWL with RBL pulled up by 20 kΩ."""
    src = [
        _pulse("VBL", "BL", 0.0, VDD, 10e-9, 10e-9),       # BL: 0 for write #1, 1 for write #2
        Device("EBLB", "V", ("BLB", "0"), value=0.0,
               waveform=Waveform("pulse", (VDD, 0.0, 10e-9, 50e-12, 50e-12, 10e-9, 1.0))),
        _pulse("VWL", "WL", 0.0, VDD, 2e-9, 3e-9, 10e-9),   # WL pulses at 2 ns and 12 ns
        _pulse("VRWL", "RWL", 0.0, VDD, 6e-9, 3e-9, 10e-9),  # reads at 6 ns and 16 ns
        Device("RPU", "R", ("RBL", "VDD"), value=20e3),
    ]
    t, v = sim.transient(_bench("bitcell", {}, src), 20e-12, 20e-9)
    rbl = v["RBL"]
    # Q = 0 after write #1 → QB = 1 → M7/M8 pull RBL low during the read
    assert _at(t, rbl, 8.5e-9) < 0.5
    # Q = 1 after write #2 → RBL stays high during the read
    assert _at(t, rbl, 18.5e-9) > 1.5
    # no read: RBL high
    assert _at(t, rbl, 10.5e-9) > 1.5


@pytest.mark.parametrize("vp, vn, want_low", [(0.95, 0.85, True), (0.85, 0.95, False)])
def test_strongarm_decides(vp, vn, want_low):
    src = [Device("VP", "V", ("INP", "0"), value=vp), Device("VN", "V", ("INN", "0"), value=vn),
           _pulse("VCLK", "CLK", 0.0, VDD, 1e-9, 3e-9)]
    t, v = sim.transient(_bench("comparator", {}, src), 10e-12, 4e-9)
    out = _at(t, v["OUTP"], 3.5e-9)
    assert (out < 0.3) if want_low else (out > 1.5)
    assert _at(t, v["OUTP"], 0.8e-9) > 1.5  # reset phase: outputs precharged high


@pytest.mark.parametrize("d", [0.0, VDD])
def test_sar_bit_flip_flop_captures_on_token_edge(d):
    src = [_pulse("VD", "CMP", d, VDD - d, 4e-9, 10e-9),   # data flips after the edge
           _pulse("VTOK", "TOK", 0.0, VDD, 2e-9, 3e-9, 100e-9)]
    t, v = sim.transient(_bench("sar_bit", {}, src), 10e-12, 8e-9)
    assert _at(t, v["BIT"], 3.5e-9) == pytest.approx(d, abs=0.3)   # captured at the 2 ns edge
    assert _at(t, v["BIT"], 7.5e-9) == pytest.approx(d, abs=0.3)   # held although CMP changed


@pytest.mark.parametrize("bit, want", [(0.0, "VREFN"), (VDD, "VREFP")])
def test_dac_switch_selects_reference(bit, want):
    src = [Device("VB", "V", ("BIT", "0"), value=bit), Device("VRP", "V", ("VREFP", "0"), value=1.2),
           Device("VRN", "V", ("VREFN", "0"), value=0.3)]
    op = sim.operating_point(_bench("dac_switch", {}, src))
    assert op["DAC"] == pytest.approx(1.2 if want == "VREFP" else 0.3, abs=0.05)
