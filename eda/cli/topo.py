"""`eda topo` commands: train the topology GPT, generate circuits, check netlists."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


def load_training_topologies(data: str, compose: int, seed: int) -> list:
    """``builtin`` (library + ``compose`` composed circuits), a library folder (``*/*.cir``) or a
    public dataset folder (``N/N.cir`` + ``PortN.txt``)."""
    from eda.errors import InputError
    from eda.generators.topology_compose import ComposeParams, compose_family
    from eda.read.topology_dataset import load_library, read_topology_dataset

    if data == "builtin":
        tops = load_library()
        if compose:
            tops += compose_family(compose, seed=10_000 + seed, params=ComposeParams(simulate=False),
                                   progress=True)
        return tops
    root = Path(data)
    if not root.is_dir():
        raise InputError("expected 'builtin' or a folder of topologies", file=root)
    if any(root.glob("*/*.cir")) and not any((d / f"{d.name}.cir").is_file() for d in root.iterdir() if d.is_dir()):
        return load_library(root)
    errors: list = []
    tops = list(read_topology_dataset(root, on_error="skip", errors=errors))
    if errors:
        typer.echo(f"skipped {len(errors)} netlists that do not parse (first: {errors[0][1]})")
    return tops


@app.command()
def train(
    data: str = typer.Option("builtin", help="'builtin' (library + composed circuits) or a folder."),
    out: Path = typer.Option(Path("out/topo/topology_gpt.pt"), help="Checkpoint to write."),
    compose: int = typer.Option(800, help="Composed circuits added to the builtin library."),
    steps: int = typer.Option(1500, help="Optimiser steps."),
    tours: int = typer.Option(4, help="Euler tours per circuit (augmentation)."),
    batch_tokens: int = typer.Option(4096, help="Tokens per batch."),
    lr: float = typer.Option(3e-3, help="Peak learning rate."),
    n_layer: int = typer.Option(2, help="Transformer layers."),
    n_head: int = typer.Option(4, help="Attention heads."),
    n_embd: int = typer.Option(96, help="Model width."),
    block_size: int = typer.Option(640, help="Longest sequence in tokens."),
    length_embed: bool = typer.Option(True, help="Tell the model the tokens left in its length budget."),
    grammar_loss: bool = typer.Option(True, help="Score each token only against the grammar's legal tokens."),
    seed: int = typer.Option(0, help="Seed."),
    threads: int = typer.Option(1, help="Torch CPU threads (1 is fastest on a busy shared machine; 0: torch default)."),
) -> None:
    """Train the topology GPT on DATA and save a checkpoint (weights, config, vocabulary)."""
    from eda.generators.topology_gpt import GPTConfig, TrainParams, save_checkpoint
    from eda.generators.topology_gpt import train as train_gpt

    tops = load_training_topologies(data, compose, seed)
    typer.echo(f"{len(tops)} training topologies")
    model, _, hist, ck = train_gpt(
        tops, GPTConfig(n_layer=n_layer, n_head=n_head, n_embd=n_embd, block_size=block_size,
                        length_embed=length_embed),
        TrainParams(steps=steps, tours=tours, batch_tokens=batch_tokens, lr=lr, seed=seed, threads=threads,
                    grammar_loss=grammar_loss))
    ck["meta"]["data"] = {"data": data, "compose": compose, "seed": seed}
    save_checkpoint(ck, out)
    val = f", val loss {hist.val_loss[-1][1]:.3f}" if hist.val_loss else ""
    typer.echo(f"{model.n_params()} parameters, {hist.n_sequences} sequences, {hist.seconds:.0f} s, "
               f"train loss {hist.train_loss[-1]:.3f}{val} -> {out}")


@app.command()
def generate(
    n: int = typer.Option(100, help="Circuits to sample."),
    ctype: str = typer.Option(None, "--type", help="Condition on a circuit type (e.g. opamp1, ldo)."),
    temperature: float = typer.Option(1.0, help="Sampling temperature."),
    model: Path = typer.Option(None, help="Checkpoint (default: the shipped pretrained model)."),
    out: Path = typer.Option(Path("out/topo/generated"), help="Output folder."),
    grammar: bool = typer.Option(True, help="Grammar-constrained decoding."),
    simulate: bool = typer.Option(True, help="Check ERC-clean circuits with an ngspice operating point."),
    seed: int = typer.Option(0, help="Sampling seed."),
    threads: int = typer.Option(1, help="Torch threads of the model's steps while sampling (2: both cores of "
                                        "an idle 2-core machine; 1 when the other core is busy)."),
) -> None:
    """Sample circuits; write each valid one as a simulatable SPICE deck, report.json and gallery.png."""
    import json

    from eda.generators.topology_gpt import GenerateParams, load_checkpoint
    from eda.generators.topology_gpt import generate as gen

    m, vocab, ck = load_checkpoint(model)
    rep = gen(m, vocab, ck, GenerateParams(n=n, ctype=ctype, temperature=temperature, grammar=grammar,
                                           simulate=simulate, seed=seed, threads=threads), out, progress=True)
    keys = ["n", "decoded", "erc_clean", "valid", "unique", "novel", "max_devices", "circuits_per_s_sample_erc"]
    typer.echo(json.dumps({k: rep[k] for k in keys}, indent=1))
    typer.echo(f"wrote {len(rep.get('files', []))} SPICE decks, report.json and gallery.png to {out}")


@app.command()
def check(
    netlists: list[Path] = typer.Argument(..., help="Netlists (library form, SPICE, or Cadence N.cir bodies)."),
    simulate: bool = typer.Option(True, help="Also require an ngspice operating point."),
) -> None:
    """Check each netlist: electrical rules and ngspice; say why each fails. Exit 1 if any fails."""
    import re

    from eda.errors import InputError
    from eda.generators.topology_check import check_circuit
    from eda.read.topology_dataset import parse_topology

    failed = 0
    for f in netlists:
        try:
            text = f.read_text(errors="replace")
            first = next((ln for ln in text.splitlines() if ln.strip()), "")
            body = bool(re.match(r"^\s*\w+\s*\(", first))  # Cadence body: no title line
            ports = None
            pf = f.parent / f"Port{f.stem}.txt"
            if pf.is_file():
                ports = tuple(pf.read_text().split())
            t = parse_topology(text, f.stem, f, ports=ports, title=not body)
            # a simulation deck's own supplies and bias sources are replaced by the checker's
            t.circuit.devices = [d for d in t.circuit.devices if d.kind not in "VI"]
            r = check_circuit(t.circuit, f.name, run_sim=simulate)
        except (InputError, OSError) as e:
            failed += 1
            typer.secho(f"FAIL {f}: {e}", fg="red")
            continue
        if r.valid:
            typer.echo(f"ok   {f}: {r.n_devices} devices" + ("" if simulate else " (ERC only)"))
        else:
            failed += 1
            typer.secho(f"FAIL {f}: " + "; ".join(r.reasons), fg="red")
    if failed:
        typer.echo(f"{failed} of {len(netlists)} netlists failed")
        raise typer.Exit(1)


def demo(out: Path) -> dict:
    """Train-free generation with the shipped model: 64 circuits, report and gallery."""
    from eda.generators.topology_gpt import GenerateParams, load_checkpoint
    from eda.generators.topology_gpt import generate as gen

    m, vocab, ck = load_checkpoint()
    dest = Path(out) / "topo"
    rep = gen(m, vocab, ck, GenerateParams(n=64, seed=0), dest)
    typer.echo(f"sampled {rep['n']} circuits: {rep['valid']:.0%} valid (ERC + ngspice), "
               f"{rep['unique']:.0%} unique, {rep['novel']:.0%} novel, largest {rep['max_devices']} devices, "
               f"{rep['circuits_per_s_sample_erc']:.1f} circuits/s -> {dest}")
    return {k: rep[k] for k in ("n", "valid", "unique", "novel", "max_devices", "circuits_per_s_sample_erc")}
