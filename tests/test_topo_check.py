"""ERC and ngspice validity, mutations that must fail, novelty/uniqueness by isomorphism."""

from __future__ import annotations

import pytest

from eda.generators.topology_check import (
    GraphSet,
    check_circuit,
    erc,
    novelty_uniqueness,
    simulate,
    simulation_deck,
)
from eda.graphs.pin_graph import circuit_to_graph
from eda.read.topology_dataset import load_library, parse_topology

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
    assert {m.name for m in deck.models} >= {"nmos4", "pmos4", "npn", "pnp", "diode"}
    assert all(d.params.get("w") for d in deck.devices if d.kind == "M")


@pytest.mark.parametrize("mutation, reason", [
    (("M5 (VOUT1 n1 VDD VDD)", "M5 (VOUT1 n7 VDD VDD)"), "internal net n7 has only 1 pin"),
    (("M4 (n1 n1 VDD VDD) pmos4\nM5 (VOUT1 n1 VDD VDD) pmos4", "M4 (n1 n1 VSS VSS) pmos4\nM5 (VOUT1 n1 VSS VSS) pmos4"),
     "VDD is not connected"),
    (("M6 (IB1 IB1 VSS VSS)", "M6 (VSS VSS VSS VSS)"), "all terminals on net VSS"),
    (("M3 (n2 IB1 VSS VSS) nmos4", "M3 (n2 IB1 VSS VSS) nmos4\nL1 (VIN1 VIN2) inductor"), "voltage-source loop"),
    (("M3 (n2 IB1 VSS VSS) nmos4", "M3 (n2 IB1 VSS VSS) nmos4\nL1 (VDD VSS) inductor"), "voltage-source loop"),
    (("M1 (n1 VIN1 n2 VSS) nmos4", "M1 (n1 g1 n2 VSS) nmos4\nM9 (n1 g1 n2 VSS) nmos4\nC9 (g1 VIN1) capacitor"),
     "net g1 has no DC path"),
])
def test_erc_mutations_fail(mutation, reason):
    text = OTA.replace(*mutation)
    assert text != OTA
    r = check_circuit(_c(text))
    assert not r.valid
    assert any(reason in x for x in r.reasons), r.reasons


def test_ngspice_failure_is_reported(monkeypatch):
    """A deck ngspice cannot solve is invalid even when ERC is clean."""
    import eda.generators.topology_check as tc

    good = tc.simulation_deck

    def broken(circuit, title=None):
        deck = good(circuit, title)
        deck.models = [m for m in deck.models if m.name != "nmos4"]  # undefined model
        return deck

    monkeypatch.setattr(tc, "simulation_deck", broken)
    r = tc.check_circuit(_c(OTA))
    assert not r.valid and r.sim and r.reasons[0].startswith("ngspice:")


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
