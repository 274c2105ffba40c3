"""`eda topo` commands: train the topology GPT, generate circuits, check netlists."""

from __future__ import annotations

from pathlib import Path

import typer

from eda.cli.options import float_range, in_dir, in_file, out_dir, out_file, seed_option, threads_option

app = typer.Typer(no_args_is_help=True)


@app.command()
def train(
    data: str = typer.Option("builtin", help="'builtin' (library + composed circuits), a library folder "
                                             "(<type>/<name>.cir) or a public dataset folder (N/N.cir + PortN.txt; "
                                             "the built-in library is added)."),
    out: Path = typer.Option(Path("out/topo/topology_gpt.pt"), callback=out_file, help="Checkpoint to write."),
    compose: int = typer.Option(None, min=0, help="Composed circuits added (default: 800 with builtin, 0 with a "
                                                  "folder)."),
    steps: int = typer.Option(800, min=1, help="Optimiser steps (the learning-rate schedule's length)."),
    stop_after: int = typer.Option(None, min=1, help="Stop after N steps of that schedule (the weights of a full "
                                                     "run's step-N checkpoint)."),
    tours: int = typer.Option(2, min=1, help="Euler tours per circuit (augmentation)."),
    batch_tokens: int = typer.Option(6144, min=64, help="Tokens per batch."),
    lr: float = typer.Option(2e-3, parser=float_range(0, 1, lo_open=True), help="Peak learning rate."),
    n_layer: int = typer.Option(3, min=1, help="Transformer layers."),
    n_head: int = typer.Option(4, min=1, help="Attention heads."),
    n_embd: int = typer.Option(128, min=8, help="Model width."),
    n_kv_head: int = typer.Option(1, min=1, help="Key/value heads (1: multi-query attention, fastest sampling)."),
    block_size: int = typer.Option(1152, min=16, help="Longest sequence in tokens (the longest training tour of "
                                                     "the public set, 72 devices, is 1,046 in full-tour form)."),
    length_embed: bool = typer.Option(True, help="Tell the model the tokens left in its length budget."),
    type_embed: bool = typer.Option(True, help="Add the circuit type's embedding to every position (stronger "
                                               "type conditioning)."),
    grammar_loss: bool = typer.Option(True, help="Score each token only against the grammar's legal tokens."),
    save_every: int = typer.Option(50, min=0, help="Save the checkpoint every N steps (0: only at the end)."),
    device: str = typer.Option("cpu", help="cpu or cuda (a GPU torch sees)."),
    sample_temperature: float = typer.Option(1.0, parser=float_range(0, 100, lo_open=True),
                                             help="Sampling temperature the checkpoint ships with."),
    sample_guidance: float = typer.Option(0.0, parser=float_range(0, 20),
                                          help="Type guidance weight the checkpoint ships with."),
    seed: int = seed_option(0),
    threads: int = threads_option(1, "Torch CPU threads (1 is fastest on a busy shared machine; 0: torch "
                                     "default)."),
    init: Path = typer.Option(None, callback=in_file, help="Fine-tune: start from this checkpoint's weights, "
                                                           "config and vocabulary (the model options are ignored)."),
    balance: float = typer.Option(0.0, parser=float_range(0, 1), help="Type-balanced sampling of training tours: "
                                  "weight n_type^-balance (0: natural shares, 1: every type equally often)."),
    balance_floor: int = typer.Option(30, min=1, help="Types with fewer circuits are weighted as if they had this "
                                                      "many."),
    natural_any: bool = typer.Option(False, help="With --balance: drop type tokens so that the <type:any> rows keep "
                                     "the natural type mix (unconditioned samples follow the data)."),
    types: str = typer.Option(None, help="Train only on circuits of these types (comma-separated labels; "
                              "'opamp-family': opamp, opamp1, opamp2, folded_cascode, telescopic), e.g. an "
                              "op-amp specialist fine-tuned with --init."),
    opamp_subtypes: bool = typer.Option(False, help="Circuits labelled only 'opamp' (the public set's op-amp "
                                        "chapters) train under the sub-type their structure shows: opamp1, opamp2, "
                                        "folded_cascode or telescopic (input pair, cascodes, stages)."),
    drawable_pool: int = typer.Option(0, min=0, max=64, help="N > 0: of N x --tours tours drawn per circuit, train "
                                      "on at most --tours that the sampling grammar accepts token by token (the "
                                      "orders a sampler can draw; circuits with none are dropped)."),
    dropout: float = typer.Option(0.0, parser=float_range(0, 1, hi_open=True), help="Dropout while training (a new "
                                  "model; a fine-tune keeps its init's)."),
    time_budget: float = typer.Option(None, parser=float_range(0, 1e7, lo_open=True), help="Train for this many "
                                      "seconds after preparation: the schedule runs on the larger of step/--steps "
                                      "and elapsed/budget (for a GPU run of unknown speed; the steps done are "
                                      "recorded in the checkpoint)."),
    val_points: int = typer.Option(5, min=1, max=1000, help="Validation-loss evaluations per run."),
    keep_best: bool = typer.Option(False, help="Keep the weights of the lowest validation loss seen (early "
                                               "stopping), not the last step's."),
    workers: int = typer.Option(1, min=1, max=256, help="Processes preparing the tours and grammar masks (same "
                                                        "result for any number)."),
) -> None:
    """Train the topology GPT on DATA and save a checkpoint (weights, config, vocabulary, training tours)."""
    from eda.errors import InputError
    from eda.generators.topology_gpt import GPTConfig
    from eda.generators.topology_train import TrainParams, load_training_topologies, parse_types
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
    only = parse_types(types)
    tops = load_training_topologies(data, compose, seed, errors=errors, types=only, opamp_subtypes=opamp_subtypes)
    for f, why in errors:
        typer.echo(f"skipped {f}: {why}")
    kept = f" of types {', '.join(only)}" if only else ""
    typer.echo(f"{len(tops)} training topologies{kept} ({len(errors)} netlists skipped)")
    if not tops:
        raise InputError(f"--types: no training circuit of types {', '.join(only or ())}")
    config = GPTConfig(n_layer=n_layer, n_head=n_head, n_embd=n_embd, n_kv_head=n_kv_head, block_size=block_size,
                       length_embed=length_embed, type_embed=type_embed, dropout=dropout)
    params = TrainParams(steps=steps, stop_after=stop_after, tours=tours, batch_tokens=batch_tokens, lr=lr, seed=seed,
                         threads=threads, grammar_loss=grammar_loss, device=device, balance=balance,
                         balance_floor=balance_floor, natural_any=natural_any, drawable_pool=drawable_pool,
                         time_budget=time_budget, val_points=val_points, keep_best=keep_best, workers=workers)
    start, vocab, extra = None, None, {}
    if init is not None:
        import hashlib

        from eda.generators.topology_checkpoint import load_checkpoint

        start, vocab, ck0 = load_checkpoint(init)
        start.train()
        # the whole chain of fine-tunes, oldest first: the init's own init and its ancestors
        before = dict((ck0.get("meta") or {}).get("init") or {})
        ancestors = before.pop("ancestors", []) + ([before] if before else [])
        extra = {"init": {"path": str(init), "sha256": hashlib.sha256(init.read_bytes()).hexdigest(),
                          "ancestors": ancestors}}
    model, _, hist = train_gpt(tops, config, params, vocab=vocab, checkpoint=out, save_every=save_every,
                               meta={"data": {"data": str(data), "compose": compose, "seed": seed,
                                              "netlists_skipped": len(errors), "types": list(only or []),
                                              "opamp_subtypes": opamp_subtypes},
                                     "sampling": {"temperature": sample_temperature, "guidance": sample_guidance},
                                     **extra},
                               log=typer.echo, progress=False, init=start)
    for f, why in hist.skipped_files:
        typer.echo(f"not encoded {f}: {why}")
    val = f", val loss {hist.val_loss[-1][1]:.3f}" if hist.val_loss else ""
    if hist.best_step is not None:
        low = dict(hist.val_loss)[hist.best_step]
        val = f", val loss {low:.3f} at step {hist.best_step} (kept; last {hist.val_loss[-1][1]:.3f})"
    typer.echo(f"{model.n_params()} parameters, {hist.n_sequences} sequences, {hist.steps_done} steps, "
               f"{hist.seconds:.0f} s, "
               f"train loss {hist.train_loss[-1]:.3f}{val} -> {out}")


@app.command()
def generate(
    n: int = typer.Option(100, min=1, help="Circuits to sample."),
    ctype: str = typer.Option(None, "--type", help="Condition on a circuit type (e.g. opamp, ldo, bandgap)."),
    temperature: float = typer.Option(None, parser=float_range(0, 100, lo_open=True),
                                      help="Sampling temperature (default: the checkpoint's, 1 if none)."),
    model: Path = typer.Option(None, callback=in_file, help="Checkpoint (default: the shipped model for --type: "
                                                            "the op-amp specialist for opamp, opamp1, opamp2, "
                                                            "folded_cascode, telescopic; else the general model)."),
    out: Path = typer.Option(Path("out/topo/generated"), callback=out_dir, help="Output folder."),
    grammar: bool = typer.Option(True, help="Grammar-constrained decoding."),
    simulate: bool = typer.Option(True, help="Check rule-clean circuits with an ngspice operating point."),
    pdk: str = typer.Option("sky130", help="Devices of the check and the written decks: sky130 (sky130_fd_pr "
                                           "models, tt corner) or generic (level-1 cards)."),
    seed: int = seed_option(0, "Sampling seed."),
    threads: int = threads_option(1, "Torch threads of the model's steps while sampling (2: both cores of an "
                                     "idle 2-core machine; 1 when the other core is busy)."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, max=64, help="Sampling processes (this one and N-1 "
                             "workers, each with --threads torch threads; 2 on an idle 2-core machine). The "
                             "samples are the same for any N."),
    guidance: float = typer.Option(None, parser=float_range(0, 20), help="Classifier-free guidance weight of "
                                   "--type (default: the checkpoint's, 0 if none; > 0 costs two model rows "
                                   "per sample)."),
    type_support: bool = typer.Option(True, help="With --type: draw only the steps the type's training circuits "
                                      "take (triples of device type, pin kind and port class)."),
    type_weight: float = typer.Option(None, parser=float_range(0, 20), help="With --type and the support: how "
                                      "strongly to prefer the steps that set the type apart (logit bonus "
                                      "W * log(p_type / p_all) of each step's class triple; 0: the support alone; "
                                      "default: the shipped weight)."),
    force: bool = typer.Option(False, help="Run even when the estimated time is over the limit."),
    size: bool = typer.Option(False, "--size", help="Then size every valid amplifier-type sample in sky130 "
                                                    "(eda topo size) into OUT/sized, with a table."),
    spec: str = typer.Option("gain>=40dB, pm>=45, cl=1pF", help="Sizing targets with --size."),
    size_budget: float = typer.Option(30.0, parser=float_range(5, 3600), help="Sizing seconds per circuit."),
    function_check: bool = typer.Option(False, "--function-check", help="With --size: first check that each "
                                        "amplifier works as a differential one at its gm/Id starting sizes (both "
                                        "inputs move the output, in opposite directions); list those that do not, "
                                        "with why, instead of sizing them."),
    function_floor: float = typer.Option(None, parser=float_range(0, 80), help="With --function-check: the weaker "
                                         "input must move the output by at least this many dB open loop at some "
                                         "starting size (default 20; 0: at all; every real op-amp that meets the "
                                         "default spec is over 22 dB)."),
) -> None:
    """Sample circuits; write each valid one as a simulatable SPICE deck, report.json and gallery.png.

    Refuses a run estimated to take longer than 30 minutes on a 2-core machine (about 9,000
    circuits with ngspice) unless --force.
    """
    import json

    from eda.errors import InputError
    from eda.generators.topology_checkpoint import checkpoint_for, checkpoint_id, load_checkpoint, sampling_defaults
    from eda.generators.topology_report import GENERATE_LIMIT_S, GenerateParams, estimate_seconds
    from eda.generators.topology_report import generate as gen

    if pdk not in ("sky130", "generic"):
        raise InputError(f"--pdk: expected sky130 or generic, got {pdk!r}")
    if type_weight is not None and (ctype is None or not type_support):
        raise InputError("--type-weight: acts on the type support of a conditioned run; give --type T (and keep "
                         "the support: drop --no-type-support)")
    if function_check and not size:
        raise InputError("--function-check: checks the samples --size sizes; add --size")
    if function_floor is not None and not function_check:
        raise InputError("--function-floor: a floor of the function check; add --function-check")
    est = estimate_seconds(n, simulate)
    if est > GENERATE_LIMIT_S and not force:
        raise InputError(f"--n: {n} circuits would take about {est / 60:.0f} min here (limit "
                         f"{GENERATE_LIMIT_S / 60:.0f} min); sample fewer or pass --force")
    path = model or checkpoint_for(ctype)
    m, vocab, ck = load_checkpoint(path)
    used = checkpoint_id(path)
    typer.echo(f"checkpoint {path} (sha256 {used['sha256']})")
    shipped = sampling_defaults(ck)
    temperature = shipped["temperature"] if temperature is None else temperature
    guidance = shipped["guidance"] if guidance is None else guidance
    rep = gen(m, vocab, ck, GenerateParams(n=n, ctype=ctype, temperature=temperature, grammar=grammar,
                                           simulate=simulate, seed=seed, threads=threads, jobs=jobs, guidance=guidance,
                                           type_support=type_support, pdk=None if pdk == "generic" else pdk,
                                           **({} if type_weight is None else {"type_weight": type_weight})),
              out, progress=True, graphs=(graphs := []))
    keys = ["n", "decoded", "rule_clean", "valid", "unique", "novel", "mean_devices", "max_devices",
            "circuits_per_s_sample_erc"]
    typer.echo(json.dumps({**used, **{k: rep[k] for k in keys}}, indent=1))
    if (out / "report.json").is_file():  # which checkpoint drew them
        (out / "report.json").write_text(json.dumps({**used, **json.loads((out / "report.json").read_text())},
                                                    indent=1))
    kept = len(rep.get("files", []))
    typer.echo(f"wrote {kept} SPICE decks, report.json{' and gallery.png' if kept else ''} to {out}")
    if kept < n:
        typer.echo(_not_kept(n, kept, rep.get("failures", {})))
    if read := rep.get("structure"):
        spread = ", ".join(f"{k} {v}" for k, v in read.items())
        typer.echo(f"read by structure (input pair, cascodes, stages): {read.get(ctype, 0)} of {len(graphs)} valid "
                   f"samples are {ctype} ({spread})")
    if size:
        from eda.generators.sizing.run import size_generated
        from eda.generators.sizing.search import FUNCTION_FLOOR_DB
        from eda.generators.sizing.spec import parse_spec

        rows = size_generated(graphs, parse_spec(spec), out / "sized", size_budget, ctype,
                              function_check=function_check,
                              floor_db=FUNCTION_FLOOR_DB if function_floor is None else function_floor)
        failed = sum("function_check" in r for r in rows)
        rows = [r for r in rows if "skipped" not in r]
        typer.echo(f"sized {len(rows)} amplifier-type samples, {sum(r['met'] for r in rows)} meet {spec}"
                   + (f" ({failed} failed the function check, not sized)" if function_check else "")
                   + f"; table in {out / 'sized' / 'table.md'}")


@app.command()
def vary(
    netlist: Path = typer.Argument(..., callback=in_file,
                                   help="The circuit to vary (library form, SPICE, or Cadence N.cir body)."),
    n: int = typer.Option(10, min=1, max=1000, help="Variants to keep."),
    keep: float = typer.Option(0.5, parser=float_range(0, 1, lo_open=True, hi_open=True),
                               help="Share of the circuit's tour kept as the prompt; the model draws the rest."),
    ctype: str = typer.Option(None, "--type", help="Type token (default: the netlist's dataset label, else any)."),
    model: Path = typer.Option(None, callback=in_file, help="Checkpoint (default: the shipped model for the type)."),
    out: Path = typer.Option(Path("out/topo/variants"), callback=out_dir, help="Output folder."),
    simulate: bool = typer.Option(True, help="Keep only variants whose ngspice operating point converges."),
    pdk: str = typer.Option("sky130", help="Devices of the check and the written decks: sky130 or generic."),
    seed: int = seed_option(0, "Sampling seed."),
) -> None:
    """Variants of a circuit: the model completes the first --keep of the circuit's own tour.

    Each kept variant is valid (rules, and with --simulate an ngspice operating point), new against the model's
    training circuits and not the circuit itself. Writes var###.sp, report.json and gallery.png."""
    import json

    from eda.errors import InputError
    from eda.export.to_spice import write_spice
    from eda.generators.topology_check import simulation_deck
    from eda.generators.topology_checkpoint import checkpoint_for, checkpoint_id, load_checkpoint, sampling_defaults
    from eda.generators.topology_draw import draw_gallery
    from eda.generators.topology_report import op_failures
    from eda.generators.topology_vary import vary as draw_variants
    from eda.read.topology_dataset import read_netlist_topology

    if pdk not in ("sky130", "generic"):
        raise InputError(f"--pdk: expected sky130 or generic, got {pdk!r}")
    devices = None if pdk == "generic" else pdk
    t = read_netlist_topology(netlist)
    src = t.circuit.without_sources()
    ctype = ctype or t.ctype
    path = model or checkpoint_for(ctype)
    m, vocab, ck = load_checkpoint(path)
    used = checkpoint_id(path)
    typer.echo(f"checkpoint {path} (sha256 {used['sha256']}); type {ctype or 'any'}; keeping {keep:.0%} of a tour")
    try:
        res = draw_variants(m, vocab, ck, src, n, keep=keep, ctype=ctype, seed=seed, **sampling_defaults(ck))
    except InputError as e:  # (the circuit does not encode: no VSS, a device or port outside the vocabulary)
        raise InputError(f"cannot vary this circuit: {e}", file=netlist) from e
    circuits, op_failed = res.circuits, 0
    if simulate and circuits:  # (the isolated ngspice workers of `generate`'s check)
        failed = op_failures([c for _, c in circuits], devices, progress=True)
        op_failed = len(failed)
        circuits = [x for i, x in enumerate(circuits) if i not in failed]
    out.mkdir(parents=True, exist_ok=True)
    files = [write_spice(simulation_deck(c, title=f"variant {name} of {netlist.name} ({ctype or 'any'}), "
                                              f"{len(c.devices)} devices", pdk=devices),
                         out / f"{name}.sp").name for name, c in circuits]
    report = {**used, "source": str(netlist), "type": ctype, "keep": keep, "seed": seed,
              **res.summary(), "op_failed": op_failed, "written": len(files), "files": files,
              "devices": [len(c.devices) for _, c in circuits], "source_devices": len(src.devices)}
    (out / "report.json").write_text(json.dumps(report, indent=1))
    if circuits:
        draw_gallery([src] + [c for _, c in circuits[:8]], out / "gallery.png",
                     [f"source {netlist.stem}, {len(src.devices)} devices"]
                     + [f"{name}, {len(c.devices)} devices" for name, c in circuits[:8]],
                     heading=f"variants of {netlist.name} (first {keep:.0%} of a tour kept)")
    typer.echo(json.dumps({k: report[k] for k in ("tours_tried", "prompts_refused", "drawn", "valid",
                                                  "same_as_source", "in_training", "repeats", "op_failed",
                                                  "written")}))
    typer.echo(f"wrote {len(files)} variant decks, report.json{' and gallery.png' if files else ''} to {out}")
    if len(files) < n:
        typer.echo(f"{n - len(files)} fewer than asked: the other completions were invalid, the circuit itself, "
                   "training circuits or repeats (counts above); try another --seed or a lower --keep (a longer "
                   "prompt is more often completed back into a known circuit)")


def _not_kept(n: int, kept: int, failures: dict[str, int]) -> str:
    """One line on the samples a ``generate`` run did not keep: how many, and the most frequent reason."""
    line = f"{n - kept} of {n} samples not kept"
    if failures:
        why, count = max(failures.items(), key=lambda kv: kv[1])
        line += f"; most often ({count}): {why}"
    if "op-amp skeleton" in " ".join(failures):
        line += ("\n(an op-amp type keeps only samples with an op-amp skeleton: two inputs on gates, an output, no "
                 "follower or shorted input device, and an amplifier core: a differential pair with a tail source "
                 "and loads to the other rail, an output pulled up and down; the shipped op-amp specialist "
                 "draws about 1 in 100 (opamp1) to 1 in 1,000 (telescopic) so: ask for more with --n)")
    return line


@app.command()
def check(
    netlists: list[Path] = typer.Argument(..., help="Netlists (library form, SPICE, or Cadence N.cir bodies)."),
    simulate: bool = typer.Option(True, help="Also require an ngspice operating point."),
    pdk: str = typer.Option(None, help="Simulate with the real models of this PDK (sky130) instead of the "
                                       "generic level-1 ones."),
    corner: str = typer.Option("tt", help="Process corner with --pdk (tt, ff, ss, sf, fs)."),
) -> None:
    """Check each netlist: electrical rules and ngspice; say why each fails (rule names). Exit 1 if any fails."""
    from eda.errors import InputError
    from eda.generators.topology_check import check_circuit, check_deck
    from eda.read.from_spice import read_spice
    from eda.read.topology_dataset import read_netlist_topology

    if pdk not in (None, "sky130"):
        raise InputError(f"--pdk: expected sky130, got {pdk!r}")
    failed = 0
    for f in netlists:
        try:
            t = read_netlist_topology(f)
            if any(d.kind == "V" for d in t.circuit.devices) and pdk is None and not t.circuit.ports:
                # a complete simulation deck (its own supplies): judged as written, ngspice on its own sources
                r = check_deck(read_spice(f), f.name, run_sim=simulate)
            else:
                # a topology, or a topology's deck (a *.ports header, as `eda topo generate` writes): its rules, and
                # ngspice on its own test bench, on the devices the deck was written for (sky130 when it uses them)
                real = pdk or ("sky130" if any("sky130" in ln.lower() for ln in t.circuit.includes) else None)
                r = check_circuit(t.circuit.without_sources(), f.name, run_sim=simulate, pdk=real, corner=corner)
        except (InputError, OSError) as e:
            failed += 1
            msg = e.one_line() if isinstance(e, InputError) else str(e)
            typer.secho(f"FAIL {f}: {msg}", fg="red")
            continue
        if r.valid:
            typer.echo(f"ok   {f}: {r.n_devices} devices" + ("" if simulate else " (rules only)"))
        else:
            failed += 1
            rules = sorted({x for x, _ in r.violations})
            typer.secho(f"FAIL {f}: " + (f"[{', '.join(rules)}] " if rules else "") + "; ".join(r.reasons), fg="red")
    if failed:
        typer.echo(f"{failed} of {len(netlists)} netlists failed")
        raise typer.Exit(1)


@app.command()
def stats(
    data: str = typer.Argument(..., help="A public dataset folder (N/N.cir + PortN.txt), a library folder "
                                         "(<type>/<name>.cir) or 'builtin'."),
    json_out: Path = typer.Option(None, "--json", callback=out_file, help="Also write the statistics as JSON."),
    rules: bool = typer.Option(True, help="Count the circuits that pass each validity rule (no simulation)."),
) -> None:
    """Round trip (circuit -> pin graph -> Euler tour -> graph, isomorphic), sizes, device and circuit types."""
    import json

    from eda.generators.topology_check import rule_pass_counts
    from eda.graphs.roundtrip import topology_stats
    from eda.read.topology_dataset import load_topologies

    errors: list = []
    tops = load_topologies(data, errors)
    st = topology_stats(tops, errors, progress=True)
    if rules:
        st["rules_pass"] = rule_pass_counts(tops)
    short = {k: v for k, v in st.items() if k != "failures"}
    typer.echo(json.dumps(short, indent=1))
    for f in st["failures"][:20]:
        typer.echo(f"failed {f['file']}: {f['reason']}")
    if len(st["failures"]) > 20:
        typer.echo(f"... {len(st['failures']) - 20} more failures (see --json)")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(st, indent=1))
        typer.echo(f"wrote {json_out}")


@app.command()
def size(
    netlist: Path = typer.Argument(None, callback=in_file,
                                   help="Amplifier netlist (library form, SPICE, or Cadence N.cir body)."),
    spec: str = typer.Option("gain>=60dB, ugb>=10MHz, pm>=60, cl=1pF",
                             help="Targets: gain>=dB, ugb>=Hz, pm>=deg, power<=W, slew>=V/us, swing>=V, cl=F."),
    corner: str = typer.Option("tt", help="sky130 process corner (tt, ff, ss, sf, fs)."),
    all_dir: Path = typer.Option(None, "--all", callback=in_dir,
                                 help="Size every amplifier-type netlist under this folder and write a table."),
    out: Path = typer.Option(Path("sized"), callback=out_dir, help="Output folder."),
    budget: float = typer.Option(90.0, parser=float_range(5, 3600), help="Search time per circuit, seconds."),
    stop_when_met: bool = typer.Option(False, help="Stop at the first design that meets the spec "
                                                   "(default with --all) instead of improving the FoM."),
    bulk: str = typer.Option("netlist", help="FET body rule: 'netlist' keeps bodies as drawn; 'rails' moves a "
                                             "body on a signal net to VSS (nfet) / VDD (pfet), as for generated "
                                             "samples."),
    seed: int = seed_option(0),
) -> None:
    """Size an amplifier in sky130: gm/Id start, NSGA-II over W/L, bias and compensation, ngspice testbench.

    Writes NAME_sized.sp, NAME_tb.sp, NAME_perf.json (gain, UGB, PM, power, swing, slew, FoM) and
    NAME_bode.png; with --all, table.md/table.json. Exit 1 when a circuit misses the spec."""
    import json

    from eda.errors import InputError
    from eda.generators.sizing.run import size_circuit, size_folder
    from eda.generators.sizing.spec import parse_spec
    from eda.read.topology_dataset import read_netlist_topology

    sp = parse_spec(spec)
    if bulk not in ("netlist", "rails"):
        raise InputError(f"--bulk {bulk!r}: expected 'netlist' or 'rails'")
    if (netlist is None) == (all_dir is None):
        raise InputError("give either a NETLIST or --all DIR")
    if all_dir is not None:
        rows = size_folder(all_dir, sp, out, corner, budget, seed, stop_when_met=True, bulk=bulk)
        done = [r for r in rows if "skipped" not in r]
        typer.echo((out / "table.md").read_text())
        typer.echo(f"{sum(r['met'] for r in done)} of {len(done)} amplifiers meet {sp}; wrote {out}/table.md")
        return
    t = read_netlist_topology(netlist)
    circuit = t.circuit.without_sources()
    rec = size_circuit(circuit, netlist.stem, sp, out, corner, budget, seed, stop_when_met, bulk=bulk)
    typer.echo(json.dumps(rec["perf"], indent=1, default=float))
    typer.echo(f"{'meets' if rec['met'] else 'MISSES'} {sp}; {rec['evaluations']} designs simulated in "
               f"{rec['seconds']} s; wrote {out}/{netlist.stem}_sized.sp, _tb.sp, _perf.json, _bode.png")
    if not rec["met"]:
        raise typer.Exit(1)


@app.command()
def measure(
    netlist: Path = typer.Argument(..., callback=in_file, help="Netlist (library form, SPICE, or Cadence N.cir body)."),
    ctype: str = typer.Option(None, "--type", help="Circuit type (default: the netlist's *.type label, else the "
                                                  "classifier): amplifier types, comparator, bandgap, current_mirror."),
    corner: str = typer.Option("tt", help="sky130 process corner (tt, ff, ss, sf, fs)."),
    cl: float = typer.Option(1e-12, parser=float_range(0, lo_open=True), help="Load capacitance of amplifiers, F."),
    json_out: Path = typer.Option(None, "--json", callback=out_file, help="Also write the results as JSON."),
) -> None:
    """Measure a circuit at default sky130 sizes with the testbench of its type; print JSON.

    Amplifiers: DC gain, UGB, phase margin, power, output swing, slew (gm/Id starting design).
    Comparators: delay and offset. Bandgaps: reference vs temperature. Current mirrors: output
    resistance and matching."""
    import json

    from eda.errors import InputError
    from eda.generators.sizing.benches import measure_bandgap, measure_comparator, measure_mirror
    from eda.generators.sizing.roles import AMPLIFIER_TYPES
    from eda.generators.sizing.run import circuit_type
    from eda.read.topology_dataset import read_netlist_topology

    t = read_netlist_topology(netlist)
    c = t.circuit.without_sources()
    kind = ctype or circuit_type(c, t.ctype)
    if kind in AMPLIFIER_TYPES:
        from eda.generators.sizing.gmid import load_table
        from eda.generators.sizing.space import Space
        from eda.generators.sizing.testbench import AmpBench

        bench = AmpBench(c, corner=corner, cl=cl)
        design = Space(bench).initial(load_table(corner))
        bench.calibrate(design)
        res = bench.evaluate(design, swing=True)
        res["slew"] = bench.slew(design, res.get("ugb")) if res.get("ok") else None
        res.update(type=kind, design=design.to_dict(), inverting_input=bench.inn)
    elif kind == "comparator":
        res = measure_comparator(c, corner)
    elif kind == "bandgap":
        res = measure_bandgap(c, corner)
    elif kind == "current_mirror":
        res = measure_mirror(c, corner)
    else:
        raise InputError(f"{netlist}: no testbench for type {kind!r} (amplifiers, comparator, bandgap, current_mirror)")
    text = json.dumps(res, indent=1, default=float)
    typer.echo(text)
    if json_out:
        json_out.write_text(text)
