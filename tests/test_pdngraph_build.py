"""PDNGraph construction: structure against the deck, features, tile links, slices, errors, dataset class."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from eda.graphs.pdn_graph import GRAPH_VERSION, GraphParams, build_pdn_graph, map_shape_for, slice_currents
from pdnnet_util import grid_case, pwl_pdn, tiny_pdn, write_sample

from eda.errors import InputError
from eda.pdn.model import PDN
from eda.pdn.solve import source_currents


def _maps(shape, seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.random(shape) for k in ("current", "pdn_density", "eff_dist")}


def test_tiny_graph_matches_the_deck():
    pdn = tiny_pdn()
    shape = map_shape_for(pdn)
    assert shape == (4, 1)
    g = build_pdn_graph(pdn, _maps(shape))
    assert g["pdn_node"].num_nodes == 6 and g["cell"].num_nodes == 2 and g["tile"].num_nodes == 4
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
    assert x[:, 4].tolist() == [0, 0, 0, 0, 1, 0]  # pad flag on the V-source node only
    assert x[:, 5].tolist() == pytest.approx([0, 1e-3, 2e-3, 0, 0, 0])  # load current per node
    assert x[:, 6].tolist() == pytest.approx([0, 0, 0, 1e-12, 0, 0])  # decap per node
    assert x[:, 3].tolist() == [1, 1, 1, 1, 0, 0]  # bottom layer
    # least path resistance to the pad (node 4): Dijkstra by hand over the resistor graph
    r = 10 ** x[:, 8].double().numpy() - 1e-3
    np.testing.assert_allclose(r, [0.5, 1.5, 1.75, 0.75, 0.0, 0.25], atol=1e-6)
    assert g["cell", "draws_from", "pdn_node"].edge_index.tolist() == [[0, 1], [1, 2]]
    assert torch.equal(g["pdn_node", "rev_draws_from", "cell"].edge_index,
                       g["cell", "draws_from", "pdn_node"].edge_index.flip(0))
    # node → tile: x = 0.5, 1.5, 2.5, 3.5 µm → tiles 0..3 (ny = 1)
    assert g["pdn_node", "in_tile", "tile"].edge_index[1].tolist() == [0, 1, 2, 3, 0, 3]
    cov = g["pdn_node", "covers", "tile"]
    s = torch.zeros(4).index_add_(0, cov.edge_index[1], cov.edge_weight)
    assert torch.allclose(s, torch.ones(4))
    assert set(cov.edge_index[0].tolist()) <= {0, 1, 2, 3}  # rasterised from the bottom layer only
    assert g.image.shape == (3, 4, 1) and list(g.channels) == ["current", "pdn_density", "eff_dist"]


def test_grid_graph_counts_and_labels():
    pdn, maps, label = grid_case(3)
    g = build_pdn_graph(pdn, maps, labels={"static": label})
    n_wire = int((~pdn.is_via).sum())
    assert g["pdn_node", "wire", "pdn_node"].num_edges == 2 * n_wire
    assert g["pdn_node", "via", "pdn_node"].num_edges == 2 * int(pdn.is_via.sum())
    assert g["cell"].num_nodes == len(pdn.is_value)
    assert torch.allclose(g.y_static.double(), torch.from_numpy(label), rtol=1e-6)
    # total load current is conserved from sources to nodes to cells
    assert float(g["pdn_node"].x[:, 5].double().sum()) == pytest.approx(pdn.is_value.sum(), rel=1e-5)


def test_shorts_and_package_inductors_become_pads():
    pdn, maps, _ = grid_case(1, pad_inductance=1e-11)
    g = build_pdn_graph(pdn, maps)
    pads = g["pdn_node"].x[:, 4].bool()
    pkg = np.char.startswith(pdn.node_names.astype(str), "_X_")
    # the package node and the bump node it feeds through the inductor are both pads
    assert pads[torch.from_numpy(pkg)].all()
    assert int(pads.sum()) == 2 * int(pkg.sum())


def test_slices_match_ngspice_style_source_evaluation():
    pdn = pwl_pdn()
    got = slice_currents(pdn, 4, sub=4)
    edges = np.linspace(0, 4e-9, 5)
    want = np.zeros((2, 4))
    for k in range(4):
        ts = edges[k] + (np.arange(4) + 0.5) / 4 * (edges[k + 1] - edges[k])
        want[:, k] = np.mean([source_currents(pdn, float(t)) for t in ts], axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-18)
    g = build_pdn_graph(pdn, {**_maps((4, 1)), "current_t": np.ones((4, 4, 1))}, GraphParams(n_slices=4))
    np.testing.assert_allclose(g["cell"].x[:, 3:].double().numpy(), want, rtol=1e-6)
    assert list(g.channels)[3:] == ["current_t0", "current_t1", "current_t2", "current_t3"]


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
    assert gd.image.shape[0] == 3 + 4 and gd["cell"].x.shape[1] == 3 + 4 and "y_dynamic" in gd
    assert (gd["pdn_node"].x[:, 6] > 0).any()  # decaps of the dynamic deck


def test_dataset_without_samples_is_a_clear_error(tmp_path):
    from eda.graphs.dataset import IRDropDataset

    with pytest.raises(InputError, match="no samples"):
        IRDropDataset(tmp_path, "static")
    with pytest.raises(InputError, match="target"):
        IRDropDataset(tmp_path, "transient")
