"""`eda acim` commands."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from eda.cli.options import in_dir, in_file, out_dir, seed_option

app = typer.Typer(no_args_is_help=True)


# --- explore (design-space exploration; eda.generators.acim_dse) ------------------------------


def _print_design(title: str, d: dict) -> None:
    from eda.generators.acim_demo import design_line

    typer.echo(design_line(title, d))


@app.command()
def explore(rows: int = typer.Option(64, "--rows", min=2, help="Array rows H (inputs per column)."),
            cols: int = typer.Option(64, "--cols", min=1, help="Array columns W."),
            input_bits: int = typer.Option(4, min=1, max=16, help="Input precision (bit-serial)."),
            weight_bits: int = typer.Option(4, min=1, max=16, help="Weight precision (bit-sliced over columns)."),
            pop: int = typer.Option(100, min=4, help="NSGA-II population."),
            gens: int = typer.Option(100, min=1, help="NSGA-II generations."),
            seed: int = seed_option(1, "Random seed (same seed, same front)."),
            cells: Path = typer.Option(None, callback=in_dir,
                                       help="Cell library folder (manifest.json); default: sky130."),
            constraint: list[str] = typer.Option([], "--constraint", "-c",
                                                 help="Constraint during the search, e.g. 'snr_db>=20' "
                                                      "(repeatable)."),
            require: list[str] = typer.Option(["snr_db>=20"], "--require",
                                              help="Preference pick: requirement on the front (repeatable)."),
            prefer: str = typer.Option("min:area_mm2", help="Preference pick: then best by this metric "
                                       "(min:METRIC or max:METRIC)."),
            max_local: int = typer.Option(64, min=1, help="Largest local array size L."),
            max_adc_bits: int = typer.Option(8, min=1, max=16, help="Largest ADC resolution."),
            max_adc_share: int = typer.Option(8, min=1, help="Most columns sharing one ADC."),
            out: Path = typer.Option(..., "--out", callback=out_dir, help="Output folder."),
            progress: bool = typer.Option(True, help="Show a progress bar.")) -> None:
    """NSGA-II over local array size, ADC bits, ADC sharing, supply and clock: writes pareto.csv,
    pareto.json, pareto.png and exploration.json under OUT, prints the best design per objective
    and the preferred pick (the index `eda acim build --from-pareto OUT/pareto.json --pick N` takes)."""
    from eda.generators import acim_dse as dse
    from eda.generators.acim_model import load_cell_sizes

    spec = dse.ExploreSpec(rows=rows, cols=cols, input_bits=input_bits, weight_bits=weight_bits, pop=pop, gens=gens,
                       seed=seed, max_local=max_local, max_adc_bits=max_adc_bits, max_adc_share=max_adc_share,
                       requirements=tuple(constraint))
    sizes = load_cell_sizes(cells)
    res = dse.explore(spec, sizes, progress=progress)
    typer.echo(f"{res.n_evals} designs evaluated in {res.seconds:.2f} s, {int(res.archive_feasible.sum())} "
               f"feasible, {len(res.designs)} on the Pareto front (cells: {sizes.source or 'default'})")
    if sizes.max_adc_bits is not None and sizes.max_adc_bits < max_adc_bits:
        typer.echo(f"ADC resolution limited to {sizes.max_adc_bits} bits by the cell library's column template")
    if sizes.max_adc_share is not None and sizes.max_adc_share < max_adc_share:
        typer.echo(f"ADC sharing limited to {sizes.max_adc_share} column(s) per ADC by the cell library's template "
                   "(every design on the front is buildable)")
    for k, d in dse.best_per_objective(res.designs).items():
        _print_design(f"best {k}", d)
    chosen, err = None, None
    try:
        chosen = dse.pick(res.designs, require, prefer)
    except dse.InfeasibleError as e:
        err = e
    paths = dse.write_pareto(res, out, chosen)
    if chosen is not None:
        _print_design(f"picked ({', '.join(require)}; {prefer})", chosen)
        typer.echo(f"build it: eda acim build --from-pareto {paths['json']} --pick {chosen['index']}")
    typer.echo("wrote " + ", ".join(str(p) for p in paths.values()))
    if err is not None:
        raise err


# --- build (layout synthesis; eda.layout.build) ---------------------------------------------


def _explored_design(rows: int, cols: int, local: int | None, adc_bits: int | None, cells: Path | None):
    """`eda acim explore`'s default pick (SNR >= 20 dB, then least area) for a rows x cols workload,
    among the front designs matching the given --local/--adc-bits."""
    from eda.errors import InputError
    from eda.generators import acim_dse as dse
    from eda.generators.acim_model import load_cell_sizes
    from eda.layout.build import check_budget
    from eda.layout.macro import MacroParams

    # no exploring of absurd sizes: even the cheapest design (largest L, 1 bit) must fit the limits
    check_budget(MacroParams(rows, cols, local or min(rows, 64), adc_bits or 1), check=False)
    res = dse.explore(dse.ExploreSpec(rows=rows, cols=cols), load_cell_sizes(cells), progress=False)
    designs = [d for d in res.designs if (local is None or d["params"]["local_array"] == local)
               and (adc_bits is None or d["params"]["adc_bits"] == adc_bits)]
    if not designs:
        raise InputError(f"no design on the {rows}x{cols} Pareto front has "
                         + " and ".join(f"{k}={v}" for k, v in (("local", local), ("adc_bits", adc_bits)) if v)
                         + "; give both --local and --adc-bits", file="command line")
    d = dse.pick(designs, ["snr_db>=20"], "min:area_mm2")
    _print_design("default design", d)
    q = d["params"]
    return MacroParams(rows, cols, int(q["local_array"]), int(q["adc_bits"]), int(q.get("adc_share", 1)))


@app.command()
def build(rows: int = typer.Option(None, "--rows", help="Array rows H."),
          cols: int = typer.Option(None, "--cols", help="Array columns W."),
          local: int = typer.Option(None, "--local", help="Local array size L (bitcells per compute cell)."),
          adc_bits: int = typer.Option(None, "--adc-bits", help="SAR ADC bits B (1-8)."),
          adc_share: int = typer.Option(None, "--adc-share", help="Columns sharing one SAR ADC through a column "
                                        "multiplexer (divides --cols; default 1, or the explored pick's)."),
          from_pareto: Path = typer.Option(None, "--from-pareto", callback=in_file,
                                           help="pareto.json of `eda acim explore`."),
          pick: int = typer.Option(0, "--pick", help="Design index in --from-pareto."),
          cells: Path = typer.Option(None, "--cells", callback=in_dir,
                                     help="User cell library folder (overrides default cells)."),
          out: Path = typer.Option(..., "--out", callback=out_dir, help="Output folder."),
          check: bool = typer.Option(True, help="Run DRC and LVS."),
          render: bool = typer.Option(True, help="Write macro.png and macro_tile.png."),
          pair_rows: bool = typer.Option(True, "--pair-rows/--one-bit-rows",
                                         help="Two bits of a column per template row where the macro comes out "
                                              "smaller (default), or one bit per row."),
          force: bool = typer.Option(False, "--force", help="Build even beyond the size limits (estimated "
                                     "time > 600 s or memory > 8 GiB).")) -> None:
    """Place and route an ACIM macro in sky130 from the cell library; write macro.gds, macro.spice,
    drc.json/.lyrdb, lvs.json/.lvsdb, macro.png and summary.json under OUT. Exit status 1 if DRC or
    LVS fails. Without --local/--adc-bits, the design is `eda acim explore`'s default pick for the
    workload (--rows/--cols, default 64x64) among the designs the cell library builds."""
    from eda.errors import InputError
    from eda.layout.build import build as run_build
    from eda.layout.build import params_from_pareto
    from eda.layout.library import load_library
    from eda.layout.macro import MacroParams

    given = {"rows": rows, "cols": cols, "local": local, "adc_bits": adc_bits, "adc_share": adc_share}
    for k, v in given.items():
        if v is not None and v < 1:
            raise InputError(f"{v}: expected a positive integer", file="--" + k.replace("_", "-"))
    if from_pareto is not None:
        p = params_from_pareto(from_pareto, pick)
        for k, v in given.items():
            if v is not None and v != getattr(p, k):
                raise InputError(f"--{k.replace('_', '-')} {v} contradicts design {pick} ({k}={getattr(p, k)})",
                                 file=from_pareto)
    elif local is None or adc_bits is None:
        p = _explored_design(64 if rows is None else rows, 64 if cols is None else cols, local, adc_bits, cells)
    else:
        p = MacroParams(64 if rows is None else rows, 64 if cols is None else cols, local, adc_bits,
                        1 if adc_share is None else adc_share)
    p = replace(p, pair_rows=pair_rows)
    s = run_build(p, out, lib=load_library(cells, shared=p.adc_share > 1), check=check, render=render,
                  force=force)
    typer.echo(f"{p.rows}x{p.cols} L={p.local} B={p.adc_bits} S={p.adc_share}: "
               f"{s['width_um']:.1f} x {s['height_um']:.1f} µm = "
               f"{s['area_mm2']:.4f} mm², {s['um2_per_bit']:.1f} µm²/bit ({s['F2_per_bit']:.0f} F²/bit), "
               f"{s['bits_per_row']} bit(s) per row")
    state = {True: "clean", False: "FAILED", None: "not run"}
    typer.echo(f"DRC {state[s['drc_clean']]}, LVS {state[s['lvs_clean']]}; times {s['times_s']} → {out}")
    if check and not (s["drc_clean"] and s["lvs_clean"]):
        raise typer.Exit(1)
