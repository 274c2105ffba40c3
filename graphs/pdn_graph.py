"""PDNGraph: a PDN (+ its load cells and the map grid) as a PyG ``HeteroData``, at two levels.

The fine level is the deck itself; the coarse level groups the PDN nodes of one metal layer inside one
*tile* of the CNN grid into a ``pdn_cluster`` and sums the conductances between groups (the Galerkin
coarsening ``Pᵀ G P`` of the nodal matrix). Message passing on clusters follows the same physics as on
nodes, while K steps span K tiles instead of K wire segments, which is what an IR-drop map needs and what
keeps a 360k-node PDN fast.

Node types:
    ``pdn_node``: one per PDN node. Features :data:`PDN_FEATURES` (layer, pad flag, local load current,
    decap, total conductance); ``pos`` in µm, ``layer``.
    ``pdn_cluster``: the PDN nodes of one layer inside one tile. Features :data:`CLUSTER_FEATURES`.
    ``cell``: one per load (current source; in our synthetic samples one per cell). Features
    :data:`CELL_FEATURES` plus ``n_slices`` time-sliced currents.
    ``tile``: one per tile of the CNN grid (``pool × pool`` map pixels), flattened row-major over
    ``coarse_shape``; ``tile.pos`` is the tile centre in µm.

Edge types (``edge_weight`` in siemens for wires/vias)::

    pdn_node ──wire──▶ pdn_node          both directions, conductance 1/R (0-V shorts and inductors: the largest g)
    pdn_node ──via───▶ pdn_node          both directions, conductance 1/R
    pdn_node ──in_cluster──▶ pdn_cluster the group a node belongs to (reverse: rev_in_cluster)
    pdn_cluster ──wire──▶ pdn_cluster    summed conductance of the wires between two groups of one layer
    pdn_cluster ──via───▶ pdn_cluster    summed conductance of the vias between two groups of two layers
    cell ──draws_from──▶ pdn_node        the node a load is tied to (reverse: rev_draws_from)
    pdn_node ──in_tile──▶ tile           node→tile assignment (reverse: rev_in_tile)
    pdn_cluster ──in_tile──▶ tile        cluster→tile assignment: rasterises GNN outputs onto the CNN grid

Image maps travel as separate attributes, in physical units: ``data.image`` ``(C, X, Y)`` on the tile grid
(current channels summed over the tile's pixels, A per tile; the others averaged; names in
``data.channels``), ``data.image_fine`` ``(F, PX, PY)`` the full-resolution channels (names in
``data.fine_channels``: the three static maps, plus ``ir_est`` with ``GraphParams(physics_iters=k)``,
``ir_pattern`` with ``pattern_iters`` and ``ir_step`` with ``step_iters``),
zero-padded to whole tiles (``PX = X·pool``), and, when known, labels ``data.y_static`` / ``data.y_dynamic``
``(nx, ny)`` in volts. ``data.map_shape`` is ``(nx, ny)``, ``data.coarse_shape`` ``(X, Y)``,
``data.dbu_per_um`` the scale used. ``ir_est`` is a physics estimate of the bottom-layer IR drop
(:mod:`eda.graphs.pdn_physics`: a fixed number of AMG-preconditioned CG steps on the deck's nodal equations,
rasterised rail by rail), never the exact solution. Normalisation is *not* applied here: it is fitted on a
training set and saved with each model (:class:`eda.predictors.normalize.Normalizer`).

Construction is vectorised (bincount, one sort of the inter-cluster edges, one Dijkstra on the clusters):
a 360k-node deck builds in well under a second.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from pydantic import Field
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from torch_geometric.data import HeteroData

from eda.errors import InputError
from eda.graphs.pdn_waveforms import peak_currents, slice_currents
from eda.graphs.pdn_waveforms import slice_window as default_window
from eda.params import Params
from eda.pdn.maps import ir_drop_map, require_coords
from eda.pdn.model import GROUND, PDN

__all__ = ["GraphParams", "PDN_FEATURES", "CLUSTER_FEATURES", "CELL_FEATURES", "STATIC_CHANNELS", "PHYSICS_CHANNEL",
           "PATTERN_CHANNEL", "STEP_CHANNEL", "build_pdn_graph", "load_nodes", "with_inherited_coords",
           "nets_as_layers", "slice_currents", "peak_currents", "map_shape_for", "EDGE_TYPES"]

#: Columns of ``data['pdn_node'].x``.
PDN_FEATURES = ("layer_frac", "is_bottom", "is_pad", "load_current", "decap", "log10_g_total")
#: Columns of ``data['pdn_cluster'].x``: layer, pad flag, node count, summed load current and decap, the
#: conductance inside the group (how much metal it holds), the least path resistance to a pad, the package
#: inductance feeding the group (``log10(1 + Σ 1/L)``, 0 without inductors) and the time-slice length
#: (``log10`` seconds, 0 for static graphs): ``L·dI/dt`` is what a dynamic drop adds to the resistive one;
#: last the summed peak current of the loads (their largest value over the waveform; DC: the value).
CLUSTER_FEATURES = ("layer_frac", "is_bottom", "has_pad", "log10_nodes", "load_current", "decap",
                    "log10_g_inside", "log10_r_pad", "log10_inv_l_pad", "log10_slice_s", "peak_current")
#: Parts of ``data.build_cpu`` (CPU seconds): time slices, pattern channel, level channel, the rest of the graph
#: (maps, clusters, cells, images), lumped droop.
BUILD_PARTS = ("slices", "pattern", "step", "graph", "lumped")
#: Bumped when graph contents change (processed dataset folders are keyed by it).
GRAPH_VERSION = 8
#: Columns of ``data['cell'].x`` before the time slices (``i_t0 ... i_t{T-1}`` follow): DC value and peak of
#: the waveform (slice means hide the short switching spikes that set the worst dynamic drop). Positions are
#: left out on purpose: IR drop does not depend on where the die's origin is, and mirrored samples stay valid.
CELL_FEATURES = ("current", "peak_current")
#: Static image channels, in order; dynamic graphs append ``current_t0 ...``.
STATIC_CHANNELS = ("current", "pdn_density", "eff_dist")
#: The physics channel (:mod:`eda.graphs.pdn_physics`): estimated IR drop of the bottom layer, V.
PHYSICS_CHANNEL = "ir_est"
#: The dynamic pattern channel (:func:`eda.graphs.pdn_physics.dynamic_pattern`): the static drop with every
#: load at its peak, scaled to a largest value of 1 (where a transient's worst drop sits, not its level).
PATTERN_CHANNEL = "ir_pattern"
#: The dynamic level channel (:func:`eda.graphs.pdn_physics.step_drop`): the drop one backward-Euler step after
#: every load jumps to its peak, decaps, package and grid included, V (how high a transient's worst drop gets).
STEP_CHANNEL = "ir_step"
EDGE_TYPES = (("pdn_node", "wire", "pdn_node"), ("pdn_node", "via", "pdn_node"),
              ("pdn_node", "in_cluster", "pdn_cluster"), ("pdn_cluster", "rev_in_cluster", "pdn_node"),
              ("pdn_cluster", "wire", "pdn_cluster"), ("pdn_cluster", "via", "pdn_cluster"),
              ("cell", "draws_from", "pdn_node"), ("pdn_node", "rev_draws_from", "cell"),
              ("pdn_node", "in_tile", "tile"), ("tile", "rev_in_tile", "pdn_node"),
              ("pdn_cluster", "in_tile", "tile"))


class GraphParams(Params):
    """How to build a PDNGraph (:class:`eda.params.Params`: fields described and bounded; errors
    ``GraphParams.field: ...``)."""

    tile_um: float = Field(1.0, gt=0, description="map pixel edge (µm); the contest uses 1 µm")
    dbu_per_um: float | None = Field(None, gt=0, description="database units per µm in node names; None: fitted to "
                                     "the given maps, else from the deck's naming (2000 for contest names "
                                     "n1_m1_x_y; eda.pdn.maps.fit_dbu_per_um)")
    n_slices: int = Field(0, ge=0, description="time slices of cell currents (0: static graph only)")
    pool: int = Field(6, ge=1, description="map pixels per tile edge of the coarse (GNN/CNN) grid; clusters are "
                      "per layer per tile")
    physics_iters: int = Field(0, ge=0, le=100, description="AMG-PCG iterations of the physics estimate "
                               "(eda.graphs.pdn_physics), added as the fine and tile channel ir_est; 0: none")
    pattern_iters: int = Field(0, ge=0, le=100, description="AMG-PCG iterations of the dynamic pattern (static "
                               "drop at the loads' peaks scaled to max 1, eda.graphs.pdn_physics.dynamic_pattern), "
                               "added as the fine and tile channel ir_pattern; 0: none")
    step_iters: int = Field(0, ge=0, le=100, description="AMG-PCG iterations of the dynamic level channel (one "
                            "backward-Euler step from rest with the loads at their peaks, decaps and package "
                            "included, eda.graphs.pdn_physics.step_drop), added as the fine and tile channel "
                            "ir_step (V); 0: none")


def map_shape_for(pdn: PDN, params: GraphParams = GraphParams()) -> tuple[int, int]:
    """Map shape ``(nx, ny)`` covering every node of ``pdn`` with ``params.tile_um`` tiles."""
    require_coords(pdn, every=True, what="PDNGraph")
    s = _dbu(pdn, {}, params) * params.tile_um
    return (int(np.floor(np.nanmax(pdn.node_x) / s)) + 1, int(np.floor(np.nanmax(pdn.node_y) / s)) + 1)


def load_nodes(pdn: PDN) -> np.ndarray:
    """The PDN node each current source draws from (the terminal that is not ground), per source."""
    a, b = pdn.is_a, pdn.is_b
    node = np.where(b == GROUND, a, b)
    both = (a != GROUND) & (b != GROUND)
    if both.any():  # a source between two nodes: it loads the one current flows out of the grid from
        node = np.where(both, a, node)
    return node


def with_inherited_coords(pdn: PDN) -> PDN:
    """``pdn`` with coordinates for nodes whose names carry none but that hang off a node that has them.

    IBM decks name the inner node of a decap's series resistor ``_Z_n1_x_y`` and the package nodes
    ``_Y_n2_x_y``; such a node takes the position of its neighbour through any element (resistor,
    capacitor, inductor, voltage source), repeated along chains. Returns ``pdn`` itself when every node
    has coordinates (or none has: the caller reports that).
    """
    bad = ~(np.isfinite(pdn.node_x) & np.isfinite(pdn.node_y))
    if not bad.any() or bad.all():
        return pdn
    from dataclasses import replace

    a = np.concatenate([pdn.res_a, pdn.cap_a, pdn.ind_a, pdn.vs_a])
    b = np.concatenate([pdn.res_b, pdn.cap_b, pdn.ind_b, pdn.vs_b])
    keep = (a >= 0) & (b >= 0)
    a, b = np.concatenate([a[keep], b[keep]]), np.concatenate([b[keep], a[keep]])
    x, y, net = pdn.node_x.copy(), pdn.node_y.copy(), pdn.node_net.copy()
    for _ in range(8):  # chains are short (decap: node - R - inner node; pad: node - R - L - V)
        take = bad[a] & ~bad[b]
        if not take.any():
            break
        dst, src = a[take], b[take]
        x[dst], y[dst], net[dst] = x[src], y[src], net[src]
        bad = ~(np.isfinite(x) & np.isfinite(y))
    return replace(pdn, node_x=x, node_y=y, node_net=net)


def nets_as_layers(pdn: PDN) -> tuple[PDN, int]:
    """A deck without layer names (IBM: ``n<k>_x_y``, one ``k`` per layer and net) with each ``k`` as a layer.

    Numbers that carry loads come first (ordered, the *bottom* layers: ibmpg1t's M5 GND ``n0`` and M5 VDD
    ``n1``), the others after (M6 ``n2``, ``n3``), so clusters never mix two nets and the bottom flag marks
    where the cells draw. Returns ``(copy, number of bottom layers)``.
    """
    from dataclasses import replace

    net = pdn.node_net.astype(np.int64)
    nets = np.unique(net[net >= 0])
    if not len(nets):
        return pdn, 1
    ln = load_nodes(pdn)
    loaded = np.unique(net[ln[ln >= 0]])
    loaded = loaded[loaded >= 0]
    order = [int(k) for k in loaded] + [int(k) for k in nets if k not in set(loaded.tolist())]
    rank = np.full(int(nets.max()) + 1, -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    layer = np.where(net >= 0, rank[np.maximum(net, 0)], 0).astype(np.int16)
    return replace(pdn, node_layer=layer, layer_names=[f"n{k}" for k in order]), max(len(loaded), 1)


def _short_groups(pdn: PDN) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of nodes joined by 0-V sources or inductors (DC shorts), both ends in the grid."""
    a = np.concatenate([pdn.vs_a[pdn.vs_value == 0], pdn.ind_a])
    b = np.concatenate([pdn.vs_b[pdn.vs_value == 0], pdn.ind_b])
    keep = (a != GROUND) & (b != GROUND)
    return a[keep], b[keep]


def _resistance_to_pads(n: int, a: np.ndarray, b: np.ndarray, r: np.ndarray, is_pad: np.ndarray) -> np.ndarray:
    """Least path resistance (Ω) from every node to its nearest pad (Dijkstra over a resistor graph).

    An electrical distance to the supply that follows the real straps and vias (the effective-distance map
    only sees geometry); nodes with no path get the largest finite value.
    """
    from scipy.sparse.csgraph import dijkstra

    keep = (a >= 0) & (b >= 0) & (a != b)
    if not is_pad.any() or not keep.any():
        return np.zeros(n)
    A = coo_matrix((np.maximum(r[keep], 1e-9), (a[keep], b[keep])), shape=(n, n)).tocsr()
    d = dijkstra(A, directed=False, indices=np.flatnonzero(is_pad), min_only=True)
    fin = np.isfinite(d)
    return np.where(fin, d, d[fin].max() if fin.any() else 0.0)


def _block_sum(m: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Sums of ``k`` consecutive entries along ``axis`` (the last block may be shorter): k strided adds of
    whole rows, several times faster than ``np.add.reduceat`` on big maps."""
    n = m.shape[axis]
    full = n // k * k

    def sl(a, b, c):
        return (slice(None),) * axis + (slice(a, b, c),)

    s = m[sl(0, full, k)].copy()  # in the maps' own precision: float32 sums of k values lose < 1e-6
    for i in range(1, k):
        s += m[sl(i, full, k)]
    if full < n:
        s = np.concatenate([s, m[sl(full, n, None)].sum(axis=axis, keepdims=True)], axis=axis)
    return s


def _pool(maps: np.ndarray, k: int, shape: tuple[int, int], mean: np.ndarray) -> np.ndarray:
    """``k × k`` block sums of maps ``(C, nx, ny)`` → ``(C, X, Y)``; channels flagged in ``mean`` are averaged
    over the block's real pixels instead (blocks at the far edges may hang over the map)."""
    X, Y = shape
    C, nx, ny = maps.shape
    s = _block_sum(_block_sum(maps, k, 1), k, 2).astype(np.float64)  # rows first: contiguous adds, k-fold less
    if mean.any():
        cx = np.minimum(k, nx - np.arange(X) * k)
        cy = np.minimum(k, ny - np.arange(Y) * k)
        s[mean] /= (cx[:, None] * cy[None, :])
    return s


def _check_map(name: str, arr, shape: tuple[int, int] | None) -> np.ndarray:
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim != 2:
        raise InputError(f"map {name!r}: expected a 2-D array (nx, ny), got shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise InputError(f"map {name!r}: shape {arr.shape} does not match the other maps {tuple(shape)}")
    if not np.isfinite(arr).all():
        raise InputError(f"map {name!r}: contains NaN or infinite values")
    return arr


def build_pdn_graph(pdn: PDN, maps: Mapping[str, np.ndarray] | None = None,
                    params: GraphParams = GraphParams(), labels: Mapping[str, np.ndarray] | None = None,
                    slice_window: tuple[float, float] | None = None) -> HeteroData:
    """Build the PDNGraph of a PDN.

    Args:
        pdn: the network; node names must carry coordinates (``n1_m1_4000_0``).
        maps: image maps ``(nx, ny)`` in contest convention (``map[x_tile, y_tile]``): ``current`` (A per
            tile), ``pdn_density``, ``eff_dist`` and, when ``params.n_slices > 0``, ``current_t``
            ``(n_slices, nx, ny)``. Missing maps are computed from the PDN (:mod:`eda.pdn.maps`).
        params: tile size, units, time slices, physics features.
        labels: optional ``static`` / ``dynamic`` IR-drop maps ``(nx, ny)`` (volts).
        slice_window: time window of the slices (default: the deck's ``.tran``).

    Returns:
        The ``HeteroData`` described in the module docstring.

    Raises:
        InputError: nodes without coordinates, maps of wrong or mismatched shape, NaN maps.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # dot products over 1e5 loads or nodes: extra BLAS threads only spin (~0.07 CPU s)
        return _build(pdn, maps, params, labels, slice_window)


def _build(pdn: PDN, maps: Mapping[str, np.ndarray] | None, params: GraphParams,
           labels: Mapping[str, np.ndarray] | None, slice_window: tuple[float, float] | None) -> HeteroData:
    clock = [time.process_time()]  # CPU seconds of the costly parts (BUILD_PARTS), kept as data.build_cpu
    pdn0, pdn = pdn, with_inherited_coords(pdn)
    require_coords(pdn, every=True, what="PDNGraph")
    maps = dict(maps or {})
    dbu = _dbu(pdn, maps, params)
    nx, ny = _grid_shape(pdn, maps, params, dbu)
    window = slice_window if slice_window is not None else default_window(pdn)
    # time-sliced load currents once (the maps and the cells share them; the sources are the deck's)
    cur_t = slice_currents(pdn, params.n_slices, window) if params.n_slices else None
    clock.append(time.process_time())
    n_bottom = 1
    if params.pattern_iters or params.step_iters:  # one static system (topology, AMG set-up) for both channels
        from eda.graphs.pdn_physics import dynamic_pattern, static_system, step_drop

        static = static_system(pdn0)
        static.plan = tuple(k for k in (params.pattern_iters, params.step_iters) if k)  # one CG run for both
    if params.pattern_iters:  # on the deck as given: rasterised like the labels (prefixed nodes stay off)
        maps[PATTERN_CHANNEL] = dynamic_pattern(pdn0, (nx, ny), dbu, params.pattern_iters, static=static)
    clock.append(time.process_time())
    if params.step_iters:  # the same raster as the pattern and the labels
        maps[STEP_CHANNEL] = ir_drop_map(pdn0, step_drop(pdn0, params.step_iters, static=static), (nx, ny), dbu,
                                         method="tile-max")
    clock.append(time.process_time())
    if not pdn.layer_names:  # IBM-style deck: input maps from the deck as it is, then nets as layers
        _maps_from_pdn(maps, pdn, (nx, ny), params.n_slices, cur_t, dbu)
        pdn, n_bottom = nets_as_layers(pdn)
    ix = np.floor(pdn.node_x / (dbu * params.tile_um)).astype(np.int64)
    iy = np.floor(pdn.node_y / (dbu * params.tile_um)).astype(np.int64)
    ix, iy = _check_inside(pdn, ix, iy, (nx, ny), params)
    k = params.pool
    X, Y = -(-nx // k), -(-ny // k)
    data = HeteroData()
    edges = _fine_edges(pdn, data)
    nodes = _node_features(pdn, edges, data, dbu, n_bottom)
    cid, c_tile = _clusters(pdn, edges, nodes, (ix // k) * Y + (iy // k), X * Y, params, window, data)
    _cells(pdn, nodes, cur_t, data)
    _tiles(params, (X, Y), (ix // k) * Y + (iy // k), cid, c_tile, data)
    _maps_from_pdn(maps, pdn, (nx, ny), params.n_slices, cur_t, dbu)
    if params.physics_iters:
        from eda.graphs.pdn_physics import bottom_layer_map, estimate_drop

        maps[PHYSICS_CHANNEL] = bottom_layer_map(pdn, estimate_drop(pdn, params.physics_iters), (nx, ny), dbu)
    _images(maps, (nx, ny), (X, Y), params, data)
    data.dbu_per_um = float(dbu)
    clock.append(time.process_time())
    if params.n_slices:  # dynamic graphs: the deck's global droop with the grid lumped (the models' scale)
        from eda.graphs.pdn_physics import lumped_droop

        data.lumped_v = lumped_droop(pdn)
    clock.append(time.process_time())
    data.build_cpu = torch.tensor(np.diff(clock), dtype=torch.float64)
    for key, arr in (labels or {}).items():
        if arr is None:
            continue
        if key not in ("static", "dynamic"):
            raise InputError(f"labels: unknown key {key!r}, expected 'static' or 'dynamic'")
        data[f"y_{key}"] = torch.from_numpy(_check_map(f"{key} IR drop", arr, (nx, ny)).astype(np.float32))
    return data


def _dbu(pdn: PDN, maps: dict, p: GraphParams) -> float:
    """Database units per µm: the params' value, else fitted to the given maps (or the deck's naming)."""
    if p.dbu_per_um is not None:
        return float(p.dbu_per_um)
    from eda.pdn.maps import fit_dbu_per_um

    shape = next((np.shape(v) for k, v in maps.items() if k != "current_t"), None)
    return fit_dbu_per_um(pdn, shape if shape is not None and len(shape) == 2 else None)


def _grid_shape(pdn: PDN, maps: dict, p: GraphParams, dbu: float) -> tuple[int, int]:
    shape = None
    for k, v in maps.items():
        if k != "current_t":
            shape = _check_map(k, v, shape).shape
    if shape is None:
        s = dbu * p.tile_um
        shape = (int(np.floor(np.nanmax(pdn.node_x) / s)) + 1, int(np.floor(np.nanmax(pdn.node_y) / s)) + 1)
    return shape


def _check_inside(pdn: PDN, ix: np.ndarray, iy: np.ndarray, shape: tuple[int, int], p: GraphParams
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Tile indices clipped into the grid: nodes up to 2 tiles beyond the maps' edge (upper-layer stripes
    that reach past the last m1 node) join the edge tiles; farther out, deck and maps do not belong together."""
    nx, ny = shape
    out = (ix < -2) | (iy < -2) | (ix >= nx + 2) | (iy >= ny + 2)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise InputError(f"{int(out.sum())} PDN node(s) lie outside the {nx}x{ny} map grid of {p.tile_um:g} µm "
                         f"tiles (e.g. {str(pdn.node_names[i])!r}); maps and deck do not belong together",
                         file=pdn.source)
    return np.clip(ix, 0, nx - 1), np.clip(iy, 0, ny - 1)


@dataclass
class _Edges:
    """Fine wire (shorts folded in at the largest conductance) and via edges, one direction each."""

    wire: tuple[np.ndarray, np.ndarray, np.ndarray]
    via: tuple[np.ndarray, np.ndarray, np.ndarray]
    shorts: tuple[np.ndarray, np.ndarray]
    g: np.ndarray
    g_max: float


def _both_dirs(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    ei = torch.from_numpy(np.stack([np.concatenate([a, b]), np.concatenate([b, a])]).astype(np.int64))
    return ei, torch.from_numpy(np.concatenate([w, w]).astype(np.float32))


def _fine_edges(pdn: PDN, data: HeteroData) -> _Edges:
    ra, rb, rv = pdn.res_a, pdn.res_b, pdn.res_value
    if (rv <= 0).any():
        raise InputError("resistors must have positive values", file=pdn.source)
    grounded = (ra == GROUND) | (rb == GROUND)
    g = 1.0 / rv
    is_via = pdn.is_via  # a property computed on each access
    via, wire = is_via & ~grounded, ~is_via & ~grounded
    g_max = float(g.max()) if len(g) else 1.0
    sa, sb = _short_groups(pdn)
    e = _Edges(wire=(np.concatenate([ra[wire], sa]), np.concatenate([rb[wire], sb]),
                     np.concatenate([g[wire], np.full(len(sa), g_max)])),
               via=(ra[via], rb[via], g[via]), shorts=(sa, sb), g=g, g_max=g_max)
    for rel, (ea, eb, eg) in (("wire", e.wire), ("via", e.via)):
        st = data["pdn_node", rel, "pdn_node"]
        st.edge_index, st.edge_weight = _both_dirs(ea, eb, eg)
    return e


@dataclass
class _Nodes:
    is_pad: np.ndarray
    i_node: np.ndarray
    i_peak: np.ndarray
    c_node: np.ndarray
    lnode: np.ndarray
    ok: np.ndarray
    layer: np.ndarray
    n_layers: int
    n_bottom: int = 1


def _pad_nodes(pdn: PDN, sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """Grid nodes tied to a pad source, directly or through a short / package inductor."""
    n = pdn.n_nodes
    pad_src = pdn.pad_mask  # a 0-V source to ground is a ground-net pad (IBM decks)
    pad_nodes = np.where(pdn.vs_a[pad_src] == GROUND, pdn.vs_b[pad_src], pdn.vs_a[pad_src])
    is_pad = np.zeros(n, dtype=bool)
    if len(sa):
        adj = coo_matrix((np.ones(len(sa)), (sa, sb)), shape=(n, n))
        _, lab = connected_components(adj, directed=False)
        pad_grp = np.zeros(lab.max() + 1, dtype=bool)
        pad_grp[lab[pad_nodes]] = True
        return pad_grp[lab]
    is_pad[pad_nodes] = True
    return is_pad


def _node_features(pdn: PDN, e: _Edges, data: HeteroData, dbu: float, n_bottom: int = 1) -> _Nodes:
    n = pdn.n_nodes
    ra, rb, g = pdn.res_a, pdn.res_b, e.g
    sa, sb = e.shorts
    g_tot = np.bincount(ra[ra >= 0], g[ra >= 0], minlength=n) + np.bincount(rb[rb >= 0], g[rb >= 0], minlength=n)
    g_tot += (np.bincount(sa, minlength=n) + np.bincount(sb, minlength=n)) * e.g_max
    lnode = load_nodes(pdn)
    ok = lnode >= 0
    i_node = np.bincount(lnode[ok], pdn.is_value[ok], minlength=n)
    ca, cb = pdn.cap_a, pdn.cap_b
    c_node = np.bincount(ca[ca >= 0], pdn.cap_value[ca >= 0], minlength=n) + \
        np.bincount(cb[cb >= 0], pdn.cap_value[cb >= 0], minlength=n)
    is_pad = _pad_nodes(pdn, sa, sb)
    layer = pdn.node_layer.astype(np.int64)
    n_layers = max(len(pdn.layer_names), 1)
    bottom = (layer >= 0) & (layer < n_bottom) if (layer >= 0).any() else np.ones(n, dtype=bool)
    layer_frac = np.where(layer >= 0, layer / max(n_layers - 1, 1), 0.0)
    x = np.column_stack([layer_frac, bottom, is_pad, i_node, c_node, np.log10(np.maximum(g_tot, 1e-30))])
    data["pdn_node"].x = torch.from_numpy(x.astype(np.float32))
    data["pdn_node"].pos = torch.from_numpy(np.column_stack([pdn.node_x / dbu, pdn.node_y / dbu]).astype(np.float32))
    data["pdn_node"].layer = torch.from_numpy(layer)
    return _Nodes(is_pad=is_pad, i_node=i_node, i_peak=peak_currents(pdn), c_node=c_node, lnode=lnode, ok=ok,
                  layer=layer, n_layers=n_layers, n_bottom=n_bottom)


def _clusters(pdn: PDN, e: _Edges, nd: _Nodes, tid: np.ndarray, n_tiles: int, p: GraphParams,
              window: tuple[float, float], data: HeteroData) -> tuple[np.ndarray, np.ndarray]:
    """The nodes of one layer in one tile form a cluster; conductances between clusters summed (Pᵀ G P)."""
    n = pdn.n_nodes
    lay = np.maximum(nd.layer, 0)
    key = lay * n_tiles + tid
    used = np.zeros(int(lay.max() + 1) * n_tiles, dtype=bool)
    used[key] = True
    cid = (np.cumsum(used) - 1)[key]
    nc = int(used.sum())
    ckey = np.flatnonzero(used)
    c_tile, c_layer = ckey % n_tiles, ckey // n_tiles
    inside = np.zeros(nc)
    ea, eb, eg = [], [], []  # the cluster graph, wires and vias together, for the Dijkstra below
    for rel, (fa, fb, fg) in (("wire", e.wire), ("via", e.via)):
        A, B = cid[fa], cid[fb]
        same = A == B
        inside += np.bincount(A[same], fg[same], minlength=nc)
        lo, hi = np.minimum(A[~same], B[~same]), np.maximum(A[~same], B[~same])
        pair, inv = np.unique(lo * nc + hi, return_inverse=True)
        gs = np.bincount(inv.ravel(), fg[~same], minlength=len(pair))
        ea.append(pair // nc)
        eb.append(pair % nc)
        eg.append(gs)
        st = data["pdn_cluster", rel, "pdn_cluster"]
        st.edge_index, st.edge_weight = _both_dirs(ea[-1], eb[-1], gs)
    c_pad = np.bincount(cid, nd.is_pad, minlength=nc) > 0
    r_pad = _resistance_to_pads(nc, np.concatenate(ea), np.concatenate(eb), 1.0 / np.concatenate(eg), c_pad)
    end = np.where(pdn.ind_b >= 0, pdn.ind_b, pdn.ind_a)  # each inductor counted once, at a grid end
    inv_l = np.bincount(cid[end[end >= 0]], 1.0 / pdn.ind_value[end >= 0], minlength=nc)
    slice_s = np.log10((window[1] - window[0]) / p.n_slices) if p.n_slices and window[1] > window[0] else 0.0
    ok = nd.ok
    cx = np.column_stack([c_layer / max(nd.n_layers - 1, 1), c_layer < nd.n_bottom, c_pad,
                          np.log10(np.bincount(cid, minlength=nc)), np.bincount(cid, nd.i_node, minlength=nc),
                          np.bincount(cid, nd.c_node, minlength=nc), np.log10(inside + 1e-6), np.log10(r_pad + 1e-3),
                          np.log10(1.0 + inv_l), np.full(nc, slice_s),
                          np.bincount(cid[nd.lnode[ok]], nd.i_peak[ok], minlength=nc)])
    data["pdn_cluster"].x = torch.from_numpy(cx.astype(np.float32))
    data["pdn_cluster"].layer = torch.from_numpy(c_layer.astype(np.int64))
    ci = torch.from_numpy(np.stack([np.arange(n), cid]).astype(np.int64))
    data["pdn_node", "in_cluster", "pdn_cluster"].edge_index = ci
    data["pdn_cluster", "rev_in_cluster", "pdn_node"].edge_index = ci.flip(0)
    return cid, c_tile


def _cells(pdn: PDN, nd: _Nodes, cur_t: np.ndarray | None, data: HeteroData) -> None:
    """One cell per load, with its DC, peak and time-sliced currents (``cur_t``, per source; ``None`` for a
    static graph), tied to the node it draws from."""
    cells = np.flatnonzero(nd.ok)
    cur_t = cur_t[cells] if cur_t is not None else np.zeros((len(cells), 0))
    data["cell"].x = torch.from_numpy(np.column_stack([pdn.is_value[cells], nd.i_peak[cells], cur_t]).astype(
        np.float32))
    ce = torch.from_numpy(np.stack([np.arange(len(cells)), nd.lnode[cells]]).astype(np.int64))
    data["cell", "draws_from", "pdn_node"].edge_index = ce
    data["pdn_node", "rev_draws_from", "cell"].edge_index = ce.flip(0)


def _tiles(p: GraphParams, coarse: tuple[int, int], tid: np.ndarray, cid: np.ndarray, c_tile: np.ndarray,
           data: HeteroData) -> None:
    """Tiles of the coarse grid and the node / cluster links to them."""
    X, Y = coarse
    tu = p.pool * p.tile_um
    gx, gy = np.meshgrid((np.arange(X) + 0.5) * tu, (np.arange(Y) + 0.5) * tu, indexing="ij")
    data["tile"].num_nodes = X * Y
    data["tile"].pos = torch.from_numpy(np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32))
    te = torch.from_numpy(np.stack([np.arange(len(tid)), tid]).astype(np.int64))
    data["pdn_node", "in_tile", "tile"].edge_index = te
    data["tile", "rev_in_tile", "pdn_node"].edge_index = te.flip(0)
    data["pdn_cluster", "in_tile", "tile"].edge_index = torch.from_numpy(
        np.stack([np.arange(len(c_tile)), c_tile]).astype(np.int64))


def _images(maps: dict, shape: tuple[int, int], coarse: tuple[int, int], p: GraphParams, data: HeteroData) -> None:
    """Maps pooled onto the tile grid (every channel) and the fine ones at map resolution."""
    (nx, ny), (X, Y), k = shape, coarse, p.pool
    fine = list(STATIC_CHANNELS) + ([PHYSICS_CHANNEL] if p.physics_iters else []) + (
        [PATTERN_CHANNEL] if p.pattern_iters else []) + ([STEP_CHANNEL] if p.step_iters else [])
    fpad = np.zeros((len(fine), X * k, Y * k), dtype=np.float32)
    chans = []
    for i, c in enumerate(fine):
        m = _check_map(c, maps[c], (nx, ny))
        chans.append(_pool(m[None], k, (X, Y), np.array([c not in ("current",)])))
        fpad[i, :nx, :ny] = m
    names = list(fine)
    if p.n_slices:
        ct = np.asarray(maps["current_t"])
        if not np.issubdtype(ct.dtype, np.floating):
            ct = ct.astype(np.float64)
        if ct.shape != (p.n_slices, nx, ny):
            raise InputError(f"map 'current_t': expected shape {(p.n_slices, nx, ny)} (n_slices, nx, ny), "
                             f"got {ct.shape}")
        if not np.isfinite(ct).all():
            raise InputError("map 'current_t': contains NaN or infinite values")
        chans.append(_pool(ct, k, (X, Y), np.zeros(p.n_slices, dtype=bool)))
        names += [f"current_t{i}" for i in range(p.n_slices)]
    data.image = torch.from_numpy(np.concatenate(chans).astype(np.float32))
    data.image_fine = torch.from_numpy(fpad)
    data.channels = names
    data.fine_channels = fine
    data.map_shape = torch.tensor([nx, ny])
    data.coarse_shape = torch.tensor([X, Y])
    data.pool = k
    data.physics_iters = int(p.physics_iters)
    data.pattern_iters = int(p.pattern_iters)
    data.step_iters = int(p.step_iters)


def _maps_from_pdn(out: dict, pdn: PDN, shape: tuple[int, int], n_slices: int, cur_t: np.ndarray | None,
                   dbu: float) -> None:
    """Contest-convention input maps computed from the deck for those missing in ``out`` (a case that gives
    only the netlist); ``cur_t``: the time-sliced source currents ``(n_sources, n_slices)`` behind ``current_t``."""
    from eda.pdn import maps as pmaps

    need = [c for c in STATIC_CHANNELS if c not in out] + (["current_t"] if n_slices and "current_t" not in out
                                                          else [])
    cols = ([pdn.is_value[:, None]] if "current" in need else []) + (
        [cur_t] if "current_t" in need and cur_t is not None else [])
    if cols:  # one call: the nearest-node search is shared by the DC map and every slice
        m = pmaps.current_map(pdn, shape=shape, currents=np.concatenate(cols, axis=1), dbu_per_um=dbu)
        if "current" in need:
            out["current"], m = m[0], m[1:]
        if "current_t" in need and cur_t is not None:
            out["current_t"] = m
    if "pdn_density" in need:
        out["pdn_density"] = pmaps.pdn_density_map(pdn, shape=shape, dbu_per_um=dbu)
    if "eff_dist" in need:
        out["eff_dist"] = pmaps.effective_distance_map(pdn, shape=shape, dbu_per_um=dbu)
