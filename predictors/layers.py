"""Building blocks shared by PDNNet and its baselines: conductance message passing, the tile-grid U-Net,
the rasterisation between clusters and tiles, and the fine head that returns to map resolution."""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import tempfile

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing

from eda.predictors.normalize import Prepared

__all__ = ["ConductanceConv", "UNetEncoder", "UNetDecoder", "GraphBranches", "fine_head", "rasterise",
           "gather_image", "head_channels", "zero_init"]


class ConductanceConv(MessagePassing):
    """One physics-shaped message-passing step on the (coarsened) PDN.

    ``m_i = Σ_j (g_ij / Σ_k g_ik) h_j`` (a Jacobi sweep of ``G v = i``), then
    ``h_i ← h_i + MLP([h_i, m_i, ē_i])`` where ``ē_i`` is the node's mean normalised ``log10 g``.
    """

    def __init__(self, hidden: int):
        super().__init__(aggr="add")
        _delete_at_exit(_generated_propagate_file(type(self)))
        self.mix = nn.Sequential(nn.Linear(2 * hidden + 1, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, h: Tensor, adj_t: Tensor, edge_feat: Tensor) -> Tensor:
        m = self.propagate(adj_t, x=h)
        return h + self.mix(torch.cat([h, m, edge_feat[:, None]], dim=1))

    def message_and_aggregate(self, adj_t: Tensor, x: Tensor) -> Tensor:
        return torch.sparse.mm(adj_t, x)

    def message(self, x_j: Tensor) -> Tensor:  # pragma: no cover - the fused sparse path is always taken
        return x_j

    def __repr__(self) -> str:
        return f"ConductanceConv(hidden={self.mix[0].out_features}, g-weighted Jacobi aggregation)"


def _generated_propagate_file(cls: type) -> str | None:
    """The temporary file into which PyG wrote the ``propagate`` it generated for ``cls`` (``None`` if none).

    PyG renders a ``propagate`` per MessagePassing class from a template into a named temporary file that it never
    deletes (``torch_geometric.template.module_from_template``, ``delete=False``): one file in the temporary folder
    per process that builds the class.
    """
    path = getattr(sys.modules.get(f"{cls.__module__}_{cls.__name__}_propagate"), "__file__", None)
    return path if path and os.path.dirname(os.path.abspath(path)) == os.path.abspath(tempfile.gettempdir()) else None


_AT_EXIT: set[str] = set()


def _delete_at_exit(path: str | None) -> None:
    """Delete ``path`` when the interpreter exits (until then tracebacks can still show its lines); once per path."""
    if path is not None and path not in _AT_EXIT:
        _AT_EXIT.add(path)
        atexit.register(_unlink, path)


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.GroupNorm(min(4, cout), cout), nn.SiLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.GroupNorm(min(4, cout), cout), nn.SiLU())


class UNetEncoder(nn.Module):
    """U-Net encoder (IREDGe-style): a light stem at tile resolution, then ``depth`` stride-2 levels."""

    def __init__(self, cin: int, base: int, depth: int = 3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(cin, base, 3, padding=1), nn.SiLU())
        chans = [base * (2 ** i) for i in range(depth + 1)]
        self.down = nn.ModuleList(
            nn.Sequential(nn.Conv2d(chans[i], chans[i + 1], 3, stride=2, padding=1), nn.SiLU(),
                          _block(chans[i + 1], chans[i + 1])) for i in range(depth))
        self.chans = chans

    def forward(self, x: Tensor) -> list[Tensor]:
        feats = [self.stem(x)]
        for d in self.down:
            feats.append(d(feats[-1]))
        return feats


class UNetDecoder(nn.Module):
    """U-Net decoder over the (channel-concatenated) skip features of one or more encoders.

    Outputs ``n_out`` channels per tile: the coefficients of the fine head (:func:`fine_head`).
    """

    def __init__(self, chans: list[int], n_enc: int = 1, n_out: int = 4):
        super().__init__()
        depth = len(chans) - 1
        self.up = nn.ModuleList()
        for i in range(depth, 0, -1):
            cin = (chans[i] * n_enc if i == depth else chans[i]) + chans[i - 1] * n_enc
            self.up.append(nn.Sequential(nn.Conv2d(cin, chans[i - 1], 3, padding=1), nn.SiLU(),
                                         nn.Conv2d(chans[i - 1], chans[i - 1], 3, padding=1), nn.SiLU()))
        self.head = nn.Conv2d(chans[0], n_out, 1)
        zero_init(self.head)

    def forward(self, skips: list[list[Tensor]]) -> Tensor:
        levels = [torch.cat(s, dim=1) for s in zip(*skips, strict=True)]
        h = levels[-1]
        for k, up in enumerate(self.up):
            skip = levels[-2 - k]
            h = F.interpolate(h, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            h = up(torch.cat([h, skip], dim=1))
        return self.head(h)


def zero_init(layer: nn.Module) -> None:
    """Start a model's last layer at zero output: a model with a physics channel starts from the estimate."""
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)


def head_channels(n_fine: int) -> int:
    """Per-tile outputs of every model: an offset and one gain per fine channel."""
    return 1 + n_fine


def fine_head(coef: Tensor, p: Prepared) -> Tensor:
    """Tile coefficients ``(1, 1 + F, X, Y)`` → map ``(nx, ny)``: ``base + a + Σ_j b_j · fine_j``, bilinear a, b.

    The offset ``a`` carries the smooth, tile-scale IR drop (or, with a physics channel, the smooth part of
    the estimate's error); the gains let the full-resolution current, PDN-density, distance and estimate
    maps add the sub-tile detail the tile grid cannot hold. ``base`` is the physics estimate (when present).
    """
    up = F.interpolate(coef, size=p.fine.shape[-2:], mode="bilinear", align_corners=False)[0]
    out = up[0] + (up[1:] * p.fine).sum(0)
    (ox, oy), (nx, ny) = p.offset, p.shape
    out = out[ox: ox + nx, oy: oy + ny]
    if p.base is None:
        return out
    if p.bound > 0:  # a bounded multiplicative correction: the base scaled by exp(±bound) at most
        return p.base * torch.exp(p.bound * torch.tanh(out))
    return out + p.base


def rasterise(h: Tensor, p: Prepared) -> Tensor:
    """Cluster embeddings ``(Nc, d)`` → tile image ``(1, d, X, Y)``: mean over the clusters of each tile."""
    X, Y = p.image.shape[-2:]
    out = torch.zeros(X * Y, h.shape[1], dtype=h.dtype)
    out.index_add_(0, p.cluster_tile, h)
    return (out * p.tile_weight[:, None]).T.reshape(1, h.shape[1], X, Y)


def gather_image(img: Tensor, p: Prepared) -> Tensor:
    """Tile image ``(C, X, Y)`` → per-cluster features ``(Nc, C)`` through the cluster→tile assignment."""
    return img.reshape(img.shape[0], -1).T[p.cluster_tile]


class GraphBranches(nn.Module):
    """The two GNN branches of PDNNet: PDN structure (A) and cell-PDN relation / time-sliced power (B)."""

    def __init__(self, node_in: int, cell_in: int, img_in: int, hidden: int, layers: int, use_image: bool):
        super().__init__()
        self.use_image = use_image
        extra = img_in if use_image else 0
        self.enc_a = nn.Sequential(nn.Linear(node_in + extra, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.enc_cell = nn.Sequential(nn.Linear(cell_in, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.enc_b = nn.Linear(node_in + hidden, hidden)
        self.conv_a = nn.ModuleList(ConductanceConv(hidden) for _ in range(layers))
        self.conv_b = nn.ModuleList(ConductanceConv(hidden) for _ in range(layers))

    def forward(self, p: Prepared) -> tuple[Tensor, Tensor]:
        xa = p.node_x
        if self.use_image:
            xa = torch.cat([xa, gather_image(p.image, p)], dim=1)
        ha = self.enc_a(xa)
        for c in self.conv_a:
            ha = c(ha, p.adj_t, p.edge_feat)
        hc = self.enc_cell(p.cell_x)
        agg = torch.zeros(p.node_x.shape[0], hc.shape[1], dtype=hc.dtype)
        agg.index_add_(0, p.cell_cluster, hc)
        hb = self.enc_b(torch.cat([p.node_x, agg], dim=1))
        for c in self.conv_b:
            hb = c(hb, p.adj_t, p.edge_feat)
        return ha, hb
