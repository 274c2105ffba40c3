"""PDNNet and baselines: physics of the message passing, equivariances, checkpoints, a tiny training run."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from pdnnet_util import grid_case, tiny_pdn

from eda.errors import InputError
from eda.graphs.pdn_graph import GraphParams, build_pdn_graph, map_shape_for
from eda.predictors.baselines import GBDT, CNNOnly, CNNParams, GBDTParams, GNNOnly, GNNParams, tile_features
from eda.predictors.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from eda.predictors.layers import ConductanceConv, fine_head, rasterise
from eda.predictors.normalize import Normalizer, denormalise, prepare
from eda.predictors.pdnnet import PDNNet, PDNNetParams
from eda.predictors.train import TrainParams, flip, split_names, train_model, transpose

SMALL = {"pdnnet": PDNNetParams(hidden=8, layers=2, base=4, depth=2), "cnn": CNNParams(base=4, depth=2),
         "gnn": GNNParams(hidden=8, layers=2)}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def graphs():
    out = []
    for s in range(5):
        pdn, maps, label = grid_case(s)
        g = build_pdn_graph(pdn, maps, GraphParams(pool=3), labels={"static": label})
        g.name = f"g{s}"
        out.append(g)
    return out


@pytest.fixture(scope="module")
def norm(graphs):
    return Normalizer.fit(graphs[:3], "static")


def _models():
    return [PDNNet(SMALL["pdnnet"]), CNNOnly(SMALL["cnn"]), GNNOnly(SMALL["gnn"])]


def test_conductance_conv_is_a_jacobi_sweep():
    """The aggregation equals D⁻¹ A h with A the off-diagonal conductances (dense reference).

    With 1-pixel tiles every cluster of the tiny deck holds one node, in node order, so the cluster graph is
    the deck's own resistor graph.
    """
    pdn = tiny_pdn()
    g = build_pdn_graph(pdn, {k: np.ones((4, 1)) for k in ("current", "pdn_density", "eff_dist")},
                        GraphParams(pool=1))
    assert g["pdn_node", "in_cluster", "pdn_cluster"].edge_index[1].tolist() == list(range(6))
    p = prepare(g, Normalizer.fit([_with_label(g)], "static"))
    n = pdn.n_nodes
    A = np.zeros((n, n))
    for a, b, r in zip(pdn.res_a, pdn.res_b, pdn.res_value, strict=True):
        A[a, b] += 1 / r
        A[b, a] += 1 / r
    h = np.random.default_rng(0).normal(size=(n, 3))
    want = (A / A.sum(1, keepdims=True)) @ h
    conv = ConductanceConv(3)
    got = conv.propagate(p.adj_t, x=torch.from_numpy(h).float())
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)


def _with_label(g):
    g = g.clone()
    g.y_static = torch.ones(tuple(int(v) for v in g.map_shape))
    return g


def test_forward_shapes_and_gradients(graphs, norm):
    p = prepare(graphs[0], norm)
    for m in _models():
        out = m(p)
        assert out.shape == p.shape
        out.mean().backward()
        assert all(q.grad is not None for q in m.parameters() if q.requires_grad)


def test_models_are_current_scale_equivariant(graphs, norm):
    """IR drop is linear in the loads: scaling every current by k scales every prediction by k."""
    g = graphs[1]
    k = 7.0
    g2 = g.clone()
    g2.image = g.image.clone()
    g2.image[0] *= k
    g2.image_fine = g.image_fine.clone()
    g2.image_fine[0] *= k
    g2["pdn_node"].x = g["pdn_node"].x.clone()
    g2["pdn_node"].x[:, 3] *= k
    g2["pdn_cluster"].x = g["pdn_cluster"].x.clone()
    g2["pdn_cluster"].x[:, 4] *= k
    g2["pdn_cluster"].x[:, 10] *= k
    g2["cell"].x = g["cell"].x.clone() * k
    for m in _models():
        m.eval()
        with torch.no_grad():
            a = denormalise(m(prepare(g, norm)), prepare(g, norm), norm)
            b = denormalise(m(prepare(g2, norm)), prepare(g2, norm), norm)
        np.testing.assert_allclose(b, k * a, rtol=1e-4, atol=1e-5 * np.abs(k * a).max())


def test_flip_moves_graph_and_maps_together(graphs, norm):
    p = prepare(graphs[2], norm)  # 30 x 24 µm in 3 µm tiles; mirrored below with a map that is not whole tiles
    p = replace(p, shape=(p.shape[0] - 1, p.shape[1] - 2), y=p.y[:-1, :-2])
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(p.node_x.shape[0], 3, generator=gen)
    coef = torch.randn(1, 4, *p.image.shape[-2:], generator=gen)
    for fx, fy in ((True, False), (False, True), (True, True)):
        q = flip(p, fx, fy)
        dims = [d + 2 for d, f in ((0, fx), (1, fy)) if f]
        assert torch.allclose(rasterise(h, q), torch.flip(rasterise(h, p), dims))
        assert torch.allclose(q.y, torch.flip(p.y, [d - 2 for d in dims]))
        # the fine head commutes with mirroring: tiles stay whole, the map's offset moves
        mirrored = torch.flip(fine_head(coef, p), [d - 2 for d in dims])
        assert torch.allclose(fine_head(torch.flip(coef, dims), q), mirrored, atol=1e-4)
        back = flip(q, fx, fy)
        assert back.offset == p.offset and torch.equal(back.cluster_tile, p.cluster_tile)
        assert torch.equal(back.fine, p.fine) and torch.equal(back.image, p.image)
    # transposition: rasterised clusters, label and fine head all turn with it
    q = transpose(p)
    assert torch.allclose(rasterise(h, q), rasterise(h, p).transpose(2, 3)) and torch.equal(q.y, p.y.T)
    assert torch.allclose(fine_head(coef.transpose(2, 3), q), fine_head(coef, p).T, atol=1e-4)
    back = transpose(q)
    assert back.offset == p.offset and back.shape == p.shape and torch.equal(back.cluster_tile, p.cluster_tile)


def test_checkpoint_round_trip_and_refusals(graphs, norm, tmp_path):
    p = prepare(graphs[0], norm)
    for m in _models():
        m.eval()
        f = tmp_path / f"{m.model_type}.pt"
        save_checkpoint(f, m, norm, {"note": "test"})
        raw = torch.load(f, weights_only=True)  # plain data only
        assert raw["format"] == CHECKPOINT_FORMAT and raw["model_type"] == m.model_type
        m2, n2, info = load_checkpoint(f, expect_type=m.model_type, expect_target="static")
        assert info["note"] == "test" and n2 == norm
        with torch.no_grad():
            assert torch.equal(m2(p), m(p))
    f = tmp_path / "cnn.pt"
    with pytest.raises(InputError, match="expected 'pdnnet'"):
        load_checkpoint(f, expect_type="pdnnet")
    with pytest.raises(InputError, match="expected 'dynamic'"):
        load_checkpoint(f, expect_target="dynamic")
    ck = torch.load(f, weights_only=True)
    for key, val, msg in (("version", 99, "version"), ("model_type", "transformer", "unknown model type"),
                          ("format", "other", "not an eda")):
        torch.save({**ck, key: val}, tmp_path / "bad.pt")
        with pytest.raises(InputError, match=msg):
            load_checkpoint(tmp_path / "bad.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError):
        load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(InputError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_static_model_refuses_dynamic_graph(graphs, norm):
    pdn, maps, _ = grid_case(0)
    sh = map_shape_for(pdn)
    g = build_pdn_graph(pdn, {**maps, "current_t": np.ones((2, *sh))}, GraphParams(n_slices=2))
    with pytest.raises(InputError, match="channels"):
        prepare(g, norm)
    g = build_pdn_graph(pdn, maps, GraphParams(pool=4))
    with pytest.raises(InputError, match="pool=3"):
        prepare(g, norm)


def test_gbdt_export_matches_sklearn(graphs, norm):
    from sklearn.ensemble import GradientBoostingRegressor

    ps = [prepare(g, norm) for g in graphs[:3]]
    X = np.concatenate([tile_features(p) for p in ps])
    y = np.concatenate([p.y.numpy().ravel() for p in ps])
    gb = GradientBoostingRegressor(n_estimators=15, max_depth=3, random_state=0).fit(X, y)
    m = GBDT(GBDTParams(n_estimators=15, max_depth=3))
    m._export(gb)
    np.testing.assert_allclose(m.predict_rows(X), gb.predict(X), rtol=1e-9, atol=1e-12)


def test_split_is_deterministic_and_disjoint():
    names = [f"s{i:03d}" for i in range(20)]
    a = split_names(names, seed=3)
    assert a == split_names(list(reversed(names)), seed=3)
    assert sorted(a["train"] + a["val"] + a["test"]) == names
    assert len(a["test"]) == 3 and len(a["val"]) == 3
    with pytest.raises(InputError):
        split_names(names[:2])


def test_train_params_name_the_field():
    with pytest.raises(InputError, match="TrainParams.model"):
        TrainParams(model="resnet")
    with pytest.raises(InputError, match="TrainParams.target"):
        TrainParams(target="transient")


@pytest.mark.parametrize("model", ["pdnnet", "gbdt", pytest.param("cnn", marks=pytest.mark.slow),
                                   pytest.param("gnn", marks=pytest.mark.slow)])
def test_tiny_training_learns(graphs, model):
    """A few epochs on four tiny grids at least halve the held-out error of the untrained model."""
    from eda.predictors.registry import build_model

    hp = {"pdnnet": {"hidden": 8, "layers": 3, "base": 6, "depth": 2}, "cnn": {"base": 6, "depth": 2},
          "gnn": {"hidden": 12, "layers": 4}, "gbdt": {"n_estimators": 40, "max_depth": 3}}[model]
    gold = graphs[4].y_static.double().numpy()
    params = TrainParams(model=model, epochs=20, patience=20, lr=3e-3, hparams=hp, seed=0)
    m, n, hist = train_model(graphs[:4], graphs[4:], params, progress=False)
    assert len(hist) >= 1 and all(np.isfinite(h["val_mae"]) for h in hist)
    p = prepare(graphs[4], n)
    with torch.no_grad():
        pred = denormalise(m(p), p, n)
    assert np.abs(pred - gold).mean() == pytest.approx(min(h["val_mae"] for h in hist), rel=1e-5)
    if model == "gbdt":  # no untrained trees: the fit must beat the constant map on a training sample
        ys = [prepare(g, n).y for g in graphs[:4]]
        fit = np.mean([float((m(prepare(g, n)) - y).abs().mean()) for g, y in zip(graphs[:4], ys, strict=True)])
        mu = float(torch.cat([y.ravel() for y in ys]).mean())
        assert fit < 0.75 * np.mean([float((y - mu).abs().mean()) for y in ys])
        return
    else:
        torch.manual_seed(0)
        m0 = build_model(model, graphs[0], hp).eval()
        with torch.no_grad():
            init = np.abs(denormalise(m0(p), p, n) - gold).mean()
    assert np.abs(pred - gold).mean() < 0.5 * init


def test_prepare_rejects_currentless_case(graphs, norm):
    g = graphs[0].clone()
    g.image = g.image.clone()
    g.image[0] = 0
    with pytest.raises(InputError, match="all zero"):
        prepare(g, norm)


def test_params_validation():
    with pytest.raises(InputError, match="hidden"):
        PDNNetParams(hidden=0)
    with pytest.raises(InputError, match="base"):
        CNNParams(base=0)
    assert PDNNetParams().replace(layers=0).layers == 0
    with pytest.raises(InputError, match="PDNNetParams.hidden: must be an integer"):
        PDNNetParams(hidden=True)
    with pytest.raises(InputError, match="GNNParams.width: unknown parameter"):
        GNNParams(width=3)
    assert PDNNetParams(**PDNNetParams(hidden=5).to_dict()) == PDNNetParams(hidden=5)


def test_generated_propagate_file_is_deleted_at_exit(tmp_path):
    """PyG writes the `propagate` it generates for ConductanceConv to a temporary file and never deletes it; the file
    lives while the process runs and is gone once it exits (no file left in the temporary folder per run)."""
    import os
    import subprocess
    import sys

    code = ("import os\n"
            "from eda.predictors.layers import ConductanceConv, _generated_propagate_file\n"
            "ConductanceConv(4); ConductanceConv(4)\n"
            "p = _generated_propagate_file(ConductanceConv)\n"
            "print(p); assert p and os.path.exists(p)\n")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    path = res.stdout.strip().splitlines()[-1]
    assert os.path.dirname(path) == str(tmp_path)
    assert not os.path.exists(path)
    assert not list(tmp_path.glob("*_propagate_*.py"))
