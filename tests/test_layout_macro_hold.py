"""The shared comparator's input fix drawn (layout/macro_hold.py): from 4 ADC bits on, a group has a
MIM hold capacitor on MUX_s (bottom plate VSS) and its output stage's reset off (CLR on VSS), in the
layout and in the schematic; DRC and LVS clean, and LVS fails when the schematic loses the capacitor
or puts the reset back on CLR; our DRC flags met3 near the hold capacitor's bottom plate. Slow: the
sky130 precheck deck (tests/test_layout_macro_share.py has the 32x8 S = 8 5-bit macro)."""

from __future__ import annotations

import shutil
from dataclasses import replace

import gdstk
import pytest
from test_layout_macro_share import _build

from eda.circuit import Circuit
from eda.layout.library import load_library
from eda.layout.macro import MacroParams, build_macro
from eda.layout.macro_hold import HOLD_MIN_BITS, HOLD_SIDE, hold_side
from eda.verify.drc import run_drc
from eda.verify.lvs import run_lvs

LIB = load_library()


def _top(m):
    return next(x for x in m.circuit.subckts if x.name == m.name)


def _with(m, devices) -> Circuit:
    top = _top(m)
    return Circuit(title=m.circuit.title, subckts=[x if x is not top else replace(top, devices=devices)
                                                   for x in m.circuit.subckts])


def _cbuf_conn(m, name: str = "XCBUF_0") -> dict[str, str]:
    ports = next(x.ports for x in m.circuit.subckts if x.name.lower() == "acim_cmp_buf")
    dev = next(d for d in _top(m).devices if d.name == name)
    return dict(zip(ports, dev.nodes, strict=True))


def test_hold_capacitor_size_follows_the_column():
    """A quarter of a column (unit 1 µm MIM): N = 16 -> 2.15 µm, N >= 32 -> the slot's 3.01 µm (~20 fF
    in the model), none below 4 bits."""
    assert HOLD_MIN_BITS == 4
    assert hold_side(32, 3) == 0 and hold_side(16, 4) == 2150
    assert hold_side(32, 5) == hold_side(256, 8) == HOLD_SIDE == 3010
    assert 2 * (HOLD_SIDE / 1000 + 0.15) ** 2 == pytest.approx(20.0, rel=0.01)


def test_five_bit_group_has_the_fix_drawn_and_lvs_checks_it(tmp_path):
    """32x2, one 5-bit SAR for S = 2 columns: XCHOLD_0 (VSS, MUX_0) 3.01 µm square and XCBUF_0's CLR
    on VSS; DRC and LVS clean. Mutations: the schematic without the capacitor, and with the output
    stage's reset back on CLR, both fail LVS."""
    m, gds = _build(tmp_path, MacroParams(32, 2, 1, 5, 2))
    cap = next(d for d in _top(m).devices if d.name.startswith("XCHOLD"))
    assert cap.name == "XCHOLD_0" and cap.nodes == ("VSS", "MUX_0")
    assert (cap.params["W"], cap.params["L"]) == (3.01, 3.01)
    assert _cbuf_conn(m)["CLR"] == "VSS" and _cbuf_conn(m)["CL"] == "MUX_0"
    d = run_drc(gds)
    assert d.clean, [(v.rule, v.count, v.locations[:2]) for v in d.violations]
    r = run_lvs(gds, m.circuit)
    assert r.clean, (r.mismatches[:5], r.extraction_errors[:5])
    no_cap = [x for x in _top(m).devices if x.name != "XCHOLD_0"]
    assert not run_lvs(gds, _with(m, no_cap)).clean
    ports = next(x.ports for x in m.circuit.subckts if x.name.lower() == "acim_cmp_buf")
    reset = [replace(x, nodes=tuple("CLR" if q == "CLR" else n for q, n in zip(ports, x.nodes, strict=True)))
             if x.name == "XCBUF_0" else x for x in _top(m).devices]
    assert not run_lvs(gds, _with(m, reset)).clean


def test_four_bit_group_jogs_to_the_mux_line_and_three_bits_keep_the_reset(tmp_path):
    """N = 16 (4 bits): the 2.15 µm capacitor's top plate reaches MUX_0 over a met4 jog, LVS clean.
    3 bits: no capacitor, the output
    stage's reset on CLR (the circuit the 3-bit corner runs measured)."""
    m, gds = _build(tmp_path, MacroParams(16, 2, 1, 4, 2))
    cap = next(d for d in _top(m).devices if d.name.startswith("XCHOLD"))
    assert cap.params["W"] == 2.15 and _cbuf_conn(m)["CLR"] == "VSS"
    r = run_lvs(gds, m.circuit)
    assert r.clean, (r.mismatches[:5], r.extraction_errors[:5])
    three = build_macro(MacroParams(16, 2, 2, 3, 2), LIB)
    assert not any(d.name.startswith("XCHOLD") for d in _top(three).devices)
    assert _cbuf_conn(three)["CLR"] == "CLR"


def test_drc_flags_met3_near_the_hold_plate(tmp_path):
    """Mutation: a met3 strip 1 µm from the hold capacitor's bottom plate (capm.2b_a asks 1.2) -> our
    DRC reports capm.2b_a; the layout as built is clean."""
    m, gds = _build(tmp_path, MacroParams(32, 2, 1, 5, 2))
    top = next(c for c in m.library.cells if c.name == m.name)
    capm = [p for p in top.polygons if (p.layer, p.datatype) == (89, 44)]
    assert len(capm) == 1, "one hold capacitor drawn in the top cell"
    (x0, y0), (x1, y1) = capm[0].bounding_box()
    plate_right = x1 + 0.14
    top.add(gdstk.rectangle((plate_right + 1.0, y0), (plate_right + 1.3, y1), layer=70, datatype=20))
    bad = tmp_path / "bad.gds"
    m.library.write_gds(str(bad))
    assert run_drc(gds).clean
    assert "capm.2b_a" in {v.rule for v in run_drc(bad).violations}


@pytest.mark.slow
@pytest.mark.parametrize("h, w, l, b, s", [(32, 2, 1, 5, 2), (16, 2, 1, 4, 2)])
def test_hold_groups_precheck_clean(tmp_path, h, w, l, b, s):
    from conftest import shared_root

    from eda.verify.deck import run_deck

    deck = shared_root() / "decks" / "sky130A_mr.drc"
    if not (shutil.which("klayout") and deck.is_file()):
        pytest.skip("the klayout binary or ../shared/decks/sky130A_mr.drc is absent")
    _, gds = _build(tmp_path, MacroParams(h, w, l, b, s))
    p = run_deck(gds, deck)
    assert p.clean, [(v.rule, v.count, v.locations[:2]) for v in p.violations]
