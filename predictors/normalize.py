"""Normalisation of PDNGraphs for the IR-drop models, fitted on a training set and saved with each model.

Every model works in *normalised* units (:class:`Normalizer`): current-like inputs (current maps, load
currents, the physics estimate ``ir_est``) are divided by the sample's mean current per map pixel ``s_I``
and the output is multiplied by ``s_I`` again, which makes each model exactly current-scale equivariant (IR
drop is linear in the load currents for a fixed PDN). :func:`prepare` turns one graph into the tensors every
model reads (:class:`Prepared`), including ``base``: the physics estimate in target units, which the models
correct (their output is ``base + learned correction``; zeros when the graph has no physics channel).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from scipy.sparse import coo_matrix
from torch import Tensor
from torch_geometric.data import HeteroData

from eda.errors import InputError
from eda.graphs.pdn_graph import PATTERN_CHANNEL, PHYSICS_CHANNEL, STATIC_CHANNELS, STEP_CHANNEL

__all__ = ["Normalizer", "Prepared", "prepare", "denormalise", "fine_channels"]

_EPS = 1e-30


def _current_channels(channels: list[str]) -> np.ndarray:
    """Channels that scale with the load currents (divided by ``s_I``)."""
    return np.array([c in ("current", PHYSICS_CHANNEL, STEP_CHANNEL) or c.startswith("current_t") for c in channels])


def fine_channels(g: HeteroData) -> list[str]:
    """Full-resolution channels of a graph (graphs built before the physics channel have the static three)."""
    return list(getattr(g, "fine_channels", STATIC_CHANNELS))


@dataclass
class Normalizer:
    """Input/target normalisation, fitted on training graphs and stored in every checkpoint.

    Per sample: ``s_I`` = mean current per map pixel (``scale="current"``, static models), the mean *peak*
    load current per map pixel (``scale="peak"``) or the deck's lumped droop ``g.lumped_v`` (``scale="lumped"``,
    dynamic models since the IBM-regime data: the worst drop of the package + decap + load circuit with the
    grid merged per net, :func:`eda.graphs.pdn_physics.lumped_droop`; on those decks the worst dynamic drop
    follows switching peaks 5-5,000x the DC value through decaps of 1-500 pF, so a DC scale would leave the
    model a ratio spanning three decades to learn). All three are linear in the loads, so the models stay
    current-scale equivariant. Current channels are divided by it, cell and cluster
    load currents by their own mean, the target is ``y / (s_I · y_scale)``. Globally fitted: mean and std of
    every tile-grid and fine image channel (after the current scaling), of the cluster features (decap as
    ``log10``) and of the cluster edges' ``log10 g``, and ``y_scale``. ``pool`` records the tile size the
    model was trained on. ``pattern_base`` (dynamic models fitted on graphs with the pattern channel
    ``ir_pattern``): the models' ``base`` is the pattern at the lumped droop's level, ``ir_pattern ·
    lumped_v``, and they learn the correction (as static models correct ``ir_est``). ``level="step"`` (graphs
    that also carry the level channel ``ir_step``): the pattern at the level of the backward-Euler step's
    largest drop instead, ``ir_pattern · max(ir_step)`` (decaps, package and grid in it, see
    :func:`eda.graphs.pdn_physics.step_drop`). ``bound > 0`` (``TrainParams.level_bound``, such models only):
    the correction is multiplicative and bounded, ``base · exp(bound · tanh(z))`` (``ln 2``: within 0.5-2x of
    the base; the step's level is 0.22-1.29x the exact worst drop on the IBM-style decks), so that far-out
    inputs cannot move the level by more.
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
    fine: list[str] = field(default_factory=lambda: list(STATIC_CHANNELS))
    physics_iters: int = 0
    pattern_iters: int = 0
    pattern_base: bool = False
    step_iters: int = 0
    level: str = "lumped"
    density_rel: bool = False
    clip: float = 0.0
    bound: float = 0.0
    dbu_per_um: float | None = None
    scale: str = "current"

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
        fine = fine_channels(graphs[0])
        pool = int(graphs[0].pool)
        cur = _current_channels(chans)
        fcur = _current_channels(fine)
        scale = "lumped" if target == "dynamic" else "current"
        level = "step" if STEP_CHANNEL in fine and PATTERN_CHANNEL in fine and scale == "lumped" else "lumped"
        imgs, fines, nodes, edges, ys = [], [], [], [], []
        for g in graphs:
            if list(g.channels) != chans:
                raise InputError(f"training graphs disagree on image channels: {chans} vs {list(g.channels)}")
            if int(g.pool) != pool:
                raise InputError(f"training graphs disagree on the tile size: pool {pool} vs {int(g.pool)}")
            if f"y_{target}" not in g:
                raise InputError(f"training graph has no {target} IR-drop label (y_{target})")
            s = _s_i(g, scale)
            im = g.image.double().numpy().reshape(len(chans), -1).copy()
            im[cur] /= s
            _relative_density(im, chans, level == "step")
            imgs.append(im[:, :: max(1, im.shape[1] // 4096)])
            nx, ny = (int(v) for v in g.map_shape)
            if fine_channels(g) != fine:
                raise InputError(f"training graphs disagree on the fine channels: {fine} vs {fine_channels(g)}")
            fi = g.image_fine[:, :nx, :ny].double().numpy().reshape(len(fine), -1).copy()
            fi[fcur] /= s
            _relative_density(fi, fine, level == "step")
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
                   y_scale=float(max(np.mean(ys), 1e-30)), target=target, pool=pool, fine=fine,
                   physics_iters=int(getattr(graphs[0], "physics_iters", 0)),
                   pattern_iters=int(getattr(graphs[0], "pattern_iters", 0)), scale=scale,
                   pattern_base=PATTERN_CHANNEL in fine and scale == "lumped",
                   step_iters=int(getattr(graphs[0], "step_iters", 0)),
                   level=level, density_rel=level == "step", clip=4.0 if level == "step" else 0.0)

    @property
    def n_slices(self) -> int:
        """Time slices of the current inputs (0 for a static model)."""
        return sum(c.startswith("current_t") for c in self.channels)

    def graph_params(self, **kw):
        """The :class:`~eda.graphs.pdn_graph.GraphParams` to build graphs this model can read."""
        from eda.graphs.pdn_graph import GraphParams

        return GraphParams(**{"n_slices": self.n_slices, "pool": self.pool, "physics_iters": self.physics_iters,
                              "pattern_iters": self.pattern_iters, "step_iters": self.step_iters,
                              **kw})

    def check(self, g: HeteroData) -> None:
        if list(g.channels) != self.channels:
            raise InputError(f"image channels {list(g.channels)} do not match the model's {self.channels} "
                             "(static vs dynamic model, or a different number of time slices)")
        if fine_channels(g) != self.fine:
            raise InputError(f"full-resolution channels {fine_channels(g)} do not match the model's {self.fine} "
                             f"(build the graph with GraphParams(physics_iters={self.physics_iters}))")
        if int(g.pool) != self.pool:
            raise InputError(f"the graph's tile grid has pool={int(g.pool)} map pixels per tile, the model was "
                             f"trained with pool={self.pool}; build the graph with GraphParams(pool={self.pool})")


def _s_i(g: HeteroData, scale: str = "current") -> float:
    nx, ny = (int(v) for v in g.map_shape)
    if scale == "lumped":
        s = float(getattr(g, "lumped_v", 0.0))
        if not s > 0:
            raise InputError("the deck's lumped droop is zero (no decap, package inductor or .tran): nothing for "
                             "a dynamic model to scale by; use the static model")
        return s
    if scale == "peak":  # the clusters' summed peak load currents (column 10), the DC value for DC loads
        s = float(g["pdn_cluster"].x[:, 10].double().sum()) / (nx * ny)
    else:
        s = float(g.image[0].double().sum()) / (nx * ny)
    if not s > 0:
        raise InputError("the current map is all zero: nothing draws current, IR drop is zero everywhere")
    return s


def _relative_density(maps, channels: list[str], on: bool, shape: tuple[int, int] | None = None) -> None:
    """In place: the ``pdn_density`` channel of ``maps`` ``(C, ...)`` over its mean on the map (``shape``: the
    real pixels of a padded frame). Absolute wire density depends on the deck's pitch against the 1 µm pixel
    (ibmpg1t: 16-19 standard deviations beyond the IBM-style training decks); the drop's level comes from the
    physics channels, the density's shape is what the gains need."""
    if not on or "pdn_density" not in channels:
        return
    k = channels.index("pdn_density")
    m = maps[k] if shape is None else maps[k][: shape[0], : shape[1]]
    mean = float(m.mean())
    if mean > 0:
        maps[k] /= mean


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
    base: Tensor | None = None  # (nx, ny) physics estimate in target units (None without a physics channel)
    bound: float = 0.0         # > 0: the output is base · exp(bound · tanh(z)) (see layers.fine_head)


def prepare(g: HeteroData, norm: Normalizer, target: str | None = None) -> Prepared:
    """Normalise one PDNGraph for the models (``target`` selects the label to attach, if present)."""
    norm.check(g)
    C = len(norm.channels)
    nx, ny = (int(v) for v in g.map_shape)
    X, Y = (int(v) for v in g.coarse_shape)
    s = _s_i(g, norm.scale)
    im = g.image.clone()
    cur = torch.from_numpy(_current_channels(norm.channels))
    im[cur] /= s
    _relative_density(im, norm.channels, norm.density_rel)
    im = (im - torch.tensor(norm.img_mean).view(C, 1, 1)) / torch.tensor(norm.img_std).view(C, 1, 1)
    fi = g.image_fine.clone()
    fcur = torch.from_numpy(_current_channels(norm.fine))
    fi[fcur] /= s
    _relative_density(fi, norm.fine, norm.density_rel, (nx, ny))
    base = None
    if PHYSICS_CHANNEL in norm.fine:
        base = (g.image_fine[norm.fine.index(PHYSICS_CHANNEL), :nx, :ny].double() / (s * norm.y_scale)).float()
    elif norm.pattern_base:  # the dynamic pattern at the lumped droop's level: the models correct pattern × droop
        pat = g.image_fine[norm.fine.index(PATTERN_CHANNEL), :nx, :ny].double()
        level = float(g.lumped_v) if norm.level == "lumped" else float(
            g.image_fine[norm.fine.index(STEP_CHANNEL), :nx, :ny].double().max())
        base = (pat * level / (s * norm.y_scale)).float()
    fi = (fi - torch.tensor(norm.fine_mean).view(-1, 1, 1)) / torch.tensor(norm.fine_std).view(-1, 1, 1)
    if norm.clip:
        im, fi = im.clamp(-norm.clip, norm.clip), fi.clamp(-norm.clip, norm.clip)
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
                    offset=(0, 0), s_i=s, y=y, base=base, bound=float(norm.bound) if base is not None else 0.0)


def denormalise(pred: Tensor, p: Prepared, norm: Normalizer) -> np.ndarray:
    """Model output (normalised) → IR drop in volts, ``(nx, ny)`` float64."""
    return pred.detach().double().numpy() * p.s_i * norm.y_scale
