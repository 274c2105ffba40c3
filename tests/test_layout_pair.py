"""The pair bitcell row (layout/bitcell8t_pair.py): two 8T bits of one column per template row.

The cell and a 2x2 abutted array are DRC-, LVS- and precheck-deck-clean; a small macro built with
pair rows (the default when the library has them and L is even) is DRC/LVS clean and denser than
the same macro with one bit per row; LVS catches swapped word lines of the two cores and a missing
word-line via; a user bitcell override falls back to one bit per row. Deck runs skip with a
message when the klayout binary or ../shared/decks is absent."""

from __future__ import annotations

import dataclasses

import gdstk
import klayout.db as db
import pytest
from conftest import assert_drc_lvs_clean
from test_verify_deck import deck  # noqa: F401  (the precheck-deck fixture: skips without klayout or decks)

from eda.circuit import Circuit, Device
from eda.layout import bitcell8t_pair as P
from eda.layout.library import load_library, uses_pair_rows
from eda.layout.macro import MacroParams, build_macro
from eda.tech.sky130 import FEATURE_UM, sky130
from eda.verify.deck import run_deck
from eda.verify.lvs import run_lvs

T = sky130()
PITCH = 6540  # the shared-ADC library's column pitch


@pytest.fixture(scope="module")
def cell_gds(tmp_path_factory):
    path = tmp_path_factory.mktemp("pair") / "cell.gds"
    lib = gdstk.Library(name="c", unit=1e-6, precision=1e-9)
    lib.add(P.pair_bitcell(PITCH).gds)
    lib.write_gds(str(path))
    return path


@pytest.fixture(scope="module")
def array22(tmp_path_factory):
    """2 x 2 pair cells abutted (not mirrored), one label per row's word lines and rails."""
    path = tmp_path_factory.mktemp("pair22") / "arr.gds"
    r = P.pair_bitcell(PITCH)
    lib = gdstk.Library(name="a", unit=1e-6, precision=1e-9)
    top = gdstk.Cell("arr")
    lib.add(r.gds, top)
    l2, l1 = T.layer("met2.label"), T.layer("met1.label")
    devs = []
    for row in range(2):
        y0 = row * P.HEIGHT
        for col in range(2):
            top.add(gdstk.Reference(r.gds, (col * PITCH / 1000, y0 / 1000)))
            bl = [f"{n}_{col}_{row}" for n in ("BL", "BLB", "RBL")]  # no met3 lines: per cell
            devs.append(Device(f"X{row}_{col}", "X", (*bl, f"WL0_{row}", f"RWL0_{row}", f"WL1_{row}", f"RWL1_{row}",
                                                      f"VDD_{row}", "VSS"), model=P.NAME))
            for net, x, y in (("BL", P.X_BL, P.Y_BL), ("BLB", P.X_BLB, P.Y_BLB), ("RBL", P.X_RBL, P.Y_RBL)):
                top.add(gdstk.Label(f"{net}_{col}_{row}", ((col * PITCH + x) / 1000, (y0 + y) / 1000), layer=l2.layer,
                                    texttype=l2.datatype))
        for n, k in P.SLOT_OF.items():
            top.add(gdstk.Label(f"{n}_{row}", (PITCH / 1000, (y0 + P.TRACKS[k]) / 1000), layer=l2.layer,
                                texttype=l2.datatype))
        top.add(gdstk.Label(f"VDD_{row}", (0.5, (y0 + P.HEIGHT - 290) / 1000), layer=l1.layer, texttype=l1.datatype))
    top.add(gdstk.Label("VSS", (0.5, 0.225), layer=l1.layer, texttype=l1.datatype))  # rails + substrate: one net
    lib.write_gds(str(path))
    ports = sorted({x for d in devs for x in d.nodes})
    return path, Circuit(title="* pair 2x2", subckts=[P.pair_bitcell(PITCH).subckt], devices=devs, ports=ports)


def _cell_circuit() -> Circuit:
    sub = P.pair_bitcell(PITCH).subckt
    return Circuit(title="* pair", devices=list(sub.devices), ports=list(sub.ports))


def test_area_pins_and_grid():
    r = P.pair_bitcell(PITCH)
    per_bit = r.width_nm * r.height_nm / 2 / 1e6
    assert r.height_nm == 4340 and per_bit < 14.3, per_bit          # vs 22.4 µm² for one bit per 3.42 µm row
    assert per_bit / FEATURE_UM ** 2 < 640
    assert {p.name for p in r.pins} == set(P.PORTS)
    assert len(r.subckt.devices) == 16
    # word lines on the row template's four slots, bit lines outside the track band
    assert sorted(r.slot_y.values()) == list(P.TRACKS)
    assert P.Y_BL < P.Y_RBL < P.TRACKS[0] and P.Y_BLB > P.TRACKS[-1]
    with pytest.raises(ValueError, match="pitch"):
        P.pair_bitcell(P.NATURAL_WIDTH - 10)


def test_cell_and_array_drc_lvs_clean(cell_gds, array22):
    assert_drc_lvs_clean(cell_gds, _cell_circuit())
    assert_drc_lvs_clean(*array22)


def test_lvs_catches_swapped_word_lines_and_a_missing_via(tmp_path, cell_gds):
    c = _cell_circuit()
    swap = {"WL0": "WL1", "WL1": "WL0"}
    c.devices[:] = [dataclasses.replace(d, nodes=tuple(swap.get(n, n) for n in d.nodes)) if d.name.startswith("M0")
                    else d for d in c.devices]
    assert not run_lvs(cell_gds, c).clean
    # core 1's RWL via (onto RWL1): its read port floats
    ly = db.Layout()
    ly.read(str(cell_gds))
    shapes = ly.top_cells()[0].shapes(ly.layer(*T.layer("via").spec))
    where = db.Point(P.OX[1] + P.X_RWLV, P.TRACKS[P.SLOT_OF["RWL1"]])
    hit = [s for s in shapes.each() if s.box.center() == where]
    assert len(hit) == 1
    shapes.erase(hit[0])
    ly.write(str(tmp_path / "m.gds"))
    assert not run_lvs(tmp_path / "m.gds", _cell_circuit()).clean


def test_deck_clean_on_pair_array(array22, deck):  # noqa: F811
    r = run_deck(array22[0], deck)
    assert r.clean, [(v.rule, v.count, v.locations[:2]) for v in r.violations]


def test_macro_with_pair_rows_clean_and_denser(tmp_path):
    lib = load_library(shared=True)
    p = MacroParams(8, 4, 4, 1, adc_share=2)
    assert uses_pair_rows(p, lib)
    size = {}
    for pair in (True, False):
        m = build_macro(dataclasses.replace(p, pair_rows=pair), lib)
        gds = tmp_path / f"m{pair}.gds"
        m.library.write_gds(str(gds))
        assert_drc_lvs_clean(gds, m.circuit)
        size[pair] = (m.width_um, m.height_um)
        assert m.extra["bits_per_row"] == (2 if pair else 1)
        assert m.counts["bitcell2" if pair else "bitcell"] == 32 // (2 if pair else 1)
    # 8 rows: 4 pair rows of 4.34 µm instead of 8 rows of 3.42 µm; double row-end drivers
    lib_c = {r: lib.cell(r) for r in ("bitcell", "bitcell2", "wl_driver", "wl_driver2", "in_driver", "in_driver2")}
    dh = 8 * lib_c["bitcell"].height_um - 4 * lib_c["bitcell2"].height_um
    dw = sum(lib_c[r + "2"].width_um - lib_c[r].width_um for r in ("wl_driver", "in_driver"))
    assert size[False][1] - size[True][1] == pytest.approx(dh, abs=1e-6) and dh == pytest.approx(10.0)
    assert size[True][0] - size[False][0] == pytest.approx(dw, abs=1e-6)
    # odd L: one bit per row
    assert not uses_pair_rows(MacroParams(6, 2, 3, 1), lib)


def test_user_bitcell_override_keeps_single_rows(tmp_path):
    import json
    import shutil

    src = load_library().cell("bitcell")
    for f in (src.gds, src.spice):
        shutil.copy(f, tmp_path / f.name)
    entry = json.loads((src.gds.parent / "manifest.json").read_text())["cells"][src.name]
    (tmp_path / "manifest.json").write_text(json.dumps({"technology": "sky130", "roles": {"bitcell": src.name},
                                                        "cells": {src.name: entry}}))
    assert not uses_pair_rows(MacroParams(8, 2, 4, 1), load_library(tmp_path))


def test_cli_one_bit_rows_option(tmp_path):
    from typer.testing import CliRunner

    from eda.cli import app

    outs = {}
    for flag in ("--pair-rows", "--one-bit-rows"):
        r = CliRunner().invoke(app, ["acim", "build", "--rows", "8", "--cols", "4", "--local", "4", "--adc-bits", "1",
                                     "--adc-share", "2", "--no-check", "--no-render", flag, "--out",
                                     str(tmp_path / flag)])
        assert r.exit_code == 0, r.output
        outs[flag] = r.output
    assert "2 bit(s) per row" in outs["--pair-rows"] and "1 bit(s) per row" in outs["--one-bit-rows"]


def test_deck_clean_on_pair_row_macro(tmp_path, deck):  # noqa: F811
    """The pair rows abut the double drivers and taps at the array edges and the compute cells above and
    below: a small shared-ADC macro with pair rows under the precheck deck."""
    m = build_macro(MacroParams(8, 4, 4, 1, adc_share=2), load_library(shared=True))
    assert m.extra["bits_per_row"] == 2
    gds = tmp_path / "m.gds"
    m.library.write_gds(str(gds))
    r = run_deck(gds, deck)
    assert r.clean, [(v.rule, v.count, v.locations[:2]) for v in r.violations]
