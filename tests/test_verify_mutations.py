"""Mutation tests: each physical or netlist defect must make DRC or LVS fail."""

from __future__ import annotations

from pathlib import Path

import klayout.db as db
import pytest

from eda.layout.library import load_library
from eda.layout.macro import MacroParams, build_macro
from eda.read.from_spice import read_spice
from eda.verify.drc import run_drc
from eda.verify.lvs import run_lvs

LIB = load_library()


def _layer(ly: db.Layout, ld: tuple[int, int]) -> int:
    return ly.find_layer(*ld)


def _mutated(src: Path, dst: Path, fn) -> Path:
    ly = db.Layout()
    ly.read(str(src))
    fn(ly, ly.top_cells()[0])
    ly.write(str(dst))
    return dst


def test_unmutated_cells_are_clean():
    info = LIB.cell("wl_driver")
    assert run_drc(info.gds).clean
    assert run_lvs(info.gds, info.spice).clean


def test_every_removed_via_fails_lvs(tmp_path):
    info = LIB.cell("wl_driver")
    ly = db.Layout()
    ly.read(str(info.gds))
    n = ly.top_cells()[0].shapes(_layer(ly, (68, 44))).size()
    assert n >= 3
    for i in range(n):
        def rm(ly, top, i=i):
            shapes = top.shapes(_layer(ly, (68, 44)))
            shapes.erase(list(shapes.each())[i])

        g = _mutated(info.gds, tmp_path / f"via{i}.gds", rm)
        assert not run_lvs(g, info.spice).clean, f"via {i} removed but LVS passed"


def test_removed_mcon_and_licon_fail_lvs(tmp_path):
    info = LIB.cell("bitcell")
    for ld in ((67, 44), (66, 44)):
        def rm(ly, top, ld=ld):
            shapes = top.shapes(_layer(ly, ld))
            # a contact on a transistor terminal (not on the tap strips at the cell bottom/top)
            s = next(s for s in shapes.each() if 1.0 < s.bbox().center().y * ly.dbu < info.height_um - 1.0)
            shapes.erase(s)

        g = _mutated(info.gds, tmp_path / f"cut{ld[0]}.gds", rm)
        assert not run_lvs(g, info.spice).clean


def test_narrowed_wire_fails_drc(tmp_path):
    info = LIB.cell("bitcell")

    def narrow(ly, top):
        li = _layer(ly, (68, 20))
        shapes = top.shapes(li)
        s = next(s for s in shapes.each() if s.bbox().height() > 600 and s.bbox().width() < 400)
        b = s.bbox()
        shapes.erase(s)
        c = b.center().x
        shapes.insert(db.Box(c - 60, b.bottom, c + 60, b.top))  # 0.12 µm < m1.1 0.14

    r = run_drc(_mutated(info.gds, tmp_path / "narrow.gds", narrow))
    assert not r.clean and "m1.1" in {v.rule for v in r.violations}


def test_shifted_shape_fails_drc(tmp_path):
    info = LIB.cell("bitcell")

    def shift(ly, top):
        shapes = top.shapes(_layer(ly, (66, 20)))  # poly: move a gate pad onto its neighbour
        s = next(s for s in shapes.each() if s.bbox().width() == 270)
        shapes.transform(s, db.Trans(db.Vector(200, 0)))

    r = run_drc(_mutated(info.gds, tmp_path / "shift.gds", shift))
    assert not r.clean
    assert {v.rule for v in r.violations} & {"poly.2", "licon.8", "licon.11", "poly.1a"}


def test_shifted_track_fails_drc(tmp_path):
    info = LIB.cell("bitcell")

    def shift(ly, top):
        shapes = top.shapes(_layer(ly, (69, 20)))  # met2 track moved 0.25 µm up onto the next one
        s = next(s for s in shapes.each() if s.bbox().width() < 7000)
        shapes.transform(s, db.Trans(db.Vector(0, 250)))

    r = run_drc(_mutated(info.gds, tmp_path / "shift2.gds", shift))
    assert not r.clean


def test_swapped_label_fails_lvs(tmp_path):
    info = LIB.cell("wl_driver")

    def swap(ly, top):
        texts = {s.text_string: s for s in top.shapes(_layer(ly, (69, 5))).each() if s.is_text()}
        a, b = texts["WL"], texts["WLIN"]
        ta, tb = a.text, b.text
        a.text = db.Text("WLIN", ta.trans)
        b.text = db.Text("WL", tb.trans)

    g = _mutated(info.gds, tmp_path / "swap.gds", swap)
    assert run_drc(g).clean
    r = run_lvs(g, info.spice)
    assert not r.clean


def test_wrong_width_fails_lvs(tmp_path):
    info = LIB.cell("bitcell")
    text = info.spice.read_text()
    assert "W=0.42" in text
    bad = tmp_path / "bad.spice"
    bad.write_text(text.replace("W=0.42", "W=0.64", 1))
    r = run_lvs(info.gds, bad)
    assert not r.clean


def test_wrong_drawn_width_fails_lvs(tmp_path):
    info = LIB.cell("dac_switch")

    def widen(ly, top):
        shapes = top.shapes(_layer(ly, (65, 20)))
        s = next(s for s in shapes.each())
        b = s.bbox()
        shapes.erase(s)
        # grow this diffusion towards the channel: W 0.42 → 0.52 (for an nmos) / the pmos away
        shapes.insert(db.Box(b.left, b.bottom, b.right, b.top + 100) if b.bottom < 2000
                      else db.Box(b.left, b.bottom - 100, b.right, b.top))

    g = _mutated(info.gds, tmp_path / "wide.gds", widen)
    assert not run_lvs(g, info.spice).clean


def test_swapped_device_terminal_fails_lvs(tmp_path):
    info = LIB.cell("in_driver")
    c = read_spice(info.spice)
    d = c.subckts[0].devices[0]
    d.nodes = (d.nodes[1], d.nodes[0], d.nodes[2], d.nodes[3])  # drain <-> gate
    r = run_lvs(info.gds, c.__class__(subckts=[], devices=c.subckts[0].devices, ports=c.subckts[0].ports))
    assert not r.clean


@pytest.fixture(scope="module")
def small_macro(tmp_path_factory):
    out = tmp_path_factory.mktemp("macro")
    m = build_macro(MacroParams(8, 2, 2, 2), LIB)
    gds = out / "m.gds"
    m.library.write_gds(str(gds))
    return gds, m


def test_macro_removed_top_via2_fails_lvs(small_macro, tmp_path):
    gds, m = small_macro

    def rm(ly, top):
        cell = ly.cell(m.name)
        shapes = cell.shapes(_layer(ly, (69, 44)))
        # the via2 joining column 0's comparator output to its CMP line (lowest one at x = 3.48 µm);
        # power vias are not used: the substrate ties every p-tap to VSS in extraction too
        s = min((s for s in shapes.each() if s.bbox().center().x == 3480), key=lambda s: s.bbox().bottom)
        shapes.erase(s)

    assert not run_lvs(_mutated(gds, tmp_path / "m1.gds", rm), m.circuit).clean


def test_macro_swapped_pin_labels_fail_lvs(small_macro, tmp_path):
    gds, m = small_macro

    def swap(ly, top):
        cell = ly.cell(m.name)
        texts = {s.text_string: s for s in cell.shapes(_layer(ly, (69, 5))).each() if s.is_text()}
        a, b = texts["WLIN_0"], texts["WLIN_1"]
        ta, tb = a.text, b.text
        a.text = db.Text("WLIN_1", ta.trans)
        b.text = db.Text("WLIN_0", tb.trans)

    assert not run_lvs(_mutated(gds, tmp_path / "m2.gds", swap), m.circuit).clean


def test_macro_bitcell_spacing_violation_fails_drc(small_macro, tmp_path):
    gds, m = small_macro

    def bump(ly, top):
        cell = ly.cell("acim_bitcell8t")  # a met1 sliver next to a stub in the arrayed cell
        cell.shapes(_layer(ly, (68, 20))).insert(db.Box(0, 1000, 100, 1300))

    r = run_drc(_mutated(gds, tmp_path / "m3.gds", bump))
    assert not r.clean


def test_extraction_warning_fails_lvs(tmp_path):
    """A gate at the diffusion edge (one source/drain only) is skipped by the extractor with a
    warning: both netlists are then empty and would 'match', but LVS must fail."""
    import gdstk

    from eda.circuit import Circuit
    from eda.tech.sky130 import sky130

    t = sky130()
    c = gdstk.Cell("t")
    for name, box in (("diff", (0, 0, 0.6, 0.5)), ("nsdm", (-0.2, -0.2, 0.8, 0.7)), ("poly", (0.45, -0.13, 0.6, 0.63))):
        lay = t.layer(name)
        c.add(gdstk.rectangle(box[:2], box[2:], layer=lay.layer, datatype=lay.datatype))
    lib = gdstk.Library()
    lib.add(c)
    lib.write_gds(str(tmp_path / "e.gds"))
    r = run_lvs(tmp_path / "e.gds", Circuit())
    assert r.match and not r.clean
    assert any("gate" in e for e in r.extraction_errors)
