"""`eda irdrop` commands: exact PDN solves, contest maps, map scoring (and the demo stage)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import typer

from eda.cli.options import choice, float_range, in_file, out_dir, quick_exit_when_done

app = typer.Typer(no_args_is_help=True)


#: Help of the ``--dbu-per-um`` option (every command that rasterises; ``irdrop_ml`` reuses it).
DBU_HELP = ("Database units per um in node names; default: fitted to the case's given maps, else 2000 for "
            "contest names (n1_m1_x_y), else 1000.")
CASE_HELP = ("Contest case folder (testcaseN/ with netlist.sp and maps), flat contest deck (current_mapNN.sp "
             "with its CSVs beside it) or any PDN SPICE deck (ICCAD'23, IBM power grid or BeGAN style).")


@app.command()
def solve(deck: Path = typer.Argument(..., help=CASE_HELP),
          out: Path = typer.Option(Path("out/irdrop"), "--out", callback=out_dir, help="Output folder."),
          mode: str = typer.Option("static", parser=choice("static", "dynamic"), help="static | dynamic."),
          probe: list[str] = typer.Option([], "--probe", help="Node whose waveform to save (repeatable); "
                                                              "default: the deck's .print nodes."),
          method: str = typer.Option("auto", parser=choice("auto", "direct", "iterative"),
                                     help="Linear solver: auto | direct | iterative."),
          step: float = typer.Option(None, parser=float_range(1e-18, 1.0),
                                     help="Transient step (s, 1e-18..1); default from .tran."),
          stop: float = typer.Option(None, parser=float_range(0, 1e3, lo_open=True),
                                     help="Transient stop time (s); default from .tran."),
          integration: str = typer.Option("trap", parser=choice("trap", "be"), help="trap | be (dynamic mode)."),
          dbu_per_um: float = typer.Option(None, "--dbu-per-um", parser=float_range(0, lo_open=True), help=DBU_HELP),
          map_method: str = typer.Option("contest", "--map-method", parser=choice("contest", "griddata", "tile-max"),
                                         help="IR-drop map: contest (the generator's method) | griddata | tile-max."),
          pictures: bool = typer.Option(True, "--pictures/--no-pictures", help="Write PNG pictures.")) -> None:
    """Solve DECK exactly: voltages.csv, ir_drop_map.csv, ir_drop.png, summary.json (+ waveforms)."""
    from eda.pdn.pipeline import solve_to_dir

    if step is not None and stop is not None and stop / step > 1e7:
        raise typer.BadParameter(f"--stop {stop:g} s / --step {step:g} s is more than 1e7 time points",
                                 param_hint="'--step'")
    s = solve_to_dir(deck, out, mode=mode, probes=probe, method=method, step=step, stop=stop,
                     integration=integration, dbu_per_um=dbu_per_um, map_method=map_method, pictures=pictures)
    worst = s.get("worst_dynamic_drop_V", s["worst_static_drop_V"])
    typer.echo(f"{s['nodes']} nodes, {s['unknowns']} unknowns, worst {mode} IR drop {worst * 1e3:.4g} mV; "
               f"parse {s['seconds']['parse']:.3g} s, static solve {s['seconds']['static_solve']:.3g} s"
               + (f", transient {s['seconds']['transient']:.3g} s" if mode == "dynamic" else ""))
    for note in s.get("notes", []):
        typer.echo(f"note: {note}")
    if "dbu_per_um" in s:
        typer.echo(f"map {s['map_shape'][0]}x{s['map_shape'][1]} ({s['map_method']}, "
                   f"{s['dbu_per_um']:g} dbu/um)")
    g = s.get("vs_given_ir_drop_map")
    if g:
        typer.echo(f"vs the case's ir_drop map: MAE {g['mae'] * 1e3:.4g} mV, hotspot F1 {g['hotspot_f1']:.3f}")
    typer.echo(f"wrote {out}/")
    quick_exit_when_done()


@app.command()
def maps(deck: Path = typer.Argument(..., help=CASE_HELP + " Node names must carry coordinates."),
         out: Path = typer.Option(Path("out/irdrop_maps"), "--out", callback=out_dir, help="Output folder."),
         dbu_per_um: float = typer.Option(None, "--dbu-per-um", parser=float_range(0, lo_open=True), help=DBU_HELP),
         map_method: str = typer.Option("contest", "--map-method", parser=choice("contest", "griddata", "tile-max"),
                                        help="IR-drop map: contest (the generator's method) | griddata | tile-max."),
         pictures: bool = typer.Option(True, "--pictures/--no-pictures", help="Write PNG pictures.")) -> None:
    """Write the contest maps of DECK (current, PDN density, effective distance, IR drop) as CSV + PNG."""
    from eda.pdn.pipeline import maps_to_dir

    for k, p in maps_to_dir(deck, out, dbu_per_um=dbu_per_um, map_method=map_method, pictures=pictures).items():
        typer.echo(f"{k:12s} {p}")
    quick_exit_when_done()


@app.command()
def score(pred: Path = typer.Argument(..., help="Predicted map CSV.", callback=in_file),
          golden: Path = typer.Argument(..., help="Golden map CSV.", callback=in_file)) -> None:
    """Print MAE, max error, NMAE, CC and hotspot F1 of PRED against GOLDEN as JSON (volts)."""
    from eda.pdn.maps import read_map_csv
    from eda.pdn.metrics import score as score_maps

    typer.echo(json.dumps(score_maps(read_map_csv(pred), read_map_csv(golden)), indent=2, allow_nan=False))


#: commands whose case (their argument) :func:`read_ahead` starts loading before the command line is parsed
READ_AHEAD = {"solve": solve, "maps": maps}


def read_ahead(args: list[str]) -> bool:
    """Start loading the case of ``eda irdrop solve|maps CASE ...`` (``args``: the words after ``irdrop``) and
    triangulating its map in a background thread (:func:`eda.pdn.pipeline.start_ahead`) while Typer builds and
    parses the command line (0.1-0.3 s of Python holding the GIL, which the compiled deck reader and Qhull
    release). ``--dbu-per-um`` and ``--map-method`` are passed on as written; the command takes the result only
    for the same case, scale and method, and reports every error itself. The command's ``bool`` options are
    flags, every other option takes a value (its signature says which is which)."""
    fn = READ_AHEAD.get(args[0]) if args else None
    if fn is None or "--help" in args:
        return False
    params, flags = inspect.signature(fn).parameters, set()
    for name, par in params.items():
        if par.annotation in (bool, "bool"):  # Typer's default for a bool option: --name/--no-name
            opt = name.replace("_", "-")
            decls = getattr(par.default, "param_decls", ()) or (f"--{opt}/--no-{opt}",)
            flags.update(d for decl in decls for d in decl.split("/"))
    words, values, case = iter(args[1:]), {}, None
    for w in words:  # every word: options may follow CASE
        if w == "--":  # the rest are arguments
            case = next(words, None) if case is None else case
            break
        if w.startswith("-") and len(w) > 1:
            if "=" in w:
                values.__setitem__(*w.split("=", 1))
            elif w not in flags:
                values[w] = next(words, None)
        elif case is None:
            case = w
    if case is None:
        return False
    from eda.pdn.pipeline import start_ahead

    dbu = values.get("--dbu-per-um")
    try:
        dbu = float(dbu) if dbu is not None else None
    except ValueError:
        return False
    return start_ahead(case, dbu, values.get("--map-method", params["map_method"].default.default))
