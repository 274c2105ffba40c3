"""`eda topo` commands: train the topology GPT, generate circuits, check netlists."""

from __future__ import annotations

from pathlib import Path

import typer

from eda.cli.options import float_range, in_file, out_dir, out_file, seed_option, threads_option

app = typer.Typer(no_args_is_help=True)


@app.command()
def train(
    data: str = typer.Option("builtin", help="'builtin' (library + composed circuits), a library folder "
                                             "(<type>/<name>.cir) or a public dataset folder (N/N.cir + PortN.txt; "
                                             "the built-in library is added)."),
    out: Path = typer.Option(Path("out/topo/topology_gpt.pt"), callback=out_file, help="Checkpoint to write."),
    compose: int = typer.Option(None, min=0, help="Composed circuits added (default: 800 with builtin, 0 with a "
                                                  "folder)."),
    steps: int = typer.Option(1000, min=1, help="Optimiser steps."),
    tours: int = typer.Option(2, min=1, help="Euler tours per circuit (augmentation)."),
    batch_tokens: int = typer.Option(6144, min=64, help="Tokens per batch."),
    lr: float = typer.Option(2e-3, parser=float_range(0, 1, lo_open=True), help="Peak learning rate."),
    n_layer: int = typer.Option(3, min=1, help="Transformer layers."),
    n_head: int = typer.Option(4, min=1, help="Attention heads."),
    n_embd: int = typer.Option(128, min=8, help="Model width."),
    block_size: int = typer.Option(1024, min=16, help="Longest sequence in tokens (the largest public circuit, "
                                                     "72 devices, needs 988 in full-tour form)."),
    length_embed: bool = typer.Option(True, help="Tell the model the tokens left in its length budget."),
    grammar_loss: bool = typer.Option(True, help="Score each token only against the grammar's legal tokens."),
    save_every: int = typer.Option(50, min=0, help="Save the checkpoint every N steps (0: only at the end)."),
    device: str = typer.Option("cpu", help="cpu or cuda (a GPU torch sees)."),
    seed: int = seed_option(0),
    threads: int = threads_option(1, "Torch CPU threads (1 is fastest on a busy shared machine; 0: torch "
                                     "default)."),
) -> None:
    """Train the topology GPT on DATA and save a checkpoint (weights, config, vocabulary, training tours)."""
    from eda.errors import InputError
    from eda.generators.topology_gpt import GPTConfig
    from eda.generators.topology_train import TrainParams, load_training_topologies
    from eda.generators.topology_train import train as train_gpt

    if device not in ("cpu", "cuda"):
        raise InputError(f"--device: expected cpu or cuda, got {device!r}")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise InputError("--device cuda: torch sees no GPU here (use --device cpu)")
    if compose is None:
        compose = 800 if data == "builtin" else 0
    errors: list = []
    tops = load_training_topologies(data, compose, seed, errors=errors)
    for f, why in errors:
        typer.echo(f"skipped {f}: {why}")
    typer.echo(f"{len(tops)} training topologies ({len(errors)} netlists skipped)")
    config = GPTConfig(n_layer=n_layer, n_head=n_head, n_embd=n_embd, block_size=block_size,
                       length_embed=length_embed)
    params = TrainParams(steps=steps, tours=tours, batch_tokens=batch_tokens, lr=lr, seed=seed, threads=threads,
                         grammar_loss=grammar_loss, device=device)
    model, _, hist = train_gpt(tops, config, params, checkpoint=out, save_every=save_every,
                               meta={"data": {"data": str(data), "compose": compose, "seed": seed,
                                              "netlists_skipped": len(errors)}},
                               log=typer.echo, progress=False)
    for f, why in hist.skipped_files:
        typer.echo(f"not encoded {f}: {why}")
    val = f", val loss {hist.val_loss[-1][1]:.3f}" if hist.val_loss else ""
    typer.echo(f"{model.n_params()} parameters, {hist.n_sequences} sequences, {hist.seconds:.0f} s, "
               f"train loss {hist.train_loss[-1]:.3f}{val} -> {out}")


@app.command()
def generate(
    n: int = typer.Option(100, min=1, help="Circuits to sample."),
    ctype: str = typer.Option(None, "--type", help="Condition on a circuit type (e.g. opamp, ldo, bandgap)."),
    temperature: float = typer.Option(1.0, parser=float_range(0, 100, lo_open=True), help="Sampling temperature."),
    model: Path = typer.Option(None, callback=in_file, help="Checkpoint (default: the shipped pretrained model)."),
    out: Path = typer.Option(Path("out/topo/generated"), callback=out_dir, help="Output folder."),
    grammar: bool = typer.Option(True, help="Grammar-constrained decoding."),
    simulate: bool = typer.Option(True, help="Check rule-clean circuits with an ngspice operating point."),
    seed: int = seed_option(0, "Sampling seed."),
    threads: int = threads_option(1, "Torch threads of the model's steps while sampling (2: both cores of an "
                                     "idle 2-core machine; 1 when the other core is busy)."),
    force: bool = typer.Option(False, help="Run even when the estimated time is over the limit."),
) -> None:
    """Sample circuits; write each valid one as a simulatable SPICE deck, report.json and gallery.png.

    Refuses a run estimated to take longer than 30 minutes on a 2-core machine (about 20,000
    circuits with ngspice) unless --force.
    """
    import json

    from eda.errors import InputError
    from eda.generators.topology_checkpoint import load_checkpoint
    from eda.generators.topology_report import GENERATE_LIMIT_S, GenerateParams, estimate_seconds
    from eda.generators.topology_report import generate as gen

    est = estimate_seconds(n, simulate)
    if est > GENERATE_LIMIT_S and not force:
        raise InputError(f"--n: {n} circuits would take about {est / 60:.0f} min here (limit "
                         f"{GENERATE_LIMIT_S / 60:.0f} min); sample fewer or pass --force")
    m, vocab, ck = load_checkpoint(model)
    rep = gen(m, vocab, ck, GenerateParams(n=n, ctype=ctype, temperature=temperature, grammar=grammar,
                                           simulate=simulate, seed=seed, threads=threads), out, progress=True)
    keys = ["n", "decoded", "erc_clean", "valid", "unique", "novel", "mean_devices", "max_devices",
            "circuits_per_s_sample_erc"]
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
    from eda.generators.topology_checkpoint import load_checkpoint
    from eda.generators.topology_report import GenerateParams
    from eda.generators.topology_report import generate as gen

    m, vocab, ck = load_checkpoint()
    dest = Path(out) / "topo"
    rep = gen(m, vocab, ck, GenerateParams(n=64, seed=0), dest)
    typer.echo(f"sampled {rep['n']} circuits: {rep['valid']:.0%} valid (ERC + ngspice), "
               f"{rep['unique']:.0%} unique, {rep['novel']:.0%} novel, largest {rep['max_devices']} devices, "
               f"{rep['circuits_per_s_sample_erc']:.1f} circuits/s -> {dest}")
    return {k: rep[k] for k in ("n", "valid", "unique", "novel", "max_devices", "circuits_per_s_sample_erc")}
