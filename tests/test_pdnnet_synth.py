"""The contest size preset of the synthetic generator and the statistics that compare it with contest cases."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def contest_design():
    from eda.generators.synth_design import make_design, sample_design_params
    from eda.generators.synth_pdn import make_pdn, sample_pdn_params

    rng = np.random.default_rng(3)
    d = make_design(sample_design_params(rng, "contest", seed=11))
    return d, make_pdn(d, sample_pdn_params(d, rng, "contest"))


def test_contest_preset_uses_the_contest_template(contest_design):
    from eda.generators.synth_pdn import CONTEST_PITCH_UM

    d, net = contest_design
    p = net.params
    assert 200 <= min(d.width_um, d.height_um) and p.via_cuts == 1 and p.load_model == "strap"
    assert [ly.name for ly in p.layers] == ["m1", "m4", "m7", "m8", "m9"]
    for ly in p.layers[1:]:
        assert ly.pitch_um == pytest.approx(CONTEST_PITCH_UM[ly.name], rel=0.06)
    # single-cut vias: every m1-m4 via is one 15-ohm cut as in the contest decks
    v01 = net.res_value[net.is_via & (net.layer[net.res_a] == 0)]
    assert np.allclose(v01, 15.0)


def test_case_stats_measure_pitches_pads_and_texture(contest_design):
    from eda.generators.contest_match import case_stats, distances
    from eda.pdn import maps as pm
    from eda.pdn.solve import solve_static

    d, net = contest_design
    pdn = net.static_pdn()
    dbu = float(d.tech.dbu_per_um)
    shape = pm.map_shape(pdn, dbu)
    cur = pm.current_map(pdn, shape, dbu_per_um=dbu)
    drop = pm.ir_drop_map(pdn, solve_static(pdn).drop, shape, dbu_per_um=dbu, method="tile-max")
    r = case_stats(pdn, {"current": cur, "ir_drop": drop}, dbu, "c")
    assert r["pitch_m4"] == pytest.approx(net.params.layers[1].pitch_um, rel=0.02)
    assert r["pads"] == len(net.pads) and r["current_a"] == pytest.approx(pdn.is_value.sum(), rel=1e-6)
    assert r["worst_mv"] == pytest.approx(drop.max() * 1e3)
    # a smooth map has a longer correlation length than a spiky one; distances of a group to itself are 0
    spiky = {"current": np.where(np.arange(cur.size).reshape(cur.shape) % 7 == 0, 1.0, 0.0), "ir_drop": drop}
    smooth = {"current": np.add.outer(np.arange(shape[0]), np.arange(shape[1])) + 1.0, "ir_drop": drop}
    assert case_stats(pdn, smooth, dbu)["corr_len_um"] > case_stats(pdn, spiky, dbu)["corr_len_um"]
    dist = distances([r], [r])
    assert dist["die_um"]["ratio"] == 1.0 and dist["die_um"]["w1_rel"] == 0.0
