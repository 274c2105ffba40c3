"""Predict the IR-drop map of a case (a PDN deck, or a contest-style case folder) with a trained model.

A case folder holds ``netlist.sp`` and, optionally, the contest maps ``current_map.csv``,
``pdn_density.csv``, ``eff_dist_map.csv`` (all three or none: missing ones are an error, never guessed).
Without maps they are computed from the deck (:mod:`eda.pdn.maps`). For dynamic models the folder may add
``netlist_dynamic.sp`` with ``load_times.npy`` / ``load_currents.npy`` and ``current_maps_t.npy`` (our
sample format); a golden ``ir_drop_map.csv`` / ``ir_drop_dynamic_map.csv``, when present, is scored.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from eda.errors import InputError

__all__ = ["default_model_path", "read_case", "predict_case", "MAP_FILES"]

#: Contest input maps of a case folder → channel name.
MAP_FILES = {"current_map.csv": "current", "pdn_density.csv": "pdn_density", "eff_dist_map.csv": "eff_dist"}


def default_model_path(target: str = "static") -> Path:
    """The shipped pretrained PDNNet for ``target`` (``data/models/pdnnet_<target>.pt``)."""
    from eda.paths import PATHS

    if target not in ("static", "dynamic"):
        raise InputError(f"target must be 'static' or 'dynamic', got {target!r}")
    return PATHS.models / f"pdnnet_{target}.pt"


def _read_map(path: Path) -> np.ndarray:
    from eda.pdn.maps import read_map_csv

    m = read_map_csv(path)
    if not np.isfinite(m).all():
        raise InputError("map contains NaN or infinite values", file=path)
    return m


def read_case(case: str | Path, target: str = "static", n_slices: int = 0):
    """Read a case: ``(pdn, maps, golden or None)``.

    Raises:
        InputError: missing deck, a partial set of maps, unreadable or mismatched maps/waveforms.
    """
    from eda.pdn.parse import read_pdn

    case = Path(case)
    if not case.exists():
        raise InputError("case not found", file=case)
    maps: dict = {}
    golden = None
    if case.is_file():
        return read_pdn(case), maps, None
    deck = case / "netlist.sp"
    if not deck.exists():
        raise InputError("case folder has no netlist.sp", file=case)
    present = [f for f in MAP_FILES if (case / f).exists()]
    if present and len(present) != len(MAP_FILES):
        missing = [f for f in MAP_FILES if f not in present]
        raise InputError(f"case folder has {', '.join(present)} but is missing {', '.join(missing)} "
                         "(give all three contest maps, or none to compute them from the deck)", file=case)
    for f in present:
        maps[MAP_FILES[f]] = _read_map(case / f)
    shapes = {k: v.shape for k, v in maps.items()}
    if len(set(shapes.values())) > 1:
        raise InputError(f"case maps differ in shape: {shapes}", file=case)
    pdn = None
    if target == "dynamic":
        dyn = case / "netlist_dynamic.sp"
        if dyn.exists():
            from eda.dataset.irdrop import with_pwl_loads

            pdn = read_pdn(dyn)
            if (case / "load_times.npy").exists() and (case / "load_currents.npy").exists():
                t = np.load(case / "load_times.npy")
                cur = np.load(case / "load_currents.npy").astype(np.float64)
                if cur.shape != (len(t), len(pdn.is_value)):
                    raise InputError(f"load_currents.npy has shape {cur.shape}, expected ({len(t)}, "
                                     f"{len(pdn.is_value)})", file=case / "load_currents.npy")
                pdn = with_pwl_loads(pdn, t, cur)
        ct = case / "current_maps_t.npy"
        if ct.exists() and n_slices:
            arr = np.load(ct).astype(np.float64)
            if arr.ndim != 3 or arr.shape[0] != n_slices:
                raise InputError(f"current_maps_t.npy has shape {arr.shape}; the model needs {n_slices} slices",
                                 file=ct)
            maps["current_t"] = arr
        gf = case / "ir_drop_dynamic_map.csv"
    else:
        gf = case / "ir_drop_map.csv"
    if pdn is None:
        pdn = read_pdn(deck)
    if gf.exists():
        golden = _read_map(gf)
    return pdn, maps, golden


def predict_case(case: str | Path, out: str | Path, model_path: str | Path | None = None,
                 target: str = "static", png: bool = True) -> dict:
    """Predict a case's IR-drop map; write ``ir_drop_map.csv`` (contest convention) and a PNG into ``out``.

    Args:
        case: a deck file or a case folder.
        out: output folder.
        model_path: checkpoint (default: the shipped ``pdnnet_<target>.pt``).
        target: ``static`` or ``dynamic`` (used to pick the default model; a given checkpoint decides).
        png: also draw the map (and golden/error when a golden map is present).

    Returns:
        Paths, worst predicted drop, timings and, with a golden map, the contest metrics.
    """
    from eda.graphs.pdn_graph import build_pdn_graph
    from eda.pdn.write import write_map_csv
    from eda.predictors.checkpoint import load_checkpoint
    from eda.predictors.evaluate import plot_maps, predict_graph, score_map

    mp = Path(model_path) if model_path is not None else default_model_path(target)
    if model_path is None and not mp.exists():
        raise InputError(f"no shipped {target} model: train one with 'eda irdrop train' and pass --model",
                         file=mp)
    model, norm, _ = load_checkpoint(mp)
    target = norm.target
    t0 = time.perf_counter()
    pdn, maps, golden = read_case(case, target, norm.n_slices)
    t1 = time.perf_counter()
    g = build_pdn_graph(pdn, maps, norm.graph_params())
    t2 = time.perf_counter()
    pred, sec = predict_graph(model, norm, g)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv = write_map_csv(pred, out / ("ir_drop_map.csv" if target == "static" else "ir_drop_dynamic_map.csv"))
    res = {"case": str(case), "model": str(mp), "model_type": model.model_type, "target": target,
           "map_csv": str(csv), "shape": list(pred.shape), "worst_pred_v": float(pred.max()),
           "nodes": int(pdn.n_nodes), "read_s": t1 - t0, "graph_s": t2 - t1, **{f"{k}_s": v for k, v in sec.items()},
           "infer_s": (t2 - t1) + sec["prepare"] + sec["forward"]}
    if golden is not None:
        if golden.shape != pred.shape:
            raise InputError(f"golden map has shape {golden.shape}, the prediction {pred.shape}", file=case)
        res["metrics"] = score_map(pred, golden)
    if png:
        p = out / "ir_drop_map.png"
        plot_maps(golden if golden is not None else pred, {model.model_type: pred}, p,
                  title=f"{Path(case).name}: {target} IR drop" + ("" if golden is not None else " (no golden map)"))
        res["png"] = str(p)
    return res
