"""Evaluation of IR-drop models: contest metrics per sample, inference time vs exact-solve time, comparisons.

Metrics come from :mod:`eda.pdn.metrics` (the one implementation: MAE, max error, NMAE, CC,
hotspot F1). Inference time counts everything a user waits for once the deck is parsed: building the
PDNGraph from the deck and maps, normalising, and the forward pass. Exact-solve times are the ones the
dataset builder recorded for the same sample (``manifest.jsonl``), or re-measured on request.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import HeteroData

from eda.errors import InputError
from eda.predictors.normalize import Normalizer, denormalise, prepare

__all__ = ["predict_graph", "score_map", "evaluate_graphs", "exact_times", "summarise", "plot_maps",
           "METRIC_KEYS"]

#: Keys of :func:`score_map`, in table order.
METRIC_KEYS = ("mae", "max_error", "nmae", "cc", "hotspot_f1")


def predict_graph(model, norm: Normalizer, g: HeteroData) -> tuple[np.ndarray, dict]:
    """Predict the IR-drop map (V, ``(nx, ny)``) of one PDNGraph; returns ``(map, seconds)``."""
    t0 = time.perf_counter()
    p = prepare(g, norm)
    t1 = time.perf_counter()
    with torch.inference_mode():
        out = model(p)
    t2 = time.perf_counter()
    pred = denormalise(out, p, norm)
    return pred, {"prepare": t1 - t0, "forward": t2 - t1}


def score_map(pred: np.ndarray, gold: np.ndarray) -> dict:
    """Contest metrics of one predicted map against the golden map (both in volts)."""
    from eda.pdn import metrics as M

    if pred.shape != gold.shape:
        raise InputError(f"predicted map {pred.shape} and golden map {gold.shape} differ in shape")
    s = M.score(pred, gold)
    return {k: float(s[k]) for k in METRIC_KEYS}


def exact_times(data_dir: str | Path) -> dict[str, dict]:
    """Exact-solve seconds per sample recorded by the dataset builder: ``{id: {"static": s, "dynamic": s}}``."""
    from eda.dataset.runner import read_manifest

    out = {}
    try:
        rows = read_manifest(Path(data_dir))
    except (InputError, OSError):
        return out
    for sid, row in rows.items():
        tm = (row.get("info") or {}).get("timings") or {}
        out[sid] = {"static": tm.get("static_solve"), "dynamic": tm.get("dynamic_solve")}
    return out


def evaluate_graphs(model, norm: Normalizer, graphs: list[HeteroData], target: str | None = None,
                    exact: dict[str, dict] | None = None, progress: bool = False) -> dict:
    """Score a model on labelled graphs.

    Returns:
        ``{"samples": [per-sample metrics and times], "summary": {...}}``.
    """
    tgt = target or norm.target
    rows = []
    it = graphs
    if progress:
        from tqdm import tqdm

        it = tqdm(graphs, desc="evaluate", unit="sample")
    for g in it:
        if f"y_{tgt}" not in g:
            raise InputError(f"sample {getattr(g, 'name', '?')} has no {tgt} label")
        pred, sec = predict_graph(model, norm, g)
        gold = g[f"y_{tgt}"].double().numpy()
        r = {"sample": getattr(g, "name", str(len(rows))), **score_map(pred, gold),
             "worst_gold_v": float(gold.max()), "worst_pred_v": float(pred.max()),
             "infer_s": float(getattr(g, "build_seconds", 0.0)) + sec["prepare"] + sec["forward"],
             "forward_s": sec["forward"], "graph_build_s": float(getattr(g, "build_seconds", 0.0))}
        ex = (exact or {}).get(r["sample"], {}).get(tgt)
        if ex:
            r["exact_s"] = float(ex)
            r["speedup"] = float(ex) / r["infer_s"]
        rows.append(r)
    return {"target": tgt, "samples": rows, "summary": summarise(rows)}


def summarise(rows: list[dict]) -> dict:
    """Means of the per-sample metrics and times (speed-up as total exact / total inference time)."""
    if not rows:
        return {}
    s = {k: float(np.mean([r[k] for r in rows])) for k in METRIC_KEYS}
    s["n"] = len(rows)
    s["infer_s"] = float(np.mean([r["infer_s"] for r in rows]))
    ex = [r for r in rows if "exact_s" in r]
    if ex:
        s["exact_s"] = float(np.mean([r["exact_s"] for r in ex]))
        s["speedup"] = float(sum(r["exact_s"] for r in ex) / sum(r["infer_s"] for r in ex))
    return s


def plot_maps(gold: np.ndarray, preds: dict[str, np.ndarray], png: str | Path, title: str = "") -> Path:
    """Golden map, each model's prediction and its error, side by side (mV), as a PNG."""
    from eda.plot import plt, save

    n = len(preds)
    fig, ax = plt.subplots(2, n + 1, figsize=(3.2 * (n + 1), 5.6), squeeze=False)
    vmax = float(max(gold.max(), *(p.max() for p in preds.values()))) * 1e3
    emax = float(max(np.abs(p - gold).max() for p in preds.values())) * 1e3 or 1.0
    im = ax[0, 0].imshow(gold.T * 1e3, origin="lower", vmin=0, vmax=vmax, cmap="inferno")
    ax[0, 0].set_title("golden (exact)")
    fig.colorbar(im, ax=ax[0, 0], fraction=0.046, label="mV")
    ax[1, 0].axis("off")
    for k, (name, p) in enumerate(preds.items(), start=1):
        im = ax[0, k].imshow(p.T * 1e3, origin="lower", vmin=0, vmax=vmax, cmap="inferno")
        ax[0, k].set_title(f"{name}")
        fig.colorbar(im, ax=ax[0, k], fraction=0.046, label="mV")
        im = ax[1, k].imshow(np.abs(p - gold).T * 1e3, origin="lower", vmin=0, vmax=emax, cmap="viridis")
        ax[1, k].set_title(f"|error| {name}, MAE {np.abs(p - gold).mean() * 1e3:.3f} mV")
        fig.colorbar(im, ax=ax[1, k], fraction=0.046, label="mV")
    for a in ax.ravel():
        a.set_xticks([])
        a.set_yticks([])
    if title:
        fig.suptitle(title)
    return save(fig, png, dpi=80)


def write_json(obj: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=float) + "\n")
    return path


def evaluate_checkpoint(data_dir: str | Path, ckpt: str | Path, split: str = "test",
                        progress: bool = True) -> dict:
    """Score a checkpoint on a dataset directory.

    Args:
        data_dir: dataset directory (``raw/`` samples).
        ckpt: the checkpoint.
        split: ``test`` (the held-out names stored in the checkpoint when it was trained on this
            dataset; all samples otherwise), ``val``, ``train`` or ``all``.
    """
    from eda.predictors.checkpoint import load_checkpoint
    from eda.predictors.train import load_split

    if split not in ("test", "val", "train", "all"):
        raise InputError(f"split must be test, val, train or all, got {split!r}")
    model, norm, info = load_checkpoint(ckpt)
    ds, idx = load_split(data_dir, norm.target, pattern_iters=norm.pattern_iters, step_iters=norm.step_iters)
    names = ds.names
    used = "all"
    same = info.get("data") == str(Path(data_dir).resolve())
    if split != "all" and same and info.get("split", {}).get(split):
        names = [n for n in info["split"][split] if n in idx]
        used = split
    res = evaluate_graphs(model, norm, [ds[idx[n]] for n in names], exact=exact_times(data_dir), progress=progress)
    res.update({"checkpoint": str(ckpt), "model_type": model.model_type, "split": used, "data": str(data_dir)})
    return res


def compare(data_dir: str | Path, out: str | Path, models=("pdnnet", "cnn", "gnn", "gbdt"),
            targets=("static", "dynamic"), epochs: int = 30, seed: int = 0, hparams: dict | None = None,
            max_minutes: float = 0.0, progress: bool = True) -> dict:
    """Train and evaluate several models on one split; write a table, JSON and plots under ``out``.

    Returns:
        ``{"rows": [...], "improvement": {target: 1 - MAE_pdnnet / MAE_cnn}, "files": {...}}``.
    """
    from eda.predictors.checkpoint import save_checkpoint
    from eda.predictors.train import TrainParams, load_split, split_names, train_model

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    exact = exact_times(data_dir)
    rows, improvement, files, detail = [], {}, {}, {}
    for target in targets:
        ds, idx = load_split(data_dir, target)
        sp = split_names(ds.names, seed=seed)
        tr = [ds[idx[n]] for n in sp["train"]]
        va = [ds[idx[n]] for n in sp["val"]]
        te = [ds[idx[n]] for n in sp["test"]]
        preds = {}
        for m in models:
            t0 = time.perf_counter()
            params = TrainParams(model=m, target=target, epochs=epochs, seed=seed, max_minutes=max_minutes,
                                 hparams=(hparams or {}).get(m, {}))
            model, norm, hist = train_model(tr, va, params, progress=progress)
            train_s = time.perf_counter() - t0
            save_checkpoint(out / "checkpoints" / f"{m}_{target}.pt", model, norm,
                            {"split": sp, "history": hist, "data": str(Path(data_dir).resolve())})
            ev = evaluate_graphs(model, norm, te, exact=exact)
            detail[f"{m}_{target}"] = ev
            rows.append({"target": target, "model": m, **ev["summary"], "train_s": train_s,
                         "epochs": len(hist), "params": int(sum(p.numel() for p in model.parameters()))})
            preds[m] = predict_graph(model, norm, te[0])[0]
        gold = te[0][f"y_{target}"].double().numpy()
        files[f"maps_{target}"] = str(plot_maps(gold, preds, out / f"compare_maps_{target}.png",
                                                title=f"{target} IR drop, held-out sample {te[0].name}"))
        mae = {r["model"]: r["mae"] for r in rows if r["target"] == target}
        if "pdnnet" in mae and "cnn" in mae:
            improvement[target] = 1.0 - mae["pdnnet"] / mae["cnn"]
    res = {"data": str(data_dir), "seed": seed, "epochs": epochs, "split": {k: len(v) for k, v in sp.items()},
           "rows": rows, "improvement_vs_cnn": improvement}
    files["json"] = str(write_json({**res, "detail": detail}, out / "compare.json"))
    files["table"] = str(_write_table(rows, improvement, out / "compare.md"))
    files["bars"] = str(_plot_bars(rows, out / "compare_mae.png"))
    res["files"] = files
    return res


def _write_table(rows: list[dict], improvement: dict, path: Path) -> Path:
    lines = ["| target | model | MAE (mV) | max err (mV) | NMAE | CC | hotspot F1 | infer (s) | speed-up | train (s) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        sp = f"{r['speedup']:.1f}x" if "speedup" in r else "-"
        lines.append(f"| {r['target']} | {r['model']} | {r['mae'] * 1e3:.4f} | {r['max_error'] * 1e3:.3f} | "
                     f"{r['nmae']:.4f} | {r['cc']:.3f} | {r['hotspot_f1']:.3f} | {r['infer_s']:.3f} | {sp} | "
                     f"{r['train_s']:.0f} |")
    for t, v in improvement.items():
        lines.append(f"\n{t}: PDNNet MAE is {100 * v:.1f}% lower than the CNN-only baseline")
    path.write_text("\n".join(lines) + "\n")
    return path


def _plot_bars(rows: list[dict], png: Path) -> Path:
    from eda.plot import plt, save

    targets = sorted({r["target"] for r in rows}, key=["static", "dynamic"].index)
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, ax = plt.subplots(1, len(targets), figsize=(4 * len(targets), 3.2), squeeze=False)
    for k, t in enumerate(targets):
        v = [next((r["mae"] * 1e3 for r in rows if r["target"] == t and r["model"] == m), np.nan) for m in models]
        ax[0, k].bar(models, v, color=["C3" if m == "pdnnet" else "C0" for m in models])
        ax[0, k].set_title(f"{t}: test MAE")
        ax[0, k].set_ylabel("mV")
    return save(fig, png, dpi=80)
