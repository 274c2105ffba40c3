"""Dynamic IR drop in the IBM transient regime: the IBM-style generator, PDNGraphs of IBM-named decks, a tiny
dynamic model trained end to end, and its score on a tiny transient deck against the exact transient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eda.errors import InputError

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY = {"hidden": 8, "layers": 2, "base": 4, "depth": 2}


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    from eda.generators.synth_ibm import make_ibm_style_sample

    root = tmp_path_factory.mktemp("ibm_ds")
    for i in range(5):
        make_ibm_style_sample(i, root / f"s{i}", max_nodes=900)
    return [root / f"s{i}" for i in range(5)]


def test_ibm_style_deck_is_in_the_ibm_regime():
    from eda.generators.synth_ibm import make_ibm_style_pdn
    from eda.pdn.model import WAVE_PULSE

    pdn, p = make_ibm_style_pdn(3, max_nodes=900)
    assert pdn.layer_names == [] and set(np.unique(pdn.node_net[pdn.node_net >= 0])) <= {0, 1, 2, 3}
    assert (pdn.is_kind == WAVE_PULSE).all() and pdn.tran[0] == pytest.approx(10e-12)
    i1, i2, td, tr, tf, pw, per = pdn.is_pulse.T
    assert np.allclose(i2 / i1, p["peak_over_dc"]) and (td + tr + pw + tf <= per + 0.7 * per).all()
    # one decap per load (loads sharing a GND node share one k-fold decap)
    assert pdn.cap_value.sum() == pytest.approx(p["decap_f"] * len(pdn.is_value))
    k = pdn.cap_value / p["decap_f"]
    assert np.allclose(k, np.round(k)) and (k >= 1 - 1e-9).all()
    # every corner of every pulse on the 10 ps grid: the stored waveforms are the PULSE sources exactly
    for v in (td, tr, tf, pw, per):
        assert np.allclose(np.round(v / 10e-12) * 10e-12, v, rtol=0, atol=1e-18)
    # same seed, same deck; another seed, another deck
    again, _ = make_ibm_style_pdn(3, max_nodes=900)
    other, _ = make_ibm_style_pdn(4, max_nodes=900)
    assert np.array_equal(again.res_value, pdn.res_value) and not np.array_equal(other.node_names, pdn.node_names)


def test_inner_nodes_inherit_coordinates_and_nets_become_layers():
    from eda.generators.synth_ibm import make_ibm_style_pdn
    from eda.graphs.pdn_graph import GraphParams, build_pdn_graph, nets_as_layers, with_inherited_coords

    pdn, _ = make_ibm_style_pdn(5, max_nodes=900)
    z = np.char.startswith(pdn.node_names.astype(str), "_Z_")
    assert z.any() and np.isnan(pdn.node_x[z]).all()
    full = with_inherited_coords(pdn)
    assert np.isfinite(full.node_x).all() and np.isfinite(full.node_y).all()
    # a decap's inner node sits where its load node is
    k = int(np.flatnonzero(z)[0])
    nb = pdn.cap_a[pdn.cap_b == k][0] if (pdn.cap_b == k).any() else pdn.cap_b[pdn.cap_a == k][0]
    assert (full.node_x[k], full.node_y[k]) == (pdn.node_x[nb], pdn.node_y[nb])
    lay, n_bottom = nets_as_layers(full)
    assert n_bottom in (1, 2) and set(lay.layer_names[:n_bottom]) <= {"n0", "n1"}  # loaded nets first
    assert set(lay.layer_names[n_bottom:]) <= {"n2", "n3"}
    g = build_pdn_graph(pdn, {}, GraphParams(n_slices=4))
    assert torch.isfinite(g["pdn_node"].x).all() and torch.isfinite(g.image).all()
    # clusters never mix nets: each cluster's nodes share one (pseudo-)layer
    ci = g["pdn_node", "in_cluster", "pdn_cluster"].edge_index
    assert torch.equal(g["pdn_cluster"].layer[ci[1]], g["pdn_node"].layer[ci[0]])
    # ground pads (0-V sources to ground) are pads too
    assert g["pdn_cluster"].x[:, 2].sum() > 0
    with pytest.raises(InputError, match="coordinates"):  # a node with no named neighbour still fails
        from dataclasses import replace

        bad = replace(pdn, node_x=np.full(pdn.n_nodes, np.nan))
        build_pdn_graph(bad, {}, GraphParams())


def test_sample_labels_are_the_exact_worst_drop(samples):
    from eda.dataset.irdrop import read_sample
    from eda.generators.synth_ibm import IBM_DBU
    from eda.pdn import maps as pm
    from eda.pdn.solve import solve_transient

    s = read_sample(samples[0], dynamic=True)
    t = np.load(samples[0] / "load_times.npy")
    tr = solve_transient(s.dynamic, times=t)  # the PWL loads from load_currents.npy
    gold = pm.ir_drop_map(s.dynamic, tr.worst_drop, s.labels["dynamic"].shape, IBM_DBU, method="tile-max")
    assert np.allclose(gold, s.labels["dynamic"], rtol=1e-6, atol=1e-9)
    assert s.labels["dynamic"].max() > 0 and s.maps["current_t"].shape[0] == 8


def test_tiny_dynamic_model_trains_and_scores_a_transient_deck(samples, tmp_path):
    from eda.graphs.dataset import sample_graph
    from eda.predictors.checkpoint import save_checkpoint
    from eda.predictors.dynamic import exact_worst_map, score_dynamic_deck
    from eda.predictors.train import TrainParams, train_model

    gs = [sample_graph(d, "dynamic") for d in samples]
    params = TrainParams(target="dynamic", epochs=25, patience=25, lr=1e-2, ema=0.0, hparams=TINY, seed=0)
    model, norm, hist = train_model(gs[:4], gs[4:], params, progress=False)
    assert all(np.isfinite(h["val_mae"]) for h in hist)
    assert min(h["train_loss"] for h in hist[-5:]) < 0.7 * hist[0]["train_loss"]  # it learns
    ck = tmp_path / "dyn.pt"
    save_checkpoint(ck, model, norm, {"history": hist})
    deck = samples[4] / "netlist_dynamic.sp"
    res = score_dynamic_deck(deck, ck, figure=tmp_path / "dyn.png")
    for k in ("mae", "nmae", "cc", "hotspot_f1", "infer_s", "exact_s", "speedup"):
        assert np.isfinite(res[k]), k
    assert (tmp_path / "dyn.png").exists() and res["steps"] > 50
    # the golden map is the exact transient of the PULSE deck: equal to the sample's label (PWL = PULSE)
    from eda.pdn.mapcsv import read_map_csv
    from eda.pdn.parse import read_pdn

    gold, _ = exact_worst_map(read_pdn(deck), tuple(res["map_shape"]), res["dbu_per_um"])
    assert np.allclose(gold, read_map_csv(samples[4] / "ir_drop_dynamic_map.csv"), rtol=1e-5, atol=1e-8)
    assert res["worst_gold_v"] == pytest.approx(gold.max())
    rep = score_dynamic_deck(deck, ck, exact=(gold, {"transient_s": 1.0, "steps": 1}), repeats=3)
    walls = sorted(r["infer_s"] for r in rep["runs"])
    assert rep["model_runs"] == 3 and rep["infer_s"] == walls[1]  # the median run's time
    assert rep["speedup"] == pytest.approx((1.0 + rep["parse_s"]) / rep["infer_s"])
    assert rep["nmae"] == pytest.approx(res["nmae"])
    # a deck without .tran cannot be scored dynamically; a static checkpoint is refused
    static = samples[4] / "netlist.sp"
    with pytest.raises(InputError, match=r"\.tran"):
        score_dynamic_deck(static, ck)


def test_lumped_droop_is_the_transient_of_a_stiff_grid():
    """With the grid's resistance gone, the deck's exact worst drop is the lumped one (and not otherwise)."""
    from dataclasses import replace

    from eda.generators.synth_ibm import make_ibm_style_pdn
    from eda.graphs.pdn_physics import lumped_droop
    from eda.pdn.solve import solve_transient

    pdn, _ = make_ibm_style_pdn(2, max_nodes=700)
    names = pdn.node_names.astype(str)
    grid = ~np.char.startswith(names, "_")
    inside = grid[np.maximum(pdn.res_a, 0)] & grid[np.maximum(pdn.res_b, 0)] & (pdn.res_a >= 0) & (pdn.res_b >= 0)
    stiff = replace(pdn, res_value=np.where(inside, pdn.res_value * 1e-7, pdn.res_value))
    exact = solve_transient(stiff).worst_drop[grid].max()
    assert lumped_droop(stiff) == pytest.approx(exact, rel=1e-3)
    assert lumped_droop(pdn) == pytest.approx(lumped_droop(stiff), rel=1e-9)  # the grid R is what it drops
    assert solve_transient(pdn).worst_drop[grid].max() > 1.01 * exact  # ... and the real grid adds drop
    assert lumped_droop(replace(pdn, tran=None)) == 0.0


def test_summed_waveforms_match_the_sources_one_by_one():
    from eda.generators.synth_ibm import make_ibm_style_pdn
    from eda.graphs.pdn_waveforms import summed_waveforms
    from eda.pdn.solve import source_currents

    pdn, _ = make_ibm_style_pdn(6, max_nodes=700)
    grp = np.arange(len(pdn.is_value)) % 3
    t = np.linspace(0, pdn.tran[1], 37)
    got = summed_waveforms(pdn, t, grp, 3)
    want = np.stack([np.bincount(grp, source_currents(pdn, float(x)), minlength=3) for x in t])
    assert np.allclose(got, want, rtol=1e-12, atol=1e-15)
    assert not np.allclose(summed_waveforms(pdn, t + 7e-11, grp, 3), want)  # shifted times differ


def test_step_channel_is_one_backward_euler_step_from_rest():
    """The level channel converges to the exact transient's first backward-Euler step when every load jumps
    from 0 to its peak, decaps and package included; its raster is a graph channel."""
    from dataclasses import replace

    from eda.generators.synth_ibm import make_ibm_style_pdn
    from eda.graphs.pdn_graph import BUILD_PARTS, STEP_CHANNEL, GraphParams, build_pdn_graph
    from eda.graphs.pdn_physics import estimate_drop, signed_peaks, step_drop, step_length
    from eda.pdn import maps as pm
    from eda.pdn.check import drop_from
    from eda.pdn.solve import solve_transient

    pdn, _ = make_ibm_style_pdn(3, max_nodes=600)
    h = step_length(pdn)
    assert 1e-12 < h < 1e-9
    peaks = signed_peaks(pdn)
    wave = (np.array([0.0, h]), np.stack([pdn.is_value, peaks]))  # DC point, then one step at the peaks
    tr = solve_transient(pdn, times=np.array([0.0, h]), integration="be", load_waveform=wave)
    exact = drop_from(tr.final_voltage, tr.supply)
    d = step_drop(pdn, 40)
    np.testing.assert_allclose(d, exact, atol=1e-6 * exact.max())
    assert np.abs(step_drop(pdn, 1) - exact).max() > 1e-3 * exact.max()  # truncated: not the exact step
    jump = step_drop(replace(pdn, is_value=0 * peaks), 40, currents=peaks - pdn.is_value)  # from rest
    dc = estimate_drop(pdn, 40)
    np.testing.assert_allclose(d - jump, dc, atol=1e-6 * exact.max())  # linearity: DC point + the jump
    assert dc.max() > 100 * 1e-6 * exact.max()  # ... and leaving the DC point out would fail the exact match
    assert np.abs(step_drop(pdn, 40, 10 * h) - d).max() > 0.05 * d.max()  # the step's length matters
    static = estimate_drop(pdn, 40, currents=peaks)
    assert d.max() < 0.9 * static.max()  # the decaps take part of the peaks
    bare = replace(pdn, cap_value=pdn.cap_value * 1e-6, ind_value=pdn.ind_value * 1e-6)
    # with (almost) no decap or package inductance one step is the static drop at the peaks
    np.testing.assert_allclose(step_drop(bare, 40), static, atol=1e-3 * static.max())
    g = build_pdn_graph(pdn, {}, GraphParams(n_slices=2, pattern_iters=4, step_iters=40, dbu_per_um=1000.0))
    nx, ny = (int(v) for v in g.map_shape)
    assert g.fine_channels[-1] == STEP_CHANNEL and STEP_CHANNEL in g.channels and g.step_iters == 40
    assert g.build_cpu.shape == (len(BUILD_PARTS),) and (g.build_cpu >= 0).all()  # where the CPU time went
    ref = pm.ir_drop_map(pdn, d, (nx, ny), 1000.0, method="tile-max")
    np.testing.assert_allclose(g.image_fine[-1, :nx, :ny].numpy(), ref, rtol=1e-5, atol=1e-9)


def test_step_level_models_read_density_relative_and_clipped(tmp_path):
    """With pattern and level channels the base is the pattern at the step's level; the PDN density enters
    relative to its own mean (a deck drawn at another pitch is not off the scale) and every input is clipped."""
    import copy
    from dataclasses import replace

    from eda.generators.synth_ibm import make_ibm_style_sample
    from eda.graphs.dataset import sample_graph
    from eda.predictors.normalize import Normalizer, prepare

    for i in range(2):
        make_ibm_style_sample(50 + i, tmp_path / f"s{i}", max_nodes=400)
    gs = [sample_graph(tmp_path / f"s{i}", "dynamic", pattern_iters=4, step_iters=8) for i in range(2)]
    norm = Normalizer.fit(gs, "dynamic")
    assert norm.level == "step" and norm.density_rel and norm.clip == 4.0 and norm.step_iters == 8
    assert norm.bound == 0.0  # additive unless asked (TrainParams.level_bound)
    norm.bound = float(np.log(2.0))
    g = gs[1]
    p = prepare(g, norm)
    nx, ny = p.shape
    fine = g.image_fine[:, :nx, :ny].double()
    level = float(fine[norm.fine.index("ir_step")].max())
    np.testing.assert_allclose(p.base.double().numpy() * p.s_i * norm.y_scale,
                               (fine[norm.fine.index("ir_pattern")] * level).numpy(), rtol=1e-5)
    dense = copy.copy(g)
    k, kf = norm.channels.index("pdn_density"), norm.fine.index("pdn_density")
    dense.image, dense.image_fine = g.image.clone(), g.image_fine.clone()
    dense.image[k] *= 50.0
    dense.image_fine[kf] *= 50.0
    q = prepare(dense, norm)
    np.testing.assert_allclose(q.image.numpy(), p.image.numpy(), atol=1e-5)
    np.testing.assert_allclose(q.fine.numpy(), p.fine.numpy(), atol=1e-5)
    assert float(p.image.abs().max()) <= 4.0 and float(p.fine.abs().max()) <= 4.0
    absolute = Normalizer.from_dict({**norm.to_dict(), "density_rel": False, "clip": 0.0})
    assert not np.allclose(prepare(dense, absolute).fine.numpy(), prepare(g, absolute).fine.numpy(), atol=1e-3)
    import torch

    from eda.predictors.registry import build_model

    torch.manual_seed(0)
    model = build_model("pdnnet", g, {"hidden": 8, "layers": 2, "base": 4, "depth": 2})
    with torch.no_grad():
        for prm in model.parameters():  # a far-off correction: large random weights everywhere
            prm.normal_(0.0, 3.0)
        on = p.base > 0
        ratio = (model(p)[on] / p.base[on]).numpy()
        free = model(replace(p, bound=0.0)) - p.base  # the additive head: nothing holds it
    assert ratio.min() >= 0.5 - 1e-6 and ratio.max() <= 2.0 + 1e-6 and ratio.std() > 0.01
    assert float(free.abs().max()) > float(p.base.abs().max())
