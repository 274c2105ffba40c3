"""The contest map's fill outside the hull: every NaN point takes the value of the nearest interpolated point.

The contest's generator fills the points of its map that lie outside the m1 nodes' convex hull with the value of the
nearest point inside (ties: the first in ``map[x, y]`` order; README, *Contest map*, point 2). On the contest's maps
that is a rim one or two points wide, so the nearest point is a few steps away: :func:`nearest_valid_fill` looks at
the lattice offsets around each NaN point nearest first (a few dozen vectorised steps, no k-d tree, so the command
line need not import ``scipy.spatial`` at all when Qhull runs through the system's library), and only points left
without an answer within :data:`OFFSET_RADIUS` go to a k-d tree search. Both give the same answer.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nearest_valid_fill", "OFFSET_RADIUS"]

#: NaN points whose nearest valid point lies within this many lattice steps are filled by the offset scan
OFFSET_RADIUS = 4


def _offsets(radius: int) -> np.ndarray:
    """Lattice offsets ``(dx, dy)`` with ``0 < dx² + dy² <= radius²``, nearest first, ties in row-major order (for
    two points of a map, ``(x, y)`` order is ``map[x, y]`` order)."""
    r = np.arange(-radius, radius + 1)
    d = np.stack(np.meshgrid(r, r, indexing="ij"), -1).reshape(-1, 2)
    d2 = (d**2).sum(1)
    d = d[(d2 > 0) & (d2 <= radius * radius)]
    return d[np.lexsort((d[:, 1], d[:, 0], (d**2).sum(1)))]


def nearest_valid_fill(m: np.ndarray, radius: int | None = None) -> np.ndarray:
    """Fill NaN points with the value of the nearest non-NaN point (ties: the first in ``map[x, y]`` order).

    ``radius``: the offset scan's reach in lattice steps (default :data:`OFFSET_RADIUS`; 0: the k-d tree only)."""
    bad = np.isnan(m)
    if not bad.any() or bad.all():
        return m
    radius = OFFSET_RADIUS if radius is None else radius
    out = m.copy()
    q = np.argwhere(bad)
    todo = np.arange(len(q))
    w, h = m.shape
    for dx, dy in _offsets(radius) if radius > 0 else ():
        x, y = q[todo, 0] + dx, q[todo, 1] + dy
        hit = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        hit[hit] = ~bad[x[hit], y[hit]]
        out[q[todo[hit], 0], q[todo[hit], 1]] = m[x[hit], y[hit]]
        todo = todo[~hit]
        if not len(todo):
            return out
    # farther than the scan reaches: a k-d tree over the valid points next to a NaN point (the nearest valid point
    # to a NaN point has a NaN 4-neighbour, a step from it towards the NaN point gets closer, and so have all tied
    # ones), in row-major order, the tie-break order
    from scipy.spatial import cKDTree

    edge = np.zeros_like(bad)
    edge[1:] |= bad[:-1]
    edge[:-1] |= bad[1:]
    edge[:, 1:] |= bad[:, :-1]
    edge[:, :-1] |= bad[:, 1:]
    good = np.argwhere(edge & ~bad)
    q = q[todo]
    k = min(16, len(good))
    _, idx = cKDTree(good).query(q, k=k)
    idx = idx.reshape(len(q), k)
    d2 = ((good[idx] - q[:, None, :]) ** 2).sum(-1)  # exact integers
    tie = d2 == d2.min(1, keepdims=True)
    pick = np.where(tie, idx, len(good)).min(1)  # smallest row-major index among the nearest
    for i in np.flatnonzero(tie.all(1) & (k < len(good))):  # more ties than k: exact search
        dd = ((good - q[i]) ** 2).sum(1)
        pick[i] = int(np.flatnonzero(dd == dd.min())[0])
    out[q[:, 0], q[:, 1]] = m[good[pick, 0], good[pick, 1]]
    return out
