"""A dynamic model scored on a transient deck against the exact transient (IBM ``ibmpg*t`` decks and the like).

The golden map is the worst dynamic drop of every node over the deck's own ``.tran`` (exact:
:func:`eda.pdn.solve.solve_transient`, trapezoidal, one factorisation), rasterised per map pixel as the
*largest* node drop inside it (``tile-max``: a worst-drop map must not overshoot between nodes, which the
contest's cubic interpolant does by up to 30 % on ibmpg1t's irregular nodes). The prediction reads the same
deck (PULSE/PWL loads, decaps, package inductors) and nothing else; its time counts parsing, the graph
(maps and time-sliced currents included) and the forward pass. The exact time counts parsing and the
transient. Decks without layer names are rasterised at 1000 database units per pixel (the default of such
decks; ibmpg1t: 21 × 21 pixels).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = ["exact_worst_map", "score_dynamic_deck", "MAP_METHOD"]

MAP_METHOD = "tile-max"


def exact_worst_map(pdn, shape: tuple[int, int], dbu_per_um: float, progress: bool = False) -> tuple[np.ndarray,
                                                                                                      dict]:
    """Worst dynamic drop map of ``pdn`` over its ``.tran`` (exact), and the transient's facts."""
    from eda.pdn import maps as pm
    from eda.pdn.solve import solve_transient

    t0 = time.perf_counter()
    tr = solve_transient(pdn, progress=progress)
    secs = time.perf_counter() - t0
    m = pm.ir_drop_map(pdn, tr.worst_drop, shape, dbu_per_um, method=MAP_METHOD)
    return m, {"transient_s": secs, "steps": int(len(tr.times) - 1), "worst_node_drop_v": tr.worst}


def score_dynamic_deck(deck: str | Path, ckpt: str | Path, dbu_per_um: float | None = None,
                       figure: str | Path | None = None, exact: tuple[np.ndarray, dict] | None = None,
                       progress: bool = False, repeats: int = 1) -> dict:
    """Predict the worst-drop map of a transient deck with a dynamic checkpoint and score it (see module doc).

    Args:
        deck: SPICE deck with a ``.tran`` card.
        ckpt: dynamic checkpoint.
        dbu_per_um: map scale (default: the deck's naming, 1000 for IBM names).
        figure: PNG of golden / predicted / error with the hotspot contour.
        exact: a precomputed ``exact_worst_map`` result (its time is then the one recorded).
        repeats: model runs (parse + graph + forward) whose median times are reported (all in ``runs``): on a
            shared machine one short run's wall time is a draw of the moment's load.

    Returns:
        Metrics (``mae``, ``nmae``, ``cc``, ``hotspot_f1``, ``max_error``), worst drops, times and speed-up.
    """
    from eda.errors import InputError
    from eda.graphs.pdn_graph import BUILD_PARTS, build_pdn_graph
    from eda.pdn import maps as pm
    from eda.pdn.parse import read_pdn
    from eda.predictors.checkpoint import load_checkpoint
    from eda.predictors.evaluate import predict_graph, score_map

    model, norm, _ = load_checkpoint(ckpt, expect_target="dynamic")
    runs = []
    for _ in range(max(int(repeats), 1)):
        t0, c0 = time.perf_counter(), time.process_time()
        pdn = read_pdn(deck)
        parse_s, parse_cpu = time.perf_counter() - t0, time.process_time() - c0
        if pdn.tran is None:
            raise InputError("the deck has no .tran card: a dynamic score needs the deck's transient", file=deck)
        dbu = dbu_per_um or pm.default_dbu_per_um(pdn)
        t1, c1 = time.perf_counter(), time.process_time()
        g = build_pdn_graph(pdn, {}, norm.graph_params(dbu_per_um=dbu))
        graph_s, graph_cpu = time.perf_counter() - t1, time.process_time() - c1
        pred, sec = predict_graph(model, norm, g)
        runs.append({"parse_s": parse_s, "parse_cpu_s": parse_cpu, "graph_s": graph_s, "graph_cpu_s": graph_cpu,
                     "forward_s": sec["forward"], "infer_cpu_s": time.process_time() - c0,  # one thread
                     "infer_s": parse_s + graph_s + sec["prepare"] + sec["forward"],
                     "graph_parts_cpu_s": dict(zip(BUILD_PARTS, g.build_cpu.tolist(), strict=True))})
    med = {k: float(np.median([r[k] for r in runs])) for k in runs[0] if k != "graph_parts_cpu_s"}
    parts = sorted(runs, key=lambda r: r["graph_cpu_s"])[len(runs) // 2]["graph_parts_cpu_s"]
    shape = tuple(int(v) for v in g.map_shape)
    if exact is None:
        exact = exact_worst_map(pdn, shape, dbu, progress=progress)  # _Z_/_Y_ nodes stay off the map
    gold, facts = exact
    exact_s = med["parse_s"] + facts["transient_s"]
    res = {"deck": str(deck), "checkpoint": str(ckpt), "nodes": int(pdn.n_nodes), "map_shape": list(shape),
           "dbu_per_um": float(dbu), "map_method": MAP_METHOD, **score_map(pred, gold),
           "worst_gold_v": float(gold.max()), "worst_pred_v": float(pred.max()), **facts, **med,
           "graph_parts_cpu_s": parts, "model_runs": len(runs), "runs": runs,
           "exact_s": exact_s, "speedup": exact_s / med["infer_s"]}
    if figure is not None:
        from eda.predictors.contest import plot_case

        plot_case(gold, pred, figure, f"{Path(deck).name}: worst dynamic drop, NMAE {res['nmae']:.3f}, "
                                      f"CC {res['cc']:.2f}, F1 {res['hotspot_f1']:.2f}")
    return res
