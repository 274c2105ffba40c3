"""`eda dataset` commands: build IR-drop and analog-topology datasets in bulk (local pool or Dask),
inspect and verify them."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


@app.command()
def irdrop(
    out: Path = typer.Option(..., "--out", help="Dataset directory (created; resumed when it exists)."),
    n: int = typer.Option(10, "--n", help="Number of samples in total."),
    size: str = typer.Option("small", help="small | medium | large (large: >= 250k PDN nodes)."),
    seed: int = typer.Option(0, help="Base seed; sample i gets a seed derived from it and i."),
    workers: int = typer.Option(1, help="Local worker processes."),
    scheduler: str = typer.Option(None, help="Dask scheduler address (tcp://host:8786) instead of local workers."),
    steps: int = typer.Option(None, help="Transient steps per clock period (default per size)."),
    slices: int = typer.Option(8, help="Time slices of current_maps_t.npy."),
    pad_pattern: str = typer.Option(None, help="Force ring | array | sparse bumps (default: drawn per sample)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Build N synthetic IR-drop samples (design + PDN + contest maps + exact static/dynamic labels)."""
    from eda.dataset.irdrop import build_irdrop_dataset

    rep = build_irdrop_dataset(out, n, size=size, seed=seed, workers=workers, scheduler=scheduler, n_steps=steps,
                               n_slices=slices, pad_pattern=pad_pattern, progress=progress)
    typer.echo(json.dumps(rep.as_dict(), indent=2))
    if rep.failed:
        raise typer.Exit(1)


@app.command()
def topo(
    out: Path = typer.Option(..., "--out", help="Dataset directory (created; resumed when it exists)."),
    n: int = typer.Option(100, "--n", help="Number of composed topologies in total."),
    seed: int = typer.Option(0, help="Base seed; sample i gets a seed derived from it and i."),
    workers: int = typer.Option(1, help="Local worker processes."),
    scheduler: str = typer.Option(None, help="Dask scheduler address (tcp://host:8786) instead of local workers."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Build N distinct valid analog topologies (composer + ERC + ngspice) on the same batch runner."""
    from eda.generators.topology_compose import build_topology_dataset

    rep = build_topology_dataset(out, n, seed=seed, workers=workers, scheduler=scheduler, progress=progress)
    typer.echo(json.dumps(rep.as_dict(), indent=2))
    if rep.failed:
        raise typer.Exit(1)


@app.command()
def info(directory: Path = typer.Argument(..., help="Dataset directory.")) -> None:
    """Print counts, size distribution and failures of a dataset."""
    from eda.dataset.report import dataset_info

    typer.echo(json.dumps(dataset_info(directory), indent=2))


@app.command()
def verify(
    directory: Path = typer.Argument(..., help="Dataset directory."),
    n: int = typer.Option(3, "--n", help="How many random samples to re-solve."),
    seed: int = typer.Option(0, help="Seed of the random choice."),
    dynamic: bool = typer.Option(True, help="Also re-run the transient (slower)."),
) -> None:
    """Re-solve a random subset of samples from their decks and check the labels match."""
    from eda.dataset.report import verify_dataset

    res = verify_dataset(directory, n=n, seed=seed, dynamic=dynamic)
    typer.echo(json.dumps(res, indent=2))
    if not res["ok"]:
        raise typer.Exit(1)


def demo(out: Path) -> dict:
    """Build a few small samples, verify one, and draw one sample's maps (``out/dataset/``)."""
    from eda.dataset.irdrop import build_irdrop_dataset
    from eda.dataset.report import plot_sample, verify_dataset

    d = Path(out) / "dataset"
    rep = build_irdrop_dataset(d, 4, size="small", seed=7, workers=1, progress=False)
    ver = verify_dataset(d, n=1, seed=0, dynamic=True)
    png = plot_sample(d / "raw" / "s000000", d / "sample_maps.png")
    first = json.loads((d / "raw" / "s000000" / "params.json").read_text())["summary"]
    typer.echo(f"built {rep.built} samples ({rep.skipped} already there) in {rep.seconds:.1f} s under {d}; "
               f"sample 0: {first['nodes']} nodes, worst static {first['worst_static_drop_v'] * 1e3:.2f} mV, "
               f"dynamic {first['worst_dynamic_drop_v'] * 1e3:.2f} mV; verify ok={ver['ok']}; picture {png}")
    if not ver["ok"]:
        raise RuntimeError(f"dataset verify failed: {ver}")
    return {"samples": rep.built + rep.skipped, "failed": rep.failed, "nodes_sample0": first["nodes"],
            "worst_static_mv": round(first["worst_static_drop_v"] * 1e3, 3),
            "worst_dynamic_mv": round(first["worst_dynamic_drop_v"] * 1e3, 3), "verify_ok": ver["ok"],
            "picture": str(png)}
