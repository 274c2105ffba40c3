"""Sizing checks a designer makes before calling a circuit an op-amp: both inputs drive the output
with opposite signs (input balance), the open-loop DC transfer per input (``transfer``) and the
diagnosis of a missed design; the search's graded shortfall of candidates without a held output."""

import pytest

from eda.generators.sizing.search import DIAGNOSES, diagnose, objectives
from eda.generators.sizing.spec import parse_spec
from eda.paths import PATHS
from eda.read.topology_dataset import parse_topology
from eda.tech import sky130_models

needs_sky130 = pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)

OTA = (PATHS.topologies / "opamp1" / "ota_5t.cir").read_text()
# the same OTA with VIN1 moved off the pair (the pair's gate on a bias port) onto a MOS capacitor:
# one input does nothing, the circuit is a single-input common-source stage
ONE_INPUT = OTA.replace("*.ports VDD VSS VIN1 VIN2 VB1 VOUT1", "*.ports VDD VSS VIN1 VIN2 VB1 VB2 VOUT1").replace(
    "M1 (n1 VIN1 n2 VSS) nmos4", "M1 (n1 VB2 n2 VSS) nmos4\nM6 (VSS VIN1 VSS VSS) nmos4")

SAME_WAY = """* two inverting inputs
*.type opamp1
*.ports VDD VSS VIN1 VIN2 VOUT1 VB1
M1 (n1 VIN1 VSS VSS) nmos4
M2 (n1 VB1 VDD VDD) pmos4
M3 (VOUT1 VIN2 VDD VDD) pmos4
R1 (VOUT1 n1) resistor
"""


def _bench(text: str):
    from eda.generators.sizing.gmid import load_table
    from eda.generators.sizing.space import Space
    from eda.generators.sizing.testbench import AmpBench

    bench = AmpBench(parse_topology(text, "t").circuit)
    d = Space(bench).initial(load_table())
    bench.calibrate(d)
    return bench, d


@needs_sky130
def test_both_inputs_of_the_ota_drive_the_output_and_a_dead_input_is_caught():
    bench, d = _bench(OTA)
    p = bench.evaluate(d)
    assert p["ok"] and p["differential_input"], p["reason"]
    assert p["gain_inp"] == pytest.approx(p["gain"], abs=1.0)  # a pair: the same gain from either input
    t = bench.transfer(d)
    # > 30 dB open loop from each input; VIN2 (on the output side of the pair) inverts
    assert set(t) == {"VIN1", "VIN2"} and t["VIN2"] < -30 and t["VIN1"] > 30
    # inputs given the wrong way round, and no DC loop inverting at the design (as when the output
    # sits at a rail at Vcm): the open-loop transfer still finds the inverting input
    bench.inn, bench.inp = "VIN1", "VIN2"
    closed_loop = bench.evaluate
    bench.evaluate = lambda design, swing=False: {"ok": False, "inverting": False, "reason": "railed"}
    assert not bench.calibrate(d) and (bench.inn, bench.inp) == ("VIN2", "VIN1")
    bench.evaluate, bench.inn, bench.inp = closed_loop, "VIN1", "VIN2"
    assert bench.calibrate(d) and bench.inn == "VIN2"
    # mutation: VIN1 on a MOS capacitor only -> not differential, diagnosed as a single-input stage
    bench, d = _bench(ONE_INPUT)
    p = bench.evaluate(d)
    assert not p["ok"] and not p.get("differential_input", False)
    transfer, why = diagnose(bench, d)
    assert abs(transfer["VIN1"]) < 1e-3 and why == DIAGNOSES[2]
    # both inputs inverting (an NMOS and a PMOS common-source stage on one output, as sampled)
    bench, d = _bench(SAME_WAY)
    p = bench.evaluate(d)
    assert not p["differential_input"]
    transfer, why = diagnose(bench, d)
    assert transfer["VIN1"] < -1 and transfer["VIN2"] < -1 and why == DIAGNOSES[3]


def test_missed_operating_points_are_graded_for_the_search():
    spec = parse_spec("gain>=40dB, pm>=45, cl=1pF")

    def cv(perf):
        return sum(max(0.0, g) for g in objectives(perf, spec)[1])

    none = cv({"ok": False, "reason": "no operating point"})
    near = cv({"ok": False, "offset": 0.2, "inverting": True, "reason": "DC loop does not hold the output"})
    far = cv({"ok": False, "offset": 0.9, "inverting": True, "reason": "DC loop does not hold the output"})
    wrong_way = cv({"ok": False, "offset": 0.2, "inverting": False, "reason": "DC loop does not hold the output"})
    single = cv({"ok": False, "offset": 0.01, "differential_input": False, "gain": 45, "gain_inp": -20,
                 "reason": "not a differential input"})
    working = cv({"ok": True, "gain": 30, "pm": 60, "ugb": 1e6, "power": 1e-4})
    assert working < single < near < far < none and near < wrong_way < none


@needs_sky130
def test_the_function_check_passes_the_ota_and_fails_a_dead_input_and_two_inverting_inputs():
    from eda.generators.sizing.search import function_check

    ota = function_check(parse_topology(OTA, "ota").circuit)
    assert ota["passed"] and ota["diagnosis"] in DIAGNOSES[4:], ota
    assert ota["transfer"]["VIN1"] * ota["transfer"]["VIN2"] < 0  # opposite directions
    # mutations: one input on a MOS capacitor only; both inputs inverting
    one = function_check(parse_topology(ONE_INPUT, "one").circuit)
    assert not one["passed"] and one["diagnosis"] == DIAGNOSES[2]
    same = function_check(parse_topology(SAME_WAY, "same").circuit)
    assert not same["passed"] and same["diagnosis"] == DIAGNOSES[3]


@needs_sky130
def test_the_function_checks_floor_rejects_a_resistor_loaded_pair_and_keeps_the_ota():
    from eda.generators.sizing.search import BELOW_FLOOR, FUNCTION_FLOOR_DB, function_check
    from eda.read.topology_dataset import load_library

    res = next(t for t in load_library() if t.name == "diffamp_res").circuit.without_sources()
    plain = function_check(res, floor_db=0.0)  # a differential amplifier, of ~14 dB: gm·R at every start
    assert plain["passed"] and plain["weaker_db"] < FUNCTION_FLOOR_DB, plain
    floored = function_check(res)
    assert not floored["passed"] and floored["diagnosis"] == BELOW_FLOOR.format(weaker=plain["weaker_db"],
                                                                                  floor=FUNCTION_FLOOR_DB)
    ota = function_check(parse_topology(OTA, "ota").circuit)
    assert ota["passed"] and ota["weaker_db"] >= FUNCTION_FLOOR_DB, ota
    assert not function_check(parse_topology(OTA, "ota").circuit, floor_db=ota["weaker_db"] + 1)["passed"]


@needs_sky130
def test_generate_size_with_the_function_check_lists_the_failures_instead_of_sizing_them(tmp_path):
    from eda.generators.sizing.run import size_generated
    from eda.graphs.pin_graph import circuit_to_graph

    graphs = [circuit_to_graph(parse_topology(t, "g").circuit) for t in (ONE_INPUT, SAME_WAY)]
    rows = size_generated(graphs, parse_spec("gain>=40dB, pm>=45, cl=1pF"), tmp_path, 5.0, "opamp1",
                          function_check=True)
    # nothing sized: both listed with the check's verdict
    assert [(r["skipped"], r["function_check"]["passed"]) for r in rows] == [
        (f"function check: {DIAGNOSES[2]}", False), (f"function check: {DIAGNOSES[3]}", False)]
    table = (tmp_path / "table.md").read_text()
    assert f"gen_0000: function check: {DIAGNOSES[2]}" in table
    assert f"gen_0001: function check: {DIAGNOSES[3]}" in table
    assert [p.name for p in tmp_path.glob("*.json")] == ["table.json"]  # no sizing record


def test_the_function_check_needs_size_on_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from eda.cli import app

    r = CliRunner().invoke(app, ["topo", "generate", "--n", "1", "--out", str(tmp_path / "o"), "--function-check"])
    assert r.exit_code != 0 and "--function-check" in r.output and "--size" in r.output
    r = CliRunner().invoke(app, ["topo", "generate", "--n", "1", "--out", str(tmp_path / "o"), "--size",
                                 "--function-floor", "20"])
    assert r.exit_code != 0 and "--function-floor" in r.output and "add --function-check" in r.output
    r = CliRunner().invoke(app, ["topo", "generate", "--n", "1", "--out", str(tmp_path / "o"), "--size",
                                 "--function-check", "--function-floor", "-3"])
    assert r.exit_code != 0 and "--function-floor" in r.output
