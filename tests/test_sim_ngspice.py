"""ngspice runner against analytical answers; failures are typed."""

import numpy as np
import pytest

from eda.circuit import Circuit, Device, Model, Waveform
from eda.errors import SimulationError
from eda.read.from_spice import parse_spice
from eda.sim.ngspice import operating_point, transient


def test_divider_matches_analytic():
    c = Circuit(devices=[Device("V1", "V", ("in", "0"), value=1.8),
                         Device("R1", "R", ("in", "Mid"), value=1e3),
                         Device("R2", "R", ("Mid", "0"), value=2e3)])
    v = operating_point(c)
    assert v["Mid"] == pytest.approx(1.8 * 2 / 3, rel=1e-9)
    assert v["in"] == pytest.approx(1.8)
    assert v["v1#branch"] == pytest.approx(-1.8 / 3e3, rel=1e-9)


def test_rc_step_matches_analytic():
    c = Circuit(devices=[Device("V1", "V", ("in", "0"), waveform=Waveform("pulse", (0, 1, 0, 1e-12, 1e-12, 1, 2))),
                         Device("R1", "R", ("in", "out"), value=1e3),
                         Device("C1", "C", ("out", "0"), value=1e-9)])
    t, w = transient(c, 1e-8, 5e-6, max_step=1e-8)
    expected = 1 - np.exp(-t / 1e-6)
    assert np.max(np.abs(w["out"] - expected)) < 2e-3
    assert w["out"][-1] == pytest.approx(1 - np.exp(-5), abs=1e-3)


def test_mos_inverter_op():
    c = parse_spice("""inv
.model nch nmos (level=1 vto=0.5 kp=100u)
.model pch pmos (level=1 vto=-0.5 kp=50u)
V1 vdd 0 1.8
V2 in 0 0
M1 out in 0 0 nch w=1u l=1u
M2 out in vdd vdd pch w=2u l=1u
.end""")
    assert operating_point(c)["out"] == pytest.approx(1.8, abs=1e-3)


def test_bad_netlist_is_simulation_error():
    c = Circuit(devices=[Device("V1", "V", ("a", "0"), value=1.0), Device("M1", "M", ("a", "a", "0", "0"),
                                                                          model="nomodel")])
    with pytest.raises(SimulationError):
        operating_point(c)


def test_voltage_loop_is_simulation_error():
    c = Circuit(devices=[Device("V1", "V", ("a", "0"), value=1.0), Device("V2", "V", ("a", "0"), value=2.0),
                         Device("R1", "R", ("a", "0"), value=1.0)])
    with pytest.raises(SimulationError):
        operating_point(c)


def test_runner_recovers_after_failure():
    test_bad_netlist_is_simulation_error()
    test_divider_matches_analytic()


def test_models_written():
    c = Circuit(models=[Model("dm", "d", {"is": 1e-14})],
                devices=[Device("V1", "V", ("a", "0"), value=5.0), Device("R1", "R", ("a", "k"), value=1e3),
                         Device("D1", "D", ("k", "0"), model="dm")])
    v = operating_point(c)
    assert 0.5 < v["k"] < 0.8
