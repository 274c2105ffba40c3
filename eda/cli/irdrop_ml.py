"""`eda irdrop train | evaluate | predict | compare`: PDNNet and baselines on the irdrop command group."""

from __future__ import annotations

import json
from pathlib import Path

import typer

#: Registered on the `eda irdrop` group beside eda.cli.irdrop (see eda.cli.GROUPS).
app = typer.Typer(no_args_is_help=True)


def _threads(n: int) -> None:
    if n > 0:
        import torch

        torch.set_num_threads(n)


@app.command()
def train(
    data: Path = typer.Option(..., "--data", help="Dataset directory (built by 'eda dataset irdrop')."),
    model: str = typer.Option("pdnnet", "--model", help="pdnnet | cnn | gnn | gbdt"),
    target: str = typer.Option("static", "--target", help="static | dynamic"),
    out: Path = typer.Option(..., "--out", help="Checkpoint file to write (.pt)."),
    epochs: int = typer.Option(40, help="Maximum epochs."),
    patience: int = typer.Option(10, help="Early stopping: epochs without validation improvement."),
    lr: float = typer.Option(1e-3, help="Learning rate."),
    seed: int = typer.Option(0, help="Seed of the split, initialisation and shuffling."),
    hparams: str = typer.Option("{}", help='Model hyper-parameters as JSON, e.g. \'{"hidden": 24}\'.'),
    max_minutes: float = typer.Option(0.0, help="Wall-time limit (0: none); the best epoch is kept."),
    threads: int = typer.Option(0, help="torch CPU threads (0: torch default)."),
) -> None:
    """Train a model on a dataset's train split (validated each epoch) and save one checkpoint."""
    from eda.errors import InputError
    from eda.predictors.train import TrainParams, train_from_dir

    _threads(threads)
    try:
        hp = json.loads(hparams)
    except json.JSONDecodeError as e:
        raise InputError(f"--hparams: not JSON: {e}") from None
    p = TrainParams(model=model, target=target, epochs=epochs, patience=patience, lr=lr, seed=seed,
                    max_minutes=max_minutes, hparams=hp)
    res = train_from_dir(data, p, out)
    typer.echo(json.dumps(res, indent=2))


@app.command()
def evaluate(
    data: Path = typer.Option(..., "--data", help="Dataset directory."),
    model: Path = typer.Option(..., "--model", help="Checkpoint (.pt)."),
    split: str = typer.Option("test", help="test (held-out names stored in the checkpoint) | val | train | all"),
    json_out: Path = typer.Option(None, "--json", help="Write per-sample results as JSON here."),
    threads: int = typer.Option(0, help="torch CPU threads (0: torch default)."),
) -> None:
    """MAE, max error, NMAE, CC, hotspot F1 and inference vs exact-solve time on a dataset."""
    from eda.predictors.evaluate import evaluate_checkpoint, write_json

    _threads(threads)
    res = evaluate_checkpoint(data, model, split)
    if json_out:
        write_json(res, json_out)
    s = res["summary"]
    typer.echo(f"{res['model_type']} / {res['target']} on {s['n']} {res['split']} samples: "
               f"MAE {s['mae'] * 1e3:.4f} mV, max error {s['max_error'] * 1e3:.3f} mV, NMAE {s['nmae']:.4f}, "
               f"CC {s['cc']:.3f}, hotspot F1 {s['hotspot_f1']:.3f}, inference {s['infer_s'] * 1e3:.1f} ms"
               + (f", exact solve {s['exact_s'] * 1e3:.1f} ms ({s['speedup']:.1f}x)" if "speedup" in s else ""))


@app.command()
def predict(
    case: Path = typer.Argument(..., help="A PDN deck, or a case folder (netlist.sp [+ contest maps])."),
    out: Path = typer.Option(..., "--out", help="Output folder (ir_drop_map.csv + PNG)."),
    model: Path = typer.Option(None, "--model", help="Checkpoint (default: the shipped pretrained PDNNet)."),
    target: str = typer.Option("static", "--target", help="static | dynamic (selects the shipped model)."),
    threads: int = typer.Option(0, help="torch CPU threads (0: torch default)."),
) -> None:
    """Predict an IR-drop map (contest CSV convention) and draw it; scores it when a golden map is there."""
    from eda.predictors.predict import predict_case

    _threads(threads)
    res = predict_case(case, out, model, target)
    msg = (f"{res['model_type']} {res['target']} IR drop of {case} ({res['nodes']} nodes, map {res['shape']}): "
           f"worst {res['worst_pred_v'] * 1e3:.3f} mV in {res['infer_s']:.3f} s -> {res['map_csv']}")
    if "metrics" in res:
        m = res["metrics"]
        msg += (f"\n  vs golden: MAE {m['mae'] * 1e3:.4f} mV, max error {m['max_error'] * 1e3:.3f} mV, "
                f"NMAE {m['nmae']:.4f}, CC {m['cc']:.3f}, hotspot F1 {m['hotspot_f1']:.3f}")
    typer.echo(msg)


@app.command()
def compare(
    data: Path = typer.Option(..., "--data", help="Dataset directory."),
    out: Path = typer.Option(..., "--out", help="Output folder (table, JSON, plots, checkpoints)."),
    models: str = typer.Option("pdnnet,cnn,gnn,gbdt", help="Comma-separated model types."),
    targets: str = typer.Option("static,dynamic", help="Comma-separated targets."),
    epochs: int = typer.Option(30, help="Maximum epochs per neural model."),
    seed: int = typer.Option(0, help="Seed of the split and the training."),
    max_minutes: float = typer.Option(0.0, help="Wall-time limit per model (0: none)."),
    threads: int = typer.Option(0, help="torch CPU threads (0: torch default)."),
) -> None:
    """Train and evaluate every model on one split; write compare.md/json and plots."""
    from eda.predictors.evaluate import compare as run

    _threads(threads)
    res = run(data, out, models=[m.strip() for m in models.split(",") if m.strip()],
              targets=[t.strip() for t in targets.split(",") if t.strip()], epochs=epochs, seed=seed,
              max_minutes=max_minutes)
    typer.echo(Path(res["files"]["table"]).read_text())


def demo(out: Path) -> dict:
    """Predict a freshly generated case with the shipped PDNNet: golden / predicted / error, speed-up."""
    import time

    import numpy as np

    from eda.dataset.irdrop import make_irdrop_sample, read_sample
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
    for target in ("static", "dynamic"):
        model, norm, _ = load_checkpoint(default_model_path(target))
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
        png = plot_maps(gold, {"PDNNet": pred}, d / f"{target}_golden_pred_error.png",
                        title=f"{target} IR drop: exact {t_ex * 1e3:.0f} ms vs PDNNet {t_ml * 1e3:.0f} ms "
                              f"({t_ex / t_ml:.1f}x)")
        typer.echo(f"{target}: worst golden {gold.max() * 1e3:.3f} mV, predicted {pred.max() * 1e3:.3f} mV; "
                   f"MAE {m['mae'] * 1e3:.4f} mV, NMAE {m['nmae']:.3f}, CC {m['cc']:.3f}, F1 {m['hotspot_f1']:.3f}; "
                   f"PDNNet {t_ml * 1e3:.0f} ms vs exact {t_ex * 1e3:.0f} ms ({t_ex / t_ml:.1f}x) -> {png}")
        res[target] = {"mae_mv": round(m["mae"] * 1e3, 5), "nmae": round(m["nmae"], 4), "cc": round(m["cc"], 4),
                       "hotspot_f1": round(m["hotspot_f1"], 4), "pdnnet_s": round(t_ml, 4),
                       "exact_s": round(t_ex, 4), "speedup": round(t_ex / t_ml, 2), "picture": str(png)}
    return res
