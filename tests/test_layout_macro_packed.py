"""Shared ADCs that save layout area (layout/macro_packed.py, the shared-ADC cell library): the
column pitch is set by the per-column cells only, the SAR register of a group is packed across its
S columns. Small macros are in-process DRC and LVS clean and smaller than the stacked layout on the
default library; LVS catches a swapped sequencer line; the shared library is refused for S = 1.
Slow: a packed macro under the sky130 precheck deck."""

from __future__ import annotations

import json

import pytest

from eda.errors import InputError
from eda.layout import macro_packed
from eda.layout.library import SHARED_ONLY_ROLES, load_library, write_library
from eda.layout.macro import MacroParams, build_macro
from eda.verify.drc import run_drc
from eda.verify.lvs import run_lvs

LIB = load_library()
SHARED = load_library(shared=True)


def _build(tmp_path, p: MacroParams, lib=SHARED):
    m = build_macro(p, lib)
    gds = tmp_path / "m.gds"
    m.library.write_gds(str(gds))
    return m, gds


def test_shared_library_pitch_and_cells():
    """The shared library's pitch is the per-column cells' (narrower than the default's, which the
    comparator, output stage and result flip-flop set); the per-ADC cells keep wider natural widths."""
    p, p0 = SHARED.cell("bitcell").width_um, LIB.cell("bitcell").width_um
    assert p < p0
    for role in ("compute", "dac_switch", "col_mux"):
        assert SHARED.cell(role).width_um == p
    assert max(SHARED.cell(r).width_um for r in SHARED_ONLY_ROLES) > p
    assert SHARED.cell("compute").pin("CL").x_um == SHARED.cell("comparator").pin("INP").x_um
    assert SHARED.template["column_pitch_um"] == p and SHARED.template["min_adc_share"] == 2


def test_shipped_shared_library_is_regenerated_identically(tmp_path):
    a = json.loads((write_library(tmp_path / "lib", shared=True) / "manifest.json").read_text())
    assert a == json.loads((SHARED.path / "manifest.json").read_text())


def test_packable():
    assert macro_packed.packable(8, 3) and macro_packed.packable(8, 2) and macro_packed.packable(4, 1)
    assert not macro_packed.packable(8, 4)  # 5 sequencer stages > 4 odd slots
    assert not macro_packed.packable(2, 1) and not macro_packed.packable(1, 1) and not macro_packed.packable(4, 2)
    assert macro_packed._slots(3, 0) == [0] and macro_packed._slots(3, 1) == [1]  # odd S: no overhang clash


@pytest.mark.parametrize("h, w, l, b, s", [(8, 8, 2, 2, 8), (8, 4, 2, 1, 4)])
def test_packed_macros_are_clean_and_smaller(tmp_path, h, w, l, b, s):
    """Packed SAR register on the shared library: DRC and LVS clean; smaller than the stacked
    layout (one row per SAR cell in the last column) on the default library."""
    p = MacroParams(h, w, l, b, s)
    m, gds = _build(tmp_path, p)
    d = run_drc(gds)
    assert d.clean, [(v.rule, v.count, v.locations[:2]) for v in d.violations]
    r = run_lvs(gds, m.circuit)
    assert r.clean, (r.mismatches[:5], r.extraction_errors[:5])
    assert m.extra["column_pitch_um"] == SHARED.cell("bitcell").width_um
    stacked = build_macro(p, LIB)
    assert m.width_um < stacked.width_um
    ratio = m.width_um * m.height_um / (stacked.width_um * stacked.height_um)
    assert ratio < 0.95, ratio


def test_packed_rows_fewer_than_stacked(monkeypatch):
    """Same library, packed vs stacked: the packed ADC is lower (64 columns, S = 8, 3 bits)."""
    p = MacroParams(8, 16, 1, 3, 8)
    packed = build_macro(p, SHARED)
    monkeypatch.setattr(macro_packed, "packable", lambda S, B: False)
    stacked = build_macro(p, SHARED)
    assert packed.width_um == stacked.width_um and packed.height_um < stacked.height_um - 15


def test_lvs_catches_swapped_sequencer_lines(tmp_path):
    """Mutation: the schematic clocks result bit 0 with V_2 and bit 1 with V_1 (the packed
    channel's CK stubs swapped) — LVS fails."""
    from test_layout_macro_share import swapped

    m, gds = _build(tmp_path, MacroParams(8, 8, 2, 2, 8))
    assert run_lvs(gds, m.circuit).clean
    assert not run_lvs(gds, swapped(m, "XSAR_", "V_1_0", "V_2_0")).clean


def test_shared_library_refused_for_one_adc_per_column():
    with pytest.raises(InputError, match="adc_share >= 2"):
        build_macro(MacroParams(8, 2, 2, 2, 1), SHARED)


@pytest.mark.slow
def test_packed_macro_precheck_clean(tmp_path, shared):
    """The packed 16x8, S = 8, 3-bit macro under the sky130 precheck deck: 0 violations."""
    import shutil

    from conftest import shared_path

    from eda.verify.deck import run_deck

    deck = shared_path(shared, "decks/sky130A_mr.drc")
    if shutil.which("klayout") is None:
        pytest.skip("the klayout binary is not installed (apt-get install klayout)")
    _, gds = _build(tmp_path, MacroParams(16, 8, 2, 3, 8))
    r = run_deck(gds, deck)
    assert r.count == 0, [(v.rule, v.count) for v in r.violations]
