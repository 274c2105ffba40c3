"""ACIM column model vs ngspice: ideal MAC transfer and SNR of a simulated column."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eda.errors import InputError
from eda.generators.acim_model import CellSizes, conversion_mse
from eda.generators.acim_sim import (
    CHECK_CONFIGS,
    RESET_SETTLE_UNITS,
    RST_DELTA_UM,
    RST_RHO_OHM_UM,
    RST_W_MIN_UM,
    SimConfig,
    check_column,
    column_circuit,
    dac_groups,
    reset_switch_w_um,
)

SIZES = {"bitcell": (2.5, 3.0), "compute": (2.5, 4.0), "wl_driver": (6.0, 3.0), "in_driver": (5.0, 3.0),
         "comparator": (10.0, 20.0), "cmp_buf": (10.0, 5.0), "col_mux": (2.5, 6.0), "sar_bit": (10.0, 8.0),
         "sar_seq": (10.0, 7.0),
         "dac_switch": (2.5, 5.0), "tap": (2.5, 1.0)}
CELLS = CellSizes(SIZES, technology="test")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return check_column(CHECK_CONFIGS["mismatch N=16 b=4"], CELLS, out=tmp_path_factory.mktemp("acim_sim"))


def test_ideal_transfer_reproduced(small):
    # the mismatch-free column's sampled voltage is −k·VDD·C_u/C_tot for every k swept
    # sky130 switch: its own capacitance is a small gain error; the transfer stays linear
    assert abs(small["transfer_gain_error_pct"]) < 2.0
    assert small["transfer_nonlinearity_lsb"] < 0.01
    assert small["dac_max_err_lsb"] < 0.05
    k = np.array(small["ideal_transfer"]["k"])
    v = np.array(small["ideal_transfer"]["v_mac_minus_vrst"])
    assert k.min() == 0 and k.max() == 16
    slope = np.polyfit(k, v, 1)[0]
    assert slope == pytest.approx(-small["v_unit_mV"] * 1e-3 * (1 + small["transfer_gain_error_pct"] / 100), rel=1e-3)


def test_modelled_snr_reproduced(small):
    assert small["code_error_rate"] > 0.05  # the errors are frequent enough to be measured
    assert abs(small["snr_sim_db"] - small["snr_model_db"]) < 1.5


def test_circuit_error_small_on_the_same_draws(small):
    # the same Monte-Carlo draws on an ideal circuit: the ngspice column (switch, MIM caps) adds little
    assert abs(small["snr_sim_db"] - small["snr_ideal_db"]) < 0.5


def test_reset_switch_width():
    w = [reset_switch_w_um(64, c * 1e-15) for c in (10, 66, 264, 400)]
    assert w[0] == RST_W_MIN_UM and w == sorted(w) and w[-1] > 4.0
    for n, c in ((16, 66e-15), (64, 264e-15), (64, 400e-15)):
        r = RST_RHO_OHM_UM / (reset_switch_w_um(n, c) - RST_DELTA_UM)
        assert r * c * math.log(n / RESET_SETTLE_UNITS) <= 0.88e-9 + 1e-15  # settled within the reset window


def test_long_column_top_plate_settles():
    # regression: the minimum reset switch (0.42 µm) left 30-45 % of the bottom plates' kick on a large top plate
    # after the reset window (N = 64: +5.8 units at k = 64, −5 dB SNR); sized by C_tot it settles to 0.05 unit
    cfg = CHECK_CONFIGS["noise N=32 b=5"].model_copy(update={"n_columns": 1, "n_vectors": 5})
    r = check_column(cfg, CELLS)
    assert r["w_rst_um"] > RST_W_MIN_UM
    assert r["transfer_nonlinearity_lsb"] < 0.01 and abs(r["transfer_gain_error_pct"]) < 2.0
    assert r["transfer_max_err_lsb"] < 0.3


def test_check_detects_a_wrong_model(small):
    # mutation: a model that forgot capacitor mismatch is far off the simulation
    wrong = conversion_mse(16, 4, 0.0, 0.0 + 1e-12, 0.25)[0]
    snr_wrong = 10 * math.log10(16 * 0.25 * 0.75 / wrong)
    assert abs(small["snr_sim_db"] - snr_wrong) > 10


def test_netlist_round_trips_through_spice_text(small):
    from eda.read.from_spice import read_spice

    c = read_spice(small["netlist"])
    counts = c.counts()
    n_cols = CHECK_CONFIGS["mismatch N=16 b=4"].n_columns + 1
    models = [d.model for d in c.devices if d.kind == "X"]
    assert models.count("sky130_fd_pr__cap_mim_m3_1") == n_cols * 16  # sky130 MIM unit caps
    assert models.count("sky130_fd_pr__nfet_01v8") == n_cols  # sky130 reset switches
    assert counts["capacitor"] == n_cols and counts["resistor"] == n_cols * 16


def test_column_circuit_structure():
    prod = np.zeros((2, 3, 4))
    prod[0, 1, :2] = 1
    caps = np.full((2, 4), 1e-15)
    c, timing = column_circuit(prod, caps, 5e-15, 1.8, 1000.0, dac_groups(4, 2))
    assert len(timing["t_mac"]) == 3 and len(timing["t_dac_before"]) == 2
    assert {d.name for d in c.devices} >= {"Xrst0", "Xrst1", "XCu0_0", "Cpar1", "Vrg"}


def test_dac_groups():
    g = dac_groups(16, 3)
    assert [len(x) for x in g] == [8, 4, 2]
    assert np.concatenate(g).tolist() == list(range(14))  # last Δ = 2 caps terminate the DAC


def test_sim_config_validation():
    with pytest.raises(InputError, match="adc_bits"):
        SimConfig(n_caps=12, adc_bits=3)
    with pytest.raises(InputError, match="n_caps"):
        SimConfig(n_caps=1, adc_bits=1)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CHECK_CONFIGS))
def test_all_configurations_within_1p5_db(name):
    r = check_column(CHECK_CONFIGS[name], CELLS)
    assert r["transfer_nonlinearity_lsb"] < 0.01 and abs(r["transfer_gain_error_pct"]) < 2.0
    assert abs(r["snr_sim_db"] - r["snr_model_db"]) < 1.5, r
