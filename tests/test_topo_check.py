"""ERC and ngspice validity, mutations that must fail, novelty/uniqueness by isomorphism."""

from __future__ import annotations

import pytest

from eda.generators.topology_check import (
    GraphSet,
    _operating_point,
    check_circuit,
    erc,
    novelty_uniqueness,
    simulate,
    simulation_deck,
)
from eda.graphs.pin_graph import circuit_to_graph
from eda.read.topology_dataset import load_library, parse_topology
from eda.tech import sky130_models

OTA = """* 5T OTA with mirror bias
*.type opamp1
*.ports VDD VSS VIN1 VIN2 IB1 VOUT1
M1 (n1 VIN1 n2 VSS) nmos4
M2 (VOUT1 VIN2 n2 VSS) nmos4
M3 (n2 IB1 VSS VSS) nmos4
M6 (IB1 IB1 VSS VSS) nmos4
M4 (n1 n1 VDD VDD) pmos4
M5 (VOUT1 n1 VDD VDD) pmos4
"""


def _c(text):
    return parse_topology(text).circuit


def test_ota_is_valid_and_simulates():
    c = _c(OTA)
    assert erc(c) == []
    reason, op = simulate(c)
    assert reason is None
    assert op["VDD"] == pytest.approx(1.8)
    # the mirror diode sits one VGS above VSS, the tail node between the rails
    assert 0.45 < op["IB1"] < 1.2
    assert 0.0 < op["n2"] < op["VIN1"]
    r = check_circuit(c)
    assert r.valid and r.simulated


def test_deck_has_sources_and_models():
    deck = simulation_deck(_c(OTA))
    names = {d.name for d in deck.devices}
    assert {"VVDD", "VVSS", "VVIN1", "VVIN2", "IIB1"} <= names
    ib = next(d for d in deck.devices if d.name == "IIB1")
    assert ib.nodes == ("VDD", "IB1")  # pushes current into an NMOS diode
    tail = simulation_deck(_c(OTA.replace("n2 VSS)", "IB1 VSS)").replace("M3 (n2 IB1 VSS VSS) nmos4\n", "")
                              .replace("M6 (IB1 IB1 VSS VSS) nmos4\n", "")))
    # an NMOS pair's tail on the port: its current is taken to VSS (before: pushed in from VDD, like a diode)
    assert next(d for d in tail.devices if d.name == "IIB1").nodes == ("IB1", "VSS")
    assert {m.name for m in deck.models} >= {"nmos4", "pmos4", "npn", "pnp", "diode"}
    assert all(d.params.get("w") for d in deck.devices if d.kind == "M")


@pytest.mark.parametrize("mutation, reason", [
    (("M5 (VOUT1 n1 VDD VDD)", "M5 (VOUT1 n7 VDD VDD)"), "internal net n7 has only 1 pin"),
    (("M6 (IB1 IB1 VSS VSS)", "M6 (VSS VSS VSS VSS)"), "all terminals on net VSS"),
    (("M3 (n2 IB1 VSS VSS) nmos4", "M3 (n2 IB1 VSS VSS) nmos4\nL1 (VIN1 VIN2) inductor"), "voltage-source loop"),
    (("M3 (n2 IB1 VSS VSS) nmos4", "M3 (n2 IB1 VSS VSS) nmos4\nL1 (VDD VSS) inductor"), "voltage-source loop"),
    (("M1 (n1 VIN1 n2 VSS) nmos4", "M1 (n1 g1 n2 VSS) nmos4\nM9 (n1 g1 n2 VSS) nmos4\nM8 (n1 g1 VDD VDD) pmos4"),
     "net g1 has no DC path"),
])
def test_erc_mutations_fail(mutation, reason):
    text = OTA.replace(*mutation)
    assert text != OTA
    r = check_circuit(_c(text))
    assert not r.valid
    assert any(reason in x for x in r.reasons), r.reasons


@pytest.mark.parametrize("mutation, rule", [
    # a gate net of gates alone of both polarities floats
    (("M1 (n1 VIN1 n2 VSS) nmos4", "M1 (n1 g1 n2 VSS) nmos4\nM9 (n1 g1 VDD VDD) pmos4"), "floating_gate"),
    # an output port on gates alone floats too
    (("M1 (n1 VIN1 n2 VSS) nmos4", "M1 (n1 VOUT2 n2 VSS) nmos4\nM9 (n1 VOUT2 n2 VSS) nmos4"), "floating_gate"),
    # an island of resistors has no DC path to any source
    (("M3 (n2 IB1 VSS VSS) nmos4", "M3 (n2 IB1 VSS VSS) nmos4\nR8 (x1 x2) resistor\nR9 (x1 x2) resistor"), "dc_path"),
    # a resistor across the rails changes nothing
    (("M3 (n2 IB1 VSS VSS) nmos4", "M3 (n2 IB1 VSS VSS) nmos4\nR7 (VDD VSS) resistor"), "redundant_device"),
    # an output hanging off a divider between the rails reaches no transistor
    (("*.ports VDD VSS VIN1 VIN2 IB1 VOUT1", "*.ports VDD VSS VIN1 VIN2 IB1 VOUT1 VOUT2"), None),
    (("M3 (n2 IB1 VSS VSS) nmos4", "M3 (n2 IB1 VSS VSS) nmos4\nR7 (VOUT2 VDD) resistor\nR8 (VOUT2 VSS) resistor"),
     "signal_port"),
])
def test_rule_mutations(mutation, rule):
    """Each rule rejects its mutation of a valid circuit (and only that rule is new)."""
    from eda.generators.topology_check import rule_violations

    text = OTA.replace(*mutation)
    assert text != OTA
    if rule is None:  # a mutation that keeps the circuit valid: a new port no device uses
        assert rule_violations(_c(text)) == []
        return
    rules = {r for r, _ in rule_violations(_c(text))}
    assert rule in rules, rules


def test_io_path_and_supply_rules():
    from eda.generators.topology_check import rule_violations

    ok = "*.ports VDD VSS VIN1 VB1 VOUT1\nM1 (VOUT1 VIN1 VSS VSS) nmos4\nM2 (VOUT1 VB1 VDD VDD) pmos4\n"
    assert rule_violations(_c("* x\n" + ok)) == []
    # the input only drives a device between the rails: no path to the output avoids the supplies
    cut = ok.replace("M1 (VOUT1 VIN1 VSS VSS)", "M1 (VDD VIN1 VSS VSS) nmos4\nM3 (VOUT1 VB1 VSS VSS)")
    assert "io_path" in {r for r, _ in rule_violations(_c("* x\n" + cut))}
    dead = "* x\n*.ports VSS VOUT1\nM1 (VOUT1 VOUT1 VSS VSS) nmos4\nR1 (VOUT1 VSS) resistor\n"
    assert "supply" in {r for r, _ in rule_violations(_c(dead))}
    # no VDD is fine (real current-driven circuits have none)
    cm = "* x\n*.ports VSS IB1 IOUT1\nM1 (IB1 IB1 VSS VSS) nmos4\nM2 (IOUT1 IB1 VSS VSS) nmos4\n"
    assert rule_violations(_c(cm)) == []


def test_inductor_loops_are_voltage_loops_and_fail_ngspice_too():
    """Two inductors in parallel (or any loop of them) are a loop of shorts at DC: the rule names the loop's
    inductors only, ngspice's operating point of the same deck is singular, and a chain of inductors is fine."""
    from eda.generators.topology_check import rule_violations

    chain = OTA.replace("M4 (n1 n1 VDD VDD) pmos4", "M4 (n1 n1 x1 VDD) pmos4\nL1 (x1 x2) inductor\nL2 (x2 VDD) "
                        "inductor")
    assert rule_violations(_c(chain)) == [] and check_circuit(_c(chain)).valid
    for extra in ("L3 (x1 x2) inductor", "L3 (x1 VDD) inductor"):  # parallel; a triangle
        c = _c(chain + extra + "\n")
        loops = [m for r, m in rule_violations(c) if r == "voltage_loop"]
        assert len(loops) == 1 and "inductor loop" in loops[0], loops
        names = loops[0].split(":")[1].split(" close")[0].replace(" ", "").split(",")
        assert sorted(names) == (["L1", "L3"] if extra.endswith("x2) inductor") else ["L1", "L2", "L3"])
        deck = simulation_deck(c, pdk=None)
        assert _operating_point(deck)[0] is not None  # the rule agrees with the simulator


def test_bias_line_is_driven_like_a_vb_port():
    """Gates of one polarity alone on a net: a bias line whose generator is not drawn (as in 324
    public circuits), not a floating gate; the deck drives it like a VB port and it simulates."""
    from eda.generators.topology_check import bias_lines, rule_violations

    text = OTA.replace("M3 (n2 IB1 VSS VSS) nmos4", "M3 (n2 bl VSS VSS) nmos4\nM7 (VOUT1 bl VSS VSS) nmos4")
    c = _c(text)
    assert bias_lines(c) == {"bl": "n"}
    assert rule_violations(c) == []
    deck = simulation_deck(c)
    assert next(d for d in deck.devices if d.name == "VBIAS_bl").value == pytest.approx(0.7)
    assert check_circuit(c).valid


def test_capacitively_coupled_gate_simulates():
    """A gate biased only through capacitors (capacitive feedback, as in real textbook circuits) is
    not a floating gate; the deck's 1 TΩ shunt makes its operating point solvable."""
    text = ("* cap feedback\n*.ports VDD VSS VIN1 VOUT1\nM2 (VOUT1 g VSS VSS) nmos4\nR1 (VOUT1 VDD) resistor\n"
            "C1 (VIN1 g) capacitor\nC2 (g VOUT1) capacitor\n")
    r = check_circuit(_c(text))
    assert r.valid, r.reasons
    assert simulation_deck(_c(text)).options.get("rshunt") == 1e12


def test_ngspice_failure_is_reported(monkeypatch):
    """A deck ngspice cannot solve is invalid even when ERC is clean."""
    import eda.generators.topology_check as tc

    good = tc.simulation_deck

    def broken(circuit, title=None, **kw):
        deck = good(circuit, title, **kw)
        deck.models = [m for m in deck.models if m.name != "nmos4"]  # undefined model
        return deck

    monkeypatch.setattr(tc, "simulation_deck", broken)
    r = tc.check_circuit(_c(OTA))
    assert not r.valid and r.sim and r.reasons[0].startswith("ngspice:")


def test_an_operating_point_past_its_time_fails_and_the_engine_goes_on():
    """The validity check's OP is bounded: past ``timeout`` it is halted and reported, never a hang; the next
    circuit simulates as usual. (1 ns: the search rarely finishes first; tries until one is halted, since a
    tiny deck's background run can end before ngspice hands back control.)"""
    c = _c(OTA)
    reasons = []
    while len(reasons) < 30 and not (reasons and reasons[-1]):
        reasons.append(simulate(c, timeout=1e-9)[0])
    assert any(r and r.startswith("no operating point") and "exceeded" in r for r in reasons), reasons
    reason, op = simulate(c)
    assert reason is None and op["VDD"] == pytest.approx(1.8)


def test_library_subset_valid():
    lib = load_library()
    for t in lib[::9]:
        r = check_circuit(t.circuit, t.name)
        assert r.valid, (t.name, r.reasons)


def test_novelty_uniqueness():
    a = circuit_to_graph(_c(OTA))
    renamed = circuit_to_graph(_c(OTA.replace("n1", "zz").replace("M1 ", "M77 ")))
    other = circuit_to_graph(_c(OTA.replace("M5 (VOUT1 n1 VDD VDD)", "M5 (VOUT1 VOUT1 VDD VDD)")))
    ref = GraphSet([a])
    assert ref.find(renamed) and not ref.find(other)
    res = novelty_uniqueness([renamed, other, other], ref)
    assert res["unique"] == pytest.approx(2 / 3)
    assert res["novel"] == pytest.approx(2 / 3)


def test_repeated_instance_names_simulate():
    """Real data repeats instance names (two M0); the deck renames them so ngspice takes it."""
    text = "* x\n*.ports VDD VSS VIN1 VOUT1\nM0 (VOUT1 VIN1 VSS VSS) nmos4\nM0 (VOUT1 VOUT1 VDD VDD) pmos4\n"
    deck = simulation_deck(_c(text))
    names = [d.name for d in deck.devices]
    assert len(set(names)) == len(names)
    assert check_circuit(_c(text)).valid


@pytest.mark.skipif(not __import__("eda.tech.sky130_models", fromlist=["available"]).available(),
                    reason="sky130 models not installed")
def test_sky130_deck_converges():
    """The OTA on the real sky130 devices (tt): sky130 FET subcircuits, the .lib card, an operating
    point with the mirror diode a threshold above VSS."""
    deck = simulation_deck(_c(OTA), pdk="sky130")
    assert {d.model for d in deck.devices if d.kind == "X"} == {"sky130_fd_pr__nfet_01v8", "sky130_fd_pr__pfet_01v8"}
    assert any("sky130.lib.spice" in ln and ln.endswith(" tt") for ln in deck.includes)
    reason, op = simulate(_c(OTA), pdk="sky130")
    assert reason is None
    assert 0.5 < op["IB1"] < 1.3


@pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)
def test_a_sky130_deck_reads_back_as_its_topology_and_checks(tmp_path):
    """A deck on the sky130 devices, as `eda topo generate` writes it (`.lib` card, X instances, test bench,
    `*.ports`), reads back as the same topology, and `eda topo check` passes it. Before, reading followed the
    `.lib` into the foundry library and stopped there ("expected key=value"), so `eda topo check out/gen/*.sp`
    failed on every generated deck."""
    from typer.testing import CliRunner

    from eda.cli import app
    from eda.export.to_spice import write_spice
    from eda.graphs.canon import canonical_hash
    from eda.read.topology_dataset import read_netlist_topology

    c = _c(OTA.replace("M5 (VOUT1 n1 VDD VDD) pmos4", "M5 (VOUT1 n1 VDD VDD) pmos4\nR1 (VOUT1 n3) resistor\n"
                                                      "C1 (n3 VSS) capacitor"))
    deck = write_spice(simulation_deck(c, title="generated topology 0", pdk="sky130"), tmp_path / "gen_0000.sp")
    assert "sky130_fd_pr__nfet_01v8" in deck.read_text() and ".lib " in deck.read_text()
    back = read_netlist_topology(deck).circuit
    back = back.without_sources()
    assert canonical_hash(circuit_to_graph(back)) == canonical_hash(circuit_to_graph(c))
    assert {d.kind for d in back.devices} == {"M", "R", "C"}
    r = CliRunner().invoke(app, ["topo", "check", str(deck)])
    assert r.exit_code == 0 and "ok " in r.output, r.output


@pytest.mark.parametrize("extra, fact", [
    ("", None),
    ("R1 (VOUT1 n9) resistor\nC1 (n9 VSS) capacitor", None),  # a series RC to ground conducts: no dead end
    ("R1 (VOUT1 VSS) resistor\nR2 (VSS VOUT1) resistor", "parallel_passive"),  # same nets, either order
    ("M7 (VOUT1 n1 VDD VDD) pmos4", "parallel_fet"),  # M5 twice
    ("R1 (VOUT1 n9) resistor\nC1 (n9 VOUT1) capacitor", "dead_end"),  # n9 reaches VOUT1 alone
    ("R1 (VDD n9) resistor\nC1 (n9 VDD) capacitor", "dead_end"),  # hanging off a rail
])
def test_repeated_devices_counted(extra, fact):
    """Devices real circuits do not repeat (generated samples do; README *Repeated devices*): each mutation of the
    OTA adds exactly the fact it names, and the rules still pass (they are counted, not rejected)."""
    from eda.generators.topology_check import rule_violations
    from eda.generators.topology_report import REPEATS, repeat_shares, repeated_devices

    c = _c(OTA + extra)
    got = repeated_devices(c)
    assert {k for k in REPEATS if got[k]} == ({fact} if fact else set()), got
    assert rule_violations(c) == []
    shares = repeat_shares([c, _c(OTA)])
    assert shares["n"] == 2 and all(shares[k] == (k == fact) for k in REPEATS)
