"""The ``eda`` command line: a thin Typer layer over library functions.

Each subcommand group lives in its own module (``eda/cli/<group>.py``) and imports the library
inside its commands, so ``eda --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import typer

from eda import __version__
from eda.errors import EdaError

GROUPS: dict[str, str] = {
    "spice": "SPICE netlists: check, convert, simulate.",
    "irdrop": "IR-drop analysis on power delivery networks: solve, maps, train, predict.",
    "dataset": "Batch dataset creation (local pool or Dask cluster).",
    "topo": "Analog topology generation: train, generate, check.",
    "acim": "Analog compute-in-memory: design-space exploration and layout synthesis.",
    "verify": "Physical verification: DRC and LVS with KLayout.",
}

app = typer.Typer(name="eda", help="EDA machine-learning toolkit for circuit design.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

for _name, _help in GROUPS.items():
    _mod = importlib.import_module(f"eda.cli.{_name}")
    app.add_typer(_mod.app, name=_name, help=_help)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"eda {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """EDA machine-learning toolkit for circuit design."""


@app.command()
def demo(out: str = typer.Option("out/demo", help="Output folder.")) -> None:
    """Run every pipeline on built-in defaults and write pictures and reports under OUT."""
    from eda.demo import run_demo

    run_demo(out)


def main() -> None:
    """Console entry point: typed toolkit errors print as one clean message, exit status 1."""
    try:
        app()
    except EdaError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        sys.exit(1)
