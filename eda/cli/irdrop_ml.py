"""`eda irdrop train | evaluate | predict | compare`: PDNNet and baselines on the irdrop command group."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from eda.cli.options import float_range, in_dir, in_file, out_dir, out_file, seed_option

#: Registered on the `eda irdrop` group beside eda.cli.irdrop (see eda.cli.GROUPS).
app = typer.Typer(no_args_is_help=True)


def _threads(n: int) -> None:
    if n > 0:
        import torch

        torch.set_num_threads(n)


#: ``--threads``: 0 (torch's default) or 1 … the machine's CPU count (more crash oneDNN or only thrash).
THREADS = typer.Option(0, min=0, max=os.cpu_count() or 1, help="torch CPU threads, 1 … CPU count (0: torch default).")
#: ``--dbu-per-um``: database units per µm of the deck's coordinates (default: detected).
DBU = typer.Option(None, "--dbu-per-um", parser=float_range(0, lo_open=True),
                   help="Database units per µm in node names (default: fitted to the maps; 2000 for contest decks).")


def _model_type(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    from eda.predictors.registry import MODEL_TYPES

    if value not in MODEL_TYPES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(MODEL_TYPES)}")
    return value


def _target(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    if value not in ("static", "dynamic"):
        raise typer.BadParameter(f"{value!r} is not one of static, dynamic")
    return value


def _hparams(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    """Parse-time check of --hparams against the chosen model's hyper-parameters."""
    from eda.errors import InputError
    from eda.predictors.registry import build_params

    try:
        hp = json.loads(value)
    except json.JSONDecodeError as e:
        raise typer.BadParameter(f"not JSON: {e}") from None
    if not isinstance(hp, dict):
        raise typer.BadParameter(f"expected a JSON object like '{{\"hidden\": 24}}', got {value!r}")
    model = ctx.params.get("model", "pdnnet")
    try:
        build_params(model, hp)
    except InputError as e:
        raise typer.BadParameter(e.message) from None
    except TypeError as e:
        raise typer.BadParameter(f"not a hyper-parameter of {model!r}: {e}") from None
    return value


def _is_contest(path: Path) -> bool:
    """A contest folder, case or deck (not a dataset directory built by 'eda dataset irdrop')."""
    return not (path / "raw").is_dir() and not (path / "dataset.json").exists()


@app.command()
def train(
    data: list[Path] = typer.Option(..., "--data", callback=in_dir,
                                    help="Dataset directory ('eda dataset irdrop'), or contest folder(s) "
                                         "(real/testcaseN, fake/current_mapNN*; repeat --data to combine)."),
    model: str = typer.Option("pdnnet", "--model", callback=_model_type, help="pdnnet | cnn | gnn | gbdt"),
    target: str = typer.Option("static", "--target", callback=_target, help="static | dynamic"),
    out: Path = typer.Option(..., "--out", callback=out_file, help="Checkpoint file to write (.pt)."),
    epochs: int = typer.Option(40, min=1, max=100000, help="Maximum epochs."),
    patience: int = typer.Option(10, min=1, help="Early stopping: epochs without validation improvement."),
    lr: float = typer.Option(1e-3, parser=float_range(0, 10, lo_open=True), help="Learning rate."),
    seed: int = seed_option(0, "Seed of the split, initialisation and shuffling."),
    hparams: str = typer.Option("{}", callback=_hparams,
                                help='Model hyper-parameters as JSON, e.g. \'{"hidden": 24}\'.'),
    max_minutes: float = typer.Option(0.0, parser=float_range(0), help="Wall-time limit (0: none); best epoch kept."),
    physics_iters: int = typer.Option(4, min=0, max=100, help="Contest data: AMG-PCG iterations of the physics "
                                                              "channel ir_est (0: none)."),
    pattern_iters: int = typer.Option(0, min=0, max=100, help="Dynamic dataset: AMG-PCG iterations of the "
                                      "pattern channel ir_pattern (static drop at the loads' peaks, max 1; 0: none)."),
    step_iters: int = typer.Option(0, min=0, max=100, help="Dynamic dataset: AMG-PCG iterations of the level "
                                   "channel ir_step (one backward-Euler step from rest, loads at their peaks, "
                                   "decaps and package in it; with the pattern channel: the base's level; 0: none)."),
    level_bound: float = typer.Option(0.0, parser=float_range(0, 5), help="Dynamic, with --pattern-iters and "
                                      "--step-iters: bound the learned correction to a factor exp(±B) of the "
                                      "base (0.693: 0.5-2x); 0: unbounded, additive."),
    members: int = typer.Option(1, min=1, max=9, help="Dataset: train this many models on the same split "
                                "(seeds SEED, SEED+1, ...) and save their per-pixel median as one checkpoint."),
    threads: int = THREADS,
) -> None:
    """Train a model and save one checkpoint: on a dataset's train split, or on contest case folders."""
    from eda.errors import InputError
    from eda.predictors.train import TrainParams, train_contest, train_from_dir

    _threads(threads)
    try:
        hp = json.loads(hparams)
    except json.JSONDecodeError as e:
        raise InputError(f"--hparams: not JSON: {e}") from None
    if not isinstance(hp, dict):
        raise InputError(f"--hparams: expected a JSON object like '{{\"hidden\": 24}}', got {hparams!r}")
    p = TrainParams(model=model, target=target, epochs=epochs, patience=patience, lr=lr, seed=seed,
                    max_minutes=max_minutes, hparams=hp, level_bound=level_bound)
    if all(_is_contest(d) for d in data):
        if target != "static":
            raise InputError("--target: contest cases carry static IR-drop maps only; use --target static")
        res = train_contest(data, p, out, physics_iters=physics_iters)
    elif len(data) == 1:
        res = train_from_dir(data[0], p, out, pattern_iters=pattern_iters, members=members,
                             step_iters=step_iters)
    else:
        raise InputError("--data: give one dataset directory, or only contest folders")
    typer.echo(json.dumps(res, indent=2))


@app.command()
def evaluate(
    cases: Path = typer.Argument(None, help="Contest folder (real/testcaseN folders, flat fake/current_mapNN*) "
                                            "or one case: prints the contest table."),
    data: Path = typer.Option(None, "--data", callback=in_dir, help="Dataset directory (instead of CASES)."),
    model: Path = typer.Option(None, "--model", callback=in_file,
                               help="Checkpoint (.pt); default: the shipped static PDNNet."),
    split: str = typer.Option("test", help="Dataset: test (held-out names stored in the checkpoint) | val | "
                                           "train | all"),
    json_out: Path = typer.Option(None, "--json", callback=out_file, help="Write per-case results as JSON here."),
    figures: Path = typer.Option(None, "--figures", callback=out_dir,
                                 help="Contest: write golden / predicted / error PNGs per case here."),
    dbu_per_um: float = DBU,
    threads: int = THREADS,
) -> None:
    """Contest table (MAE mV, max error, F1, CC, time, exact-solve time) or dataset metrics of a model."""
    from eda.errors import InputError
    from eda.predictors.evaluate import evaluate_checkpoint, write_json
    from eda.predictors.predict import default_model_path

    _threads(threads)
    if (cases is None) == (data is None):
        raise InputError("give a contest folder (CASES) or --data DATASET_DIR, not both or neither")
    if cases is not None:
        from eda.predictors.contest import contest_table, evaluate_contest

        if not cases.exists():
            raise InputError("no such case folder or deck", file=cases)
        res = evaluate_contest(cases, model or default_model_path("static"), dbu_per_um=dbu_per_um,
                               figures=figures)
        if json_out:
            write_json(res, json_out)
        s = res["summary"]
        typer.echo(contest_table(res["rows"]))
        for sk in res["skipped"]:
            typer.echo(f"skipped {sk['case']}: {sk['why']}")
        typer.echo(f"{res['model_type']} on {s['n']} case(s): MAE {s['mae'] * 1e3:.4f} mV, "
                   f"F1 {s['hotspot_f1']:.3f}, CC {s['cc']:.3f}, {s['infer_s']:.3f} s per case "
                   f"(exact solve {s.get('exact_s', float('nan')):.3f} s)")
        return
    res = evaluate_checkpoint(data, model or default_model_path("static"), split)
    if json_out:
        write_json(res, json_out)
    s = res["summary"]
    typer.echo(f"{res['model_type']} / {res['target']} on {s['n']} {res['split']} samples: "
               f"MAE {s['mae'] * 1e3:.4f} mV, max error {s['max_error'] * 1e3:.3f} mV, NMAE {s['nmae']:.4f}, "
               f"CC {s['cc']:.3f}, hotspot F1 {s['hotspot_f1']:.3f}, inference {s['infer_s'] * 1e3:.1f} ms"
               + (f", exact solve {s['exact_s'] * 1e3:.1f} ms ({s['speedup']:.1f}x)" if "speedup" in s else ""))


@app.command()
def predict(
    case: Path = typer.Argument(..., help="A PDN deck, a contest case folder (netlist.sp [+ maps]) or a flat "
                                          "contest deck (current_mapNN.sp beside its CSVs)."),
    out: Path = typer.Option(..., "--out", callback=out_dir, help="Output folder (ir_drop_map.csv + PNG)."),
    model: Path = typer.Option(None, "--model", callback=in_file,
                               help="Checkpoint (default: the shipped pretrained PDNNet)."),
    target: str = typer.Option("static", "--target", callback=_target,
                               help="static | dynamic (selects the shipped model)."),
    dbu_per_um: float = DBU,
    threads: int = THREADS,
) -> None:
    """Predict an IR-drop map (contest CSV convention) and draw it; scores it when a golden map is there."""
    from eda.predictors.predict import predict_case

    _threads(threads)
    res = predict_case(case, out, model, target, dbu_per_um=dbu_per_um)
    msg = (f"{res['model_type']} {res['target']} IR drop of {case} ({res['nodes']} nodes, map {res['shape']}): "
           f"worst {res['worst_pred_v'] * 1e3:.3f} mV in {res['infer_s']:.3f} s -> {res['map_csv']}")
    if "metrics" in res:
        m = res["metrics"]
        msg += (f"\n  vs golden: MAE {m['mae'] * 1e3:.4f} mV, max error {m['max_error'] * 1e3:.3f} mV, "
                f"NMAE {m['nmae']:.4f}, CC {m['cc']:.3f}, hotspot F1 {m['hotspot_f1']:.3f}")
    typer.echo(msg)


@app.command()
def compare(
    data: Path = typer.Option(..., "--data", callback=in_dir, help="Dataset directory."),
    out: Path = typer.Option(..., "--out", callback=out_dir, help="Output folder (table, JSON, plots, checkpoints)."),
    models: str = typer.Option("pdnnet,cnn,gnn,gbdt", help="Comma-separated model types."),
    targets: str = typer.Option("static,dynamic", help="Comma-separated targets."),
    epochs: int = typer.Option(30, min=1, max=100000, help="Maximum epochs per neural model."),
    seed: int = seed_option(0, "Seed of the split and the training."),
    max_minutes: float = typer.Option(0.0, parser=float_range(0), help="Wall-time limit per model (0: none)."),
    threads: int = THREADS,
) -> None:
    """Train and evaluate every model on one split; write compare.md/json and plots."""
    from eda.errors import InputError
    from eda.predictors.evaluate import compare as run
    from eda.predictors.registry import MODEL_TYPES

    ms = [m.strip() for m in models.split(",") if m.strip()]
    ts = [t.strip() for t in targets.split(",") if t.strip()]
    if not ms or any(m not in MODEL_TYPES for m in ms):
        raise InputError(f"--models: expected a comma-separated list of {', '.join(MODEL_TYPES)}, got {models!r}")
    if not ts or any(t not in ("static", "dynamic") for t in ts):
        raise InputError(f"--targets: expected a comma-separated list of static, dynamic, got {targets!r}")
    _threads(threads)
    res = run(data, out, models=ms, targets=ts, epochs=epochs, seed=seed, max_minutes=max_minutes)
    typer.echo(Path(res["files"]["table"]).read_text())
