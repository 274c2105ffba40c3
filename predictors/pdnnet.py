"""PDNNet: a PDN-aware dual-branch GNN-CNN network for static and dynamic IR-drop maps.

Architecture (``hidden`` = h, ``base`` = c; see the README section *PDNGraph and PDNNet*)::

    pdn_cluster feats + image@tile ─Lin─▶ K × ConductanceConv (Pᵀ G P, g-weighted) ─▶ h_A ─┐ in_tile
    cell feats (I, I(t) slices) ─MLP─▶ draws_from/in_cluster ─▶ K × ConductanceConv ─▶ h_B ─┤ (mean)
                                                                                          ▼
    tile image ───────────────────────┬──────▶ [img ‖ raster(h_A)] ─▶ CNN encoder A ─┐
                                      └──────▶ [img ‖ raster(h_B)] ─▶ CNN encoder B ─┴▶ fused U-Net decoder
                                                                                              │ (4 ch/tile)
    static maps at map resolution ───────────────────────────────▶ fine head: a + Σ_j b_j · map_j ◀── bilinear
                                                                                              ▼
                                                                                      IR-drop map (nx, ny)

Message passing follows the physics: a cluster aggregates its neighbours weighted by ``g_ij / Σ_k g_ik``
(one Jacobi sweep of the coarsened nodal equations ``Pᵀ G P v = Pᵀ i`` has exactly this form), with learned
channel mixing. The CNN works on the tile grid (``pool`` map pixels per tile edge); the fine head brings the
prediction back to map resolution as a spatially varying linear function of the full-resolution static
maps, whose coefficients the decoder predicts per tile (upsampled bilinearly).

Every model here works in *normalised* units fitted on the training set (:class:`Normalizer`) and saved
with the checkpoint: current-like inputs are divided by the sample's mean current per map pixel ``s_I`` and
the output is multiplied by ``s_I`` again, which makes each model exactly current-scale equivariant (IR drop
is linear in the load currents for a fixed PDN).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from scipy.sparse import coo_matrix
from torch import Tensor, nn
from torch_geometric.data import HeteroData
from torch_geometric.nn import MessagePassing

from eda.errors import InputError
from eda.graphs.pdn_graph import STATIC_CHANNELS

__all__ = ["Normalizer", "Prepared", "prepare", "ConductanceConv", "UNetEncoder", "UNetDecoder", "PDNNet",
           "PDNNetParams", "fine_head", "rasterise", "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "save_checkpoint",
           "load_checkpoint", "MODEL_TYPES"]

CHECKPOINT_FORMAT = "eda-irdrop-model"
#: Bumped whenever the checkpoint layout or a model's meaning changes; older files are refused.
CHECKPOINT_VERSION = 2
_EPS = 1e-30


# ====================================================================== normalisation
def _current_channels(channels: list[str]) -> np.ndarray:
    return np.array([c == "current" or c.startswith("current_t") for c in channels])


@dataclass
class Normalizer:
    """Input/target normalisation, fitted on training graphs and stored in every checkpoint.

    Per sample: ``s_I`` = mean current per map pixel. Current channels are divided by it, cell and cluster
    load currents by their own mean, the target is ``y / (s_I · y_scale)``. Globally fitted: mean and std of
    every tile-grid and fine image channel (after the current scaling), of the cluster features (decap as
    ``log10``) and of the cluster edges' ``log10 g``, and ``y_scale``. ``pool`` records the tile size the
    model was trained on.
    """

    channels: list[str] = field(default_factory=list)
    img_mean: list[float] = field(default_factory=list)
    img_std: list[float] = field(default_factory=list)
    fine_mean: list[float] = field(default_factory=list)
    fine_std: list[float] = field(default_factory=list)
    node_mean: list[float] = field(default_factory=list)
    node_std: list[float] = field(default_factory=list)
    edge_mean: float = 0.0
    edge_std: float = 1.0
    y_scale: float = 1.0
    target: str = "static"
    pool: int = 6

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Normalizer:
        return cls(**d)

    @classmethod
    def fit(cls, graphs: list[HeteroData], target: str) -> Normalizer:
        """Fit on training graphs (which must carry ``y_<target>``)."""
        if not graphs:
            raise InputError("cannot fit a normaliser on an empty training set")
        chans = list(graphs[0].channels)
        pool = int(graphs[0].pool)
        cur = _current_channels(chans)
        imgs, fines, nodes, edges, ys = [], [], [], [], []
        for g in graphs:
            if list(g.channels) != chans:
                raise InputError(f"training graphs disagree on image channels: {chans} vs {list(g.channels)}")
            if int(g.pool) != pool:
                raise InputError(f"training graphs disagree on the tile size: pool {pool} vs {int(g.pool)}")
            if f"y_{target}" not in g:
                raise InputError(f"training graph has no {target} IR-drop label (y_{target})")
            s = _s_i(g)
            im = g.image.double().numpy().reshape(len(chans), -1).copy()
            im[cur] /= s
            imgs.append(im[:, :: max(1, im.shape[1] // 4096)])
            nx, ny = (int(v) for v in g.map_shape)
            fi = g.image_fine[:, :nx, :ny].double().numpy().reshape(len(STATIC_CHANNELS), -1).copy()
            fi[0] /= s
            fines.append(fi[:, :: max(1, fi.shape[1] // 4096)])
            nd = _cluster_raw(g)
            nodes.append(nd[:: max(1, len(nd) // 4096)])
            for rel in ("wire", "via"):
                w = g["pdn_cluster", rel, "pdn_cluster"].edge_weight.double().numpy()
                edges.append(np.log10(w[:: max(1, len(w) // 4096)] + _EPS))
            ys.append(float(g[f"y_{target}"].double().mean()) / s)
        im, fi = np.concatenate(imgs, axis=1), np.concatenate(fines, axis=1)
        nd = np.concatenate(nodes)
        ed = np.concatenate(edges) if sum(len(e) for e in edges) else np.zeros(1)
        return cls(channels=chans, img_mean=im.mean(1).tolist(), img_std=np.maximum(im.std(1), 1e-6).tolist(),
                   fine_mean=fi.mean(1).tolist(), fine_std=np.maximum(fi.std(1), 1e-6).tolist(),
                   node_mean=nd.mean(0).tolist(), node_std=np.maximum(nd.std(0), 1e-6).tolist(),
                   edge_mean=float(ed.mean()), edge_std=float(max(ed.std(), 1e-6)),
                   y_scale=float(max(np.mean(ys), 1e-30)), target=target, pool=pool)

    @property
    def n_slices(self) -> int:
        """Time slices of the current inputs (0 for a static model)."""
        return sum(c.startswith("current_t") for c in self.channels)

    def graph_params(self, **kw):
        """The :class:`~eda.graphs.pdn_graph.GraphParams` to build graphs this model can read."""
        from eda.graphs.pdn_graph import GraphParams

        return GraphParams(**{"n_slices": self.n_slices, "pool": self.pool, **kw})

    def check(self, g: HeteroData) -> None:
        if list(g.channels) != self.channels:
            raise InputError(f"image channels {list(g.channels)} do not match the model's {self.channels} "
                             "(static vs dynamic model, or a different number of time slices)")
        if int(g.pool) != self.pool:
            raise InputError(f"the graph's tile grid has pool={int(g.pool)} map pixels per tile, the model was "
                             f"trained with pool={self.pool}; build the graph with GraphParams(pool={self.pool})")


def _s_i(g: HeteroData) -> float:
    nx, ny = (int(v) for v in g.map_shape)
    s = float(g.image[0].double().sum()) / (nx * ny)
    if not s > 0:
        raise InputError("the current map is all zero: nothing draws current, IR drop is zero everywhere")
    return s


def _cluster_raw(g: HeteroData) -> np.ndarray:
    """pdn_cluster features with decap and load current made scale-free (before global standardisation)."""
    x = g["pdn_cluster"].x.double().numpy().copy()
    il = x[:, 4]
    m = il[il > 0].mean() if (il > 0).any() else 1.0
    x[:, 4] = il / m
    x[:, 10] /= m  # peak over the same mean: the peak-to-average ratio is information
    x[:, 5] = np.log10(x[:, 5] + 1e-18)
    return x


@dataclass
class Prepared:
    """One sample as normalised tensors, ready for every model (computed once, cached in training)."""

    image: Tensor              # (C, X, Y) normalised, tile grid
    fine: Tensor               # (3, PX, PY) normalised static maps at map resolution, padded to whole tiles
    node_x: Tensor             # (Nc, F) cluster features
    cell_x: Tensor             # (M, 1 + T)
    cell_cluster: Tensor       # (M,) cluster each cell draws from
    adj_t: Tensor              # (Nc, Nc) sparse CSR, row-normalised conductance (row = receiver)
    edge_feat: Tensor          # (Nc,) mean normalised log10 g of each cluster's edges
    cluster_tile: Tensor       # (Nc,) tile index of each cluster
    tile_weight: Tensor        # (X·Y,) 1 / number of clusters in each tile (0 where none)
    shape: tuple[int, int]     # (nx, ny) map shape
    offset: tuple[int, int]    # where the map lies inside the padded fine frame (moves when mirrored)
    s_i: float
    y: Tensor | None = None    # (nx, ny) normalised target


def prepare(g: HeteroData, norm: Normalizer, target: str | None = None) -> Prepared:
    """Normalise one PDNGraph for the models (``target`` selects the label to attach, if present)."""
    norm.check(g)
    C = len(norm.channels)
    nx, ny = (int(v) for v in g.map_shape)
    X, Y = (int(v) for v in g.coarse_shape)
    s = _s_i(g)
    im = g.image.clone()
    cur = torch.from_numpy(_current_channels(norm.channels))
    im[cur] /= s
    im = (im - torch.tensor(norm.img_mean).view(C, 1, 1)) / torch.tensor(norm.img_std).view(C, 1, 1)
    fi = g.image_fine.clone()
    fi[0] /= s
    fi = (fi - torch.tensor(norm.fine_mean).view(-1, 1, 1)) / torch.tensor(norm.fine_std).view(-1, 1, 1)
    fi[:, nx:] = 0.0
    fi[:, :, ny:] = 0.0
    nx_ = ((torch.from_numpy(_cluster_raw(g)) - torch.tensor(norm.node_mean, dtype=torch.float64)) /
           torch.tensor(norm.node_std, dtype=torch.float64)).float()
    cx = g["cell"].x.clone()
    if cx.shape[0]:
        cx /= cx.double().mean().clamp_min(1e-30).float()
    N = g["pdn_cluster"].num_nodes
    ei = torch.cat([g["pdn_cluster", r, "pdn_cluster"].edge_index for r in ("wire", "via")], dim=1)
    w = torch.cat([g["pdn_cluster", r, "pdn_cluster"].edge_weight for r in ("wire", "via")]).double()
    deg = torch.zeros(N, dtype=torch.float64).index_add_(0, ei[1], w)
    wn = w / deg[ei[1]].clamp_min(_EPS)
    lg = (torch.log10(w + _EPS) - norm.edge_mean) / norm.edge_std
    cnt = torch.zeros(N, dtype=torch.float64).index_add_(0, ei[1], torch.ones_like(w)).clamp_min(1)
    ef = torch.zeros(N, dtype=torch.float64).index_add_(0, ei[1], lg) / cnt
    # CSR by SciPy's counting sort (O(nnz)); cluster pairs are unique, so no duplicates to sum
    a = coo_matrix((wn.float().numpy(), (ei[1].numpy(), ei[0].numpy())), shape=(N, N)).tocsr()
    a.sort_indices()
    with warnings.catch_warnings():  # torch flags sparse CSR as beta; the kernels used here are stable
        warnings.simplefilter("ignore", UserWarning)
        adj_t = torch.sparse_csr_tensor(torch.from_numpy(a.indptr.astype(np.int64)),
                                        torch.from_numpy(a.indices.astype(np.int64)), torch.from_numpy(a.data),
                                        (N, N))
    ctile = g["pdn_cluster", "in_tile", "tile"].edge_index[1]
    tcount = torch.bincount(ctile, minlength=X * Y).float()
    tw = torch.where(tcount > 0, 1.0 / tcount.clamp_min(1), torch.zeros_like(tcount))
    node_cluster = g["pdn_node", "in_cluster", "pdn_cluster"].edge_index[1]
    y = None
    tgt = target or norm.target
    if f"y_{tgt}" in g:
        y = (g[f"y_{tgt}"].double() / (s * norm.y_scale)).float()
    return Prepared(image=im, fine=fi, node_x=nx_, cell_x=cx,
                    cell_cluster=node_cluster[g["cell", "draws_from", "pdn_node"].edge_index[1]],
                    adj_t=adj_t, edge_feat=ef.float(), cluster_tile=ctile, tile_weight=tw, shape=(nx, ny),
                    offset=(0, 0), s_i=s, y=y)


def denormalise(pred: Tensor, p: Prepared, norm: Normalizer) -> np.ndarray:
    """Model output (normalised) → IR drop in volts, ``(nx, ny)`` float64."""
    return pred.detach().double().numpy() * p.s_i * norm.y_scale


# ====================================================================== layers
class ConductanceConv(MessagePassing):
    """One physics-shaped message-passing step on the (coarsened) PDN.

    ``m_i = Σ_j (g_ij / Σ_k g_ik) h_j`` (a Jacobi sweep of ``G v = i``), then
    ``h_i ← h_i + MLP([h_i, m_i, ē_i])`` where ``ē_i`` is the node's mean normalised ``log10 g``.
    """

    def __init__(self, hidden: int):
        super().__init__(aggr="add")
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

    Outputs :data:`HEAD_CHANNELS` channels per tile: the coefficients of the fine head (:func:`fine_head`).
    """

    def __init__(self, chans: list[int], n_enc: int = 1):
        super().__init__()
        depth = len(chans) - 1
        self.up = nn.ModuleList()
        for i in range(depth, 0, -1):
            cin = (chans[i] * n_enc if i == depth else chans[i]) + chans[i - 1] * n_enc
            self.up.append(nn.Sequential(nn.Conv2d(cin, chans[i - 1], 3, padding=1), nn.SiLU(),
                                         nn.Conv2d(chans[i - 1], chans[i - 1], 3, padding=1), nn.SiLU()))
        self.head = nn.Conv2d(chans[0], HEAD_CHANNELS, 1)

    def forward(self, skips: list[list[Tensor]]) -> Tensor:
        levels = [torch.cat(s, dim=1) for s in zip(*skips, strict=True)]
        h = levels[-1]
        for k, up in enumerate(self.up):
            skip = levels[-2 - k]
            h = F.interpolate(h, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            h = up(torch.cat([h, skip], dim=1))
        return self.head(h)


#: Per-tile outputs of every model: an offset and one gain per fine channel.
HEAD_CHANNELS = 1 + len(STATIC_CHANNELS)


def fine_head(coef: Tensor, p: Prepared) -> Tensor:
    """Tile coefficients ``(1, 4, X, Y)`` → map ``(nx, ny)``: ``a + Σ_j b_j · fine_j``, bilinear a, b.

    The offset ``a`` carries the smooth, tile-scale IR drop; the gains let the full-resolution current,
    PDN-density and distance maps add the sub-tile detail the tile grid cannot hold.
    """
    up = F.interpolate(coef, size=p.fine.shape[-2:], mode="bilinear", align_corners=False)[0]
    out = up[0] + (up[1:] * p.fine).sum(0)
    (ox, oy), (nx, ny) = p.offset, p.shape
    return out[ox: ox + nx, oy: oy + ny]


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


# ====================================================================== PDNNet
def check_min(params, fields: tuple[str, ...], minimum: int) -> None:
    """Raise :class:`InputError` naming the first integer field of ``params`` below ``minimum``."""
    for k in fields:
        v = getattr(params, k)
        if int(v) < minimum:
            raise InputError(f"{type(params).__name__}.{k}: must be >= {minimum}, got {v}")


@dataclass(frozen=True)
class PDNNetParams:
    """Hyper-parameters of :class:`PDNNet` (saved in the checkpoint).

    Attributes:
        n_channels: tile-grid image channels (3 static, 3 + T dynamic). n_node: pdn_cluster features.
        n_cell: cell features (1 + T). hidden: GNN width. layers: ConductanceConv steps per branch.
        base: CNN width at tile resolution. depth: U-Net down-sampling levels.
    """

    n_channels: int = 3
    n_node: int = 11
    n_cell: int = 2
    hidden: int = 16
    layers: int = 4
    base: int = 12
    depth: int = 3

    def __post_init__(self):
        check_min(self, ("n_channels", "n_node", "n_cell", "hidden", "base", "depth"), 1)
        check_min(self, ("layers",), 0)


class PDNNet(nn.Module):
    """Dual-branch GNN-CNN IR-drop predictor (see the module docstring)."""

    model_type = "pdnnet"
    Params = PDNNetParams

    def __init__(self, params: PDNNetParams):
        super().__init__()
        self.params = params
        p = params
        self.graph = GraphBranches(p.n_node, p.n_cell, p.n_channels, p.hidden, p.layers, use_image=True)
        self.cnn_a = UNetEncoder(p.n_channels + p.hidden, p.base, p.depth)
        self.cnn_b = UNetEncoder(p.n_channels + p.hidden, p.base, p.depth)
        self.dec = UNetDecoder(self.cnn_a.chans, n_enc=2)

    def forward(self, p: Prepared) -> Tensor:
        ha, hb = self.graph(p)
        img = p.image[None]
        fa = self.cnn_a(torch.cat([img, rasterise(ha, p)], dim=1))
        fb = self.cnn_b(torch.cat([img, rasterise(hb, p)], dim=1))
        return fine_head(self.dec([fa, fb]), p)


# ====================================================================== checkpoints
def _registry() -> dict:
    from eda.predictors import baselines

    return {"pdnnet": PDNNet, "cnn": baselines.CNNOnly, "gnn": baselines.GNNOnly, "gbdt": baselines.GBDT}


MODEL_TYPES = ("pdnnet", "cnn", "gnn", "gbdt")


def save_checkpoint(path, model, norm: Normalizer, info: dict | None = None) -> None:
    """Write weights, hyper-parameters, normalisation, model type and format version to one file.

    Only tensors, dicts, lists, strings and numbers are stored, so ``torch.load(path, weights_only=True)``
    reads it back without executing code.
    """
    ck = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "model_type": model.model_type,
          "target": norm.target, "hparams": asdict(model.params), "norm": norm.to_dict(),
          "state": model.state_dict(), "info": _plain(info or {})}
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(ck, str(path))


def _plain(d):
    if isinstance(d, dict):
        return {str(k): _plain(v) for k, v in d.items()}
    if isinstance(d, (list, tuple)):
        return [_plain(v) for v in d]
    if isinstance(d, (np.floating, np.integer)):
        return d.item()
    if isinstance(d, float) and not math.isfinite(d):
        return str(d)
    return d


def load_checkpoint(path, expect_type: str | None = None, expect_target: str | None = None):
    """Load a checkpoint written by :func:`save_checkpoint`.

    Returns:
        ``(model, normalizer, info)``; the model is in eval mode.

    Raises:
        InputError: unreadable file, not an eda IR-drop checkpoint, incompatible version, unknown or
            unexpected model type, or a target other than ``expect_target``.
    """
    try:
        ck = torch.load(str(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError("checkpoint not found", file=path) from None
    except Exception as e:  # noqa: BLE001 - any unpickling failure means "not our file"
        raise InputError(f"not a loadable weights-only checkpoint: {type(e).__name__}: {e}", file=path) from None
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"not an eda IR-drop model checkpoint (expected format {CHECKPOINT_FORMAT!r})", file=path)
    if ck.get("version") != CHECKPOINT_VERSION:
        raise InputError(f"checkpoint format version {ck.get('version')!r} is incompatible with this eda "
                         f"(expects version {CHECKPOINT_VERSION}); retrain with 'eda irdrop train'", file=path)
    mt = ck.get("model_type")
    reg = _registry()
    if mt not in reg:
        raise InputError(f"unknown model type {mt!r} in checkpoint; known: {', '.join(MODEL_TYPES)}", file=path)
    if expect_type is not None and mt != expect_type:
        raise InputError(f"checkpoint holds a {mt!r} model, expected {expect_type!r}", file=path)
    if expect_target is not None and ck.get("target") != expect_target:
        raise InputError(f"checkpoint predicts {ck.get('target')!r} IR drop, expected {expect_target!r}", file=path)
    cls = reg[mt]
    try:
        model = cls(cls.Params(**ck["hparams"]))
        model.load_state_dict(ck["state"])
    except (TypeError, RuntimeError, KeyError) as e:
        raise InputError(f"checkpoint does not fit the {mt!r} model: {e}", file=path) from None
    model.eval()
    return model, Normalizer.from_dict(ck["norm"]), ck.get("info", {})
