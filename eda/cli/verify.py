"""`eda verify` commands: DRC and LVS of any layout with KLayout, in-process."""

from __future__ import annotations

from pathlib import Path

import typer

from eda.cli.options import in_file, out_file

app = typer.Typer(no_args_is_help=True)


@app.command()
def drc(gds: Path = typer.Argument(..., help="GDS/OASIS layout.", callback=in_file),
        tech: str = typer.Option("sky130", "--tech", help="Technology."),
        top: str = typer.Option(None, "--top", help="Top cell (default: the only top cell)."),
        report: Path = typer.Option(None, "--report", callback=out_file, help="KLayout marker database (.lyrdb)."),
        json_out: Path = typer.Option(None, "--json", callback=out_file, help="Write the result as JSON."),
        deck: Path = typer.Option(None, "--deck", help="Run this KLayout DRC deck (e.g. sky130A_mr.drc) "
                                  "with the klayout binary instead of the in-process rule table."),
        define: list[str] = typer.Option([], "--define", "-D",
                                         help="Deck variable NAME=VALUE (repeatable); default for --deck: "
                                              "feol=true beol=true offgrid=true."),
        timeout: float = typer.Option(None, "--timeout", help="Stop the deck run after this many seconds.")
        ) -> None:
    """Check every rule of the technology table (deep mode), or run a KLayout deck through the
    klayout binary (--deck); exit 1 on violations."""
    from eda.errors import InputError
    from eda.verify.drc import run_drc

    if deck is None:
        if define:
            raise InputError("--define needs --deck", file="--define")
        r = run_drc(gds, tech, top=top, report=report)
    else:
        from eda.verify.deck import run_deck

        defs = {}
        for d in define:
            k, eq, v = d.partition("=")
            if not eq or not k.strip():
                raise InputError(f"{d!r}: expected NAME=VALUE", file="--define")
            defs[k.strip()] = v
        r = run_deck(gds, deck, report=report, defines=defs or None, timeout_s=timeout)
    if json_out:
        r.write_json(json_out)
    for v in r.violations:
        loc = ", ".join(f"({b[0]:.3f},{b[1]:.3f})" for b in v.locations[:3])
        typer.echo(f"{v.rule:<12} {v.count:>6}  {v.text}  at {loc}")
    typer.echo(f"DRC {'clean' if r.clean else f'{r.count} violations'}: {len(r.rules_checked)} rules on "
               f"{r.top} in {r.seconds:.2f} s")
    if not r.clean:
        raise typer.Exit(1)


@app.command()
def lvs(gds: Path = typer.Argument(..., help="GDS/OASIS layout.", callback=in_file),
        spice: Path = typer.Argument(..., help="Reference SPICE netlist (top cell as subckt or top level).",
                                     callback=in_file),
        tech: str = typer.Option("sky130", "--tech", help="Technology."),
        top: str = typer.Option(None, "--top", help="Top cell."),
        report: Path = typer.Option(None, "--report", callback=out_file, help="KLayout LVS database (.lvsdb)."),
        json_out: Path = typer.Option(None, "--json", callback=out_file, help="Write the result as JSON.")) -> None:
    """Extract devices and nets and compare with SPICE; exit 1 on a mismatch or extraction error."""
    from eda.verify.lvs import run_lvs

    r = run_lvs(gds, spice, tech, top=top, report=report)
    if json_out:
        r.write_json(json_out)
    for m in r.mismatches[:40]:
        typer.echo(f"mismatch: {m}")
    for e in r.extraction_errors[:40]:
        typer.echo(f"extraction: {e}")
    typer.echo(f"LVS {'clean' if r.clean else 'FAILED'}: {r.top}, {r.devices_layout} layout / "
               f"{r.devices_reference} reference devices (per circuit), {r.seconds:.2f} s")
    if not r.clean:
        raise typer.Exit(1)
