"""The contest map's Delaunay triangulation, by SciPy's Qhull run without importing ``scipy.spatial`` where it can.

The contest's golden maps are SciPy's cubic ``griddata``, so the map must be built on *SciPy's* triangulation: on the
contest's grids every cell is a co-circular rectangle, and which diagonal Qhull picks for each is reproduced only by
running Qhull with SciPy's options on the points in the same order (README, *Contest map*). The compiled module
``eda/pdn/_qhull2d.c`` does exactly that through the system's reentrant Qhull (Debian ``libqhull-dev``; built by
``make setup`` when present) and returns SciPy's arrays in SciPy's order: on all 28 contest cases its simplices,
neighbours and vertex neighbours are identical to ``scipy.spatial.Delaunay``'s (tested). It saves the 0.2-0.4 s
import of ``scipy.spatial`` before Qhull can start, which the command line's read-ahead otherwise waits for.
Without the module (or when the system Qhull fails) :func:`delaunay` is ``scipy.spatial.Delaunay``.
"""

from __future__ import annotations

import numpy as np

try:  # eda/pdn/_qhull2d.c against the system's libqhull_r (optional)
    from eda.pdn import _qhull2d
except ImportError:  # pragma: no cover - depends on the build
    _qhull2d = None

__all__ = ["Triangulation", "delaunay"]


class Triangulation:
    """The parts of ``scipy.spatial.Delaunay`` the contest map uses, from the system's Qhull: ``points``,
    ``simplices``, ``neighbors``, ``vertex_neighbor_vertices``, ``transform``, ``ncoplanar``; ``find_simplex`` (and
    ``transform`` until the map's own fills it) ask SciPy's Delaunay of the same points (the same triangles)."""

    def __init__(self, points: np.ndarray, simplices, neighbors, indptr, indices, ncoplanar: int):
        self.points = points
        self.simplices = np.frombuffer(simplices, dtype=np.int32).reshape(-1, 3)
        self.neighbors = np.frombuffer(neighbors, dtype=np.int32).reshape(-1, 3)
        self.vertex_neighbor_vertices = (np.frombuffer(indptr, dtype=np.int32), np.frombuffer(indices, dtype=np.int32))
        self.ncoplanar = int(ncoplanar)
        self.nsimplex = len(self.simplices)
        self._transform = None
        self._scipy = None

    def scipy(self):
        """``scipy.spatial.Delaunay`` of the same points (the same triangles), built on first use."""
        if self._scipy is None:
            from scipy.spatial import Delaunay

            self._scipy = Delaunay(self.points)
        return self._scipy

    @property
    def transform(self) -> np.ndarray:
        """The barycentric transforms: the map's own (``eda.pdn.maps._barycentric_transforms`` sets them), else
        SciPy's."""
        if self._transform is None:
            self._transform = self.scipy().transform
        return self._transform

    def find_simplex(self, xi: np.ndarray) -> np.ndarray:
        """SciPy's point location on the same triangulation."""
        return self.scipy().find_simplex(xi)


def delaunay(points: np.ndarray, system_qhull: bool = True):
    """SciPy's Delaunay triangulation of 2-D ``points``: a :class:`Triangulation` from the system's Qhull (unless
    ``system_qhull`` is false), else ``scipy.spatial.Delaunay`` (which raises ``QhullError``, a ``RuntimeError``, for
    degenerate input)."""
    pts = np.ascontiguousarray(points, dtype=np.float64)
    if system_qhull and _qhull2d is not None and pts.ndim == 2 and pts.shape[1] == 2:
        try:
            return Triangulation(pts, *_qhull2d.delaunay(pts))
        except RuntimeError:  # Qhull refused the points: SciPy says why, with its own error
            pass
    from scipy.spatial import Delaunay

    return Delaunay(pts)
