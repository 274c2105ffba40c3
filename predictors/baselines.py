"""Baselines trained and evaluated by the same code as PDNNet.

* :class:`CNNOnly`: an IREDGe-style U-Net on the image maps only (current, PDN density, effective
  distance, time-sliced currents), with the same tile grid and fine head as PDNNet.
* :class:`GNNOnly`: PDNNet's two conductance-weighted GNN branches on the graph only (no image input, no
  spatial convolution): cluster embeddings are rasterised and read out per tile by a 1×1 MLP.
* :class:`GBDT`: scikit-learn gradient boosting on per-pixel features (the normalised fine maps at the pixel,
  their local means over 5×5 and 15×15 windows, the tile-grid channels of the pixel's tile, and the position).
  Its trees are exported to plain arrays
  so the checkpoint stays weights-only, and prediction is a vectorised traversal of those arrays.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from eda.errors import InputError
from eda.predictors.hparams import CNNParams, GBDTParams, GNNParams
from eda.predictors.layers import (
    GraphBranches,
    UNetDecoder,
    UNetEncoder,
    fine_head,
    head_channels,
    rasterise,
    zero_init,
)
from eda.predictors.normalize import Prepared

__all__ = ["CNNOnly", "CNNParams", "GNNOnly", "GNNParams", "GBDT", "GBDTParams", "tile_features"]


class CNNOnly(nn.Module):
    """U-Net on the image maps (IREDGe-style CNN baseline)."""

    model_type = "cnn"
    Params = CNNParams

    def __init__(self, params: CNNParams):
        super().__init__()
        self.params = params
        self.enc = UNetEncoder(params.n_channels, params.base, params.depth)
        self.dec = UNetDecoder(self.enc.chans, n_enc=1, n_out=head_channels(params.n_fine))

    def forward(self, p: Prepared) -> Tensor:
        return fine_head(self.dec([self.enc(p.image[None])]), p)


class GNNOnly(nn.Module):
    """Graph-only model: both GNN branches, rasterised, per-tile MLP read-out."""

    model_type = "gnn"
    Params = GNNParams

    def __init__(self, params: GNNParams):
        super().__init__()
        self.params = params
        h = params.hidden
        self.graph = GraphBranches(params.n_node, params.n_cell, params.n_channels, h, params.layers,
                                   use_image=False)
        self.head = nn.Sequential(nn.Conv2d(2 * h, h, 1), nn.SiLU(), nn.Conv2d(h, head_channels(params.n_fine), 1))
        zero_init(self.head[-1])

    def forward(self, p: Prepared) -> Tensor:
        ha, hb = self.graph(p)
        return fine_head(self.head(torch.cat([rasterise(ha, p), rasterise(hb, p)], dim=1)), p)


# ====================================================================== gradient boosting
def tile_features(p: Prepared) -> np.ndarray:
    """Per-pixel feature matrix ``(nx·ny, 3·F + C + 2)`` for :class:`GBDT` (F fine, C tile channels)."""
    (ox, oy), (nx, ny) = p.offset, p.shape
    fine = p.fine[None, :, ox: ox + nx, oy: oy + ny]
    m5 = F.avg_pool2d(fine, 5, stride=1, padding=2, count_include_pad=False)
    m15 = F.avg_pool2d(fine, 15, stride=1, padding=7, count_include_pad=False)
    tiles = F.interpolate(p.image[None], size=p.fine.shape[-2:], mode="nearest")[:, :, ox: ox + nx, oy: oy + ny]
    gx, gy = torch.meshgrid((torch.arange(nx) + 0.5) / nx, (torch.arange(ny) + 0.5) / ny, indexing="ij")
    f = torch.cat([fine[0], m5[0], m15[0], tiles[0], gx[None], gy[None]], dim=0)
    return f.reshape(f.shape[0], -1).T.numpy().astype(np.float32)


class GBDT(nn.Module):
    """Gradient-boosted trees on per-tile features; the fitted trees live in tensor buffers.

    Buffers: ``feature``, ``threshold``, ``left``, ``right``, ``value`` (all trees' nodes concatenated, child
    indices global, leaves have ``feature == -1``), ``roots`` (first node of each tree) and ``init``.
    """

    model_type = "gbdt"
    Params = GBDTParams

    def __init__(self, params: GBDTParams):
        super().__init__()
        self.params = params
        for k, dt in (("feature", torch.int64), ("threshold", torch.float64), ("left", torch.int64),
                      ("right", torch.int64), ("value", torch.float64), ("roots", torch.int64)):
            self.register_buffer(k, torch.zeros(0, dtype=dt))
        self.register_buffer("init", torch.zeros(1, dtype=torch.float64))
        self.register_buffer("depth", torch.zeros(1, dtype=torch.int64))

    def load_state_dict(self, state, strict: bool = True):  # buffers are sized by the fitted trees
        for k, v in state.items():
            if k in self._buffers:
                self._buffers[k] = v.clone()
            elif strict:
                raise RuntimeError(f"unexpected key {k!r} in GBDT state")
        return self

    def fit(self, samples: list[Prepared], progress: bool = True) -> GBDT:
        """Fit on prepared training samples (each with ``y``); returns self."""
        from sklearn.ensemble import GradientBoostingRegressor

        p = self.params
        rng = np.random.default_rng(p.seed)
        per = max(1, p.max_rows // max(len(samples), 1))
        X, Y = [], []
        for s in samples:
            if s.y is None:
                raise InputError("GBDT.fit: a training sample has no label")
            f = tile_features(s)
            y = (s.y - s.base if s.base is not None else s.y).numpy().ravel()  # trees learn the correction
            k = rng.choice(len(y), size=min(per, len(y)), replace=False)
            X.append(f[k])
            Y.append(y[k])
        X, Y = np.concatenate(X), np.concatenate(Y)
        gb = GradientBoostingRegressor(n_estimators=p.n_estimators, max_depth=p.max_depth,
                                       learning_rate=p.learning_rate, subsample=p.subsample,
                                       random_state=p.seed, verbose=1 if progress else 0)
        gb.fit(X, Y)
        self._export(gb)
        return self

    def _export(self, gb) -> None:
        feats, thr, left, right, val, roots = [], [], [], [], [], []
        off = 0
        for est in gb.estimators_[:, 0]:
            t = est.tree_
            leaf = t.children_left < 0
            feats.append(np.where(leaf, -1, t.feature))
            thr.append(t.threshold)
            left.append(np.where(leaf, np.arange(t.node_count), t.children_left) + off)
            right.append(np.where(leaf, np.arange(t.node_count), t.children_right) + off)
            val.append(t.value[:, 0, 0] * gb.learning_rate)
            roots.append(off)
            off += t.node_count
        cat = np.concatenate
        self.feature = torch.from_numpy(cat(feats).astype(np.int64))
        self.threshold = torch.from_numpy(cat(thr).astype(np.float64))
        self.left = torch.from_numpy(cat(left).astype(np.int64))
        self.right = torch.from_numpy(cat(right).astype(np.int64))
        self.value = torch.from_numpy(cat(val).astype(np.float64))
        self.roots = torch.tensor(roots, dtype=torch.int64)
        self.init = torch.tensor([float(np.asarray(gb.init_.constant_).ravel()[0])], dtype=torch.float64)
        self.depth = torch.tensor([max(e.tree_.max_depth for e in gb.estimators_[:, 0])])

    def predict_rows(self, X: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """Predict rows of a feature matrix (same comparison as scikit-learn: float32 features, ``<=``)."""
        if len(self.roots) == 0:
            raise InputError("GBDT model is not fitted")
        feat, thr = self.feature.numpy(), self.threshold.numpy()
        left, right, val, roots = self.left.numpy(), self.right.numpy(), self.value.numpy(), self.roots.numpy()
        X = np.asarray(X, dtype=np.float32)
        out = np.empty(len(X))
        for s in range(0, len(X), chunk):
            x = X[s: s + chunk]
            node = np.broadcast_to(roots, (len(x), len(roots))).copy()
            rows = np.arange(len(x))[:, None]
            for _ in range(int(self.depth[0])):
                f = feat[node]
                xv = x[rows, np.maximum(f, 0)].astype(np.float64)
                node = np.where(f < 0, node, np.where(xv <= thr[node], left[node], right[node]))
            out[s: s + chunk] = float(self.init[0]) + val[node].sum(axis=1)
        return out

    def forward(self, p: Prepared) -> Tensor:
        out = torch.from_numpy(self.predict_rows(tile_features(p)).reshape(p.shape)).float()
        return out + p.base if p.base is not None else out
