"""The ``eda`` command line: a thin Typer layer over library functions.

Each subcommand group lives in its own module (``eda/cli/<group>.py``, sometimes two modules per group)
whose ``app`` holds its commands; this module registers them, and imports the library only inside
commands, so ``eda --help`` stays fast.

Errors: every failure ends in one line on stderr, ``error: <file or --option>: <what is wrong>``, and exit
status 1 — bad options and output paths are refused while the command line is parsed
(:mod:`eda.cli.options`), typed toolkit errors (:class:`eda.errors.EdaError`) and the I/O, decoding, JSON
and validation errors of reading user files are caught by :func:`handle_error`. ``eda --debug ...`` or
``EDA_DEBUG=1`` also prints the traceback. Ctrl-C exits with status 130.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import typer

try:  # typer >= 0.2x runs on its own vendored copy of Click: its exceptions are the ones raised
    from typer._click import exceptions as cx
except ImportError:  # pragma: no cover - older typer on the real Click
    from click import exceptions as cx
from typer.core import TyperGroup

from eda import __version__
from eda.cli.options import QUICK_EXIT, out_dir

#: group name → (help, modules whose ``app`` commands make up the group).
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "spice": ("SPICE netlists: check, convert, simulate.", ("eda.cli.spice",)),
    "irdrop": ("IR-drop analysis on power delivery networks: solve, maps, train, predict.",
               ("eda.cli.irdrop", "eda.cli.irdrop_ml")),
    "dataset": ("Batch dataset creation (local pool or Dask cluster).", ("eda.cli.dataset",)),
    "topo": ("Analog topology generation: train, generate, check.", ("eda.cli.topo",)),
    "acim": ("Analog compute-in-memory: design-space exploration and layout synthesis.", ("eda.cli.acim",)),
    "verify": ("Physical verification: DRC and LVS with KLayout.", ("eda.cli.verify",)),
}

_DEBUG = {"on": False}


def _debug() -> bool:
    return _DEBUG["on"] or os.environ.get("EDA_DEBUG", "") not in ("", "0")


def _one_line(text: str, limit: int = 600) -> str:
    line = " | ".join(s.strip() for s in str(text).splitlines() if s.strip())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _param_name(e: cx.ClickException) -> str:
    param = getattr(e, "param", None)
    if param is not None:
        opts = [o for o in getattr(param, "opts", []) if o.startswith("--")] or getattr(param, "opts", [])
        if getattr(param, "param_type_name", "") == "argument":
            return (param.name or "argument").upper()
        if opts:
            return opts[0]
    hint = getattr(e, "param_hint", None)
    if isinstance(hint, list | tuple):
        hint = hint[0] if hint else None
    return str(hint).strip("'\"") if hint else ""


def _validation_message(e) -> str:
    """A pydantic ValidationError as ``--field: message; ...`` (fields named as the CLI spells options)."""
    parts = []
    for err in e.errors():
        loc = [str(x) for x in err.get("loc", ()) if not isinstance(x, int)]
        name = ("--" + loc[0].replace("_", "-")) if loc else e.title
        parts.append(f"{name}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def _decoding_file(e: BaseException) -> str | None:
    """The file a decoding error came from, found in the failing frames: the ``Path`` whose ``read_text``
    failed, or an open text file being read (a ``UnicodeDecodeError`` itself carries no file name)."""
    import io
    from pathlib import PurePath

    tb, found = e.__traceback__, None
    while tb is not None:
        loc = tb.tb_frame.f_locals
        if tb.tb_frame.f_code.co_name in ("read_text", "open") and isinstance(loc.get("self"), PurePath):
            found = str(loc["self"])
        for v in loc.values():
            if isinstance(v, io.TextIOWrapper) and isinstance(getattr(v, "name", None), str):
                found = v.name
        tb = tb.tb_next
    return found


def describe_error(e: BaseException) -> tuple[str, int, bool]:
    """(one-line message, exit status, expected) for an exception that ended a command.

    ``expected`` is False for an exception no handler knows: a bug, reported as an internal error.
    """
    import json

    from pydantic import ValidationError

    from eda.errors import EdaError, InputError

    if isinstance(e, cx.UsageError):
        name = _param_name(e)
        if isinstance(e, cx.MissingParameter):
            return _one_line(e.format_message()), 1, True
        msg = e.message if isinstance(e, cx.BadParameter) else e.format_message()
        return _one_line(f"{name}: {msg}" if name else msg), 1, True
    if isinstance(e, cx.ClickException):
        return _one_line(e.format_message()), 1, True
    if isinstance(e, KeyboardInterrupt | typer.Abort):
        return _one_line(str(e)) or "interrupted", 130, True
    if isinstance(e, InputError):
        return e.one_line(), 1, True
    if isinstance(e, EdaError):
        return _one_line(str(e)), getattr(e, "exit_code", 1), True
    if isinstance(e, ValidationError):
        return _one_line(_validation_message(e)), 1, True
    if isinstance(e, UnicodeDecodeError):
        f = _decoding_file(e)
        return (f"{f + ': ' if f else ''}not UTF-8 text (a binary file?): {e.reason} at byte {e.start}", 1,
                True)
    if isinstance(e, json.JSONDecodeError):
        return _one_line(f"invalid JSON: {e}"), 1, True
    if isinstance(e, OSError):
        names = " -> ".join(str(f) for f in (e.filename, e.filename2) if f is not None)
        what = e.strerror or str(e)
        return _one_line(f"{names}: {what}" if names else what), 1, True
    if isinstance(e, MemoryError):
        return "out of memory (the input is too large for this machine)", 1, True
    if isinstance(e, ValueError):
        return _one_line(f"{e}"), 1, True
    return _one_line(f"internal error: {type(e).__name__}: {e} (a bug: rerun with --debug and report it)"), 1, False


class _Interrupted(Exception):
    """Carries a KeyboardInterrupt past Typer, which would turn it into a silent exit 130."""


class _Root(TyperGroup):
    """The root group: runs Click without its standalone error printing and ends every failure in one line."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as e:
            raise _Interrupted(e) from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        _DEBUG["on"] = False
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False,
                              **extra)
            code = rv if isinstance(rv, int) else 0
        except cx.NoArgsIsHelpError as e:
            e.show()
            code = e.exit_code
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException as e:  # noqa: BLE001 - the one place that reports every failure
            code = handle_error(e.args[0] if isinstance(e, _Interrupted) else e)
        if standalone_mode:
            sys.exit(code)
        return code


def handle_error(e: BaseException) -> int:
    """Print ``error: ...`` (one line; the traceback first with ``--debug``/``EDA_DEBUG=1``); the exit status."""
    msg, code, expected = describe_error(e)
    if _debug():
        traceback.print_exception(e)
    try:
        typer.secho(f"error: {msg}", fg="red", err=True)
    except OSError:  # stderr closed
        pass
    return code


app = typer.Typer(name="eda", cls=_Root, help="EDA machine-learning toolkit for circuit design.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _group(modules: tuple[str, ...], help: str) -> typer.Typer:
    """One command group from the ``app`` of each module (a module's commands keep their names)."""
    apps = [importlib.import_module(m).app for m in modules]
    if len(apps) == 1:
        return apps[0]
    group = typer.Typer(no_args_is_help=True, help=help)
    for a in apps:
        group.registered_commands.extend(a.registered_commands)
    return group


for _name, (_help, _modules) in GROUPS.items():
    app.add_typer(_group(_modules, _help), name=_name, help=_help)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"eda {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit."),
          debug: bool = typer.Option(False, "--debug", help="Print the traceback of an error (also EDA_DEBUG=1).")
          ) -> None:
    """EDA machine-learning toolkit for circuit design."""
    _DEBUG["on"] = debug


@app.command()
def demo(out: str = typer.Option("out/demo", help="Output folder.", callback=out_dir)) -> None:
    """Run every pipeline on built-in defaults and write pictures and reports under OUT."""
    from eda.demo import run_demo

    run_demo(out)


def _read_ahead(args: list[str]) -> None:
    """``eda [--debug] irdrop solve|maps CASE ...``: start reading CASE's deck now, beside the command line's parsing
    (:func:`eda.cli.irdrop.read_ahead`)."""
    from eda.cli import irdrop

    while args and args[0] == "--debug":
        args = args[1:]
    if args and args[0] == "irdrop":
        try:
            irdrop.read_ahead(args[1:])
        except Exception:  # noqa: BLE001 - an optimisation only: the command reports every problem itself
            pass


def main() -> None:
    """Console entry point (``eda``)."""
    QUICK_EXIT["on"] = False
    try:
        _read_ahead(sys.argv[1:])
        app()
    except KeyboardInterrupt:  # Ctrl-C while the command line is still being set up
        typer.secho("error: interrupted", fg="red", err=True)
        sys.exit(130)
    except SystemExit as e:
        if QUICK_EXIT["on"] and e.code in (0, None):
            import threading

            if threading.active_count() == 1:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                except OSError:  # a closed pipe: leave it to the normal exit
                    raise e from None
                os._exit(0)
        raise
