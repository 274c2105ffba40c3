"""Fully differential amplifiers (differential testbench, ideal CMFB), the op-amp selection rule,
a search result that meets the numbers but not the operating point, and ngspice's analysis timeout."""

import numpy as np
import pytest

from eda.generators.sizing.roles import cmfb_ports, find_roles, output_cm_defined, passive_load
from eda.generators.sizing.testbench import measure_ac
from eda.paths import PATHS
from eda.read.topology_dataset import parse_topology
from eda.tech import sky130_models

needs_sky130 = pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)


def _lib(rel: str):
    return parse_topology((PATHS.topologies / rel).read_text(), rel).circuit


def test_output_common_mode_cmfb_ports_and_passive_loads():
    tel = _lib("telescopic/telescopic_fd.cir")  # current-source loads only: needs a CMFB
    r = find_roles(tel)
    assert not output_cm_defined(tel, r)
    assert cmfb_ports(tel, r) == ["VB4", "VB1"]  # the PMOS output sources first, the tail last
    folded = _lib("folded_cascode/folded_cascode_fd.cir")
    assert cmfb_ports(folded, find_roles(folded))[-1] == "VB1"
    for rel in ("telescopic/telescopic_cmfb.cir", "opamp1/diffamp_res.cir", "opamp1/diffamp_diode.cir"):
        c = _lib(rel)  # resistive CMFB, resistor loads, diode loads: the circuit sets its own CM
        assert output_cm_defined(c, find_roles(c)), rel
    # the op-amp rule: resistor/diode loads from a supply mark a gain stage, not an op-amp
    assert passive_load(_lib("opamp1/diffamp_res.cir"), r) == ["R1", "R2"]
    assert passive_load(_lib("opamp1/diffamp_diode.cir"), r) == ["M4", "M5"]
    assert passive_load(_lib("opamp1/diffamp_bjt.cir"), r) == ["R1", "R2"]
    for rel in ("opamp1/diffamp_fd_cmfb.cir", "opamp1/ota_5t.cir", "opamp2/twostage_bjt_out.cir",
                "telescopic/telescopic_fd.cir"):
        c = _lib(rel)
        assert passive_load(c, find_roles(c)) == [], rel


def test_differential_gain_is_the_difference_of_the_outputs():
    f = np.logspace(0, 9, 91)
    a = -1000 / (1 + 1j * f / 1e4)  # differential gain 60 dB, one pole
    vecs = {"frequency": f.astype(complex), "vout1": a / 2, "vout2": -a / 2}
    d = measure_ac(vecs, "VOUT1", "VOUT2")
    assert d["gain"] == pytest.approx(60, abs=0.01) and d["inverting"]
    assert measure_ac(vecs, "VOUT1")["gain"] == pytest.approx(60 - 20 * np.log10(2), abs=0.01)  # single-ended: −6 dB


def test_met_needs_a_valid_operating_point():
    from eda.generators.sizing.search import _finish
    from eda.generators.sizing.spec import parse_spec

    class Bench:
        def __init__(self, ok, cm_stable=None):
            self.ok, self.stable = ok, cm_stable

        def cm_stable(self, design):
            return self.stable

        def evaluate(self, design, swing=False):
            return {"ok": self.ok, "reason": None if self.ok else "DC loop does not hold the output", "gain": 70.0,
                    "pm": 80.0, "ugb": 1e7, "power": 1e-4}

        def slew(self, design, ugb):
            return None

        def transfer(self, design):  # the open-loop probe of a missed design's diagnosis
            return None

    spec = parse_spec("gain>=40dB, pm>=45")
    assert _finish(Bench(True), None, spec, False, 0.0, 0.0, 0.0, []).met
    assert not _finish(Bench(False), None, spec, False, 0.0, 0.0, 0.0, []).met
    assert _finish(Bench(True, cm_stable=True), None, spec, False, 0.0, 0.0, 0.0, []).met
    unstable = _finish(Bench(True, cm_stable=False), None, spec, False, 0.0, 0.0, 0.0, [])
    assert not unstable.met and "common-mode loop is unstable" in unstable.perf["reason"]


@needs_sky130
def test_fully_differential_telescopic_with_ideal_cmfb():
    from eda.generators.sizing.gmid import load_table
    from eda.generators.sizing.space import Space
    from eda.generators.sizing.testbench import AmpBench

    bench = AmpBench(_lib("telescopic/telescopic_fd.cir"))
    assert bench.differential and bench.cmfb == "VB4"
    d = Space(bench).initial(load_table(), stacked=True)  # cascode gates above their stack
    assert bench.calibrate(d)
    p = bench.evaluate(d)
    assert p["ok"], p["reason"]
    assert abs(p["vout_cm"] - d.vcm) < 0.01 and abs(p["vout"] - p["vout2"]) < 0.01
    assert p["gain"] > 55 and p["pm"] > 45 and 0 < p["power"] < 1e-3  # a telescopic cascode: high gain
    assert 0.3 < p["cmfb_v"] < 1.5
    assert "BCMFB VB4" in bench.deck(d)
    # the loop corrects a 50 mV error in its operating point; without it the same error moves the
    # output common mode far from Vcm (nothing else sets it)
    d.bias["VB4"] += 0.05
    shifted = bench.evaluate(d)
    assert shifted["ok"] and abs(shifted["vout_cm"] - d.vcm) < 0.01
    bench.cmfb, bench.cmfb_options = None, []
    free = bench.evaluate(d)
    assert not free["ok"] or abs(free["vout_cm"] - d.vcm) > 0.1


@needs_sky130
def test_analysis_timeout_halts_and_the_engine_still_works():
    from eda.sim.ngspice import run_deck

    deck = "* rc\nV1 a 0 dc 0 ac 1\nR1 a b 1k\nC1 b 0 1n\n.end\n"
    with pytest.raises(TimeoutError):
        run_deck(deck, ["op", "ac dec 2000000 1 1g"], timeout=0.2)
    (_, v), = run_deck(deck, ["ac dec 10 1 1g"], timeout=5)
    assert abs(v["b"][0]) == pytest.approx(1.0, abs=1e-3)
