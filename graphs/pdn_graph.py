"""PDNGraph: a PDN (+ its load cells and the map grid) as a PyG ``HeteroData``.

Node types:
    ``pdn_node``: one per PDN node. Features :data:`PDN_FEATURES` (position as a fraction of the die, layer,
    pad flag, local load current, decap, total conductance).
    ``cell``: one per load (current source; in our synthetic samples one per cell). Features
    :data:`CELL_FEATURES` plus ``n_slices`` time-sliced currents.
    ``tile``: one per map tile (1 µm by default, contest convention ``map[x_um, y_um]``), flattened
    row-major over ``(nx, ny)``; ``tile.pos`` is the tile centre in µm.

Edge types (``edge_weight`` in siemens for wires/vias; unit-sum weights for the tile links)::

    pdn_node ──wire──▶ pdn_node      both directions, conductance 1/R (0-V shorts and inductors: the largest g)
    pdn_node ──via───▶ pdn_node      both directions, conductance 1/R
    cell ──draws_from──▶ pdn_node    the node a load is tied to (reverse: rev_draws_from)
    pdn_node ──in_tile──▶ tile       node→tile assignment: the tile a node lies in (reverse: rev_in_tile)
    pdn_node ──covers──▶ tile        the k nearest bottom-layer nodes of each tile, inverse-distance weights
                                     summing to one per tile: rasterises node values onto the full grid

Image maps travel as separate attributes: ``data.image`` ``(C, nx, ny)`` float32 in physical units
(channel names in ``data.channels``) and, when known, labels ``data.y_static`` / ``data.y_dynamic``
``(nx, ny)`` in volts. Normalisation is *not* applied here: it is fitted on a training set and saved with
each model (:class:`eda.predictors.pdnnet.Normalizer`), so the graph stays in physical units.

Construction is vectorised (bincount, CSR, one Dijkstra, one KD-tree query): 250k+ nodes in 2–3 s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from torch_geometric.data import HeteroData

from eda.errors import InputError
from eda.pdn.model import GROUND, PDN, WAVE_DC, WAVE_PULSE, WAVE_PWL

__all__ = ["GraphParams", "PDN_FEATURES", "CELL_FEATURES", "STATIC_CHANNELS", "build_pdn_graph",
           "load_nodes", "slice_currents", "map_shape_for", "EDGE_TYPES"]

#: Columns of ``data['pdn_node'].x``.
PDN_FEATURES = ("x_frac", "y_frac", "layer_frac", "is_bottom", "is_pad", "load_current", "decap",
                "log10_g_total", "log10_r_pad")
#: Bumped when graph contents change (processed dataset folders are keyed by it).
GRAPH_VERSION = 2
#: Columns of ``data['cell'].x`` before the time slices (``i_t0 ... i_t{T-1}`` follow).
CELL_FEATURES = ("x_frac", "y_frac", "current")
#: Static image channels, in order; dynamic graphs append ``current_t0 ...``.
STATIC_CHANNELS = ("current", "pdn_density", "eff_dist")
EDGE_TYPES = (("pdn_node", "wire", "pdn_node"), ("pdn_node", "via", "pdn_node"),
              ("cell", "draws_from", "pdn_node"), ("pdn_node", "rev_draws_from", "cell"),
              ("pdn_node", "in_tile", "tile"), ("tile", "rev_in_tile", "pdn_node"),
              ("pdn_node", "covers", "tile"))


@dataclass(frozen=True)
class GraphParams:
    """How to build a PDNGraph.

    Attributes:
        tile_um: tile edge (µm); the contest uses 1 µm.
        dbu_per_um: database units per µm in node names (nm for ICCAD'23 decks: 1000).
        n_slices: number of time slices of cell currents (0: static graph only).
        cover_k: nearest bottom-layer nodes per tile in the ``covers`` rasterisation edges.
    """

    tile_um: float = 1.0
    dbu_per_um: float = 1000.0
    n_slices: int = 0
    cover_k: int = 4

    def __post_init__(self):
        if not self.tile_um > 0:
            raise InputError(f"GraphParams.tile_um: must be positive, got {self.tile_um}")
        if not self.dbu_per_um > 0:
            raise InputError(f"GraphParams.dbu_per_um: must be positive, got {self.dbu_per_um}")
        if self.n_slices < 0:
            raise InputError(f"GraphParams.n_slices: must be >= 0, got {self.n_slices}")
        if self.cover_k < 1:
            raise InputError(f"GraphParams.cover_k: must be >= 1, got {self.cover_k}")


def map_shape_for(pdn: PDN, params: GraphParams = GraphParams()) -> tuple[int, int]:
    """Map shape ``(nx, ny)`` covering every node of ``pdn`` with ``params.tile_um`` tiles."""
    _require_coords(pdn)
    s = params.dbu_per_um * params.tile_um
    return (int(np.floor(np.nanmax(pdn.node_x) / s)) + 1, int(np.floor(np.nanmax(pdn.node_y) / s)) + 1)


def _require_coords(pdn: PDN) -> None:
    if pdn.n_nodes == 0:
        raise InputError("the PDN has no nodes", file=pdn.source)
    bad = ~(np.isfinite(pdn.node_x) & np.isfinite(pdn.node_y))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{int(bad.sum())} PDN node name(s) carry no coordinates (e.g. "
                         f"{str(pdn.node_names[i])!r}); PDNGraph needs names like n1_m1_4000_0 (net_layer_x_y)",
                         file=pdn.source)


def load_nodes(pdn: PDN) -> np.ndarray:
    """The PDN node each current source draws from (the terminal that is not ground), per source."""
    a, b = pdn.is_a, pdn.is_b
    node = np.where(b == GROUND, a, b)
    both = (a != GROUND) & (b != GROUND)
    if both.any():  # a source between two nodes: it loads the one current flows out of the grid from
        node = np.where(both, a, node)
    return node


def _sources_at(pdn: PDN, times: np.ndarray) -> np.ndarray:
    """Currents of every source at each time, ``(len(times), n_sources)``, vectorised over sources."""
    from eda.pdn.solve import source_currents

    n = len(pdn.is_value)
    out = np.empty((len(times), n))
    pwl = np.flatnonzero(pdn.is_kind == WAVE_PWL)
    base = pdn
    if len(pwl):  # source_currents loops over PWL sources in Python; interpolate them all at once here
        from dataclasses import replace

        kind = pdn.is_kind.copy()
        kind[pwl] = WAVE_DC
        base = replace(pdn, is_kind=kind)
        cnt = np.diff(pdn.pwl_start)[pwl]
        src = np.repeat(np.arange(len(pwl)), cnt)
        sel = _csr_ranges(pdn.pwl_start, pwl)
        t, v = pdn.pwl_t[sel], pdn.pwl_v[sel]
        span = max(float(t.max() - t.min()), float(np.max(times) - np.min(times)), 1e-30)
        t0 = min(float(t.min()), float(np.min(times)))
        # one global interpolation on the key source + (t - t0) / (2 span), in [source, source + 0.5]
        key = src + (t - t0) / (2.0 * span)
        first = np.r_[0, np.cumsum(cnt)[:-1]]
        last = first + cnt - 1
    for j, tj in enumerate(times):
        out[j] = source_currents(base, float(tj))
        if len(pwl):
            q = np.arange(len(pwl)) + (float(tj) - t0) / (2.0 * span)
            val = np.interp(q, key, v)
            val = np.where(tj <= t[first], v[first], np.where(tj >= t[last], v[last], val))
            out[j, pwl] = val
    return out


def _csr_ranges(start: np.ndarray, rows: np.ndarray) -> np.ndarray:
    cnt = start[rows + 1] - start[rows]
    offs = np.repeat(start[rows] - np.r_[0, np.cumsum(cnt)[:-1]], cnt)
    return np.arange(int(cnt.sum())) + offs


def _window(pdn: PDN) -> tuple[float, float]:
    if pdn.tran is not None:
        return 0.0, float(pdn.tran[1])
    stop = 0.0
    pm = pdn.is_kind == WAVE_PULSE
    if pm.any():
        _, _, td, tr, tf, pw, per = pdn.is_pulse[pm].T
        per = np.where(np.isfinite(per) & (per > 0), per, tr + pw + tf)
        stop = max(stop, float(np.max(td + per)))
    if (pdn.is_kind == WAVE_PWL).any():
        stop = max(stop, float(pdn.pwl_t.max()))
    return 0.0, stop


def slice_currents(pdn: PDN, n_slices: int, window: tuple[float, float] | None = None,
                   sub: int = 4) -> np.ndarray:
    """Mean current of every source over each of ``n_slices`` equal time slices, ``(n_sources, n_slices)``.

    Args:
        pdn: the network (PULSE/PWL sources are evaluated as ngspice does; DC sources are constant).
        n_slices: number of slices.
        window: ``(start, stop)`` in seconds; default the deck's ``.tran`` or one period of its sources.
        sub: samples per slice (midpoint rule).
    """
    if n_slices == 0:
        return np.zeros((len(pdn.is_value), 0))
    t_start, t_stop = window if window is not None else _window(pdn)
    if not t_stop > t_start:
        return np.repeat(pdn.is_value[:, None], n_slices, axis=1)
    edges = np.linspace(t_start, t_stop, n_slices + 1)
    frac = (np.arange(sub) + 0.5) / sub
    times = (edges[:-1, None] + frac[None, :] * np.diff(edges)[:, None]).ravel()
    cur = _sources_at(pdn, times).reshape(n_slices, sub, -1).mean(axis=1)
    return cur.T


def _short_groups(pdn: PDN) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of nodes joined by 0-V sources or inductors (DC shorts), both ends in the grid."""
    a = np.concatenate([pdn.vs_a[pdn.vs_value == 0], pdn.ind_a])
    b = np.concatenate([pdn.vs_b[pdn.vs_value == 0], pdn.ind_b])
    keep = (a != GROUND) & (b != GROUND)
    return a[keep], b[keep]


def _resistance_to_pads(n: int, a: np.ndarray, b: np.ndarray, r: np.ndarray, is_pad: np.ndarray) -> np.ndarray:
    """Least path resistance (Ω) from every node to its nearest pad (Dijkstra over the resistor graph).

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
        params: tile size, units, time slices.
        labels: optional ``static`` / ``dynamic`` IR-drop maps ``(nx, ny)`` (volts).
        slice_window: time window of the slices (default: the deck's ``.tran``).

    Returns:
        The ``HeteroData`` described in the module docstring.

    Raises:
        InputError: nodes without coordinates, maps of wrong or mismatched shape, NaN maps.
    """
    _require_coords(pdn)
    p = params
    n = pdn.n_nodes
    scale = p.dbu_per_um * p.tile_um
    xu = pdn.node_x / p.dbu_per_um
    yu = pdn.node_y / p.dbu_per_um
    maps = dict(maps or {})
    shape = None
    for k, v in maps.items():
        if k == "current_t":
            continue
        shape = _check_map(k, v, shape).shape
    if shape is None:
        shape = map_shape_for(pdn, p)
    nx, ny = shape
    ix = np.floor(pdn.node_x / scale).astype(np.int64)
    iy = np.floor(pdn.node_y / scale).astype(np.int64)
    out = (ix < 0) | (iy < 0) | (ix >= nx) | (iy >= ny)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise InputError(f"{int(out.sum())} PDN node(s) lie outside the {nx}x{ny} map grid of {p.tile_um:g} µm "
                         f"tiles (e.g. {str(pdn.node_names[i])!r}); maps and deck do not belong together",
                         file=pdn.source)
    W, H = nx * p.tile_um, ny * p.tile_um

    # ---- edges: wires and vias (both directions), shorts folded in as wires of the largest conductance
    ra, rb, rv = pdn.res_a, pdn.res_b, pdn.res_value
    if (rv <= 0).any():
        raise InputError("resistors must have positive values", file=pdn.source)
    grounded = (ra == GROUND) | (rb == GROUND)
    g = 1.0 / rv
    via = pdn.is_via & ~grounded
    wire = ~pdn.is_via & ~grounded
    g_max = float(g.max()) if len(g) else 1.0
    sa, sb = _short_groups(pdn)
    w_a = np.concatenate([ra[wire], sa])
    w_b = np.concatenate([rb[wire], sb])
    w_g = np.concatenate([g[wire], np.full(len(sa), g_max)])
    data = HeteroData()

    def both_dirs(a, b, w):
        ei = torch.from_numpy(np.stack([np.concatenate([a, b]), np.concatenate([b, a])]).astype(np.int64))
        return ei, torch.from_numpy(np.concatenate([w, w]).astype(np.float32))

    data["pdn_node", "wire", "pdn_node"].edge_index, data["pdn_node", "wire", "pdn_node"].edge_weight = \
        both_dirs(w_a, w_b, w_g)
    data["pdn_node", "via", "pdn_node"].edge_index, data["pdn_node", "via", "pdn_node"].edge_weight = \
        both_dirs(ra[via], rb[via], g[via])

    # ---- pdn_node features
    g_tot = np.bincount(ra[ra >= 0], g[ra >= 0], minlength=n) + np.bincount(rb[rb >= 0], g[rb >= 0], minlength=n)
    g_tot += np.bincount(sa, minlength=n) * g_max + np.bincount(sb, minlength=n) * g_max
    lnode = load_nodes(pdn)
    ok = lnode >= 0
    i_node = np.bincount(lnode[ok], pdn.is_value[ok], minlength=n)
    ca, cb = pdn.cap_a, pdn.cap_b
    c_node = np.bincount(ca[ca >= 0], pdn.cap_value[ca >= 0], minlength=n) + \
        np.bincount(cb[cb >= 0], pdn.cap_value[cb >= 0], minlength=n)
    # pads: grid nodes tied to a pad source, directly or through a short / package inductor
    pad_src = pdn.pad_mask & (pdn.vs_value != 0)
    pad_nodes = np.where(pdn.vs_a[pad_src] == GROUND, pdn.vs_b[pad_src], pdn.vs_a[pad_src])
    is_pad = np.zeros(n, dtype=bool)
    if len(sa):
        adj = coo_matrix((np.ones(len(sa)), (sa, sb)), shape=(n, n))
        _, lab = connected_components(adj, directed=False)
        pad_grp = np.zeros(lab.max() + 1, dtype=bool)
        pad_grp[lab[pad_nodes]] = True
        is_pad = pad_grp[lab]
    else:
        is_pad[pad_nodes] = True
    layer = pdn.node_layer.astype(np.int64)
    n_layers = max(len(pdn.layer_names), 1)
    bottom = layer == 0 if (layer >= 0).any() else np.ones(n, dtype=bool)
    r_pad = _resistance_to_pads(n, np.concatenate([ra, sa]), np.concatenate([rb, sb]),
                                np.concatenate([rv, np.full(len(sa), 1e-9)]), is_pad)
    x = np.column_stack([xu / W, yu / H, np.where(layer >= 0, layer / max(n_layers - 1, 1), 0.0),
                         bottom, is_pad, i_node, c_node, np.log10(np.maximum(g_tot, 1e-30)),
                         np.log10(r_pad + 1e-3)])
    data["pdn_node"].x = torch.from_numpy(x.astype(np.float32))
    data["pdn_node"].pos = torch.from_numpy(np.column_stack([xu, yu]).astype(np.float32))
    data["pdn_node"].layer = torch.from_numpy(layer)

    # ---- cells (loads) and their slices
    cells = np.flatnonzero(ok)
    cn = lnode[cells]
    cur_t = slice_currents(pdn, p.n_slices, slice_window)[cells] if p.n_slices else np.zeros((len(cells), 0))
    cx = np.column_stack([xu[cn] / W, yu[cn] / H, pdn.is_value[cells], cur_t])
    data["cell"].x = torch.from_numpy(cx.astype(np.float32))
    ce = torch.from_numpy(np.stack([np.arange(len(cells)), cn]).astype(np.int64))
    data["cell", "draws_from", "pdn_node"].edge_index = ce
    data["pdn_node", "rev_draws_from", "cell"].edge_index = ce.flip(0)

    # ---- tiles: assignment and rasterisation
    n_tiles = nx * ny
    tid = ix * ny + iy
    gx, gy = np.meshgrid((np.arange(nx) + 0.5) * p.tile_um, (np.arange(ny) + 0.5) * p.tile_um, indexing="ij")
    data["tile"].num_nodes = n_tiles
    data["tile"].pos = torch.from_numpy(np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32))
    te = torch.from_numpy(np.stack([np.arange(n), tid]).astype(np.int64))
    data["pdn_node", "in_tile", "tile"].edge_index = te
    data["tile", "rev_in_tile", "pdn_node"].edge_index = te.flip(0)
    bnodes = np.flatnonzero(bottom)
    k = min(p.cover_k, len(bnodes))
    tree = cKDTree(np.column_stack([xu[bnodes], yu[bnodes]]))
    d, j = tree.query(np.column_stack([gx.ravel(), gy.ravel()]), k=k, workers=-1)
    d, j = d.reshape(n_tiles, k), j.reshape(n_tiles, k)
    w = 1.0 / (d + 0.25 * p.tile_um)
    w /= w.sum(axis=1, keepdims=True)
    cov = np.stack([bnodes[j].ravel(), np.repeat(np.arange(n_tiles), k)])
    data["pdn_node", "covers", "tile"].edge_index = torch.from_numpy(cov.astype(np.int64))
    data["pdn_node", "covers", "tile"].edge_weight = torch.from_numpy(w.ravel().astype(np.float32))

    # ---- images
    need = [c for c in STATIC_CHANNELS if c not in maps] + (["current_t"] if p.n_slices and "current_t" not in
                                                           maps else [])
    if need:
        maps.update(_maps_from_pdn(pdn, (nx, ny), p, need, slice_window))
    chans = [_check_map(c, maps[c], (nx, ny)) for c in STATIC_CHANNELS]
    names = list(STATIC_CHANNELS)
    if p.n_slices:
        ct = np.asarray(maps["current_t"], dtype=np.float64)
        if ct.shape != (p.n_slices, nx, ny):
            raise InputError(f"map 'current_t': expected shape {(p.n_slices, nx, ny)} (n_slices, nx, ny), "
                             f"got {ct.shape}")
        chans += list(ct)
        names += [f"current_t{i}" for i in range(p.n_slices)]
    data.image = torch.from_numpy(np.stack(chans).astype(np.float32))
    data.channels = names
    data.map_shape = torch.tensor([nx, ny])
    for key, arr in (labels or {}).items():
        if arr is None:
            continue
        if key not in ("static", "dynamic"):
            raise InputError(f"labels: unknown key {key!r}, expected 'static' or 'dynamic'")
        data[f"y_{key}"] = torch.from_numpy(_check_map(f"{key} IR drop", arr, (nx, ny)).astype(np.float32))
    return data


def _maps_from_pdn(pdn: PDN, shape: tuple[int, int], p: GraphParams, need: list[str],
                   window: tuple[float, float] | None) -> dict[str, np.ndarray]:
    """Contest-convention input maps computed from the deck (used when a case gives only the netlist)."""
    from eda.pdn import maps as pmaps

    out = {}
    if "current" in need:
        out["current"] = pmaps.current_map(pdn, shape=shape)
    if "pdn_density" in need:
        out["pdn_density"] = pmaps.pdn_density_map(pdn, shape=shape)
    if "eff_dist" in need:
        out["eff_dist"] = pmaps.effective_distance_map(pdn, shape=shape)
    if "current_t" in need:
        cur = slice_currents(pdn, p.n_slices, window)
        out["current_t"] = np.stack([pmaps.current_map(pdn, shape=shape, currents=cur[:, i])
                                     for i in range(p.n_slices)])
    return out
