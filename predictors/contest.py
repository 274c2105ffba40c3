"""IR-drop models on the ICCAD'23 contest's own cases: training sets, evaluation tables, cross-validation.

A *contest folder* is anything :func:`eda.pdn.contest.find_cases` reads (``real/testcaseN/`` folders and the
flat ``fake/current_mapNN*`` layout), used as it comes. Inference time counts what a user waits for on a new
case: parsing the deck, building the PDNGraph (maps, clusters and the physics estimate when the model uses
one), normalising and the forward pass. The exact solve's time beside it is parse + exact static solve of
the same deck (:func:`eda.pdn.solve.solve_static`, nested-dissection SuperLU). Both are also reported as
CPU seconds of this process (``*_cpu_s``), which a shared, overloaded machine inflates far less than wall
time (with one torch thread they equal the wall time of a quiet machine).

Cross-validation (:func:`cross_validate`) is leave-one-real-case-out: for each complete real case, every
model is trained on all other complete cases (the other real cases, the fake ones, any extra folders) and
scored on the held-out case; a fixed subset of the non-real cases is the validation set for early stopping.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from eda.errors import InputError
from eda.graphs.pdn_graph import PHYSICS_CHANNEL, GraphParams

__all__ = ["contest_cases", "evaluate_contest", "cross_validate", "contest_table", "physics_rows",
           "CFIRSTNET"]

#: Published averages of CFIRSTNET (ICCAD'24) on the contest's hidden cases: MAE (V), F1, seconds per case.
CFIRSTNET = {"mae": 0.053e-3, "hotspot_f1": 0.723, "infer_s": 0.41}


def contest_cases(dirs, complete: bool = True, dbu_per_um: float | None = None) -> list:
    """The contest cases under each folder of ``dirs`` (a folder may also be one case or one deck)."""
    return _required(_all_cases(dirs, dbu_per_um), dirs, complete)


def _all_cases(dirs, dbu_per_um: float | None) -> list:
    """Every case under ``dirs``, complete or not (:func:`contest_cases` before its filter)."""
    from eda.pdn.contest import find_cases, read_case

    out = []
    for d in [dirs] if isinstance(dirs, str | Path) else dirs:
        d = Path(d)
        try:
            cs = [read_case(d, dbu_per_um)]
        except InputError:
            cs = find_cases(d)
            for c in cs:
                c.dbu_override = dbu_per_um
        out += cs
    return out


def _required(cases: list, dirs, complete: bool) -> list:
    """``cases`` (only the complete ones with ``complete``); ``InputError`` when none is left."""
    out = [c for c in cases if c.complete or not complete]
    if not out:
        raise InputError(f"no {'complete ' if complete else ''}contest case (deck + current, pdn_density, "
                         "eff_dist and ir_drop maps) under " + ", ".join(str(d) for d in np.atleast_1d(dirs)))
    return out


def _why_incomplete(case) -> str:
    """Why :func:`contest_cases` leaves a case out: maps only (no netlist) or the maps it lacks."""
    from eda.pdn.contest import MAP_KEYS

    if case.deck is None:
        return "no netlist (maps only): every shipped model reads the deck"
    return "missing map(s): " + ", ".join(sorted(set(MAP_KEYS) - set(case.map_paths)))


def _exact_seconds(case) -> float:
    from eda.pdn.parse import read_pdn
    from eda.pdn.solve import solve_static

    t0 = time.perf_counter()
    solve_static(read_pdn(case.deck))
    return time.perf_counter() - t0


def _score_row(model, norm, g, exact_s: float | None = None) -> tuple[dict, np.ndarray]:
    from eda.predictors.evaluate import predict_graph, score_map

    pred, sec = predict_graph(model, norm, g)
    gold = g.y_static.double().numpy()
    r = {"case": g.name, **score_map(pred, gold), "worst_gold_v": float(gold.max()),
         "read_s": float(g.read_seconds), "graph_s": float(g.build_seconds), "forward_s": sec["forward"],
         "infer_s": float(g.read_seconds) + float(g.build_seconds) + sec["prepare"] + sec["forward"]}
    if exact_s is not None:
        r["exact_s"] = exact_s
    return r, pred


def evaluate_contest(dirs, ckpt, exact: bool = True, dbu_per_um: float | None = None, progress: bool = True,
                     figures: str | Path | None = None) -> dict:
    """Score a checkpoint on every complete contest case under ``dirs``.

    Every case's graph is built fresh (no cache), so the times are what a new case costs. Returns
    ``{"model_type", "rows": [per case], "summary": {...}}``; with ``figures``, one PNG per case (golden /
    predicted / error with the hotspot contour).
    """
    from tqdm import tqdm

    from eda.graphs.dataset import contest_graph
    from eda.predictors.checkpoint import load_checkpoint
    from eda.predictors.evaluate import summarise

    model, norm, _ = load_checkpoint(ckpt, expect_target="static")
    every = _all_cases(dirs, dbu_per_um)
    cases = _required(every, dirs, complete=True)
    params = norm.graph_params(dbu_per_um=dbu_per_um)
    rows = []
    with torch.inference_mode():  # one warm-up: the first forward pays oneDNN's initialisation
        from eda.predictors.evaluate import predict_graph

        predict_graph(model, norm, contest_graph(cases[0], params))
    for case in tqdm(cases, desc="evaluate", unit="case", disable=not progress):
        c0 = time.process_time()
        g = contest_graph(case, params)
        r, pred = _score_row(model, norm, g)
        r["infer_cpu_s"] = time.process_time() - c0  # CPU seconds: what a quiet machine would take (1 thread)
        if exact:
            c0 = time.process_time()
            r["exact_s"] = _exact_seconds(case)
            r["exact_cpu_s"] = time.process_time() - c0
        rows.append(r)
        if figures is not None:
            plot_case(g.y_static.double().numpy(), pred, Path(figures) / f"{case.name}.png",
                      f"{case.name}: {model.model_type} MAE {r['mae'] * 1e3:.4f} mV, F1 {r['hotspot_f1']:.2f}")
    return {"model_type": model.model_type, "checkpoint": str(ckpt), "rows": rows, "summary": summarise(rows),
            "skipped": [{"case": c.name, "why": _why_incomplete(c)} for c in every if not c.complete]}


def physics_rows(graphs) -> list[dict]:
    """The physics estimate alone (the ``ir_est`` channel) scored like a model: what the learning adds."""
    from eda.predictors.evaluate import score_map

    rows = []
    for g in graphs:
        fc = list(g.fine_channels)
        if PHYSICS_CHANNEL not in fc:
            raise InputError("graphs have no physics channel (build them with GraphParams(physics_iters=k))")
        nx, ny = (int(v) for v in g.map_shape)
        est = g.image_fine[fc.index(PHYSICS_CHANNEL), :nx, :ny].double().numpy()
        rows.append({"case": g.name, **score_map(est, g.y_static.double().numpy()),
                     "infer_s": float(g.read_seconds) + float(g.build_seconds)})
    return rows


def cross_validate(real_dir, extra_dirs=(), models=("pdnnet", "cnn", "gnn", "gbdt"), physics_iters: int = 4,
                   train_kw: dict | None = None, hparams: dict | None = None, val_every: int = 6,
                   progress: bool = True, log=None, figures: str | Path | None = None, seeds=(0,),
                   hold_out=None) -> dict:
    """Leave-one-real-case-out cross-validation of ``models`` (see the module docstring).

    Args:
        real_dir: folder of the real cases (every complete one is held out once).
        extra_dirs: more training folders (fake cases, synthetic contest-style data).
        models: model types to train per fold.
        physics_iters: iteration budget of the physics channel (0: none).
        train_kw: :class:`~eda.predictors.train.TrainParams` overrides (epochs, lr, ...).
        hparams: per-model hyper-parameter overrides ``{model: {...}}``.
        val_every: every ``val_every``-th extra case is the validation set (never trained on).
        log: callable receiving progress strings.
        figures: folder for one PNG per held-out case and model (golden / predicted / error, hotspot contour;
            first seed only).
        seeds: training seeds; every fold and model is trained once per seed (rows carry ``seed``), for
            error bars. ``train_kw["seed"]`` is ignored.
        hold_out: names of the real cases to hold out (default: every one; the others still train).

    Returns:
        ``{"rows": [{"model", "case", "seed", metrics, times}], "physics": [...], "folds": [...]}``.
    """
    from eda.graphs.dataset import contest_graphs
    from eda.predictors.train import TrainParams, train_model

    params = GraphParams(physics_iters=physics_iters)
    real = contest_graphs(contest_cases(real_dir), params, progress=progress)
    extra = contest_graphs(contest_cases(list(extra_dirs)), params, progress=progress) if extra_dirs else []
    val = extra[::val_every] if extra else []
    rest = [g for i, g in enumerate(extra) if i % val_every]
    rows, folds = [], []
    for k, held in enumerate(real):
        if hold_out is not None and held.name not in hold_out:
            continue
        train = [g for j, g in enumerate(real) if j != k] + rest
        va = val or [g for j, g in enumerate(real) if j != k][:1]
        for m, seed in ((m, s) for s in seeds for m in models):
            kw = {**(train_kw or {}), "seed": int(seed)}
            tp = TrainParams(model=m, **kw, hparams=(hparams or {}).get(m, {}))
            t0 = time.perf_counter()
            model, norm, hist = train_model(train, va, tp, progress=False)
            train_s = time.perf_counter() - t0
            r, pred = _score_row(model, norm, held)
            r.update({"model": m, "seed": int(seed), "train_s": train_s, "epochs": len(hist)})
            if figures is not None and seed == seeds[0]:
                plot_case(held.y_static.double().numpy(), pred, Path(figures) / f"cv_{held.name}_{m}.png",
                          f"{held.name} (held out), {m}: MAE {r['mae'] * 1e3:.4f} mV, F1 {r['hotspot_f1']:.2f}")
            rows.append(r)
            if log:
                log(f"{held.name} {m} seed {seed}: MAE {r['mae'] * 1e3:.4f} mV, F1 {r['hotspot_f1']:.3f}, "
                    f"CC {r['cc']:.3f}, {r['infer_s']:.3f} s (trained {train_s:.0f} s, {len(hist)} epochs)")
        folds.append({"held_out": held.name, "train": [g.name for g in train], "val": [g.name for g in va]})
    phys = physics_rows(real) if physics_iters else []
    return {"rows": rows, "physics": phys, "folds": folds, "physics_iters": physics_iters,
            "train_kw": train_kw or {}, "hparams": hparams or {}}


def contest_table(rows: list[dict], with_model: bool = False) -> str:
    """Markdown table of contest rows: case, MAE (mV), max error (mV), F1, CC, time and exact-solve time
    (wall seconds, CPU seconds in brackets when measured)."""
    def sec(r, k):
        if k not in r:
            return "-"
        return f"{r[k]:.3f}" + (f" ({r[k.replace('_s', '_cpu_s')]:.3f})" if k.replace("_s", "_cpu_s") in r else "")

    head = (("| model " if with_model else "")
            + "| case | MAE (mV) | max err (mV) | hotspot F1 | CC | time (s) | exact (s) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        lines.append(("| " + r.get("model", "") + " " if with_model else "")
                     + f"| {r['case']} | {r['mae'] * 1e3:.4f} | {r['max_error'] * 1e3:.3f} | {r['hotspot_f1']:.3f} | "
                     f"{r['cc']:.3f} | {sec(r, 'infer_s')} | {sec(r, 'exact_s')} |")
    return "\n".join(lines) + "\n"


def plot_case(gold: np.ndarray, pred: np.ndarray, png: str | Path, title: str = "") -> Path:
    """Golden, predicted and |error| maps (mV) side by side, the contest's hotspot contour (0.9 × max golden)
    drawn on all three (white: golden hotspots, cyan: predicted)."""
    from eda.plot import plt, save

    thr = 0.9 * float(gold.max())
    fig, ax = plt.subplots(1, 3, figsize=(11.5, 3.6))
    vmax = float(max(gold.max(), pred.max())) * 1e3
    err = np.abs(pred - gold) * 1e3
    for a, m, t, cm, vm in ((ax[0], gold * 1e3, "golden", "inferno", vmax), (ax[1], pred * 1e3, "predicted",
                            "inferno", vmax), (ax[2], err, "|error|", "viridis", float(err.max()) or 1.0)):
        im = a.imshow(m.T, origin="lower", vmin=0, vmax=vm, cmap=cm)
        a.contour(gold.T, levels=[thr], colors="white", linewidths=0.8)
        a.contour(pred.T, levels=[thr], colors="cyan", linewidths=0.8, linestyles="dashed")
        a.set_title(t)
        a.set_xticks([])
        a.set_yticks([])
        fig.colorbar(im, ax=a, fraction=0.046, label="mV")
    if title:
        fig.suptitle(title)
    return save(fig, png, dpi=70)
