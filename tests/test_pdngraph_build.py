"""PDNGraph construction: structure against the deck, features, tile links, slices, errors, dataset class."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from pdnnet_util import grid_case, pwl_pdn, tiny_pdn, write_sample

from eda.errors import InputError
from eda.graphs.pdn_graph import (
    GRAPH_VERSION,
    GraphParams,
    build_pdn_graph,
    map_shape_for,
    peak_currents,
    slice_currents,
)
from eda.pdn.model import PDN, WAVE_PULSE
from eda.pdn.solve import source_currents


def _maps(shape, seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.random(shape) for k in ("current", "pdn_density", "eff_dist")}


def test_tiny_graph_matches_the_deck():
    pdn = tiny_pdn()
    shape = map_shape_for(pdn)
    assert shape == (4, 1)
    maps = _maps(shape)
    g = build_pdn_graph(pdn, maps, GraphParams(pool=2))
    assert g["pdn_node"].num_nodes == 6 and g["cell"].num_nodes == 2 and g["tile"].num_nodes == 2
    assert g.coarse_shape.tolist() == [2, 1] and g.map_shape.tolist() == [4, 1] and int(g.pool) == 2
    # every resistor appears once per direction, split into wires and vias, with g = 1/R
    got = {}
    for rel in ("wire", "via"):
        e = g["pdn_node", rel, "pdn_node"]
        for (a, b), w in zip(e.edge_index.T.tolist(), e.edge_weight.tolist(), strict=True):
            got[(rel, a, b)] = w
    want = {}
    for a, b, r in zip(pdn.res_a, pdn.res_b, pdn.res_value, strict=True):
        rel = "via" if pdn.node_layer[a] != pdn.node_layer[b] else "wire"
        want[(rel, a, b)] = want[(rel, b, a)] = 1.0 / r
    assert got.keys() == want.keys()
    assert all(abs(got[k] - want[k]) < 1e-6 for k in want)
    x = g["pdn_node"].x
    assert x[:, 2].tolist() == [0, 0, 0, 0, 1, 0]  # pad flag on the V-source node only
    assert x[:, 3].tolist() == pytest.approx([0, 1e-3, 2e-3, 0, 0, 0])  # load current per node
    assert x[:, 4].tolist() == pytest.approx([0, 0, 0, 1e-12, 0, 0])  # decap per node
    assert x[:, 1].tolist() == [1, 1, 1, 1, 0, 0]  # bottom layer
    assert g["cell", "draws_from", "pdn_node"].edge_index.tolist() == [[0, 1], [1, 2]]
    assert torch.equal(g["pdn_node", "rev_draws_from", "cell"].edge_index,
                       g["cell", "draws_from", "pdn_node"].edge_index.flip(0))
    assert g["cell"].x[:, 0].tolist() == pytest.approx([1e-3, 2e-3])
    assert g["cell"].x[:, 1].tolist() == pytest.approx([1e-3, 2e-3])  # DC loads: peak = value
    # node → tile (2 µm tiles): x = 0.5, 1.5 | 2.5, 3.5 µm; m4 nodes at 0.5 and 3.5 µm
    assert g["pdn_node", "in_tile", "tile"].edge_index[1].tolist() == [0, 0, 1, 1, 0, 1]
    # clusters = (layer, tile): m1 {0,1}, m1 {2,3}, m4 {4}, m4 {5}
    assert g["pdn_node", "in_cluster", "pdn_cluster"].edge_index[1].tolist() == [0, 0, 1, 1, 2, 3]
    assert g["pdn_cluster", "in_tile", "tile"].edge_index[1].tolist() == [0, 1, 0, 1]
    # summed conductance between clusters (by hand): wire 1-2 (1 S) joins m1 clusters, m4 wire 4 S, vias 2 S each
    def edges(rel):
        e = g["pdn_cluster", rel, "pdn_cluster"]
        return {tuple(ab): w for ab, w in zip(e.edge_index.T.tolist(), e.edge_weight.tolist(), strict=True)}
    assert edges("wire") == pytest.approx({(0, 1): 1.0, (2, 3): 4.0, (1, 0): 1.0, (3, 2): 4.0})
    assert edges("via") == pytest.approx({(0, 2): 2.0, (1, 3): 2.0, (2, 0): 2.0, (3, 1): 2.0})
    c = g["pdn_cluster"].x.double()
    assert c[:, 1].tolist() == [1, 1, 0, 0] and c[:, 2].tolist() == [0, 0, 1, 0]
    assert c[:, 4].tolist() == pytest.approx([1e-3, 2e-3, 0, 0]) and c[:, 5].tolist() == pytest.approx([0, 1e-12, 0, 0])
    np.testing.assert_allclose(10 ** c[:, 3].numpy(), [2, 2, 1, 1])  # nodes per cluster
    np.testing.assert_allclose(10 ** c[:, 6].numpy() - 1e-6, [1, 1, 0, 0], atol=1e-9)  # g inside: one 1 Ω wire
    # least path resistance to the pad cluster (2): Dijkstra by hand over 1/g of the cluster edges
    np.testing.assert_allclose(10 ** c[:, 7].numpy() - 1e-3, [0.5, 0.75, 0.0, 0.25], atol=1e-6)
    assert c[:, 8].tolist() == [0, 0, 0, 0] and c[:, 9].tolist() == [0, 0, 0, 0]  # no inductors; static graph
    assert c[:, 10].tolist() == pytest.approx(c[:, 4].tolist())  # DC: peak = load
    # images: current summed over the tile's pixels, the others averaged; fine maps zero-padded to whole tiles
    assert g.image.shape == (3, 2, 1) and list(g.channels) == ["current", "pdn_density", "eff_dist"]
    cur, den = maps["current"][:, 0], maps["pdn_density"][:, 0]
    np.testing.assert_allclose(g.image[0, :, 0], [cur[:2].sum(), cur[2:].sum()], rtol=1e-6)
    np.testing.assert_allclose(g.image[1, :, 0], [den[:2].mean(), den[2:].mean()], rtol=1e-6)
    assert g.image_fine.shape == (3, 4, 2)
    np.testing.assert_allclose(g.image_fine[0, :, 0], cur, rtol=1e-6)
    assert float(g.image_fine[:, :, 1].abs().sum()) == 0.0


def test_cluster_graph_is_the_galerkin_coarsening_of_the_conductance_matrix():
    """Off-diagonal ``Pᵀ G P`` (P: node → cluster) equals minus the summed cluster-edge conductances."""
    pdn, maps, _ = grid_case(4)
    g = build_pdn_graph(pdn, maps, GraphParams(pool=3))
    n, nc = g["pdn_node"].num_nodes, g["pdn_cluster"].num_nodes
    G = np.zeros((n, n))
    for rel in ("wire", "via"):
        e = g["pdn_node", rel, "pdn_node"]
        a, b = e.edge_index.numpy()
        np.add.at(G, (a, b), -e.edge_weight.double().numpy())
    G[np.diag_indices(n)] = -G.sum(1)
    P = np.zeros((n, nc))
    P[np.arange(n), g["pdn_node", "in_cluster", "pdn_cluster"].edge_index[1].numpy()] = 1.0
    Gc = P.T @ G @ P
    want = -Gc[~np.eye(nc, dtype=bool)]
    got = np.zeros((nc, nc))
    for rel in ("wire", "via"):
        e = g["pdn_cluster", rel, "pdn_cluster"]
        a, b = e.edge_index.numpy()
        np.add.at(got, (a, b), e.edge_weight.double().numpy())
    np.testing.assert_allclose(got[~np.eye(nc, dtype=bool)], want, rtol=1e-5, atol=1e-9)
    # clusters never mix layers or tiles
    lay = pdn.node_layer[np.arange(n)]
    cid = g["pdn_node", "in_cluster", "pdn_cluster"].edge_index[1].numpy()
    assert (g["pdn_cluster"].layer.numpy()[cid] == lay).all()
    ntile = g["pdn_node", "in_tile", "tile"].edge_index[1].numpy()
    assert (g["pdn_cluster", "in_tile", "tile"].edge_index[1].numpy()[cid] == ntile).all()
    # total load current is conserved nodes → clusters
    assert float(g["pdn_cluster"].x[:, 4].double().sum()) == pytest.approx(pdn.is_value.sum(), rel=1e-5)


def test_grid_graph_counts_and_labels():
    pdn, maps, label = grid_case(3)
    g = build_pdn_graph(pdn, maps, labels={"static": label})
    n_wire = int((~pdn.is_via).sum())
    assert g["pdn_node", "wire", "pdn_node"].num_edges == 2 * n_wire
    assert g["pdn_node", "via", "pdn_node"].num_edges == 2 * int(pdn.is_via.sum())
    assert g["cell"].num_nodes == len(pdn.is_value)
    assert torch.allclose(g.y_static.double(), torch.from_numpy(label), rtol=1e-6)
    # total load current is conserved from sources to nodes to cells
    assert float(g["pdn_node"].x[:, 3].double().sum()) == pytest.approx(pdn.is_value.sum(), rel=1e-5)


def test_shorts_and_package_inductors_become_pads():
    pdn, maps, _ = grid_case(1, pad_inductance=1e-11)
    g = build_pdn_graph(pdn, maps)
    pads = g["pdn_node"].x[:, 2].bool()
    pkg = np.char.startswith(pdn.node_names.astype(str), "_X_")
    # the package node and the bump node it feeds through the inductor are both pads
    assert pads[torch.from_numpy(pkg)].all()
    assert int(pads.sum()) == 2 * int(pkg.sum())
    # the package inductance reaches the clusters of the bumps: Σ 1/L over clusters = number of bumps / L
    inv_l = 10 ** g["pdn_cluster"].x[:, 8].double().numpy() - 1.0
    assert inv_l.sum() == pytest.approx(len(pdn.ind_value) / 1e-11, rel=1e-4)
    assert (inv_l[g["pdn_cluster"].x[:, 2].numpy() == 0] == 0).all()  # only pad clusters


def test_slices_match_ngspice_style_source_evaluation():
    """Midpoint-rule slices of ngspice-style evaluations (``source_currents``), for PWL waveforms on their own
    time points, on one shared grid (the matrix path), over windows past their ends, and for PULSE."""
    pdn = pwl_pdn()
    edges = np.linspace(0, 4e-9, 5)

    def midpoint(p, edges, sub=4):
        ts = (edges[:-1, None] + (np.arange(sub) + 0.5)[None, :] / sub * np.diff(edges)[:, None]).ravel()
        vals = np.stack([source_currents(p, float(t)) for t in ts])
        return vals.reshape(len(edges) - 1, sub, -1).mean(axis=1).T

    want = midpoint(pdn, edges)
    np.testing.assert_allclose(slice_currents(pdn, 4, sub=4), want, rtol=1e-12, atol=1e-18)
    wide = (-1e-9, 5e-9)  # before the first and after the last point of every source
    np.testing.assert_allclose(slice_currents(pdn, 3, wide), midpoint(pdn, np.linspace(*wide, 4)), rtol=1e-12)
    grid = replace(pdn, pwl_start=np.array([0, 4, 8]), pwl_t=np.tile([0.0, 1e-9, 2.5e-9, 3e-9], 2),
                   pwl_v=np.array([0.0, 2e-3, 0.0, 1e-3, 1e-3, 4e-3, 4e-3, 0.0]))
    for win in (None, wide):
        e = np.linspace(*(win or (0.0, 4e-9)), 5)
        np.testing.assert_allclose(slice_currents(grid, 4, win, sub=3), midpoint(grid, e, 3), rtol=1e-12)
    # a mutated waveform must move the slices (the check can fail)
    bad = replace(pdn, pwl_v=pdn.pwl_v * np.r_[1, 1.5, 1, 1, 1, 1])
    assert not np.allclose(slice_currents(bad, 4), want, rtol=1e-3)
    pul = replace(pdn, is_kind=np.full(2, WAVE_PULSE, dtype=np.int8),
                  is_pulse=np.array([[0.0, 2e-3, 0.3e-9, 1e-10, 1e-10, 5e-10, 2e-9]] * 2))
    np.testing.assert_allclose(slice_currents(pul, 4, sub=4), midpoint(pul, edges), rtol=1e-12)
    g = build_pdn_graph(pdn, {**_maps((4, 1)), "current_t": np.ones((4, 4, 1))}, GraphParams(n_slices=4))
    np.testing.assert_allclose(g["cell"].x[:, 2:].double().numpy(), want, rtol=1e-6)
    # peaks: the largest |value| of each PWL, by brute force over its points
    want_peak = [np.abs(pdn.pwl_v[pdn.pwl_start[k]: pdn.pwl_start[k + 1]]).max() for k in range(2)]
    np.testing.assert_allclose(peak_currents(pdn), want_peak)
    np.testing.assert_allclose(g["cell"].x[:, 1].double().numpy(), want_peak, rtol=1e-6)
    assert list(g.channels)[3:] == ["current_t0", "current_t1", "current_t2", "current_t3"]
    np.testing.assert_allclose(g["pdn_cluster"].x[:, 9].double().numpy(), np.log10(1e-9), rtol=1e-6)  # 4 ns / 4


@pytest.mark.parametrize("bad", ["shape", "nan", "one_d", "slices", "outside"])
def test_bad_maps_are_clear_errors(bad):
    pdn = tiny_pdn()
    maps = _maps((4, 1))
    params = GraphParams()
    if bad == "shape":
        maps["eff_dist"] = np.ones((4, 2))
    elif bad == "nan":
        maps["current"][0, 0] = np.nan
    elif bad == "one_d":
        maps["pdn_density"] = np.ones(4)
    elif bad == "slices":
        maps["current_t"] = np.ones((3, 4, 1))
        params = GraphParams(n_slices=4)
    elif bad == "outside":
        maps = {k: v[:3] for k, v in maps.items()}
    with pytest.raises(InputError):
        build_pdn_graph(pdn, maps, params)


def test_nodes_without_coordinates_are_refused():
    pdn = PDN.from_names(["a", "b"], res_a=[0], res_b=[1], res_value=[1.0])
    with pytest.raises(InputError, match="coordinates"):
        build_pdn_graph(pdn, {"current": np.ones((1, 1))})


def test_bad_params_name_the_field():
    with pytest.raises(InputError, match="tile_um"):
        GraphParams(tile_um=0)
    with pytest.raises(InputError, match="n_slices"):
        GraphParams(n_slices=-1)
    with pytest.raises(InputError, match="pool"):
        GraphParams(pool=0)


def test_dataset_class_processes_and_reloads(tmp_path):
    from eda.graphs.dataset import IRDropDataset, graph_from_dict, graph_to_dict

    for i in range(2):
        write_sample(tmp_path / "raw" / f"s{i:06d}", seed=i)
    ds = IRDropDataset(tmp_path, "static")
    assert len(ds) == 2 and ds.names == ["s000000", "s000001"]
    g = ds[1]
    assert g.name == "s000001" and "y_static" in g and g.image.shape[0] == 3
    files = sorted(p.name for p in (tmp_path / "processed" / f"static_v{GRAPH_VERSION}").glob("s*.pt"))
    assert files == ["s000000.pt", "s000001.pt"]
    # processed files are weights-only loadable and round-trip exactly
    d = torch.load(tmp_path / "processed" / f"static_v{GRAPH_VERSION}" / "s000000.pt", weights_only=True)
    g0 = graph_from_dict(d)
    assert torch.equal(g0["pdn_node"].x, ds[0]["pdn_node"].x)
    assert graph_to_dict(g0).keys() == d.keys()
    dy = IRDropDataset(tmp_path, "dynamic")
    gd = dy[0]
    assert gd.image.shape[0] == 3 + 4 and gd["cell"].x.shape[1] == 2 + 4 and "y_dynamic" in gd
    assert (gd["pdn_node"].x[:, 4] > 0).any()  # decaps of the dynamic deck


def test_dataset_without_samples_is_a_clear_error(tmp_path):
    from eda.graphs.dataset import IRDropDataset

    with pytest.raises(InputError, match="no samples"):
        IRDropDataset(tmp_path, "static")
    with pytest.raises(InputError, match="target"):
        IRDropDataset(tmp_path, "transient")
