"""`eda dataset` commands: build IR-drop and analog-topology datasets in bulk (local pool or Dask),
inspect and verify them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer

from eda.cli.options import choice, in_dir, out_dir, seed_option
from eda.errors import InputError

app = typer.Typer(no_args_is_help=True)


#: Measured cost of one IR-drop sample per size (benchmarks/results/dataset.json, busy 2-core machine):
#: seconds on one worker, MB on disk, peak MB of memory per worker. The size guard uses them.
IRDROP_COST = {"small": (0.6, 3.0, 240.0), "medium": (12.0, 21.0, 460.0), "large": (80.0, 210.0, 1320.0),
               "contest": (8.0, 15.0, 400.0)}
#: A composed topology sample: composer + ERC + ngspice operating point.
TOPO_COST = (0.5, 0.02, 300.0)
#: Longest build the size guard lets through without --force (hours).
MAX_BUILD_HOURS = 24.0

_SCHEDULER_HELP = ("Dask scheduler address (tcp://host:8786) instead of local workers; "
                   "refused within 5 s when unreachable.")


def _scheduler(value: str | None) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(r"(tcp|tls|ws|wss|ucx)://[A-Za-z0-9_.\-\[\]:]+:\d{1,5}", value):
        raise typer.BadParameter(f"{value!r} is not a scheduler address like tcp://host:8786")
    return value


@app.command()
def irdrop(
    out: Path = typer.Option(..., "--out", help="Dataset directory (created; resumed when it exists).",
                             callback=out_dir),
    n: int = typer.Option(10, "--n", min=1, help="Number of samples in total."),
    size: str = typer.Option("small", parser=choice("small", "medium", "large", "contest"),
                             help="small | medium | large (large: >= 250k PDN nodes) | contest (the ICCAD'23 "
                                  "cases' die sizes, stripe template, bumps and current density)."),
    seed: int = seed_option(0, "Base seed; sample i gets a seed derived from it and i."),
    workers: int = typer.Option(1, min=1, max=256, help="Local worker processes."),
    scheduler: str = typer.Option(None, parser=_scheduler, help=_SCHEDULER_HELP),
    steps: int = typer.Option(None, min=2, max=100_000, help="Transient steps per clock period (default per size)."),
    slices: int = typer.Option(8, min=1, max=1000, help="Time slices of current_maps_t.npy."),
    pad_pattern: str = typer.Option(None, parser=choice("ring", "array", "sparse"),
                                    help="Force ring | array | sparse bumps (default: drawn per sample)."),
    force: bool = typer.Option(False, help=f"Build even when the size guard refuses (> free disk, > memory, "
                                           f"> {MAX_BUILD_HOURS:g} h estimated)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
    style: str = typer.Option("design", parser=choice("design", "ibm"),
                              help="design: placed synthetic designs, contest decks | ibm: IBM-style transient "
                                   "decks (VDD+GND, large decaps, short pulses; size/steps/pad options unused)."),
) -> None:
    """Build N synthetic IR-drop samples (design + PDN + contest maps + exact static/dynamic labels).
    Ctrl-C stops it cleanly (finished samples kept); rerun the same command to resume."""
    from eda.dataset.runner import check_build_size
    from eda.generators.irdrop_sample import build_irdrop_dataset

    sec, mb, rss = IRDROP_COST["small" if style == "ibm" else size]
    check_build_size(out, n, 1 if scheduler else workers, seconds_per_sample=sec, mb_per_sample=mb,
                     rss_mb_per_worker=rss, max_hours=MAX_BUILD_HOURS, force=force)
    if style == "ibm":
        from eda.generators.synth_ibm import build_ibm_style_dataset

        _finish(build_ibm_style_dataset(out, n, seed=seed, workers=workers, n_slices=slices, progress=progress))
        return
    rep = build_irdrop_dataset(out, n, size=size, seed=seed, workers=workers, scheduler=scheduler, n_steps=steps,
                               n_slices=slices, pad_pattern=pad_pattern, progress=progress)
    _finish(rep)


def _finish(rep) -> None:
    typer.echo(json.dumps(rep.as_dict(), indent=2))
    if rep.failed:
        first = next(iter(rep.failures.items()))
        raise InputError(f"{rep.failed} of {rep.requested} samples failed (first: {first[0]}: {first[1]})",
                         file=rep.out)


@app.command()
def topo(
    out: Path = typer.Option(..., "--out", help="Dataset directory (created; resumed when it exists).",
                             callback=out_dir),
    n: int = typer.Option(100, "--n", min=1, help="Number of composed topologies in total."),
    seed: int = seed_option(0, "Base seed; sample i gets a seed derived from it and i."),
    workers: int = typer.Option(1, min=1, max=256, help="Local worker processes."),
    scheduler: str = typer.Option(None, parser=_scheduler, help=_SCHEDULER_HELP),
    force: bool = typer.Option(False, help="Build even when the size guard refuses."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Build N distinct valid analog topologies (composer + ERC + ngspice) on the same batch runner."""
    from eda.dataset.runner import check_build_size
    from eda.generators.topology_compose import build_topology_dataset

    sec, mb, rss = TOPO_COST
    check_build_size(out, n, 1 if scheduler else workers, seconds_per_sample=sec, mb_per_sample=mb,
                     rss_mb_per_worker=rss, max_hours=MAX_BUILD_HOURS, force=force)
    _finish(build_topology_dataset(out, n, seed=seed, workers=workers, scheduler=scheduler, progress=progress))


@app.command()
def info(directory: Path = typer.Argument(..., help="Dataset directory.", callback=in_dir)) -> None:
    """Print counts, size distribution and failures of a dataset; exit 1 when samples are missing or manifest
    rows are malformed."""
    from eda.dataset.report import dataset_info

    res = dataset_info(directory)
    typer.echo(json.dumps(res, indent=2))
    bad = []
    if res["missing"]:
        bad.append(f"{len(res['missing'])} finished samples are missing from raw/ ({', '.join(res['missing'][:3])})")
    if res["manifest_problems"]:
        bad.append(f"{len(res['manifest_problems'])} malformed manifest rows ({res['manifest_problems'][0]})")
    if bad:
        raise InputError("; ".join(bad), file=directory)


@app.command()
def verify(
    directory: Path = typer.Argument(..., help="Dataset directory.", callback=in_dir),
    n: int = typer.Option(3, "--n", min=1, help="How many random samples to re-solve."),
    seed: int = seed_option(0, "Seed of the random choice."),
    dynamic: bool = typer.Option(True, help="Also re-run the transient (slower)."),
) -> None:
    """Re-solve a random subset of samples from their decks and check the labels match."""
    from eda.dataset.report import verify_dataset

    res = verify_dataset(directory, n=n, seed=seed, dynamic=dynamic)
    typer.echo(json.dumps(res, indent=2))
    if not res["ok"]:
        bad = [i for i, r in zip(res["checked"], res["results"], strict=True) if not r.get("ok")]
        raise InputError(f"labels do not match the re-solve in {', '.join(bad)}", file=directory)
