"""Demo stage of IR-drop prediction (``make demo``): predict a freshly generated case with the shipped PDNNet
(golden / predicted / error, speed-up over the exact solve).

The case comes from our design generator, so its dynamic drop is predicted by the dynamic model trained on that
generator's regime (``pdnnet_dynamic_design.pt``); the default dynamic model (``pdnnet_dynamic.pt``, trained on
IBM-style transient decks: PULSE loads, large decaps, package inductors) is scored on the same case beside it
and labelled as such (it is the model for IBM-like decks, not for this generator's)."""

from __future__ import annotations

from pathlib import Path


def demo(out: Path) -> dict:
    """Predict a freshly generated case with the shipped PDNNet: golden / predicted / error, speed-up."""
    import time

    import numpy as np

    from eda.dataset.irdrop import read_sample
    from eda.generators.irdrop_sample import make_irdrop_sample
    from eda.graphs.pdn_graph import build_pdn_graph
    from eda.pdn.solve import solve_static, solve_transient
    from eda.predictors.checkpoint import load_checkpoint
    from eda.predictors.evaluate import plot_maps, predict_graph, score_map
    from eda.predictors.predict import default_model_path

    d = Path(out) / "pdnnet"
    case = d / "case"
    make_irdrop_sample(20261126, case, size="small")  # a seed outside the shipped model's training set
    s = read_sample(case, dynamic=True)
    res: dict = {"case": str(case), "nodes": int(s.static.n_nodes)}
    runs = (("static", "static", default_model_path("static"), ""),
            ("dynamic", "dynamic", default_model_path("dynamic").with_name("pdnnet_dynamic_design.pt"),
             " (model of this generator's regime)"),
            ("dynamic_ibm_default", "dynamic", default_model_path("dynamic"),
             " (default dynamic model, trained on IBM-style transient decks, not this generator's)"))
    for key, target, ckpt, note in runs:
        model, norm, _ = load_checkpoint(ckpt)
        pdn = s.static if target == "static" else s.dynamic
        maps = s.maps if norm.n_slices else {k: v for k, v in s.maps.items() if k != "current_t"}
        predict_graph(model, norm, build_pdn_graph(pdn, maps, norm.graph_params()))  # warm-up (oneDNN init)
        t0 = time.perf_counter()
        g = build_pdn_graph(pdn, maps, norm.graph_params())
        pred, sec = predict_graph(model, norm, g)
        t_ml = time.perf_counter() - t0
        t0 = time.perf_counter()
        if target == "static":
            solve_static(pdn)
        else:
            t = np.load(case / "load_times.npy")
            solve_transient(pdn, times=t, load_waveform=(t, np.load(case / "load_currents.npy").astype(float)))
        t_ex = time.perf_counter() - t0
        gold = s.labels[target]
        m = score_map(pred, gold)
        png = plot_maps(gold, {"PDNNet": pred}, d / f"{key}_golden_pred_error.png",
                        title=f"{target} IR drop: exact {t_ex * 1e3:.0f} ms vs PDNNet {t_ml * 1e3:.0f} ms "
                              f"({t_ex / t_ml:.1f}x)")
        print(f"{target}{note}: {ckpt.name}: worst golden {gold.max() * 1e3:.3f} mV, "
                   f"predicted {pred.max() * 1e3:.3f} mV; "
                   f"MAE {m['mae'] * 1e3:.4f} mV, NMAE {m['nmae']:.3f}, CC {m['cc']:.3f}, F1 {m['hotspot_f1']:.3f}; "
                   f"PDNNet {t_ml * 1e3:.0f} ms vs exact {t_ex * 1e3:.0f} ms ({t_ex / t_ml:.1f}x) -> {png}")
        res[key] = {"model": ckpt.name, "mae_mv": round(m["mae"] * 1e3, 5), "nmae": round(m["nmae"], 4),
                    "cc": round(m["cc"], 4), "hotspot_f1": round(m["hotspot_f1"], 4), "pdnnet_s": round(t_ml, 4),
                    "exact_s": round(t_ex, 4), "speedup": round(t_ex / t_ml, 2), "picture": str(png)}
    return res
