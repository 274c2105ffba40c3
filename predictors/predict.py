"""Predict the IR-drop map of a case (a PDN deck, or a contest case in either layout) with a trained model.

Cases are read by :func:`eda.pdn.contest.read_case`: a ``testcaseN`` folder (``netlist.sp`` + the contest's
maps), a flat ``current_mapNN.sp`` beside its CSVs, or a bare deck (maps computed from it, database units
from its naming or ``dbu_per_um``). Given maps must be complete (a partial set names the missing file).
A *maps-only* case (no netlist, like real testcases 17 and 18) is refused: every shipped model reads the
PDN itself (the graph and the physics estimate), and the three input maps alone do not determine the drop.
For dynamic models a folder may add ``netlist_dynamic.sp`` with ``load_times.npy`` / ``load_currents.npy``
and ``current_maps_t.npy`` (our sample format). Before predicting, the deck passes the same physics checks as
the exact solver (:func:`eda.pdn.check.check_pdn`: pads, conflicting pads, floating islands); a model
whose output is not finite is an error, never a map.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from eda.errors import InputError

__all__ = ["default_model_path", "read_case", "predict_case"]


def default_model_path(target: str = "static") -> Path:
    """The shipped pretrained PDNNet for ``target`` (``data/models/pdnnet_<target>.pt``)."""
    from eda.paths import PATHS

    if target not in ("static", "dynamic"):
        raise InputError(f"target must be 'static' or 'dynamic', got {target!r}")
    return PATHS.models / f"pdnnet_{target}.pt"


def _npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise InputError(f"not a plain numeric .npy array (pickled data is refused): {e}", file=path) from None


def read_case(case: str | Path, target: str = "static", n_slices: int = 0, dbu_per_um: float | None = None,
              contest=None):
    """Read a case: ``(pdn, maps, golden or None, dbu_per_um)``.

    Raises:
        InputError: no such case, a maps-only case, a partial set of maps, unreadable or mismatched
            maps/waveforms, a deck that does not fit its maps.
    """
    from eda.pdn.contest import read_case as read_contest
    from eda.pdn.parse import read_pdn

    c = contest if contest is not None else read_contest(case, dbu_per_um)
    if c.deck is None:
        raise InputError(f"case {c.name} has maps but no netlist: the models read the PDN itself (graph and "
                         "physics estimate) and do not predict from the three input maps alone", file=case)
    maps = {k: c.maps[k] for k in ("current", "pdn_density", "eff_dist") if k in c.maps}
    golden = c.maps.get("ir_drop") if target == "static" else None
    pdn = c.pdn
    folder = Path(case) if Path(case).is_dir() else None
    if target == "dynamic" and folder is not None:
        dyn = folder / "netlist_dynamic.sp"
        if dyn.exists():
            from eda.dataset.irdrop import with_pwl_loads

            pdn = read_pdn(dyn)
            if (folder / "load_times.npy").exists() and (folder / "load_currents.npy").exists():
                t = _npy(folder / "load_times.npy")
                cur = _npy(folder / "load_currents.npy").astype(np.float64)
                if cur.shape != (len(t), len(pdn.is_value)):
                    raise InputError(f"load_currents.npy has shape {cur.shape}, expected ({len(t)}, "
                                     f"{len(pdn.is_value)})", file=folder / "load_currents.npy")
                pdn = with_pwl_loads(pdn, t, cur)
        ct = folder / "current_maps_t.npy"
        if ct.exists() and n_slices:
            arr = _npy(ct).astype(np.float64)
            if arr.ndim != 3 or arr.shape[0] != n_slices:
                raise InputError(f"current_maps_t.npy has shape {arr.shape}; the model needs {n_slices} slices",
                                 file=ct)
            maps["current_t"] = arr
        if (folder / "ir_drop_dynamic_map.csv").exists():
            from eda.pdn.mapcsv import read_map_csv

            golden = read_map_csv(folder / "ir_drop_dynamic_map.csv")
    return pdn, maps, golden, c.dbu_per_um


def predict_case(case: str | Path, out: str | Path, model_path: str | Path | None = None,
                 target: str = "static", png: bool = True, dbu_per_um: float | None = None) -> dict:
    """Predict a case's IR-drop map; write ``ir_drop_map.csv`` (contest convention) and a PNG into ``out``.

    Args:
        case: a deck file or a case folder.
        out: output folder.
        model_path: checkpoint (default: the shipped ``pdnnet_<target>.pt``).
        target: ``static`` or ``dynamic`` (used to pick the default model; a given checkpoint decides).
        png: also draw the map (and golden/error when a golden map is present).
        dbu_per_um: database units per µm of the deck (default: fitted to the maps, else from its naming).

    Returns:
        Paths, worst predicted drop, timings and, with a golden map, the contest metrics.
    """
    from eda.pdn.check import check_pdn
    from eda.pdn.contest import read_case as read_contest
    from eda.pdn.mapcsv import write_map_csv

    mp = Path(model_path) if model_path is not None else default_model_path(target)
    if model_path is None and not mp.exists():
        raise InputError(f"no shipped {target} model: train one with 'eda irdrop train' and pass --model",
                         file=mp)
    t0 = time.perf_counter()
    contest = read_contest(case, dbu_per_um)
    if contest.deck is not None:
        check_pdn(contest.pdn)  # parse and check first: a bad deck is reported before torch and the model load
    t_read = time.perf_counter() - t0
    from eda.graphs.pdn_graph import build_pdn_graph
    from eda.predictors.checkpoint import load_checkpoint
    from eda.predictors.evaluate import plot_maps, predict_graph, score_map

    model, norm, _ = load_checkpoint(mp)
    target = norm.target
    t0 = time.perf_counter() - t_read
    pdn, maps, golden, dbu = read_case(case, target, norm.n_slices, dbu_per_um, contest=contest)
    check_pdn(pdn)
    t1 = time.perf_counter()
    g = build_pdn_graph(pdn, maps, norm.graph_params(dbu_per_um=dbu))
    t2 = time.perf_counter()
    pred, sec = predict_graph(model, norm, g)
    if not np.isfinite(pred).all():
        raise InputError(f"the model produced {int((~np.isfinite(pred)).sum())} non-finite value(s); the "
                         "checkpoint or the case is broken, no map written", file=mp)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv = write_map_csv(pred, out / ("ir_drop_map.csv" if target == "static" else "ir_drop_dynamic_map.csv"))
    res = {"case": str(case), "model": str(mp), "model_type": model.model_type, "target": target,
           "map_csv": str(csv), "shape": list(pred.shape), "worst_pred_v": float(pred.max()),
           "nodes": int(pdn.n_nodes), "read_s": t1 - t0, "graph_s": t2 - t1, **{f"{k}_s": v for k, v in sec.items()},
           "infer_s": (t2 - t0) + sec["prepare"] + sec["forward"], "dbu_per_um": dbu}
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
