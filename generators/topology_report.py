"""Generate, check and report: sample the topology GPT, decode, run the validity checks,
measure novelty and uniqueness, write decks, a report and a gallery."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from tqdm import tqdm

from eda.errors import InputError
from eda.generators.topology_checkpoint import training_lengths, training_set
from eda.generators.topology_gpt import TopologyGPT
from eda.generators.topology_sample import sample, training_net_sizes
from eda.generators.topology_subtype import read_as_asked
from eda.generators.topology_support import TYPE_WEIGHT, training_support
from eda.graphs.euler import Vocab

#: Seconds per sampled circuit (sampling + rules, 1 thread: 19.4 per CPU-second) and per ngspice check
#: (sky130 tt: 0.13 CPU s per deck), measured on the
#: 2-core build machine (``benchmarks/bench_topo.py``); what :func:`estimate_seconds` uses.
SECONDS_PER_SAMPLE = 0.05
SECONDS_PER_SIM = 0.15
#: Longest run ``eda topo generate`` starts without ``--force`` (seconds).
GENERATE_LIMIT_S = 1800.0


def estimate_seconds(n: int, simulate: bool = True) -> float:
    """Estimated wall time of :func:`generate` for ``n`` samples on the 2-core build machine."""
    return n * (SECONDS_PER_SAMPLE + (SECONDS_PER_SIM if simulate else 0.0))


class GenerateParams(BaseModel):
    """Settings of :func:`generate` (a pydantic model: bad values raise a ``ValidationError``
    naming the field)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int = Field(100, ge=1, description="sequences to sample")
    ctype: str | None = Field(None, description="condition on a circuit type (None: any)")
    temperature: float = Field(1.0, gt=0, le=100, allow_inf_nan=False, description="softmax temperature")
    grammar: bool = Field(True, description="grammar-masked decoding")
    simulate: bool = Field(True, description="run ngspice on ERC-clean circuits (validity = rules + operating point)")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="sampling seed")
    batch_size: int = Field(128, ge=1, le=4096, description="sequences per batch")
    gallery: int = Field(6, ge=0, le=64, description="circuits drawn in gallery.png")
    top_k: int = Field(0, ge=0, description="keep the k most likely tokens (0: all)")
    guidance: float = Field(0.0, ge=0, le=20, allow_inf_nan=False,
                            description="classifier-free guidance weight of the type condition (0: none)")
    threads: int = Field(1, ge=0, le=256, description="torch threads of the model's steps while sampling (2: "
                         "both cores of an idle 2-core machine; 1 when the other core is busy)")
    jobs: int = Field(1, ge=1, le=256, description="sampling processes (this one and jobs - 1 workers, each with "
                      "`threads` torch threads); the samples are the same for any number")
    pdk: str | None = Field("sky130", pattern="^sky130$", description="models of the ngspice check and the "
                            "written decks: sky130 (the real sky130_fd_pr devices, tt corner) or None (generic "
                            "level-1 cards)")
    simulate_max: int | None = Field(None, ge=0, description="simulate at most this many rule-clean circuits, "
                                     "spread evenly over the run (None: all); validity is then estimated")
    train_sizes: bool = Field(True, description="draw each sample's length budget from the training circuits' "
                              "tour lengths (those of type ctype when conditioned; needs the checkpoint) and each "
                              "internal net's size limit from their net sizes; else every sample may use the "
                              "model's whole block_size and nets are unlimited")
    fill: float = Field(1.0, ge=0, le=1, allow_inf_nan=False, description="with train_sizes: <eos> is refused until "
                        "a tour is this share of its drawn length (0: wherever the circuit is complete)")
    type_support: bool = Field(True, description="with ctype (and the checkpoint's training tours): draw only the "
                               "steps the type's training circuits take (class triples of device type, pin kind "
                               "and port class: topology_support); else the model alone chooses among the "
                               "grammar's moves")
    type_weight: float = Field(TYPE_WEIGHT, ge=0, le=20, allow_inf_nan=False,
                               description="with type_support: weight of the type preference, a logit bonus "
                               "weight * log(p_type / p_all) of each step's class triple (0: the support alone)")


def type_inputs(ck: dict | None, vocab: Vocab, ctype: str | None, train_sizes: bool = True,
                type_support: bool = True, type_weight: float = TYPE_WEIGHT) -> dict:
    """What :func:`generate` draws a type's samples with, from the checkpoint's training circuits (``sample``'s
    ``lengths``, ``net_sizes`` and ``support``; None each without the checkpoint or when turned off): one
    place for every caller that must draw as ``eda topo generate --type`` does."""
    sized = train_sizes and ck is not None
    return {"lengths": training_lengths(ck, ctype) if sized else None,
            "net_sizes": training_net_sizes(ck, vocab, ctype) if sized else None,
            "support": training_support(ck, vocab, ctype, type_weight) if ck is not None and type_support
            else None}


def generate(model: TopologyGPT, vocab: Vocab, ck: dict | None, params: GenerateParams,
             out: str | Path | None = None, progress: bool = False, graphs: list | None = None) -> dict:
    """Sample, decode, check (the validity rules, then an ngspice operating point), measure
    novelty and uniqueness (exact, by canonical forms), and write results.

    Writes under ``out`` (when given): ``gen_XXXX.sp`` per valid circuit (a deck that simulates
    as is, with the sky130 devices when ``params.pdk`` is ``sky130``), ``report.json`` and
    ``gallery.png``.

    Args:
        graphs: a list to receive the valid circuits' device-pin graphs (for further analysis).

    Returns:
        the report: rates (decoded, rule-clean, valid, unique and novel among valid), how many
        decoded samples break each rule, device-count and device-type histograms, failure
        reasons, timings.
    """
    from eda.generators.topology_check import check_circuit
    from eda.graphs.pin_graph import graph_to_circuit

    if params.pdk == "sky130" and (params.simulate or out is not None):
        from eda.tech.sky130_models import available

        if not available():
            raise InputError("pdk sky130: the sky130 device models are not installed (`make setup` installs "
                             "them); use pdk None (--pdk generic) for the generic level-1 cards")
    t0, c0 = time.perf_counter(), time.process_time()
    drawn = type_inputs(ck, vocab, params.ctype, params.train_sizes, params.type_support, params.type_weight)
    samples = sample(model, vocab, params.n, ctype=params.ctype, temperature=params.temperature,
                     grammar=params.grammar, batch_size=params.batch_size, seed=params.seed,
                     top_k=params.top_k, progress=progress, threads=params.threads, guidance=params.guidance,
                     fill=params.fill, jobs=params.jobs, stats=(sampling := {}), **drawn)
    t_sample = time.perf_counter() - t0
    reasons: Counter = Counter()
    rules: Counter = Counter()
    clean = []
    t1 = time.perf_counter()
    for k, s in enumerate(samples):
        if s.graph is None:
            reasons["decode: " + (s.error or "?").split("\n")[0][:80]] += 1
            continue
        c = graph_to_circuit(s.graph, title=f"generated {k} ({s.ctype or 'any'})")
        r = check_circuit(c, run_sim=False)
        if r.violations:
            rules.update({rule for rule, _ in r.violations})
            reasons[f"rule {r.violations[0][0]}: " + _reason_key(r.violations[0][1])] += 1
            continue
        clean.append((k, s, c))
    t_rules = time.perf_counter() - t1
    cpu_sample_rules = time.process_time() - c0 + sampling["worker_cpu_s"]  # (+ worker processes)
    valid = []
    t2 = time.perf_counter()
    n_sim = len(clean) if params.simulate_max is None else min(params.simulate_max, len(clean))
    # a subset is spread evenly over the run (samples come ordered by length budget: all sizes)
    sim = set(np.linspace(0, len(clean) - 1, n_sim).round().astype(int).tolist()) \
        if params.simulate and n_sim else set()
    order = sorted(sim)
    failed = {order[r]: why for r, why in
              op_failures([clean[j][2] for j in order], params.pdk, params.jobs, progress).items()}
    for j, (k, s, c) in enumerate(clean):
        if j in failed:
            reasons["ngspice: " + failed[j][:80]] += 1
            continue
        valid.append((k, s, c))
    n_op = len(sim) - len(failed)
    t_sim = time.perf_counter() - t2
    n = len(samples)
    n_decoded = sum(s.graph is not None for s in samples)
    report = {
        "n": n, "ctype": params.ctype, "temperature": params.temperature, "grammar": params.grammar,
        "type_support": drawn["support"] is not None,
        "type_weight": params.type_weight if drawn["support"] is not None else None,
        "decoded": n_decoded / n, "rule_clean": len(clean) / n,
        "erc_clean": len(clean) / n,
        # every rule-clean circuit simulated: the share that converged; a subset: the rule-clean
        # share times the subset's convergence rate (an estimate, see "simulated")
        "valid": (len(clean) / n) * (n_op / len(sim)) if sim and len(sim) < len(clean) else len(valid) / n,
        "simulated": len(sim), "op_converged": n_op / max(len(sim), 1) if sim else None,
        "validity_checks": "rules" + (f" + ngspice operating point ({params.pdk or 'generic level-1'} models)"
                                      if params.simulate else " only"),
        "rule_failures": {rule: rules[rule] / max(n_decoded, 1) for rule in sorted(rules)},
        **_novelty(ck, vocab, [s.graph for _, s, _ in valid]),
        **_sizes([c for _, _, c in valid]),
        **read_as_asked(params.ctype, [c for _, _, c in valid]),
        "failures": dict(reasons.most_common()),
        "seconds": {"sample": t_sample, "rules": t_rules, "ngspice": t_sim},
        "circuits_per_s_sample_erc": n / max(t_sample + t_rules, 1e-9),
        "valid_per_s_sample_rules": len(clean) / max(t_sample + t_rules, 1e-9),
        "valid_per_s_with_ngspice": len(valid) / max(t_sample + t_rules + t_sim, 1e-9),
        # CPU seconds of this process (all its threads) and of its sampling workers: on a busy shared
        # machine, wall time measures the other jobs; rule-clean circuits per CPU-second does not
        "cpu_seconds_sample_rules": cpu_sample_rules,
        "rule_clean_per_cpu_s": len(clean) / max(cpu_sample_rules, 1e-9),
        # with jobs > 1: CPU seconds of the sampling threads of all processes together, and rule-clean
        # circuits per CPU-second of sampling alone
        "sampling": {**sampling, "rule_clean_per_sampling_cpu_s": len(clean) / max(sampling["cpu_s"], 1e-9)},
        "load_avg_1min": os.getloadavg()[0],
    }
    if out is not None:
        _write(Path(out), report, valid, params)
    if graphs is not None:
        graphs += [s.graph for _, s, _ in valid]
    return report


def op_failures(circuits: list, pdk: str | None, jobs: int = 1, progress: bool = False) -> dict[int, str]:
    """ngspice operating points of ``circuits`` (devices of ``pdk``, see
    :func:`~eda.generators.topology_check.simulation_deck`) in ``jobs`` worker processes that are replaced when
    an analysis has to be halted (:class:`eda.sim.isolated.IsolatedRunner`): index -> failure reason."""
    from eda.generators.topology_check import OP_CHECKS_PER_WORKER, OP_TIMEOUT_S, op_reason, op_worker_stuck
    from eda.sim.isolated import IsolatedRunner

    out: dict[int, str] = {}
    if not circuits:
        return out
    # the deadline covers a fresh worker's start-up, the analysis' own timeout and ngspice's halt
    with IsolatedRunner(op_reason, workers=min(jobs, len(circuits)), deadline=2 * OP_TIMEOUT_S + 30,
                        stuck=op_worker_stuck, recycle_after=OP_CHECKS_PER_WORKER) as run, \
            tqdm(total=len(circuits), desc="checking", unit="circuit", disable=not progress) as bar:
        for i, reason in run.map((c, pdk) for c in circuits):
            bar.update(1)
            if reason is not None:
                out[i] = str(reason) or type(reason).__name__
    return out


def _novelty(ck: dict | None, vocab: Vocab, graphs: list) -> dict:
    """Uniqueness among ``graphs`` and novelty against the checkpoint's training circuits
    (exact: canonical forms)."""
    from eda.graphs.canon import GraphSet, novelty_uniqueness

    if ck is None or "train_tours" not in ck:
        return {"unique": novelty_uniqueness(graphs, GraphSet())["unique"], "novel": None,
                "n_train_circuits": None}
    train_set = training_set(ck, vocab)
    r = novelty_uniqueness(graphs, train_set)
    return {"unique": r["unique"], "novel": r["novel"] if graphs else 0.0, "n_train_circuits": len(train_set)}


def _sizes(circuits: list) -> dict:
    """Device counts (mean, largest, histogram), device types and internal nets of ``circuits``."""
    from eda.graphs.pin_graph import device_type

    sizes = [len(c.devices) for c in circuits]
    hist = Counter(sizes)
    types = Counter(device_type(d, c) for c in circuits for d in c.devices)
    return {
        "max_devices": max(sizes, default=0),
        "mean_devices": float(np.mean(sizes)) if sizes else 0.0,
        "device_histogram": {str(k): hist[k] for k in sorted(hist)},
        "device_types": dict(types.most_common()),
        # how much of a circuit is wired through internal nets rather than straight to ports
        "internal_nets_per_device": float(np.mean([internal_nets(c) / len(c.devices) for c in circuits]))
        if circuits else 0.0,
        # devices real circuits do not repeat (counted, not rejected)
        "repeated_devices": repeat_shares(circuits),
    }


def _write(out: Path, report: dict, valid: list, params: GenerateParams) -> None:
    """Decks of the valid circuits, ``report.json`` and ``gallery.png`` under ``out``."""
    from eda.export.to_spice import write_spice
    from eda.generators.topology_check import simulation_deck
    from eda.generators.topology_draw import draw_gallery

    out.mkdir(parents=True, exist_ok=True)
    files = []
    for k, s, c in valid:
        deck = simulation_deck(c, title=f"generated topology {k} ({s.ctype or 'any'}), {len(c.devices)} devices",
                               pdk=params.pdk)
        files.append(write_spice(deck, out / f"gen_{k:04d}.sp").name)
    report["files"] = files
    (out / "report.json").write_text(json.dumps(report, indent=2))
    if valid and params.gallery:
        # samples come in order of length budget: pick a spread of sizes
        pick = [valid[i] for i in sorted(set(np.linspace(0, len(valid) - 1, params.gallery).round().astype(int)))]
        titles = [f"#{k} {s.ctype or 'any'}, {len(c.devices)} devices" for k, s, c in pick]
        draw_gallery([c for _, _, c in pick], out / "gallery.png", titles,
                     heading="generated circuits (device level)")


def internal_nets(circuit) -> int:
    """Number of nets of a circuit that are not ports."""
    from eda.graphs.pin_graph import is_port_name

    return sum(1 for n in circuit.nets if not is_port_name(n))


#: what :func:`repeated_devices` counts
REPEATS = ("parallel_passive", "parallel_fet", "dead_end")


def repeated_devices(circuit) -> dict[str, int] | None:
    """Devices a real circuit would not repeat (none breaks a validity rule; README *Repeated devices*):
    ``parallel_passive`` — pairs of nets joined by two or more R, C or L of one kind (one element of another
    value would do); ``parallel_fet`` — groups of two or more transistors of one type with every terminal on
    the same nets (one wider device); ``dead_end`` — internal nets joined only by passives whose other ends all
    sit on one net (no current can flow through them). None when the circuit does not type (e.g. sources)."""
    from collections import defaultdict

    from eda.generators.topology_check import _nets

    nets = _nets(circuit, [])
    if nets is None:
        return None
    passive = ("R", "C", "L")
    on = defaultdict(list)
    for _, t, pn in nets.devs:
        for n in pn.values():
            on[n].append((t, pn))
    dead = sum(1 for n, lst in on.items()
               if n not in nets.ports and len(lst) >= 2 and all(t in passive for t, _ in lst)
               and len({m for _, pn in lst for m in pn.values() if m != n}) <= 1)
    two = Counter((t, frozenset(pn.values())) for _, t, pn in nets.devs if t in passive and len(set(pn.values())) == 2)
    fets = Counter((t, tuple(sorted(pn.items()))) for _, t, pn in nets.devs if t in ("NM", "PM", "NPN", "PNP"))
    return {"parallel_passive": sum(v > 1 for v in two.values()), "parallel_fet": sum(v > 1 for v in fets.values()),
            "dead_end": dead}


def repeat_shares(circuits: list) -> dict:
    """How many of ``circuits`` (those that type) have each of :data:`REPEATS`, and the percentage."""
    got = [f for f in map(repeated_devices, circuits) if f is not None]
    out: dict = {"n": len(got)}
    for k in REPEATS:
        out[k] = sum(bool(f[k]) for f in got)
        out[f"{k}_pct"] = round(100 * out[k] / max(1, len(got)), 1)
    return out


def _reason_key(msg: str) -> str:
    """ERC message without its net/device names, so reasons group."""
    import re

    return re.sub(r"\b(net\d+|[A-Z]{1,3}[NP]?\d+|V[A-Z]+\d*)\b", "X", msg)[:80]


__all__ = ["GenerateParams", "generate", "op_failures", "internal_nets", "estimate_seconds", "GENERATE_LIMIT_S",
           "REPEATS", "repeated_devices", "repeat_shares"]
