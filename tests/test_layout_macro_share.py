"""ADC sharing (a column multiplexer in front of a shared SAR ADC) and 1–8 ADC bits in the macro
template (layout/macro.py, layout/macro_shared.py): small macros are in-process DRC and LVS clean,
LVS catches a mis-wired multiplexer select, `--from-pareto` takes shared designs. Slow: the same
macros under the sky130 precheck deck."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from eda.circuit import Circuit
from eda.errors import InputError
from eda.layout.build import params_from_pareto
from eda.layout.library import load_library
from eda.layout.macro import MacroParams, build_macro
from eda.verify.drc import run_drc
from eda.verify.lvs import run_lvs

LIB = load_library()


def _build(tmp_path, p: MacroParams):
    m = build_macro(p, LIB)
    gds = tmp_path / "m.gds"
    m.library.write_gds(str(gds))
    return m, gds


@pytest.mark.parametrize("h, w, l, b, s", [(8, 4, 2, 2, 2), (8, 4, 2, 1, 4), (32, 2, 1, 5, 1)])
def test_shared_and_wide_adc_macros_are_clean(tmp_path, h, w, l, b, s):
    """S columns per comparator (W/S comparators, W multiplexers, B dac switches per column) and
    5 bits (DAC line 4 on met4): DRC and LVS clean."""
    m, gds = _build(tmp_path, MacroParams(h, w, l, b, s))
    assert m.counts["comparator"] == w // s and m.counts["sar_bit"] == b * w // s
    assert m.counts["col_mux"] == (w if s > 1 else 0) and m.counts["dac_switch"] == b * w
    d = run_drc(gds)
    assert d.clean, [(v.rule, v.count, v.locations[:2]) for v in d.violations]
    r = run_lvs(gds, m.circuit)
    assert r.clean, (r.mismatches[:5], r.extraction_errors[:5])
    ports = set(next(x for x in m.circuit.subckts if x.name == m.name).ports)
    assert {f"SEL_{i}" for i in range(s)} <= ports if s > 1 else not any(q.startswith("SEL_") for q in ports)
    assert {f"BIT_{k}_{g}" for k in range(b) for g in range(w // s)} <= ports


def test_eight_bit_column_lvs_clean(tmp_path):
    """8 bits: 256 compute caps in 2**8 groups, DAC lines 4..7 on met4 over lines 0..3: LVS clean
    (DRC and the precheck deck in the slow test)."""
    m, gds = _build(tmp_path, MacroParams(256, 1, 1, 8))
    assert m.groups == [128, 64, 32, 16, 8, 4, 2, 1, 1]
    r = run_lvs(gds, m.circuit)
    assert r.clean, (r.mismatches[:5], r.extraction_errors[:5])


def swapped(m, prefix: str, a: str, b: str) -> Circuit:
    """``m``'s schematic with nets ``a`` and ``b`` swapped on the top cell's instances named ``prefix*``."""
    top = next(x for x in m.circuit.subckts if x.name == m.name)
    swap = {a: b, b: a}
    devs = [replace(d, nodes=tuple(swap.get(n, n) for n in d.nodes)) if d.name.startswith(prefix) else d
            for d in top.devices]
    return Circuit(title=m.circuit.title, subckts=[x if x is not top else replace(top, devices=devs)
                                                   for x in m.circuit.subckts])


def test_lvs_catches_swapped_multiplexer_selects(tmp_path):
    """Mutation: the schematic selects column 0 with SEL_1 and column 1 with SEL_0 — LVS fails."""
    m, gds = _build(tmp_path, MacroParams(8, 2, 2, 2, 2))
    assert run_lvs(gds, m.circuit).clean
    assert not run_lvs(gds, swapped(m, "XMUX_", "SEL_0", "SEL_1")).clean


def test_dac_switches_take_their_column_select(tmp_path):
    """Shared ADCs: each column's DAC switches are gated by its own SEL (bit 0: dac_msb, which holds
    VREFP while the column waits; bits k >= 1: dac_sel, VREFN), so a waiting column holds the
    MSB-trial pattern. Mutation: a schematic with the DAC switches of columns 0 and 1 on each
    other's select fails LVS (the layout's SEL risers are checked, not just the multiplexer's)."""
    m, gds = _build(tmp_path, MacroParams(8, 2, 1, 3, 2))
    top = next(x for x in m.circuit.subckts if x.name == m.name)
    models = {x.name.lower(): x for x in m.circuit.subckts}
    dacs = [d for d in top.devices if d.name.startswith("XDAC_")]
    assert len(dacs) == 6
    for d in dacs:
        _, k, j = d.name.split("_")
        cell = models[d.model.lower()]
        assert cell.name == ("acim_dac_msb" if k == "0" else "acim_dac_sel"), d
        assert dict(zip(cell.ports, d.nodes, strict=True))["SEL"] == f"SEL_{j}", d
    assert run_lvs(gds, m.circuit).clean
    assert not run_lvs(gds, swapped(m, "XDAC_", "SEL_0", "SEL_1")).clean
    one = build_macro(MacroParams(8, 1, 1, 3), LIB)  # one ADC per column: the ungated switch, no SEL
    assert {d.model for d in next(x for x in one.circuit.subckts if x.name == one.name).devices
            if d.name.startswith("XDAC_")} == {"acim_dac_switch"}


def test_share_and_bits_limits_are_named():
    with pytest.raises(InputError, match="adc_share"):
        MacroParams(8, 6, 2, 2, 4).validate(8, 8)  # 4 does not divide 6
    with pytest.raises(InputError, match="adc_share"):
        MacroParams(8, 16, 2, 2, 16).validate(8, 8)  # beyond the template's max_adc_share
    with pytest.raises(InputError, match="adc_bits"):
        MacroParams(512, 1, 1, 9).validate(8, 8)
    assert LIB.template["max_adc_bits"] == 8 and LIB.template["max_adc_share"] == 8


def test_from_pareto_takes_shared_designs(tmp_path):
    designs = [{"index": 0, "params": {"rows": 8, "cols": 4, "local_array": 2, "adc_bits": 2, "adc_share": 2}},
               {"index": 1, "params": {"rows": 8, "cols": 4, "local_array": 2, "adc_bits": 2, "adc_share": "x"}}]
    f = tmp_path / "pareto.json"
    f.write_text(json.dumps(designs))
    p = params_from_pareto(f, 0)
    assert (p.rows, p.cols, p.local, p.adc_bits, p.adc_share) == (8, 4, 2, 2, 2)
    with pytest.raises(InputError, match="adc_share"):
        params_from_pareto(f, 1)


@pytest.mark.slow
@pytest.mark.parametrize("h, w, l, b, s", [(8, 4, 2, 2, 2), (32, 8, 1, 5, 8), (256, 1, 1, 8, 1)])
def test_shared_and_wide_adc_macros_precheck_clean(tmp_path, h, w, l, b, s):
    from conftest import shared_root

    from eda.verify.deck import run_deck

    deck = shared_root() / "decks" / "sky130A_mr.drc"
    if not (shutil.which("klayout") and deck.is_file()):
        pytest.skip("the klayout binary or ../shared/decks/sky130A_mr.drc is absent")
    m, gds = _build(tmp_path, MacroParams(h, w, l, b, s))
    d = run_drc(gds)
    assert d.clean, [(v.rule, v.count, v.locations[:2]) for v in d.violations]
    p = run_deck(gds, deck)
    assert p.clean, [(v.rule, v.count, v.locations[:2]) for v in p.violations]
