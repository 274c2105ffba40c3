"""Training of PDNNet and the baselines: one loop for every model, seeds, validation each epoch, early stopping.

The loop is plain PyTorch over :class:`~eda.predictors.pdnnet.Prepared` samples (one graph and its maps per
step; samples differ in size). Augmentation mirrors each sample in x and/or y, graph and maps together
(a mirrored design is a valid design with the mirrored IR-drop map).
"""

from __future__ import annotations

import copy
import time
from dataclasses import replace
from typing import Literal

import numpy as np
import torch
from pydantic import Field, model_validator
from torch_geometric.data import HeteroData

from eda.errors import InputError
from eda.params import Params
from eda.predictors.normalize import Normalizer, Prepared, denormalise, prepare
from eda.predictors.registry import MODEL_TYPES, build_model, build_params

__all__ = ["TrainParams", "split_names", "train_model", "train_from_dir", "train_contest", "flip", "transpose",
           "augment"]


class TrainParams(Params):
    """Training settings (:class:`eda.params.Params`: every field described and bounded; errors
    ``TrainParams.field: ...``). ``ema``: decay of the exponential moving average of the weights (0: off);
    validation, early stopping and the saved model use the averaged weights, which smooths the
    step-to-step noise of one-sample-per-step training."""

    model: Literal[MODEL_TYPES] = Field("pdnnet", description="model type: " + ", ".join(MODEL_TYPES))
    target: Literal["static", "dynamic"] = Field("static", description="IR-drop target")
    epochs: int = Field(40, ge=1, description="maximum epochs")
    patience: int = Field(10, ge=1, description="epochs without validation improvement before stopping")
    lr: float = Field(1e-3, gt=0, description="AdamW learning rate (cosine-decayed to 5 % over epochs)")
    weight_decay: float = Field(1e-4, ge=0, description="AdamW weight decay")
    augment: bool = Field(True, description="mirror and transpose samples at random (the 8 symmetries of the "
                                            "square)")
    seed: int = Field(0, description="seeds torch, NumPy and the split")
    max_minutes: float = Field(0.0, ge=0, description="stop after this much wall time (the best epoch so far "
                                                      "is kept); 0 for no limit")
    hparams: dict = Field(default_factory=dict, description='model hyper-parameter overrides ({"hidden": 24})')
    ema: float = Field(0.998, ge=0, lt=1, description="decay of the moving average of the weights (0: off)")
    level_bound: float = Field(0.0, ge=0, le=5, description="dynamic models on the pattern + level channels: "
                               "the learned correction scales the base by exp(±level_bound) at most (ln 2 = "
                               "0.69: 0.5-2x); 0: an unbounded additive correction")

    @model_validator(mode="after")
    def _hparams_fit(self) -> TrainParams:
        try:  # checked now, before any data is read or graph built
            build_params(self.model, self.hparams)
        except InputError as e:
            raise self.param_error("hparams", f"not a hyper-parameter set of {self.model!r}: {e}") from None
        return self


def split_names(names: list[str], val_frac: float = 0.15, test_frac: float = 0.15,
                seed: int = 0) -> dict[str, list[str]]:
    """Deterministic train/val/test split of sample names (same names and seed → same split)."""
    if not 0 <= val_frac < 1 or not 0 <= test_frac < 1 or val_frac + test_frac >= 1:
        raise InputError(f"split fractions must be in [0, 1) and sum below 1, got val={val_frac}, test={test_frac}")
    names = sorted(names)
    if len(names) < 3:
        raise InputError(f"need at least 3 samples to split into train/val/test, got {len(names)}")
    perm = np.random.default_rng(seed).permutation(len(names))
    n_test = max(1, int(round(test_frac * len(names)))) if test_frac > 0 else 0
    n_val = max(1, int(round(val_frac * len(names)))) if val_frac > 0 else 0
    test = sorted(names[i] for i in perm[:n_test])
    val = sorted(names[i] for i in perm[n_test: n_test + n_val])
    train = sorted(names[i] for i in perm[n_test + n_val:])
    return {"train": train, "val": val, "test": test}


def flip(p: Prepared, fx: bool, fy: bool) -> Prepared:
    """Mirror a prepared sample in x and/or y: tile images, fine maps, label and the cluster→tile links.

    The padded fine frame is mirrored as a whole, so tiles stay whole; the map's offset inside the frame
    moves to the other side. Graph features carry no positions, so nothing else changes.
    """
    if not (fx or fy):
        return p
    X, Y = p.image.shape[-2:]
    PX, PY = p.fine.shape[-2:]
    (nx, ny), (ox, oy) = p.shape, p.offset
    dims = [d for d, f in ((0, fx), (1, fy)) if f]
    img = torch.flip(p.image, [d + 1 for d in dims])
    fine = torch.flip(p.fine, [d + 1 for d in dims])
    y = torch.flip(p.y, dims) if p.y is not None else None
    base = torch.flip(p.base, dims) if p.base is not None else None
    tx, ty = p.cluster_tile // Y, p.cluster_tile % Y
    tx = X - 1 - tx if fx else tx
    ty = Y - 1 - ty if fy else ty
    tw = p.tile_weight.view(X, Y)
    tw = torch.flip(tw, dims).reshape(-1)
    off = (PX - nx - ox if fx else ox, PY - ny - oy if fy else oy)
    return replace(p, image=img, fine=fine, y=y, base=base, cluster_tile=tx * Y + ty, tile_weight=tw, offset=off)


def transpose(p: Prepared) -> Prepared:
    """Swap x and y of a prepared sample (a 90° rotation when combined with :func:`flip`).

    A transposed PDN is a valid PDN (rails and straps turn with it) whose IR-drop map is the transposed map;
    with the two mirrors this gives the eight symmetries of the square.
    """
    X, Y = p.image.shape[-2:]
    tx, ty = p.cluster_tile // Y, p.cluster_tile % Y
    return replace(p, image=p.image.transpose(1, 2), fine=p.fine.transpose(1, 2),
                   y=p.y.T if p.y is not None else None, base=p.base.T if p.base is not None else None,
                   cluster_tile=ty * X + tx, tile_weight=p.tile_weight.view(X, Y).T.reshape(-1),
                   offset=p.offset[::-1], shape=p.shape[::-1])


def augment(p: Prepared, rng: np.random.Generator) -> Prepared:
    """One of the eight symmetries of the square, drawn at random."""
    p = flip(p, bool(rng.integers(2)), bool(rng.integers(2)))
    return transpose(p) if rng.integers(2) else p


def _mae_volts(model, samples: list[Prepared], norm: Normalizer) -> float:
    errs = []
    with torch.no_grad():
        for p in samples:
            pred = denormalise(model(p), p, norm)
            errs.append(np.abs(pred - p.y.double().numpy() * p.s_i * norm.y_scale).mean())
    return float(np.mean(errs))


def train_model(train_graphs: list[HeteroData], val_graphs: list[HeteroData], params: TrainParams,
                progress: bool = True, log=None):
    """Fit one model.

    Args:
        train_graphs, val_graphs: PDNGraphs carrying ``y_<target>``.
        params: the settings.
        progress: show a progress bar.
        log: optional callable receiving one dict per epoch.

    Returns:
        ``(model, normalizer, history)``; the model holds the best validation epoch's weights.
    """
    if not train_graphs:
        raise InputError("no training samples")
    if not val_graphs:
        raise InputError("no validation samples")
    torch.manual_seed(params.seed)
    rng = np.random.default_rng(params.seed)
    norm = Normalizer.fit(train_graphs, params.target)
    if params.level_bound and norm.level == "step":
        norm.bound = float(params.level_bound)
    tr = [prepare(g, norm, params.target) for g in train_graphs]
    va = [prepare(g, norm, params.target) for g in val_graphs]
    model = build_model(params.model, train_graphs[0], params.hparams)
    history: list[dict] = []
    t0 = time.perf_counter()
    if params.model == "gbdt":
        model.fit(tr, progress=progress)
        model.eval()
        mae = _mae_volts(model, va, norm)
        history.append({"epoch": 1, "val_mae": mae, "seconds": time.perf_counter() - t0})
        return model, norm, history
    opt = torch.optim.AdamW(model.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    def ema_step(avg_p, p, n):  # warm-up: short runs average over what they have, not over the initial weights
        d = min(params.ema, (1.0 + float(n)) / (10.0 + float(n)))
        return d * avg_p + (1.0 - d) * p

    avg = torch.optim.swa_utils.AveragedModel(model, avg_fn=ema_step) if params.ema else None
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=params.epochs, eta_min=0.05 * params.lr)
    best, best_state, bad = float("inf"), None, 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=params.epochs, desc=f"train {params.model}/{params.target}", unit="epoch")
    for epoch in range(1, params.epochs + 1):
        model.train()
        losses = []
        for i in rng.permutation(len(tr)):
            p = tr[i]
            if params.augment:
                p = augment(p, rng)
            loss = torch.nn.functional.l1_loss(model(p), p.y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            if avg is not None:
                avg.update_parameters(model)
            losses.append(float(loss.detach()))
        sched.step()
        judged = avg.module if avg is not None else model
        judged.eval()
        mae = _mae_volts(judged, va, norm)
        rec = {"epoch": epoch, "train_loss": float(np.mean(losses)), "val_mae": mae,
               "seconds": time.perf_counter() - t0}
        history.append(rec)
        if log:
            log(rec)
        if mae < best:
            best, best_state, bad = mae, copy.deepcopy(judged.state_dict()), 0
        else:
            bad += 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{rec['train_loss']:.4f}", val_mae=f"{mae:.3e}", best=f"{best:.3e}")
        if bad >= params.patience:
            break
        if params.max_minutes and (time.perf_counter() - t0) > 60 * params.max_minutes:
            break
    if bar is not None:
        bar.close()
    model.load_state_dict(best_state)
    model.eval()
    return model, norm, history


def load_split(data_dir, target: str, names: list[str] | None = None, pattern_iters: int = 0, step_iters: int = 0):
    """The dataset's graphs for ``target`` as ``(IRDropDataset, {name: index})``."""
    from eda.graphs.dataset import IRDropDataset

    ds = IRDropDataset(data_dir, target, pattern_iters=pattern_iters, step_iters=step_iters)
    return ds, {n: i for i, n in enumerate(ds.names)}


def train_from_dir(data_dir, params: TrainParams, out, val_frac: float = 0.15, test_frac: float = 0.15,
                   progress: bool = True, pattern_iters: int = 0, members: int = 1, step_iters: int = 0) -> dict:
    """Split a dataset directory, train one model, save the checkpoint (with the split) to ``out``
    (``pattern_iters`` / ``step_iters``: dynamic graphs carry the pattern / level channel,
    :class:`~eda.graphs.pdn_graph.GraphParams`;
    ``members > 1``: that many models on the same split from seeds ``seed, seed + 1, ...``, saved as one
    :class:`~eda.predictors.checkpoint.MedianEnsemble`).

    Returns:
        ``{"checkpoint", "split", "best_val_mae", "epochs", "seconds"}``.
    """
    from pathlib import Path

    from eda.predictors.checkpoint import save_checkpoint

    _check_writable(out)
    t0 = time.perf_counter()
    ds, idx = load_split(data_dir, params.target, pattern_iters=pattern_iters, step_iters=step_iters)
    split = split_names(ds.names, val_frac, test_frac, params.seed)
    tr = [ds[idx[n]] for n in split["train"]]
    va = [ds[idx[n]] for n in split["val"]]
    if members > 1 and params.model == "gbdt":
        raise InputError("members: an ensemble needs a neural model (pdnnet, cnn, gnn), not gbdt")
    fits = [train_model(tr, va, params.replace(seed=params.seed + k), progress=progress)
            for k in range(max(1, members))]
    model, norm, hist = fits[0]
    if members > 1:
        from eda.predictors.checkpoint import MedianEnsemble

        model = MedianEnsemble([f[0] for f in fits])
        hist = [h for f in fits for h in f[2]]
    secs = time.perf_counter() - t0
    best = min(h["val_mae"] for h in hist)
    info = {"split": split, "history": hist, "data": str(Path(data_dir).resolve()), "seconds": secs,
            "train_params": params.to_dict(), "best_val_mae": best}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out, model, norm, info)
    return {"checkpoint": str(out), "model": params.model, "target": params.target, "split": {
        k: len(v) for k, v in split.items()}, "best_val_mae": best, "epochs": len(hist), "seconds": secs}


def _check_writable(out) -> None:
    """Refuse an output file that cannot be written, before any training (creates its folder)."""
    import os
    import tempfile
    from pathlib import Path

    out = Path(out)
    if out.is_dir():
        raise InputError("is a folder; expected a checkpoint file name", file=out)
    if out.exists() and not os.access(out, os.W_OK):
        raise InputError("exists and is not writable", file=out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".eda-probe-", dir=out.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise InputError(f"cannot write the checkpoint here: {e.strerror or e}", file=out) from None


def train_contest(dirs, params: TrainParams, out, physics_iters: int = 4, val_every: int = 6,
                  progress: bool = True) -> dict:
    """Train one static model on ICCAD'23 contest folders (both layouts, as they come) and save it to ``out``.

    Every complete case (deck + four maps) is used; every ``val_every``-th case (5th, 11th, ... in folder
    order, the last one when there are fewer) is the validation set for early stopping, the rest trains.
    The PDNGraphs carry the physics channel with ``physics_iters`` AMG-PCG iterations (0: none).

    Returns:
        ``{"checkpoint", "model", "train", "val", "best_val_mae", "epochs", "seconds"}``.
    """
    from pathlib import Path

    from eda.graphs.dataset import contest_graphs
    from eda.graphs.pdn_graph import GraphParams
    from eda.predictors.checkpoint import save_checkpoint
    from eda.predictors.contest import contest_cases

    if params.target != "static":
        raise InputError("contest cases carry static IR-drop maps only (TrainParams.target must be 'static')")
    _check_writable(out)
    t0 = time.perf_counter()
    graphs = contest_graphs(contest_cases(dirs), GraphParams(physics_iters=physics_iters), progress=progress)
    if len(graphs) < 2:
        raise InputError(f"need at least 2 complete contest cases (one validates), found {len(graphs)}")
    vi = set(range(val_every - 1, len(graphs), val_every)) or {len(graphs) - 1}
    tr = [g for i, g in enumerate(graphs) if i not in vi]
    va = [g for i, g in enumerate(graphs) if i in vi]
    model, norm, hist = train_model(tr, va, params, progress=progress)
    secs = time.perf_counter() - t0
    best = min(h["val_mae"] for h in hist)
    names = {"train": [g.name for g in tr], "val": [g.name for g in va]}
    info = {"split": names, "history": hist, "data": [str(Path(d).resolve()) for d in dirs], "seconds": secs,
            "train_params": params.to_dict(), "best_val_mae": best, "physics_iters": physics_iters}
    save_checkpoint(out, model, norm, info)
    return {"checkpoint": str(out), "model": params.model, **names, "best_val_mae": best, "epochs": len(hist),
            "seconds": secs}
