"""Synthetic designs and PDNs: validation naming fields, legality, conservation, connectivity, waveforms."""

from __future__ import annotations

import numpy as np
import pytest

from eda.errors import InputError
from eda.generators.synth_design import DesignParams, make_design, sample_design_params, validated
from eda.generators.synth_pdn import LayerParams, PdnParams, make_pdn, sample_pdn_params
from eda.pdn.solve import solve_static
from eda.tech.generic45 import GENERIC45, pdn_technology


def _design(seed=0, **kw):
    base = dict(width_um=90.0, height_um=80.0, n_macros=1, macro_area_frac=0.15, n_hotspots=2, seed=seed)
    base.update(kw)
    return make_design(**base)


def _layers(**over):
    t = GENERIC45
    out = []
    for i, ly in enumerate(t.layers):
        pitch = 2 * t.row_height_um if i == 0 else ly.pitch_um[0]
        kw = dict(name=ly.name, width_um=ly.width_um[0], pitch_um=pitch, offset_um=t.row_height_um if i == 0 else 3.0)
        kw.update(over.get(ly.name, {}))
        out.append(LayerParams(**kw))
    return tuple(out)


def test_design_is_legal_and_respects_macros():
    d = _design()
    assert d.n_cells > 500
    o = np.lexsort((d.x, d.row))
    same = d.row[o][1:] == d.row[o][:-1]
    assert not np.any(same & (d.x[o][1:] < d.x[o][:-1] + d.w[o][:-1] - 1e-9)), "overlapping cells"
    assert d.x.min() >= 0 and (d.x + d.w).max() <= d.width_um + 1e-9
    assert (d.y + d.h).max() <= d.height_um + 1e-9
    assert np.allclose(d.y, d.row * d.tech.row_height_um)
    assert len(d.macros) == 1
    m = d.macros[0]
    e = 1e-6  # rows and macro edges meet on the row grid
    inter = (d.x < m[2] - e) & (d.x + d.w > m[0] + e) & (d.y < m[3] - e) & (d.y + d.h > m[1] + e)
    assert not inter.any(), "cells inside a macro"
    util = (d.w * d.h).sum() / (d.width_um * d.height_um - (m[2] - m[0]) * (m[3] - m[1]))
    assert 0.3 < util < 0.95
    # sites are integral
    s = d.x / d.tech.site_width_um
    assert np.allclose(s, np.round(s))


def test_design_power_and_hotspots():
    d = _design(n_macros=0, macro_area_frac=0.0, n_hotspots=1, hotspot_activity_gain=8.0, leakage_frac=0.2,
                power_density_w_mm2=0.3)
    area_mm2 = d.width_um * d.height_um * 1e-6
    assert d.leakage.sum() == pytest.approx(0.3 * area_mm2 * 0.2, rel=1e-9)
    assert d.dynamic.sum() > 0.3 * area_mm2 * 0.8  # hotspot adds on top of the base
    hx, hy, sig, _ = d.hotspots[0]
    r = np.hypot(d.x + d.w / 2 - hx, d.y + d.h / 2 - hy)
    assert np.mean(d.activity[r < 0.5 * sig]) > 2 * np.mean(d.activity[r > 3 * sig])
    T = d.period
    assert np.all(d.t_switch >= 0) and np.all(d.t_switch + d.t_width <= T + 1e-18)
    assert np.mean(d.t_switch[d.is_seq]) < np.mean(d.t_switch[~d.is_seq])  # flops switch at the edge
    assert np.allclose(d.internal + d.switching, d.dynamic) and np.all(d.internal > 0)
    assert np.mean(d.internal[d.is_seq] / d.dynamic[d.is_seq]) > np.mean(d.internal[~d.is_seq] / d.dynamic[~d.is_seq])


def test_window_currents_conserve_charge():
    d = _design(seed=3)
    n = d.n_cells
    g = [(np.arange(n) % 7, np.ones(n))]
    T = d.period
    whole = d.window_currents(np.array([0.0]), np.array([T]), g, 7)[0]
    assert whole.sum() == pytest.approx(d.avg_current.sum(), rel=1e-9)
    edges = np.linspace(-0.3 * T, 0.7 * T, 11)  # shifted windows: periodic wrap
    parts = d.window_currents(edges[:-1], edges[1:], g, 7)
    assert parts.mean(axis=0) == pytest.approx(whole, rel=1e-9)
    assert parts.sum(axis=1).max() > 1.5 * whole.sum()  # pulses: peaks above the mean
    m = d.macro_window_currents(edges[:-1], edges[1:])
    assert m.mean(axis=0) == pytest.approx(d.macro_power / d.vdd, rel=1e-9)


def test_pdn_structure_and_solve():
    d = _design(seed=1)
    p = PdnParams(layers=_layers(), rail_tap_um=2.0, pad_pattern="array", pad_pitch_um=40.0, decap=True)
    net = make_pdn(d, p)
    pdn = net.static_pdn()
    tech = d.tech
    L = len(tech.layers)
    # vias join adjacent layers only, at equal coordinates; wires stay on one layer along their direction
    a, b = net.res_a, net.res_b
    v = net.is_via
    assert np.all(np.abs(net.layer[a[v]] - net.layer[b[v]]) == 1)
    assert np.all((net.x[a[v]] == net.x[b[v]]) & (net.y[a[v]] == net.y[b[v]]))
    assert np.all(net.layer[a[~v]] == net.layer[b[~v]])
    for li, ly in enumerate(tech.layers):
        w = ~v & (net.layer[a] == li)
        same = net.y[a[w]] == net.y[b[w]] if ly.direction == "h" else net.x[a[w]] == net.x[b[w]]
        assert same.all()
    assert np.all(net.layer[net.pads] == L - 1)
    # macros cut m1 and m4
    m = d.macros[0] * tech.dbu_per_um
    inside = (net.x > m[0]) & (net.x < m[2]) & (net.y > m[1]) & (net.y < m[3])
    assert not np.any(inside & np.isin(net.layer, [0, 1]))
    assert np.any(inside & (net.layer == 2)) or len(net.macro_load) > 0
    # wire resistance = sheet * length / width
    w0 = ~v & (net.layer[a] == 0)
    length = np.abs(net.x[a[w0]] - net.x[b[w0]]) / tech.dbu_per_um
    assert np.allclose(net.res_value[w0], tech.rail.sheet_res * length / p.layers[0].width_um)
    # current conservation: every cell's and macro's average current reaches a load
    assert pdn.is_value.sum() == pytest.approx(d.total_power / d.vdd, rel=1e-9)
    assert np.allclose(net.cell_weight.sum(axis=0), 1.0)
    # names decode back to the node attributes the generator sets directly
    from eda.pdn.model import PDN

    for deck in (pdn, net.dynamic_pdn(4)[0]):
        ref = PDN.from_names(deck.node_names)
        assert ref.layer_names == deck.layer_names == [ly.name for ly in tech.layers]
        for f in ("node_net", "node_layer", "node_x", "node_y"):
            assert np.array_equal(getattr(ref, f), getattr(deck, f)) and getattr(ref, f).dtype == getattr(deck, f).dtype
    # connected and solvable (no floating pieces); drop is positive and below VDD
    r = solve_static(pdn)
    assert 0 < r.worst_drop < 0.2 * d.vdd
    assert np.all(r.drop[net.pads] == pytest.approx(0.0, abs=1e-12))
    # decaps only on rail nodes
    assert np.all(net.layer[net.cap_node] == 0) and np.all(net.cap_value > 0)


@pytest.mark.parametrize("pattern", ["ring", "array", "sparse"])
def test_pad_patterns(pattern):
    d = _design(seed=2, width_um=120.0, height_um=120.0, n_macros=0, macro_area_frac=0.0)
    lay = _layers(m8={"pitch_um": 10.0}, m9={"pitch_um": 10.0, "offset_um": 2.0})  # fine top mesh
    net = make_pdn(d, PdnParams(layers=lay, pad_pattern=pattern, pad_pitch_um=30.0, n_pads=3))
    dbu = d.tech.dbu_per_um
    px, py = net.x[net.pads] / dbu, net.y[net.pads] / dbu
    if pattern == "sparse":
        assert len(net.pads) == 3
    elif pattern == "ring":
        edge = np.minimum.reduce([px, py, d.width_um - px, d.height_um - py])
        center_top = (net.layer == 4) & (np.abs(net.x / dbu - 60) < 25) & (np.abs(net.y / dbu - 60) < 25)
        assert edge.max() < 40 and not np.isin(np.flatnonzero(center_top), net.pads).any()
    else:
        assert len(net.pads) >= 4
    assert solve_static(net.static_pdn()).worst_drop > 0


def test_dynamic_deck_has_decaps_inductors_and_waveforms():
    d = _design(seed=4)
    net = make_pdn(d, PdnParams(layers=_layers(), pad_inductance_h=1e-10, decap=False))
    dyn, (t, cur) = net.dynamic_pdn(16)
    assert len(dyn.ind_value) == len(net.pads) and len(dyn.cap_value) == len(net.cap_node) > 0
    assert all(n.startswith("_X_") for n in dyn.node_names[dyn.vs_a].tolist())
    assert dyn.tran == pytest.approx((d.period / 16, d.period))
    assert cur.shape == (17, net.n_loads)
    assert np.allclose(cur[0], cur[-1])  # periodic
    assert cur[:-1].mean(axis=0) == pytest.approx(net.average_currents(), rel=0.05)


def test_sampled_params_cover_sizes():
    for size in ("small", "medium"):
        rng = np.random.default_rng(11)
        dp = sample_design_params(rng, size, seed=1)
        d = make_design(dp)
        pp = sample_pdn_params(d, rng, size)
        assert pp.layers[0].pitch_um == pytest.approx(2 * d.tech.row_height_um)
        assert all(ly.width_um < ly.pitch_um for ly in pp.layers)


def test_bad_params_name_the_field():
    with pytest.raises(InputError, match=r"DesignParams\.width_um"):
        validated(DesignParams, width_um=0.0)
    with pytest.raises(InputError, match=r"DesignParams\.utilization"):
        make_design(utilization=1.5)
    with pytest.raises(InputError, match=r"PdnParams\.layers\.1\.pitch_um"):
        validated(PdnParams, layers=[dict(ly.model_dump(), **({"pitch_um": -5.0} if ly.name == "m4" else {}))
                                     for ly in _layers()])
    with pytest.raises(InputError, match=r"PdnParams\.rail_tap_um"):
        validated(PdnParams, layers=_layers(), rail_tap_um=0)
    with pytest.raises(InputError, match=r"PdnParams.*width_um.*below pitch_um"):
        validated(PdnParams, layers=[dict(ly.model_dump(), **({"width_um": 100.0} if ly.name == "m7" else {}))
                                     for ly in _layers()])
    d = _design(seed=5, n_macros=0, macro_area_frac=0.0)
    with pytest.raises(InputError, match=r"PdnParams\.n_pads: 500 pads but only \d+ top-layer nodes"):
        make_pdn(d, pad_pattern="sparse", n_pads=500, layers=_layers())
    with pytest.raises(InputError, match="size"):
        sample_design_params(np.random.default_rng(0), "huge")
    with pytest.raises(InputError, match="unknown technology"):
        pdn_technology("nope")


def test_strap_load_model_lumps_loads_at_vias():
    d = _design(seed=6)
    net = make_pdn(d, PdnParams(layers=_layers(), load_model="strap"))
    m4_x = np.unique(net.x[net.layer == 1])
    cell_nodes = net.load_nodes[np.unique(net.cell_load)]
    assert np.all(net.layer[cell_nodes] == 0) and np.all(np.isin(net.x[cell_nodes], m4_x))
    assert net.static_pdn().is_value.sum() == pytest.approx(d.total_power / d.vdd, rel=1e-9)


def test_dynamic_label_semantics_match_ngspice():
    """The transient the labels come from (per-load waveforms, decaps, package L) agrees with ngspice."""
    from eda.dataset.irdrop import with_pwl_loads
    from eda.pdn.ngspice import have_ngspice, ngspice_tran
    from eda.pdn.solve import solve_transient

    if not have_ngspice():
        pytest.skip("ngspice not installed")
    d = _design(seed=8, width_um=40.0, height_um=40.0, n_macros=0, macro_area_frac=0.0, n_hotspots=1)
    net = make_pdn(d, PdnParams(layers=_layers(m7={"pitch_um": 12.0}, m8={"pitch_um": 12.0}, m9={"pitch_um": 18.0}),
                                pad_pattern="sparse", n_pads=1, decap=True, pad_inductance_h=1e-10))
    dyn, (t, cur) = net.dynamic_pdn(160)  # 6 ps steps: converged to a few % (see eda.generators.irdrop_sample.SIZE_DT)
    ours = solve_transient(dyn, times=t, load_waveform=(t, cur))
    worst = int(np.argmax(ours.worst_drop))
    probe = str(dyn.node_names[worst])
    pwl = with_pwl_loads(dyn, t, cur)
    mine = solve_transient(pwl, times=t, probes=[probe])
    assert mine.worst_drop == pytest.approx(ours.worst_drop, abs=1e-12)  # side waveform == PWL in the deck
    tt, wav, _ = ngspice_tran(pwl, float(t[1] - t[0]), float(t[-1]), [probe])
    ref = np.interp(t, tt, wav[probe])
    drop = d.vdd - mine.probes[probe]
    assert drop.max() > 1e-4
    assert np.abs((d.vdd - ref) - drop).max() < 0.02 * drop.max()


def test_partial_stack_puts_bumps_on_the_top_used_layer():
    d = _design(seed=9)
    lay = _layers()[:3]  # m1 m4 m7: bumps on m7, as in some ICCAD'23 cases
    net = make_pdn(d, PdnParams(layers=lay, pad_pattern="array", pad_pitch_um=30.0))
    pdn = net.static_pdn()
    assert pdn.layer_names == ["m1", "m4", "m7"]
    assert np.all(net.layer[net.pads] == 2)
    assert solve_static(pdn).worst_drop > 0
    with pytest.raises(InputError, match="macros, which need a PDN layer above m4"):
        make_pdn(d, PdnParams(layers=_layers()[:2]))
    with pytest.raises(InputError, match="bottom of the technology stack"):
        validated(PdnParams, layers=[_layers()[0], _layers()[2]])
    depths = {len(sample_pdn_params(d, np.random.default_rng(s)).layers) for s in range(40)}
    assert depths == {3, 4, 5}
