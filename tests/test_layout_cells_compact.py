"""The hand-placed compact 8T bitcell (layout/bitcell8t.py): area, in-process DRC, the sky130
precheck deck and LVS on the cell and on mirrored arrays; mutations that both DRC checkers must
flag (licon.13/licon.13_a) and that LVS must catch; the netlist extracted from the layout writes,
holds and is read in ngspice on sky130 models. Deck runs skip with a message when the klayout
binary or ../shared/decks is absent."""

from __future__ import annotations

import dataclasses

import gdstk
import klayout.db as db
import pytest
from conftest import assert_drc_lvs_clean
from test_verify_deck import deck  # noqa: F401  (the precheck-deck fixture: skips without klayout or decks)

from eda.circuit import Circuit
from eda.layout import bitcell8t as B
from eda.tech.sky130 import FEATURE_UM, sky130
from eda.verify.deck import run_deck
from eda.verify.drc import run_drc
from eda.verify.lvs import run_lvs

T = sky130()


@pytest.fixture(scope="module")
def cell_gds(tmp_path_factory):
    path = tmp_path_factory.mktemp("c8t") / "cell.gds"
    lib = gdstk.Library(name="c", unit=1e-6, precision=1e-9)
    lib.add(B.compact_bitcell().result.gds)
    lib.write_gds(str(path))
    return path


@pytest.fixture(scope="module")
def array22(tmp_path_factory):
    path = tmp_path_factory.mktemp("a8t") / "arr.gds"
    lib, circ = B.array(2, 2)
    lib.write_gds(str(path))
    return path, circ


def _cell_circuit() -> Circuit:
    sub = B.compact_bitcell().result.subckt
    return Circuit(title="* cell", devices=list(sub.devices), ports=list(sub.ports))


def test_area_and_grid():
    cc = B.compact_bitcell()
    area = cc.pitch_x * cc.pitch_y / 1e6
    assert area <= 8.0, area                                   # the target (µm²)
    assert area / FEATURE_UM**2 < 360                          # F² of the cell alone
    assert cc.pitch_x % 5 == 0 and cc.pitch_y % 5 == 0
    assert {p.name for p in cc.result.pins} == set(B.PORTS)


def test_cell_and_array_drc_lvs_clean(cell_gds, array22):
    assert_drc_lvs_clean(cell_gds, _cell_circuit())
    assert_drc_lvs_clean(*array22)


def _mutate(src, dst, what: str) -> tuple[float, float]:
    """One mutation of the cell; returns the spot (µm) a checker must flag."""
    ly = db.Layout()
    ly.read(str(src))
    top = ly.top_cells()[0]
    licon = ly.layer(*T.layer("licon").spec)
    if what == "tap licon 0.07 µm from npc":        # the place the deck caught in the first draft
        x = B._xc(4)
        top.shapes(licon).insert(db.Box(x - 85, -85, x + 85, 85))
        spot = (x / 1000, 0.0)
    elif what == "npc over a diffusion licon":
        x, y = B._xc(0), B.Y_C["n"]
        top.shapes(ly.layer(*T.layer("npc").spec)).insert(db.Box(x - 200, y - 200, x + 200, y + 200))
        spot = (x / 1000, y / 1000)
    else:
        raise ValueError(what)
    ly.write(str(dst))
    return spot


MUTATIONS = {"tap licon 0.07 µm from npc": ("licon.13", "licon.13"),
             "npc over a diffusion licon": ("licon.13_a", "licon.13_a")}


def _flagged(res, rule, where) -> bool:
    v = next((v for v in res.violations if v.rule == rule), None)
    return v is not None and any(b[0] - 0.5 <= where[0] <= b[2] + 0.5 and b[1] - 0.5 <= where[1] <= b[3] + 0.5
                                 for b in v.locations)


@pytest.mark.parametrize("what", list(MUTATIONS))
def test_inprocess_drc_flags_licon_npc_mutations(tmp_path, cell_gds, what):
    where = _mutate(cell_gds, tmp_path / "m.gds", what)
    r = run_drc(tmp_path / "m.gds")
    assert _flagged(r, MUTATIONS[what][0], where), [(v.rule, v.locations[:2]) for v in r.violations]


def test_deck_clean_on_array_and_flags_mutations(tmp_path, array22, cell_gds, deck):  # noqa: F811
    """One deck run on the 2x2 mirrored array (clean), one on a cell with both mutations."""
    r = run_deck(array22[0], deck)
    assert r.clean, [(v.rule, v.count, v.locations[:2]) for v in r.violations]
    ly = db.Layout()
    ly.read(str(cell_gds))
    ly.write(str(tmp_path / "m0.gds"))
    spots = {}
    src = tmp_path / "m0.gds"
    for i, what in enumerate(MUTATIONS):
        dst = tmp_path / f"m{i + 1}.gds"
        spots[what] = _mutate(src, dst, what)
        src = dst
    res = run_deck(src, deck)
    for what, (_, theirs) in MUTATIONS.items():
        assert _flagged(res, theirs, spots[what]), (what, [(v.rule, v.locations[:2]) for v in res.violations])


def test_lvs_catches_a_missing_cross_coupling_contact(tmp_path, cell_gds):
    """Remove the licon of the QB gate pad (col 3): M1/M2/M7's gate floats, LVS must fail."""
    ly = db.Layout()
    ly.read(str(cell_gds))
    top = ly.top_cells()[0]
    shapes = top.shapes(ly.layer(*T.layer("licon").spec))
    x, y = B._xc(3), B.Y_GAP
    hit = [s for s in shapes.each() if s.box.center() == db.Point(x, y)]
    assert len(hit) == 1
    shapes.erase(hit[0])
    ly.write(str(tmp_path / "m.gds"))
    assert not run_lvs(tmp_path / "m.gds", _cell_circuit()).clean
    # and a wrong schematic width is caught on the unmutated layout
    c = _cell_circuit()  # (a copy: the cached cell's devices must not change)
    c.devices[0] = dataclasses.replace(c.devices[0], params={**c.devices[0].params, "W": 0.84})
    assert not run_lvs(cell_gds, c).clean


def test_extracted_cell_writes_holds_reads_on_sky130(cell_gds):
    """The netlist LVS extracts from the layout (not the schematic), on sky130 BSIM4 tt 27 °C:
    write 0 then 1 through BL/BLB + WL, read through RWL with RBL pulled up by 20 kΩ."""
    from eda.circuit import Device, Waveform
    from eda.generators.acim_column import bind_models
    from eda.tech import sky130_models
    from eda.verify.lvs import extracted_circuit

    sim = pytest.importorskip("eda.sim.ngspice")
    if not sky130_models.available():
        pytest.skip(f"sky130 models missing ({sky130_models.INSTALL_HINT})")
    ext, res = extracted_circuit(cell_gds, _cell_circuit())
    assert res.clean
    sub = ext.subckts[0]
    vdd = 1.8

    def pulse(name, node, v1, v2, td, pw, per=1.0):
        return Device(name, "V", (node, "0"), value=v1, waveform=Waveform("pulse", (v1, v2, td, 50e-12, 50e-12,
                                                                                   pw, per)))
    devs = [Device("XDUT", "X", sub.ports, model=sub.name), Device("VDD", "V", ("VDD", "0"), value=vdd),
            Device("VSS", "V", ("VSS", "0"), value=0.0),
            pulse("VBL", "BL", 0.0, vdd, 10e-9, 10e-9), pulse("VBLB", "BLB", vdd, 0.0, 10e-9, 10e-9),
            pulse("VWL", "WL", 0.0, vdd, 2e-9, 3e-9, 10e-9), pulse("VRWL", "RWL", 0.0, vdd, 6e-9, 3e-9, 10e-9),
            Device("RPU", "R", ("RBL", "VDD"), value=20e3)]
    c = bind_models(Circuit(title="* extracted compact 8T", subckts=[sub], devices=devs), "sky130", "tt", 27.0)
    t, v = sim.transient(c, 20e-12, 20e-9)

    def at(when):
        import numpy as np
        return float(np.interp(when, t, v["RBL"]))
    assert at(8.5e-9) < 0.5      # Q = 0 → QB = 1: the read port pulls RBL low
    assert at(18.5e-9) > 1.5     # Q = 1 after the second write: RBL stays high
    assert at(4.5e-9) > 1.5      # no read: RBL high
    # write half-select: Q = 0 written at 1-3 ns, then WL opens twice with BL = BLB = VDD (another
    # column of the row being written): Q bumps (cell ratio 1) but must hold
    devs[3:7] = [pulse("VBL", "BL", 0.0, vdd, 4e-9, 100e-9), Device("VBLB", "V", ("BLB", "0"), value=vdd),
                 pulse("VWL", "WL", 0.0, vdd, 1e-9, 2e-9, 5e-9), Device("VRWL", "V", ("RWL", "0"), value=0.0)]
    c = bind_models(Circuit(title="* half select", subckts=[sub], devices=devs), "sky130", "tt", 27.0)
    t, v = sim.transient(c, 20e-12, 14e-9)
    q = v["xdut.q"]
    assert q[(t > 3.5e-9) & (t < 4e-9)].max() < 0.1 and q[t > 5e-9].max() < 0.6 and q[-1] < 0.1


def test_template_cell_keeps_the_macro_contract(tmp_path):
    """The drop-in cell: template pin x's, WL/RWL on row slots 0/1, 2 slots (3.42 µm) tall, clean at a pitch."""
    from eda.layout import bitcell8t_template as T8
    from eda.layout.devices import RowCellParams, row_cell, slot_y

    c = row_cell(RowCellParams("acim_bitcell8t", min_width=7380, hand="bitcell8t"))
    assert (c.width_nm, c.height_nm) == (7380, 3420)
    pins = {p.name: p for p in c.pins}
    assert [pins[n].x_um for n in ("RBL", "BLB", "BL")] == [0.33, 3.48, 4.11]
    frame = RowCellParams("x", min_slots=2)
    assert pins["WL"].y_um * 1000 == slot_y(frame, 0) and pins["RWL"].y_um * 1000 == slot_y(frame, 1)
    assert row_cell(RowCellParams("acim_bitcell8t", hand="bitcell8t")).width_nm == T8.NATURAL_WIDTH
    lib = gdstk.Library(name="t", unit=1e-6, precision=1e-9)
    lib.add(c.gds)
    lib.write_gds(str(tmp_path / "t.gds"))
    assert run_drc(tmp_path / "t.gds").clean
    r = run_lvs(tmp_path / "t.gds", Circuit(title="t", devices=list(c.subckt.devices), ports=list(c.subckt.ports)))
    assert r.clean, (r.mismatches, r.extraction_errors)
    with pytest.raises(ValueError, match="pitch"):
        T8.template_bitcell(4000)


def test_small_macro_with_the_hand_drawn_bitcell_is_clean(tmp_path):
    """A 4x2 macro from a library written from the cell code (whose bitcell is the hand-drawn one):
    DRC and LVS clean, bitcell rows (and the word-line/input drivers and taps) 3.42 µm."""
    from eda.layout.library import load_library, write_library
    from eda.layout.macro import MacroParams, build_macro

    lib = load_library(write_library(tmp_path / "lib"))
    assert {lib.cell(r).height_um for r in ("bitcell", "wl_driver", "in_driver", "tap")} == {3.42}
    m = build_macro(MacroParams(4, 2, 2, 1), lib)
    m.library.write_gds(str(tmp_path / "m.gds"))
    assert run_drc(tmp_path / "m.gds").clean
    r = run_lvs(tmp_path / "m.gds", m.circuit)
    assert r.clean, (r.mismatches[:5], r.extraction_errors[:5])


def test_two_slot_row_cells_join_gate_pads_and_refuse_two_gate_nets(tmp_path):
    """In a 2-slot frame (the bitcell row's drivers) the n and p gate pads of a column are 460 nm apart,
    so the generator joins them (one net) and refuses a column whose n and p gates differ."""
    from eda.errors import InputError
    from eda.layout import cells as CC
    from eda.layout.devices import Chain, Fet, RowCellParams, row_cell

    for f in (CC.wl_driver(2), CC.in_driver(2), CC.tap(2)):
        c = row_cell(f)
        assert c.height_nm == 3420
        lib = gdstk.Library(name="d", unit=1e-6, precision=1e-9)
        lib.add(c.gds)
        lib.write_gds(str(tmp_path / f"{f.name}.gds"))
        assert run_drc(tmp_path / f"{f.name}.gds").clean, f.name
        r = run_lvs(tmp_path / f"{f.name}.gds", Circuit(title="d", devices=list(c.subckt.devices),
                                                        ports=list(c.subckt.ports)))
        assert r.clean, (f.name, r.mismatches, r.extraction_errors)
    bad = RowCellParams("x", nmos=(Chain((Fet("MN", "A", "G1", "VSS"),)),),
                        pmos=(Chain((Fet("MP", "A", "G2", "VDD"),)),), min_slots=2)
    with pytest.raises(InputError, match="one net per gate column"):
        row_cell(bad)
    assert row_cell(dataclasses.replace(bad, min_slots=3)).height_nm == 3880  # 3 slots: two pads fit
