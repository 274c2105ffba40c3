"""`eda spice` commands."""

from __future__ import annotations

from pathlib import Path

import typer

from eda.cli.options import in_file, out_file

app = typer.Typer(no_args_is_help=True)


@app.command()
def check(files: list[Path] = typer.Argument(..., help="SPICE netlists to parse.", callback=in_file),
          cadence: bool = typer.Option(False, help="Files have no title line (Cadence-form bodies).")) -> None:
    """Parse each FILE; print device/net counts, or the error with file:line. Exit 1 if any fails."""
    from eda.errors import SpiceParseError
    from eda.read.from_spice import read_spice

    failed = 0
    for f in files:
        try:
            c = read_spice(f, title=not cadence)
        except SpiceParseError as e:
            failed += 1
            typer.secho(f"FAIL {e.one_line()}", fg="red")
            continue
        n_dev = len(c.devices) + sum(len(s.devices) for s in c.subckts)
        counts = ", ".join(f"{v} {k}" for k, v in sorted(c.counts().items()))
        typer.echo(f"ok   {f}: {n_dev} devices, {len(c.nets)} nets, {len(c.subckts)} subckts"
                   + (f" ({counts})" if counts else ""))
    if failed:
        typer.echo(f"{failed} of {len(files)} files failed")
        raise typer.Exit(1)


@app.command()
def convert(src: Path = typer.Argument(..., help="Netlist to read.", callback=in_file),
            dst: Path = typer.Argument(..., help="SPICE file to write.", callback=out_file),
            cadence: bool = typer.Option(False, help="SRC has no title line (Cadence-form body)."),
            pdk: str = typer.Option(None, help="Map the devices onto this PDK's real models (sky130). A topology "
                                               "(Cadence N.cir with PortN.txt, or *.ports header, no sources) "
                                               "gets a test bench: supplies, biases, default sizes, .op."),
            corner: str = typer.Option("tt", help="Process corner with --pdk (tt, ff, ss, sf, fs).")) -> None:
    """Read SRC (SPICE or Cadence instance form) and write ngspice-compatible SPICE to DST."""
    from eda.export.to_spice import write_spice
    from eda.read.from_spice import read_spice

    if pdk is None:
        write_spice(read_spice(src, title=not cadence), dst)
    else:
        from eda.generators.topology_check import sky130_netlist

        write_spice(sky130_netlist(src, pdk=pdk, corner=corner), dst)
    typer.echo(f"wrote {dst}")


@app.command()
def op(file: Path = typer.Argument(..., help="SPICE netlist with its sources.", callback=in_file)) -> None:
    """Operating point of FILE in ngspice: prints node voltages as JSON."""
    import json

    from eda.errors import SimulationError
    from eda.read.from_spice import read_spice
    from eda.sim.ngspice import operating_point

    c = read_spice(file)
    try:
        v = operating_point(c)
    except SimulationError as e:
        raise SimulationError(f"{file}: {e}") from None
    typer.echo(json.dumps(v, indent=2))
