"""ACIM analytical model: validation, every formula against a hand or brute-force reference."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.stats import binom

from eda.errors import InputError
from eda.generators.acim_model import (
    ROLES,
    AcimParams,
    AcimTech,
    CellSizes,
    ParamError,
    area_um2,
    cell_counts,
    check_design,
    conventional_sar_energy_units,
    conversion_mse,
    evaluate,
    evaluate_batch,
    mvm_error_gain,
    mvm_signal_variance,
    two_adic,
)
from eda.generators.acim_sim import dac_groups

SIZES = {"bitcell": (2.5, 3.0), "compute": (2.5, 4.0), "wl_driver": (6.0, 3.0), "in_driver": (5.0, 3.0),
         "comparator": (10.0, 20.0), "cmp_buf": (10.0, 5.0), "col_mux": (2.5, 6.0), "sar_bit": (10.0, 8.0),
         "sar_seq": (10.0, 7.0),
         "dac_switch": (2.5, 5.0), "tap": (2.5, 1.0)}


@pytest.fixture
def cells() -> CellSizes:
    return CellSizes(SIZES, technology="test")


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("kw, field", [
    (dict(rows=256, cols=64, local_array=3, adc_bits=4), "local_array"),  # 256 % 3
    (dict(rows=256, cols=64, local_array=4, adc_bits=7), "adc_bits"),  # 64 caps hold 6 bits
    (dict(rows=96, cols=64, local_array=1, adc_bits=6), "adc_bits"),  # 96 = 3·32: 5 bits
    (dict(rows=-8, cols=64, local_array=1, adc_bits=1), "rows"),
    (dict(rows=8, cols=0, local_array=1, adc_bits=1), "cols"),
    (dict(rows=8, cols=8, local_array=8, adc_bits=1), "local_array"),  # 1 cap per column
    (dict(rows=8, cols=8, local_array=2, adc_bits=1, weight_bits=3), "weight_bits"),
    (dict(rows=8, cols=8, local_array=2, adc_bits=1, adc_share=3), "adc_share"),
    (dict(rows=8, cols=8, local_array=2, adc_bits=1, vdd=-1.0), "vdd"),
    (dict(rows=8.0, cols=8, local_array=2, adc_bits=1), "rows"),
])
def test_params_validation_names_field(kw, field):
    with pytest.raises(ParamError) as e:
        AcimParams(**kw)
    assert e.value.field == field
    assert f"'{field}'" in str(e.value)


def test_params_valid_and_roundtrip():
    p = AcimParams(rows=96, cols=64, local_array=1, adc_bits=5)
    assert AcimParams.from_dict(p.to_dict()) == p
    assert AcimParams.from_dict({**p.to_dict(), "rows": 96.0}) == p  # JSON floats accepted
    with pytest.raises(ParamError, match="unknown parameter"):
        AcimParams.from_dict({**p.to_dict(), "banana": 1})


def test_tech_validation():
    with pytest.raises(ParamError, match="'cap_mismatch_pct'"):
        AcimTech(cap_mismatch_pct=-1)
    with pytest.raises(ParamError, match="'p_input'"):
        AcimTech(p_input=1.5)
    with pytest.raises(ParamError, match="'v_th'"):
        AcimTech(v_th=2.0)


def test_cell_sizes_validation():
    bad = dict(SIZES)
    del bad["comparator"]
    with pytest.raises(ParamError, match="comparator"):
        CellSizes(bad)
    with pytest.raises(ParamError, match="positive"):
        CellSizes({**SIZES, "tap": (0.0, 1.0)})


def test_two_adic():
    assert two_adic(48) == 4 and two_adic(1) == 0 and two_adic(256) == 8
    assert two_adic(np.array([2, 12, 7])).tolist() == [1, 2, 0]


# --- cell library ----------------------------------------------------------------------------


@dataclass
class _Info:
    name: str
    width_um: float
    height_um: float
    cap_fF: float | None = None


class _Lib:
    """Duck-typed CellLibrary (``.cell(role)``)."""

    def __init__(self, sizes, cap=None):
        self.sizes, self.cap = sizes, cap

    def cell(self, role):
        w, h = self.sizes[role]
        return _Info(f"c_{role}", w, h, self.cap if role == "compute" else None)


def test_area_from_library_cells(cells):
    p = AcimParams(rows=16, cols=8, local_array=4, adc_bits=2, adc_share=2)
    tech = AcimTech()
    r = evaluate(p, cells, tech, check=False)
    counts = {"bitcell": 128, "compute": 32, "wl_driver": 16, "in_driver": 16, "comparator": 4, "cmp_buf": 4,
              "col_mux": 8, "sar_bit": 8, "sar_seq": 12, "dac_switch": 16, "tap": 32}
    assert r.counts == counts
    by_hand = sum(n * SIZES[role][0] * SIZES[role][1] for role, n in counts.items()) / tech.area_utilisation
    assert r.metrics["area_mm2"] == pytest.approx(by_hand * 1e-6, rel=1e-12)
    assert r.metrics["f2_per_bit"] == pytest.approx(by_hand / 128 / tech.feature_um ** 2, rel=1e-12)


def test_different_library_changes_area(cells):
    p = AcimParams(rows=64, cols=32, local_array=4, adc_bits=4)
    a0 = evaluate(p, cells, check=False).metrics
    big = CellSizes.from_library(_Lib({**SIZES, "bitcell": (3.0, 3.0)}))
    a1 = evaluate(p, big, check=False).metrics
    d = (3.0 * 3.0 - 2.5 * 3.0) * 64 * 32 / AcimTech().area_utilisation * 1e-6
    assert a1["area_mm2"] - a0["area_mm2"] == pytest.approx(d, rel=1e-9)
    # a wider bitcell lengthens the word lines: more input-line energy
    assert a1["energy_per_op_fJ"] > a0["energy_per_op_fJ"]
    # a taller bitcell lengthens the compute line: more parasitic, smaller unit step, lower SNR
    tall = CellSizes.from_library(_Lib({**SIZES, "bitcell": (2.5, 6.0)}))
    a2 = evaluate(p, tall, check=False).metrics
    assert a2["c_total_fF"] > a0["c_total_fF"] and a2["snr_db"] < a0["snr_db"]


def test_library_cap_overrides_param():
    lib = CellSizes.from_library(_Lib(SIZES, cap=5.0))
    assert lib.cap_fF == 5.0
    p = AcimParams(rows=64, cols=32, local_array=4, adc_bits=4, c_unit_fF=1.0)
    m = evaluate(p, lib, check=False).metrics
    assert m["c_unit_fF"] == 5.0
    m1 = evaluate(p, CellSizes(SIZES), check=False).metrics
    assert m1["c_unit_fF"] == 1.0 and m1["e_mac_col_fJ"] < m["e_mac_col_fJ"]


def test_cell_counts_roles():
    c = cell_counts(256, 64, 4, 6, 2, AcimTech())
    assert set(c) == set(ROLES)
    assert c["compute"] == 64 * 64 and c["comparator"] == 32 and c["sar_bit"] == 6 * 32
    assert c["sar_seq"] == 7 * 32  # one sequencer stage per bit plus the end-of-conversion stage


# --- formulas --------------------------------------------------------------------------------


def test_conventional_sar_energy():
    # Zhu et al., JSSC 2010: conventional switching averages 1363.3 C·V² at 10 bits
    assert conventional_sar_energy_units(10) == pytest.approx(1363.33, abs=0.01)
    assert conventional_sar_energy_units(1) == pytest.approx(1.0)
    assert conventional_sar_energy_units(np.array([1, 10])).tolist() == pytest.approx([1.0, 1363.333984375])


def _recon_no_noise(N, b, k):
    d = N // 2 ** b
    code = np.minimum(np.floor((k + 0.5) / d), 2 ** b - 1)
    return code * d + (d - 1) / 2


@pytest.mark.parametrize("N, b", [(4, 2), (16, 4), (64, 4), (48, 3), (256, 2)])
def test_conversion_mse_noise_free_equals_exact_quantiser(N, b):
    k = np.arange(N + 1)
    exact = (binom.pmf(k, N, 0.25) * (_recon_no_noise(N, b, k) - k) ** 2).sum()
    assert conversion_mse(N, b, 0.0, 1e-12, 0.25)[0] == pytest.approx(exact, rel=1e-6, abs=1e-15)
    if b == two_adic(N):  # Δ = 1: only k = N (clipped to N−1) is wrong
        assert exact == pytest.approx(0.25 ** N, rel=1e-9)


def _sar_monte_carlo(N, b, s_mm, s_noise, s_off, cols, vec, rng):
    groups = dac_groups(N, b)
    d = N // 2 ** b
    err = []
    for _ in range(cols):
        eps = rng.normal(0, s_mm, N)
        off = rng.normal(0, s_off)
        x = (rng.random((vec, N)) < 0.25).astype(float)
        mac = x @ (1 + eps)
        code, dac = np.zeros(vec, int), np.zeros(vec)
        for g in range(b):
            tr = dac + (1 + eps[groups[g]]).sum()
            keep = mac - tr + 0.5 + off + rng.normal(0, s_noise, vec) >= 0
            dac = np.where(keep, tr, dac)
            code += keep * 2 ** (b - 1 - g)
        err.append(code * d + (d - 1) / 2 - x.sum(1))
    return float(np.mean(np.concatenate(err) ** 2))


@pytest.mark.parametrize("N, b, s_mm, s_noise, s_off", [
    (16, 4, 0.15, 0.0, 0.0),  # mismatch
    (64, 6, 0.05, 0.2, 0.2),  # mixed
    (32, 5, 0.0, 0.4, 0.0),  # comparator noise
    (64, 4, 0.1, 0.3, 0.3),  # quantisation + everything
])
def test_conversion_mse_matches_sar_monte_carlo(N, b, s_mm, s_noise, s_off):
    rng = np.random.default_rng(7)
    mc = _sar_monte_carlo(N, b, s_mm, s_noise, s_off, cols=1500, vec=16, rng=rng)
    model = conversion_mse(N, b, s_mm, s_noise ** 2 + s_off ** 2, 0.25)[0]
    assert abs(10 * math.log10(mc / model)) < 0.5


def test_mvm_signal_variance_exact_enumeration():
    for Bx, Bw, px, pw in [(1, 1, 0.5, 0.5), (2, 3, 0.5, 0.5), (3, 2, 0.3, 0.7)]:
        vals, probs = [], []
        for xb in itertools.product([0, 1], repeat=Bx):
            for wb in itertools.product([0, 1], repeat=Bw):
                X = sum(2 ** a * v for a, v in enumerate(xb))
                W = sum(2 ** a * v for a, v in enumerate(wb))
                pr = np.prod([px if v else 1 - px for v in xb]) * np.prod([pw if v else 1 - pw for v in wb])
                vals.append(X * W)
                probs.append(pr)
        vals, probs = np.array(vals, float), np.array(probs)
        var1 = (probs * vals ** 2).sum() - (probs * vals).sum() ** 2
        assert mvm_signal_variance(7, Bx, Bw, px, pw) == pytest.approx(7 * var1, rel=1e-12)


def test_mvm_error_gain_explicit_sum():
    for L, Bx, Bw in [(1, 1, 1), (4, 4, 4), (2, 3, 5)]:
        s = L * sum(4 ** (a + b) for a in range(Bx) for b in range(Bw))
        assert mvm_error_gain(L, Bx, Bw) == pytest.approx(s)


def test_snr_one_bit_equals_conversion_snr(cells):
    # Bx = Bw = 1 and L = 1: the dot product is one conversion
    m = evaluate(AcimParams(rows=64, cols=8, local_array=1, adc_bits=6, input_bits=1, weight_bits=1),
                 cells, check=False).metrics
    assert m["snr_db"] == pytest.approx(m["snr_conv_db"], abs=1e-9)


def test_throughput_and_energy_by_hand(cells):
    tech = AcimTech()
    p = AcimParams(rows=64, cols=32, local_array=4, adc_bits=4, input_bits=2, weight_bits=2, adc_share=2,
                   vdd=1.5, f_clk_hz=50e6)
    m = evaluate(p, cells, tech, check=False).metrics
    t_cycle = (tech.n_mac_cycles + 2 * (4 + tech.n_conv_extra_cycles)) / 50e6
    t_mvm = 4 * 2 * t_cycle
    ops = 2 * 64 * 32 / 2
    assert m["t_mvm_ns"] == pytest.approx(t_mvm * 1e9)
    assert m["tops"] == pytest.approx(ops / t_mvm / 1e12)
    assert m["tops_1b"] == pytest.approx(m["tops"] * 4)
    cu = 2e-15
    e_mac = 0.25 * 16 * cu * 1.5 ** 2
    assert m["e_mac_col_fJ"] == pytest.approx(e_mac * 1e15)
    e_conv = (conventional_sar_energy_units(4) * (16 * cu / 16) * 1.5 ** 2
              + 4 * (tech.e_cmp_fJ + tech.e_sar_bit_fJ) * 1e-15 * (1.5 / 1.8) ** 2)
    assert m["e_conv_col_fJ"] == pytest.approx(e_conv * 1e15)
    pitch = 2.5
    e_row = 0.5 * (tech.c_wire_fF_per_um * 32 * pitch + 32 * tech.c_gate_fF) * 1e-15 * 1.5 ** 2
    e_leak = 64 * 32 * tech.p_leak_bitcell_W * (1.5 / 1.8) * t_mvm
    e_mvm = 4 * 2 * (32 * (e_mac + e_conv) + 16 * e_row) + e_leak
    assert m["energy_mvm_pJ"] == pytest.approx(e_mvm * 1e12)
    assert m["energy_per_op_fJ"] == pytest.approx(e_mvm / ops * 1e15)
    assert m["tops_per_w"] == pytest.approx(ops / e_mvm / 1e12)


def test_noise_terms_by_hand(cells):
    tech = AcimTech()
    p = AcimParams(rows=32, cols=8, local_array=2, adc_bits=4, vdd=1.2)
    m = evaluate(p, cells, tech, check=False).metrics
    l_col = 32 * 3.0 + 16 * 4.0
    c_tot = 16 * 2e-15 + (tech.c_wire_fF_per_um * l_col + 16 * tech.c_top_junction_fF) * 1e-15
    v_u = 1.2 * 2e-15 / c_tot
    assert m["c_total_fF"] == pytest.approx(c_tot * 1e15)
    assert m["var_thermal"] == pytest.approx(1.380649e-23 * 300 / c_tot / v_u ** 2)
    assert m["var_comparator"] == pytest.approx((0.5e-3 ** 2 + 2e-3 ** 2) / v_u ** 2)
    mse = conversion_mse(16, 4, 0.01 / math.sqrt(2), m["var_thermal"] + m["var_comparator"], 0.25)[0]
    assert m["mse_conv"] == pytest.approx(mse)


def test_monotone_trends(cells):
    base = AcimParams(rows=256, cols=64, local_array=4, adc_bits=6, f_clk_hz=50e6)
    m = evaluate(base, cells, check=False).metrics
    hi_v = evaluate(base.replace(vdd=1.2), cells, check=False).metrics
    assert hi_v["snr_db"] < m["snr_db"] and hi_v["energy_per_op_fJ"] < m["energy_per_op_fJ"]
    big_l = evaluate(base.replace(local_array=16, adc_bits=4), cells, check=False).metrics
    assert big_l["area_mm2"] < m["area_mm2"] and big_l["tops"] < m["tops"]
    share = evaluate(base.replace(adc_share=4), cells, check=False).metrics
    assert share["area_mm2"] < m["area_mm2"] and share["tops"] < m["tops"]
    fewer_bits = evaluate(base.replace(adc_bits=3), cells, check=False).metrics
    assert fewer_bits["snr_db"] < m["snr_db"] and fewer_bits["tops"] > m["tops"]


def test_clock_limit(cells):
    p = AcimParams(rows=64, cols=8, local_array=1, adc_bits=6, vdd=1.2, f_clk_hz=1e9)
    with pytest.raises(ParamError) as e:
        check_design(p, cells)
    assert e.value.field == "f_clk_hz"
    fmax = evaluate(p, cells, check=False).metrics["f_max_hz"]
    evaluate(p.replace(f_clk_hz=fmax * 0.99), cells)  # within the limit: fine
    assert evaluate(p.replace(vdd=1.8), cells, check=False).metrics["f_max_hz"] > fmax


def test_batch_equals_single(cells):
    rng = np.random.default_rng(0)
    L = rng.choice([1, 2, 4, 8], 20)
    b = np.minimum(rng.integers(1, 7, 20), two_adic(128 // L))
    S = rng.choice([1, 2, 4], 20)
    vdd = rng.uniform(1.2, 1.8, 20)
    f = rng.uniform(10e6, 100e6, 20)
    batch = evaluate_batch(128, 32, L, b, 3, 2, S, vdd, f, 2.0, cells)
    for i in range(20):
        one = evaluate(AcimParams(128, 32, int(L[i]), int(b[i]), 3, 2, int(S[i]), float(vdd[i]), float(f[i])),
                       cells, check=False).metrics
        for k, v in one.items():
            assert batch[k][i] == pytest.approx(v, rel=1e-12), k


def test_area_function_sums_roles(cells):
    tech = AcimTech(area_utilisation=1.0)
    counts = {r: np.array([1]) for r in ROLES}
    assert area_um2(counts, cells, tech)[0] == pytest.approx(sum(w * h for w, h in SIZES.values()))


# --- the layout issue's cell library (eda.layout.library) -----------------------------------


def _user_library(folder, cells: dict, roles: dict | None = None, technology: str = "sky130"):
    """A user cell-library folder: manifest.json plus (placeholder) GDS/SPICE files per cell."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name, extra in cells.items():
        (folder / f"{name}.gds").write_bytes(b"")
        (folder / f"{name}.spice").write_text(f".subckt {name}\n.ends\n")
        entries[name] = {"gds": f"{name}.gds", "spice": f"{name}.spice", "pins": [], **extra}
    manifest = {"technology": technology, "roles": roles or {}, "cells": entries}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_default_library_sizes_drive_the_area():
    import json

    from eda.generators.acim_model import load_cell_sizes
    from eda.layout.library import default_library_path

    cells = load_cell_sizes()
    manifest = json.loads((default_library_path() / "manifest.json").read_text())
    for role, name in manifest["roles"].items():
        c = manifest["cells"][name]
        if role in ROLES:  # (the shared-ADC DAC-switch variants only set held_waiting_lines)
            assert cells.sizes[role] == (c["width_um"], c["height_um"])
    assert cells.held_waiting_lines
    assert cells.technology == "sky130"
    p = AcimParams(rows=64, cols=16, local_array=4, adc_bits=4)
    r = evaluate(p, cells, check=False)
    by_hand = sum(n * cells.area(role) for role, n in r.counts.items()) / AcimTech().area_utilisation
    assert r.metrics["area_mm2"] == pytest.approx(by_hand * 1e-6)


def test_user_library_changes_the_answer(tmp_path):
    from eda.generators.acim_model import load_cell_sizes

    default = load_cell_sizes()
    w, h = default.sizes["bitcell"]
    folder = _user_library(tmp_path / "lib", {"big_bit": {"width_um": w * 2, "height_um": h}},
                           roles={"bitcell": "big_bit"})
    user = load_cell_sizes(folder)
    assert user.sizes["bitcell"] == (w * 2, h) and user.sizes["compute"] == default.sizes["compute"]
    p = AcimParams(rows=64, cols=16, local_array=4, adc_bits=4)
    a0 = evaluate(p, default, check=False).metrics["area_mm2"]
    a1 = evaluate(p, user, check=False).metrics["area_mm2"]
    assert a1 - a0 == pytest.approx(w * h * 64 * 16 / AcimTech().area_utilisation * 1e-6, rel=1e-9)


def test_user_library_cap_fF_is_used(tmp_path):
    from eda.generators.acim_model import load_cell_sizes

    default = load_cell_sizes()
    w, h = default.sizes["compute"]
    folder = _user_library(tmp_path / "lib", {"cap_cell": {"width_um": w, "height_um": h, "cap_fF": 7.5}},
                           roles={"compute": "cap_cell"})
    cells = load_cell_sizes(folder)
    assert cells.cap_fF == 7.5
    m = evaluate(AcimParams(rows=64, cols=16, local_array=4, adc_bits=4, c_unit_fF=1.0), cells, check=False)
    assert m.metrics["c_unit_fF"] == 7.5


def test_bad_user_library_is_a_clear_error(tmp_path):
    from eda.generators.acim_model import load_cell_sizes

    folder = _user_library(tmp_path / "lib", {"b": {"width_um": -1, "height_um": 2}}, roles={"bitcell": "b"})
    with pytest.raises(InputError, match="width_um"):
        load_cell_sizes(folder)


def test_library_adc_bit_limit():
    import json

    from eda.generators.acim_model import load_cell_sizes
    from eda.layout.library import default_library_path

    manifest = json.loads((default_library_path() / "manifest.json").read_text())
    assert load_cell_sizes().max_adc_bits == manifest.get("template", {}).get("max_adc_bits")
    cells = CellSizes(SIZES, max_adc_bits=4)
    p = AcimParams(rows=256, cols=16, local_array=1, adc_bits=5, f_clk_hz=1e6)
    with pytest.raises(ParamError) as e:
        check_design(p, cells)
    assert e.value.field == "adc_bits"
    check_design(p.replace(adc_bits=4), cells)


@pytest.mark.parametrize("H, W, L, B", [(32, 16, 2, 3), (64, 16, 4, 2)])
def test_area_matches_the_built_macro(H, W, L, B):
    """The model's area (library cell areas / utilisation) against the layout's bounding box."""
    from eda.layout.library import load_library
    from eda.layout.macro import MacroParams, build_macro

    lib = load_library()
    # the model counts one bitcell row per bit: compare it with the one-bit-per-row layout (pair rows: L even)
    macro = build_macro(MacroParams(H, W, L, B, pair_rows=False), lib)
    r = evaluate(AcimParams(rows=H, cols=W, local_array=L, adc_bits=B), CellSizes.from_library(lib), check=False)
    assert r.counts == {k: macro.counts[k] for k in r.counts}
    assert r.metrics["area_mm2"] * 1e6 == pytest.approx(macro.width_um * macro.height_um, rel=0.08)


def test_f_max_by_hand(cells):
    tech = AcimTech()
    for vdd, b in [(1.8, 4), (1.2, 6), (1.5, 2)]:
        p = AcimParams(rows=64, cols=8, local_array=1, adc_bits=b, vdd=vdd)
        m = evaluate(p, cells, tech, check=False).metrics
        scale = (1.8 - 0.45) / (vdd - 0.45)
        tau1 = 2000 * scale * 2e-15
        l_col = 64 * 3.0 + 64 * 4.0
        tau2 = 2000 * scale * (32 * 0.4 + 0.2 * l_col) * 1e-15
        f_settle = 1 / (2 * (tau1 + tau2) * math.log(2 ** b / 0.5))
        f_logic = 200e6 * ((vdd - 0.45) ** 1.3 / vdd) / ((1.8 - 0.45) ** 1.3 / 1.8)
        assert m["f_max_hz"] == pytest.approx(min(f_settle, f_logic), rel=1e-12)
