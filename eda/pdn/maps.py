"""Contest-convention maps computed from a PDN (ICCAD'23 Problem C).

Convention: 1 µm × 1 µm tiles, ``map[i, j]`` covers ``x ∈ [i, i+1) µm``, ``y ∈ [j, j+1) µm`` (so the first
axis is x); node coordinates are in database units, :data:`DBU_PER_UM` per µm (nm). The default shape
is ``(floor(max x) + 1, floor(max y) + 1)`` µm over all nodes with coordinates.

The four maps:

- :func:`ir_drop_map` (V): per tile, the largest IR drop of the lowest-metal-layer nodes in it; tiles
  without such a node are linearly interpolated from tile centres (nearest value outside their hull).
- :func:`current_map` (A): per tile, the sum of load currents attached to nodes in it.
- :func:`pdn_density_map` (µm of wire per µm², summed over layers): wire (non-via resistor) length
  falling inside each tile.
- :func:`effective_distance_map` (µm): ``1 / Σ_k 1/d_k`` over pads ``k``, ``d_k`` the distance from the
  tile centre to the pad (at least half a tile).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eda.errors import InputError
from eda.pdn.model import GROUND, PDN

__all__ = ["DBU_PER_UM", "map_shape", "lowest_layer_nodes", "ir_drop_map", "current_map", "pdn_density_map",
           "effective_distance_map", "feature_maps", "read_map_csv"]

DBU_PER_UM = 1000.0


def _require_coords(pdn: PDN) -> None:
    if not pdn.has_coordinates:
        raise InputError("node names carry no coordinates (expected e.g. n1_m1_4000_0); maps need them",
                         file=pdn.source)


def map_shape(pdn: PDN, dbu_per_um: float = DBU_PER_UM) -> tuple[int, int]:
    """Default map shape ``(nx, ny)`` in 1 µm tiles."""
    _require_coords(pdn)
    ok = np.isfinite(pdn.node_x)
    return (int(np.floor(np.nanmax(pdn.node_x[ok]) / dbu_per_um)) + 1,
            int(np.floor(np.nanmax(pdn.node_y[ok]) / dbu_per_um)) + 1)


def _tiles(pdn: PDN, nodes: np.ndarray, shape, dbu: float) -> tuple[np.ndarray, np.ndarray]:
    ix = np.clip(np.floor(pdn.node_x[nodes] / dbu).astype(np.int64), 0, shape[0] - 1)
    iy = np.clip(np.floor(pdn.node_y[nodes] / dbu).astype(np.int64), 0, shape[1] - 1)
    return ix, iy


def lowest_layer_nodes(pdn: PDN) -> np.ndarray:
    """Indices of nodes on the lowest metal layer (all nodes with coordinates when layers are unknown)."""
    ok = np.isfinite(pdn.node_x)
    if pdn.layer_names:
        low = int(np.argmin(pdn.layer_rank))
        sel = ok & (pdn.node_layer == low)
        if sel.any():
            return np.flatnonzero(sel)
    return np.flatnonzero(ok)


def _fill(m: np.ndarray, have: np.ndarray) -> np.ndarray:
    if have.all() or not have.any():
        return m
    from scipy.interpolate import griddata

    pts = np.argwhere(have).astype(np.float64)
    vals = m[have]
    empty = np.argwhere(~have).astype(np.float64)
    if len(pts) >= 3 and np.linalg.matrix_rank(pts - pts.mean(0)) == 2:
        lin = griddata(pts, vals, empty, method="linear")
    else:
        lin = np.full(len(empty), np.nan)
    miss = np.isnan(lin)
    if miss.any():
        lin[miss] = griddata(pts, vals, empty[miss], method="nearest")
    out = m.copy()
    out[~have] = lin
    return out


def ir_drop_map(pdn: PDN, drop: np.ndarray, shape: tuple[int, int] | None = None,
                dbu_per_um: float = DBU_PER_UM, interpolate: bool = True) -> np.ndarray:
    """IR-drop map (V) from per-node drops (length ``n_nodes``), lowest metal layer only."""
    drop = np.asarray(drop, dtype=np.float64)
    if drop.shape != (pdn.n_nodes,):
        raise InputError(f"drop must have one value per node ({pdn.n_nodes}), got shape {drop.shape}")
    shape = tuple(shape) if shape is not None else map_shape(pdn, dbu_per_um)
    _require_coords(pdn)
    nodes = lowest_layer_nodes(pdn)
    ix, iy = _tiles(pdn, nodes, shape, dbu_per_um)
    m = np.full(shape, -np.inf)
    np.maximum.at(m, (ix, iy), drop[nodes])
    have = np.isfinite(m)
    m[~have] = 0.0
    return _fill(m, have) if interpolate else m


def current_map(pdn: PDN, shape: tuple[int, int] | None = None, currents: np.ndarray | None = None,
                dbu_per_um: float = DBU_PER_UM) -> np.ndarray:
    """Load-current map (A): currents (default: DC values) summed per tile at their non-ground node."""
    shape = tuple(shape) if shape is not None else map_shape(pdn, dbu_per_um)
    cur = pdn.is_value if currents is None else np.asarray(currents, dtype=np.float64)
    if cur.shape != pdn.is_value.shape:
        raise InputError(f"currents must have one value per current source ({len(pdn.is_value)})")
    node = np.where(pdn.is_a != GROUND, pdn.is_a, pdn.is_b)
    ok = node >= 0
    ok[ok] &= np.isfinite(pdn.node_x[node[ok]])
    m = np.zeros(shape)
    if ok.any():
        ix, iy = _tiles(pdn, node[ok], shape, dbu_per_um)
        np.add.at(m, (ix, iy), np.abs(cur[ok]))
    return m


def pdn_density_map(pdn: PDN, shape: tuple[int, int] | None = None, dbu_per_um: float = DBU_PER_UM,
                    sample_um: float = 0.25) -> np.ndarray:
    """Wire length per tile area (µm/µm²), all layers, vias excluded."""
    shape = tuple(shape) if shape is not None else map_shape(pdn, dbu_per_um)
    wire = ~pdn.is_via & (pdn.res_a >= 0) & (pdn.res_b >= 0)
    a, b = pdn.res_a[wire], pdn.res_b[wire]
    ok = np.isfinite(pdn.node_x[a]) & np.isfinite(pdn.node_x[b])
    a, b = a[ok], b[ok]
    x0, y0 = pdn.node_x[a] / dbu_per_um, pdn.node_y[a] / dbu_per_um
    x1, y1 = pdn.node_x[b] / dbu_per_um, pdn.node_y[b] / dbu_per_um
    length = np.hypot(x1 - x0, y1 - y0)
    m = np.zeros(shape)
    n = np.maximum(np.ceil(length / sample_um).astype(np.int64), 1)
    for s0 in range(0, len(n), 50_000):
        sl = slice(s0, s0 + 50_000)
        nn = n[sl]
        k = np.repeat(np.arange(len(nn)), nn)
        j = np.arange(len(k)) - np.repeat(np.cumsum(nn) - nn, nn)
        f = (j + 0.5) / nn[k]
        px = x0[sl][k] + f * (x1[sl][k] - x0[sl][k])
        py = y0[sl][k] + f * (y1[sl][k] - y0[sl][k])
        ix = np.clip(np.floor(px).astype(np.int64), 0, shape[0] - 1)
        iy = np.clip(np.floor(py).astype(np.int64), 0, shape[1] - 1)
        m += np.bincount(ix * shape[1] + iy, weights=(length[sl] / nn)[k],
                         minlength=shape[0] * shape[1]).reshape(shape)
    return m


def effective_distance_map(pdn: PDN, shape: tuple[int, int] | None = None,
                           dbu_per_um: float = DBU_PER_UM) -> np.ndarray:
    """Effective distance to the pads (µm): ``1 / Σ 1/d`` from each tile centre."""
    shape = tuple(shape) if shape is not None else map_shape(pdn, dbu_per_um)
    pad = pdn.pad_mask
    node = np.where(pdn.vs_a[pad] != GROUND, pdn.vs_a[pad], pdn.vs_b[pad])
    node = node[np.isfinite(pdn.node_x[node])]
    if not len(node):
        raise InputError("no pad with coordinates: cannot compute the effective-distance map", file=pdn.source)
    px = pdn.node_x[node] / dbu_per_um
    py = pdn.node_y[node] / dbu_per_um
    cx = np.arange(shape[0]) + 0.5
    cy = np.arange(shape[1]) + 0.5
    out = np.empty(shape)
    rows = max(1, 4_000_000 // max(len(px) * shape[1], 1))
    for i0 in range(0, shape[0], rows):
        X = cx[i0:i0 + rows, None, None]
        Y = cy[None, :, None]
        d = np.sqrt((X - px) ** 2 + (Y - py) ** 2)
        out[i0:i0 + rows] = 1.0 / (1.0 / np.maximum(d, 0.5)).sum(-1)
    return out


def feature_maps(pdn: PDN, shape: tuple[int, int] | None = None,
                 dbu_per_um: float = DBU_PER_UM) -> dict[str, np.ndarray]:
    """The contest's three input feature maps: ``current``, ``pdn_density``, ``eff_dist``."""
    shape = tuple(shape) if shape is not None else map_shape(pdn, dbu_per_um)
    return {"current": current_map(pdn, shape, dbu_per_um=dbu_per_um),
            "pdn_density": pdn_density_map(pdn, shape, dbu_per_um=dbu_per_um),
            "eff_dist": effective_distance_map(pdn, shape, dbu_per_um=dbu_per_um)}


def read_map_csv(path: str | Path) -> np.ndarray:
    """Read a contest-style CSV map (row ``i`` = x µm). Raises ``InputError`` on bad content."""
    path = Path(path)
    try:
        rows = path.read_text().strip().splitlines()
    except OSError as e:
        raise InputError(f"cannot read map: {e.strerror}", file=path) from None
    out = []
    width = None
    for k, row in enumerate(rows):
        try:
            vals = [float(v) for v in row.split(",")]
        except ValueError:
            raise InputError("expected comma-separated numbers", file=path, line=k + 1, text=row) from None
        if width is None:
            width = len(vals)
        elif len(vals) != width:
            raise InputError(f"row has {len(vals)} values, expected {width}", file=path, line=k + 1)
        out.append(vals)
    if not out:
        raise InputError("empty map", file=path)
    return np.array(out)
