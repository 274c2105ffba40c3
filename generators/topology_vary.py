"""Variants of a given circuit: the topology model completes the first part of the circuit's own tour.

``eda topo vary NETLIST --keep 0.5`` keeps the first ``keep`` of a depth-first tour of the circuit (its device-pin
graph walked from ``VSS``, the form the model is trained on) and lets the model draw the rest under the sampling
grammar and the validity rules (:func:`eda.generators.topology_sample.complete`). Several tours of the circuit are
tried in turn, since the sampling grammar refuses some real tour orders. A variant is kept when it is valid (the
rules; an ngspice operating point is the caller's choice), new against the checkpoint's training circuits, not the
given circuit itself (exact, by canonical forms) and not a repeat of another variant.

Issue #17 measured why this mode exists (README *Sizing*): drawn from ``<bos> <type> VSS`` alone, 1-4 % of the op-amp
specialist's samples can be sized to gain ≥ 40 dB and PM ≥ 45°; completions of the first half of real op-amps,
10 of 25 (40 %). The model finishes amplifiers far better than it starts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eda.errors import InputError


@dataclass
class Variants:
    """What :func:`vary` drew: the kept circuits (name, Circuit) and the counts of every step."""

    circuits: list = field(default_factory=list)
    tours_tried: int = 0
    prompts_refused: int = 0
    drawn: int = 0
    valid: int = 0
    same_as_source: int = 0
    in_training: int = 0
    repeats: int = 0

    def summary(self) -> dict:
        return {"kept": len(self.circuits), "tours_tried": self.tours_tried, "prompts_refused": self.prompts_refused,
                "drawn": self.drawn, "valid": self.valid, "same_as_source": self.same_as_source,
                "in_training": self.in_training, "repeats": self.repeats}


def circuit_prompts(circuit, vocab, ctype: str | None, keep: float, tours: int, seed: int) -> list[list[int]]:
    """The first ``keep`` (0 < keep < 1) of up to ``tours`` distinct compact tours of ``circuit``, as token ids
    after ``<bos> <type> VSS``; each with the full tour's length (what the model's length input and the grammar's
    budget count, :func:`~eda.generators.topology_checkpoint.training_lengths`) appended as a last element."""
    from eda.graphs.pin_graph import circuit_to_graph
    from eda.graphs.tour import compact_sequence, euler_tours

    if not 0 < keep < 1:
        raise InputError(f"--keep: expected a share between 0 and 1 (exclusive), got {keep}")
    g = circuit_to_graph(circuit)
    out = []
    for t in euler_tours(g, tours, seed=seed):
        full = vocab.encode(t, ctype)
        walk = compact_sequence(full)[3:-1]
        out.append(walk[: max(1, int(keep * len(walk)))] + [len(full)])
    return out


def vary(model, vocab, ck, circuit, n: int, keep: float = 0.5, ctype: str | None = None, seed: int = 0,
         tours: int = 32, per_prompt: int = 8, temperature: float = 1.0, guidance: float = 0.0) -> Variants:
    """Up to ``n`` variants of ``circuit`` (see the module docstring): ``per_prompt`` completions of each prompt
    from :func:`circuit_prompts`, the prompts taken in turn (and again with new seeds) until ``n`` are kept or
    every prompt has been used ``ceil(n / per_prompt) + 1`` times."""
    from eda.generators.topology_check import check_circuit
    from eda.generators.topology_checkpoint import training_set
    from eda.generators.topology_report import type_inputs
    from eda.generators.topology_sample import complete
    from eda.graphs.canon import GraphSet
    from eda.graphs.pin_graph import circuit_to_graph, graph_to_circuit

    if ctype is not None and ctype not in vocab.types:
        raise InputError(f"--type {ctype!r} is not in the model's vocabulary ({', '.join(vocab.types)})")
    prompts = circuit_prompts(circuit, vocab, ctype, keep, tours, seed)
    source = GraphSet([circuit_to_graph(circuit)])
    seen = training_set(ck, vocab) if ck is not None else GraphSet()
    support = type_inputs(ck, vocab, ctype)["support"] if ck is not None and ctype else None
    res, kept = Variants(), GraphSet()
    usable = list(prompts)
    for rnd in range(-(-n // per_prompt) + 1):
        for j, p in enumerate(list(usable)):
            if len(res.circuits) >= n:
                return res
            res.tours_tried += rnd == 0
            try:
                got = complete(model, vocab, p[:-1], per_prompt, ctype=ctype, length=p[-1], temperature=temperature,
                               guidance=guidance, seed=seed + 7919 * rnd + j, support=support)
            except InputError:
                res.prompts_refused += 1
                usable.remove(p)
                continue
            for s in got:
                res.drawn += 1
                if s.graph is None or len(res.circuits) >= n:
                    continue
                c = graph_to_circuit(s.graph, title=f"variant {len(res.circuits)} of {circuit.title or 'circuit'}")
                if not check_circuit(c, run_sim=False).valid:
                    continue
                res.valid += 1
                g = circuit_to_graph(c)
                if g in source:
                    res.same_as_source += 1
                elif g in seen:
                    res.in_training += 1
                elif not kept.add(g):
                    res.repeats += 1
                else:
                    res.circuits.append((f"var{len(res.circuits):03d}", c))
        if not usable:
            break
    return res


__all__ = ["Variants", "circuit_prompts", "vary"]
