"""Testbench rules for circuits that are not biased as drawn (generated samples): the FET body rule
of the sky130 export, role-based bias of control ports and gate-only nets, the output level of the
DC loop, the reported systematic offset."""

import numpy as np
import pytest

from eda.export.to_sky130 import body_net, to_sky130
from eda.generators.sizing.roles import find_roles
from eda.generators.sizing.spec import parse_spec
from eda.generators.sizing.testbench import _normalised, output_level, unbiased_nets
from eda.read.from_spice import parse_spice
from eda.tech import sky130_models

GEN = """* generated-like op-amp: bodies on signal nets, a clock port, a gate-only net
M1 n1 VIN1 n3 n3 nmos4
M2 VOUT1 VIN2 n3 n1 nmos4
M3 n3 VCLK VSS n3 nmos4
M4 n1 n1 VDD n2 pmos4
M5 VOUT1 n1 VDD VDD pmos4
M6 VOUT1 g VSS VSS nmos4
C1 g VOUT1 1p
.end"""


def _bodies(text: str, bulk: str) -> dict[str, str]:
    c = to_sky130(parse_spice(text), bulk=bulk)
    return {d.name: d.nodes[3] for d in c.devices if d.kind == "X" and len(d.nodes) == 4}


@pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)
def test_bulk_rule_moves_only_bodies_on_signal_nets():
    kept = _bodies(GEN, "netlist")
    assert kept["XM2"] == "n1" and kept["XM4"] == "n2" and kept["XM3"] == "n3"
    moved = _bodies(GEN, "rails")
    assert moved["XM2"] == "VSS"  # nfet body on a signal net -> substrate
    assert moved["XM3"] == "VSS"  # ... also when that net is its drain
    assert moved["XM4"] == "VDD"  # pfet body on a signal net -> well at VDD
    assert moved["XM1"] == "n3"  # body tied to its own source (own well): kept
    assert moved["XM5"] == "VDD" and moved["XM6"] == "VSS"
    c = to_sky130(parse_spice(GEN), bulk="rails")
    assert any("body moved from n1 to VSS" in x for x in c.extra)
    with pytest.raises(ValueError, match="bulk rule"):
        to_sky130(parse_spice(GEN), bulk="substrate")


def test_body_net_of_a_pfet_without_a_vdd_net_is_kept():
    c = parse_spice("* no supply names\nM1 a b c d pmos4\n.end")
    assert body_net(c.devices[0], "p", c, "rails") == "d"


def test_unbiased_nets_are_control_ports_and_gate_only_nets():
    c = _normalised(parse_spice(GEN))
    assert unbiased_nets(c, find_roles(c)) == ["VCLK", "g"]
    # with a DC path (a resistor to the output) the gate net is biased by the circuit itself
    c2 = _normalised(parse_spice(GEN.replace("C1 g VOUT1 1p", "R1 g VOUT1 10k")))
    assert unbiased_nets(c2, find_roles(c2)) == ["VCLK"]


def test_output_level_is_the_middle_of_the_high_gain_range():
    # output follows 100x the error between 0.4 and 1.6 V, clipped outside (a rail-to-rail-ish stage)
    err = np.linspace(-0.02, 0.02, 401)
    vo = np.clip(1.0 + 100 * err, 0.4, 1.6)
    vecs = {"vout1": vo, "vin1": np.zeros_like(err), "vin2": err}
    assert output_level(vecs, "VOUT1", "VIN1", "VIN2") == pytest.approx(1.0, abs=0.02)
    flat = {"vout1": np.full_like(err, 0.9), "vin1": np.zeros_like(err), "vin2": err}
    assert output_level(flat, "VOUT1", "VIN1", "VIN2") is None  # no gain: no level


def test_offset_is_a_spec_bound_in_volts():
    s = parse_spec("gain>=40dB, offset<=10mV")
    assert s.max["offset"] == pytest.approx(0.01)
    assert s.met({"gain": 45, "offset": 0.004}) and not s.met({"gain": 45, "offset": 0.03})


@pytest.mark.slow
@pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)
def test_positive_common_mode_loop_is_flagged_unstable():
    """twostage_fd's resistive CMFB drives its first-stage tail: through two inverting stages that
    is positive common-mode feedback. The DC solver lands on the balanced point (the DC check
    passes), but a common-mode kick latches the outputs; the OTA-based FD circuit stays put."""
    from eda.generators.sizing.testbench import AmpBench, Design
    from eda.paths import PATHS
    from eda.read.topology_dataset import parse_topology

    c = parse_topology((PATHS.topologies / "opamp2" / "twostage_fd.cir").read_text(), "fd").circuit
    bench = AmpBench(c)
    d = Design(sizes={"G1": (4.826, 0.921), "G2": (24.951, 1.0), "G3": (6.662, 0.493), "G4": (59.938, 1.0),
                      "G5": (6.736, 1.0), "G6": (60.0, 0.505)}, mult={"M9": 3},
               values={"R1": 2e6, "R2": 2e6, "C1": 1e-12, "C2": 1.07e-12}, bias={"VB1": 0.769, "VB2": 0.627},
               vcm=1.0)
    assert bench.calibrate(d) and bench.evaluate(d)["ok"]
    assert bench.cm_stable(d) is False
    assert AmpBench(parse_topology((PATHS.topologies / "opamp1" / "ota_5t.cir").read_text(), "o").circuit
                    ).cm_stable(d) is None  # single-ended: not applicable
