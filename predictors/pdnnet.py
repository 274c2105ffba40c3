"""PDNNet: a PDN-aware dual-branch GNN-CNN network for static and dynamic IR-drop maps.

Architecture (``hidden`` = h, ``base`` = c; see the README section *PDNGraph and PDNNet*)::

    pdn_node feats + image@tile ─Lin─▶ K × ConductanceConv (wire+via, g-weighted) ─▶ h_A ─┐ covers
    cell feats (I, I(t) slices) ─Lin─▶ draws_from ─▶ pdn_node ─▶ K × ConductanceConv ─▶ h_B ─┤ (rasterise)
                                                                                        ▼
    image maps ──────────────────────────────┬──────▶ [img ‖ raster(h_A)] ─▶ CNN encoder A ─┐
                                             └──────▶ [img ‖ raster(h_B)] ─▶ CNN encoder B ─┴▶ fused U-Net
                                                                                   decoder ─▶ IR-drop map

Message passing follows the physics: a node aggregates its neighbours weighted by ``g_ij / Σ_k g_ik``
(one Jacobi sweep of the nodal equations ``G v = i`` has exactly this form), with learned channel mixing.

Every model here works in *normalised* units fitted on the training set (:class:`Normalizer`) and saved
with the checkpoint: current-like inputs are divided by the sample's mean tile current ``s_I`` and the
output is multiplied by ``s_I`` again, which makes each model exactly current-scale equivariant (IR drop is
linear in the load currents for a fixed PDN).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import HeteroData
from torch_geometric.nn import MessagePassing

from eda.errors import InputError

__all__ = ["Normalizer", "Prepared", "prepare", "ConductanceConv", "UNetEncoder", "UNetDecoder", "PDNNet",
           "PDNNetParams", "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "save_checkpoint", "load_checkpoint",
           "MODEL_TYPES"]

CHECKPOINT_FORMAT = "eda-irdrop-model"
#: Bumped whenever the checkpoint layout or a model's meaning changes; older files are refused.
CHECKPOINT_VERSION = 1
_EPS = 1e-30


# ====================================================================== normalisation
def _current_channels(channels: list[str]) -> np.ndarray:
    return np.array([c == "current" or c.startswith("current_t") for c in channels])


@dataclass
class Normalizer:
    """Input/target normalisation, fitted on training graphs and stored in every checkpoint.

    Per sample: ``s_I`` = mean of the ``current`` map (A per tile). Current channels and cell currents are
    divided by it (cells by their own mean), the target is ``y / (s_I · y_scale)``. Globally fitted: mean and
    std of every image channel (after the current scaling), of ``log10`` decap, node conductance and edge
    conductance, and ``y_scale``.
    """

    channels: list[str] = field(default_factory=list)
    img_mean: list[float] = field(default_factory=list)
    img_std: list[float] = field(default_factory=list)
    node_mean: list[float] = field(default_factory=list)
    node_std: list[float] = field(default_factory=list)
    edge_mean: float = 0.0
    edge_std: float = 1.0
    y_scale: float = 1.0
    target: str = "static"

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
        cur = _current_channels(chans)
        imgs, nodes, edges, ys = [], [], [], []
        for g in graphs:
            if list(g.channels) != chans:
                raise InputError(f"training graphs disagree on image channels: {chans} vs {list(g.channels)}")
            if f"y_{target}" not in g:
                raise InputError(f"training graph has no {target} IR-drop label (y_{target})")
            im = g.image.double().numpy().reshape(len(chans), -1).copy()
            s = _s_i(g)
            im[cur] /= s
            imgs.append(im[:, :: max(1, im.shape[1] // 4096)])
            nodes.append(_node_raw(g)[:: max(1, g["pdn_node"].num_nodes // 4096)])
            for rel in ("wire", "via"):
                w = g["pdn_node", rel, "pdn_node"].edge_weight.double().numpy()
                edges.append(np.log10(w[:: max(1, len(w) // 4096)] + _EPS))
            ys.append(float(g[f"y_{target}"].double().mean()) / s)
        im = np.concatenate(imgs, axis=1)
        nd = np.concatenate(nodes)
        ed = np.concatenate(edges)
        return cls(channels=chans, img_mean=im.mean(1).tolist(), img_std=np.maximum(im.std(1), 1e-6).tolist(),
                   node_mean=nd.mean(0).tolist(), node_std=np.maximum(nd.std(0), 1e-6).tolist(),
                   edge_mean=float(ed.mean()), edge_std=float(max(ed.std(), 1e-6)),
                   y_scale=float(max(np.mean(ys), 1e-30)), target=target)

    def check(self, g: HeteroData) -> None:
        if list(g.channels) != self.channels:
            raise InputError(f"image channels {list(g.channels)} do not match the model's {self.channels} "
                             "(static vs dynamic model, or a different number of time slices)")


def _s_i(g: HeteroData) -> float:
    s = float(g.image[0].double().mean())
    if not s > 0:
        raise InputError("the current map is all zero: nothing draws current, IR drop is zero everywhere")
    return s


def _node_raw(g: HeteroData) -> np.ndarray:
    """pdn_node features with decap and load current made scale-free (before global standardisation)."""
    x = g["pdn_node"].x.double().numpy().copy()
    il = x[:, 5]
    m = il[il > 0].mean() if (il > 0).any() else 1.0
    x[:, 5] = il / m
    x[:, 6] = np.log10(x[:, 6] + 1e-18)
    return x


@dataclass
class Prepared:
    """One sample as normalised tensors, ready for every model (computed once, cached in training)."""

    image: Tensor              # (C, nx, ny) normalised
    node_x: Tensor             # (N, F)
    cell_x: Tensor             # (M, 3 + T)
    adj_t: Tensor              # (N, N) sparse CSR, row-normalised conductance (row = receiver)
    edge_feat: Tensor          # (N,) mean normalised log10 g of each node's edges
    draws_from: Tensor         # (2, M)
    node_tile: Tensor          # (N,) tile index of each node
    cover_index: Tensor        # (2, K·T) pdn_node → tile
    cover_weight: Tensor       # (K·T,)
    shape: tuple[int, int]
    s_i: float
    y: Tensor | None = None    # (nx, ny) normalised target


def prepare(g: HeteroData, norm: Normalizer, target: str | None = None) -> Prepared:
    """Normalise one PDNGraph for the models (``target`` selects the label to attach, if present)."""
    norm.check(g)
    C = len(norm.channels)
    nx, ny = (int(v) for v in g.map_shape)
    s = _s_i(g)
    im = g.image.double().clone()
    cur = torch.from_numpy(_current_channels(norm.channels))
    im[cur] /= s
    im = (im - torch.tensor(norm.img_mean, dtype=torch.float64).view(C, 1, 1)) / \
        torch.tensor(norm.img_std, dtype=torch.float64).view(C, 1, 1)
    nx_ = (torch.from_numpy(_node_raw(g)) - torch.tensor(norm.node_mean, dtype=torch.float64)) / \
        torch.tensor(norm.node_std, dtype=torch.float64)
    cx = g["cell"].x.double().clone()
    if cx.shape[0]:
        m = cx[:, 2:].mean().clamp_min(1e-30)
        cx[:, 2:] /= m
    N = g["pdn_node"].num_nodes
    ei = torch.cat([g["pdn_node", r, "pdn_node"].edge_index for r in ("wire", "via")], dim=1)
    w = torch.cat([g["pdn_node", r, "pdn_node"].edge_weight for r in ("wire", "via")]).double()
    deg = torch.zeros(N, dtype=torch.float64).index_add_(0, ei[1], w)
    wn = w / deg[ei[1]].clamp_min(_EPS)
    lg = (torch.log10(w + _EPS) - norm.edge_mean) / norm.edge_std
    cnt = torch.zeros(N, dtype=torch.float64).index_add_(0, ei[1], torch.ones_like(w)).clamp_min(1)
    ef = torch.zeros(N, dtype=torch.float64).index_add_(0, ei[1], lg) / cnt
    with warnings.catch_warnings():  # torch flags sparse CSR as beta; the kernels used here are stable
        warnings.simplefilter("ignore", UserWarning)
        adj_t = torch.sparse_coo_tensor(torch.stack([ei[1], ei[0]]), wn.float(), (N, N)).coalesce().to_sparse_csr()
    y = None
    tgt = target or norm.target
    if f"y_{tgt}" in g:
        y = (g[f"y_{tgt}"].double() / (s * norm.y_scale)).float()
    cov = g["pdn_node", "covers", "tile"]
    return Prepared(image=im.float(), node_x=nx_.float(), cell_x=cx.float(), adj_t=adj_t, edge_feat=ef.float(),
                    draws_from=g["cell", "draws_from", "pdn_node"].edge_index,
                    node_tile=g["pdn_node", "in_tile", "tile"].edge_index[1],
                    cover_index=cov.edge_index, cover_weight=cov.edge_weight, shape=(nx, ny), s_i=s, y=y)


def denormalise(pred: Tensor, p: Prepared, norm: Normalizer) -> np.ndarray:
    """Model output (normalised) → IR drop in volts, ``(nx, ny)`` float64."""
    return pred.detach().double().numpy() * p.s_i * norm.y_scale


# ====================================================================== layers
class ConductanceConv(MessagePassing):
    """One physics-shaped message-passing step on the PDN.

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
    """U-Net encoder (IREDGe-style): a light full-resolution stem, then ``depth`` stride-2 levels."""

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
    """U-Net decoder over the (channel-concatenated) skip features of one or more encoders."""

    def __init__(self, chans: list[int], n_enc: int = 1):
        super().__init__()
        depth = len(chans) - 1
        self.up = nn.ModuleList()
        for i in range(depth, 0, -1):
            cin = (chans[i] * n_enc if i == depth else chans[i]) + chans[i - 1] * n_enc
            self.up.append(nn.Sequential(nn.Conv2d(cin, chans[i - 1], 3, padding=1), nn.SiLU(),
                                         nn.Conv2d(chans[i - 1], chans[i - 1], 3, padding=1), nn.SiLU()))
        self.head = nn.Conv2d(chans[0], 1, 1)

    def forward(self, skips: list[list[Tensor]]) -> Tensor:
        levels = [torch.cat(s, dim=1) for s in zip(*skips, strict=True)]
        h = levels[-1]
        for k, up in enumerate(self.up):
            skip = levels[-2 - k]
            h = F.interpolate(h, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            h = up(torch.cat([h, skip], dim=1))
        return self.head(h)


def rasterise(h: Tensor, p: Prepared) -> Tensor:
    """Node embeddings ``(N, d)`` → image ``(1, d, nx, ny)`` through the ``covers`` edges."""
    nx, ny = p.shape
    src, dst = p.cover_index
    out = torch.zeros(nx * ny, h.shape[1], dtype=h.dtype)
    out.index_add_(0, dst, h[src] * p.cover_weight[:, None])
    return out.T.reshape(1, h.shape[1], nx, ny)


def gather_image(img: Tensor, p: Prepared) -> Tensor:
    """Image ``(C, nx, ny)`` → per-node features ``(N, C)`` through the node→tile assignment."""
    return img.reshape(img.shape[0], -1).T[p.node_tile]


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
        agg.index_add_(0, p.draws_from[1], hc[p.draws_from[0]])
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
        n_channels: image channels (3 static, 3 + T dynamic). n_node: pdn_node features.
        n_cell: cell features (3 + T). hidden: GNN width. layers: ConductanceConv steps per branch.
        base: CNN width at full resolution. depth: U-Net down-sampling levels.
    """

    n_channels: int = 3
    n_node: int = 9
    n_cell: int = 3
    hidden: int = 16
    layers: int = 4
    base: int = 8
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
        return self.dec([fa, fb])[0, 0]


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
