"""Round trip of real circuits through the generator's representation, and data-set statistics.

circuit → device-pin graph → Euler tour → token ids → (the tour grammar replays the compact
tour) → decoded graph → circuit → graph, and the last graph must be isomorphic to the first
(canonical forms, :mod:`eda.graphs.canon`). :func:`topology_stats` reports it for a list of
topologies (``eda topo stats DIR``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from eda.errors import InputError
from eda.graphs.canon import canonical_form
from eda.graphs.decode import sequence_to_graph
from eda.graphs.grammar import VocabTables, grammar_accepts
from eda.graphs.pin_graph import circuit_to_graph, device_type, graph_to_circuit
from eda.graphs.tour import compact_sequence, euler_tours
from eda.graphs.vocab import Vocab
from eda.topology import Topology


def round_trip(t: Topology, vocab: Vocab, tables: VocabTables | None = None, seed: int = 0,
               max_len: int | None = None, lenient: bool = True) -> str | None:
    """None when ``t`` survives the round trip, else the stage and reason it fails at.

    ``max_len``: the grammar's length budget (default: the tour's own length plus the sampler's
    slack). ``lenient``: replay under the grammar's structural rules only (every real circuit);
    strict also applies the electrical rules (accepts the circuits that pass them).
    """
    tables = tables or VocabTables(vocab)
    try:
        g = circuit_to_graph(t.circuit, t.ports or None)
    except InputError as e:
        return f"pin graph: {e.message}"
    try:
        tour = euler_tours(g, 1, seed=seed)[0]
        ids = vocab.encode(tour, t.ctype if t.ctype in vocab.types else None)
    except InputError as e:
        return f"tour: {e.message}"
    compact = compact_sequence(ids)
    bad = grammar_accepts(compact, tables, max_len, lenient=lenient)
    if bad:
        return f"grammar: token {bad[0]}: {bad[1]}"
    try:
        g2, _ = sequence_to_graph(vocab.decode(ids))
        g3 = circuit_to_graph(graph_to_circuit(g2))
    except InputError as e:
        return f"decode: {e.message}"
    form = canonical_form(g)
    if canonical_form(g2) != form:
        return "decode: the decoded graph is not isomorphic to the circuit's"
    if canonical_form(g3) != form:
        return "circuit: the decoded circuit's graph is not isomorphic to the original"
    return None


def topology_stats(tops: list[Topology], skipped: list[tuple[Path, str]] | None = None,
                   vocab: Vocab | None = None, progress: bool = False) -> dict:
    """Sizes, device types, type labels and round-trip outcome of ``tops``.

    Keys: ``read`` (topologies read), ``skipped`` (files that did not parse), ``round_trip_ok``,
    ``round_trip_rate``, ``grammar_strict_ok`` (tours the strict grammar, with the electrical
    rules, also accepts), ``failures`` (``{"file", "reason"}`` each, unparsable files included),
    ``mean_devices``, ``max_devices``, ``device_types`` (counts), ``circuit_types`` (label counts,
    ``any`` for unlabelled), ``port_classes`` (prefix counts).
    """
    vocab = vocab or Vocab.for_topologies(tops)
    tables = VocabTables(vocab)
    failures = [{"file": str(f), "reason": r} for f, r in (skipped or [])]
    dev_types: Counter = Counter()
    sizes = []
    ok = strict_ok = 0
    it = tops
    if progress:
        from tqdm import tqdm

        it = tqdm(tops, desc="round trip", unit="circuit")
    for t in it:
        sizes.append(len(t.circuit.devices))
        for d in t.circuit.devices:
            try:
                dev_types[device_type(d, t.circuit)] += 1
            except InputError:
                dev_types[f"?{d.kind}"] += 1
        why = round_trip(t, vocab, tables)
        if why is None:
            ok += 1
            strict_ok += round_trip(t, vocab, tables, lenient=False) is None
        else:
            failures.append({"file": str(t.source or t.name), "reason": why})
    ports: Counter = Counter(p.rstrip("0123456789") for t in tops for p in t.ports)
    return {
        "read": len(tops),
        "skipped": len(skipped or []),
        "round_trip_ok": ok,
        "round_trip_rate": ok / max(len(tops) + len(skipped or []), 1),
        "grammar_strict_ok": strict_ok,
        "failures": failures,
        "mean_devices": sum(sizes) / max(len(sizes), 1),
        "max_devices": max(sizes, default=0),
        "device_types": dict(dev_types.most_common()),
        "circuit_types": dict(Counter(t.ctype or "any" for t in tops).most_common()),
        "port_classes": dict(ports.most_common()),
        "vocab_size": len(vocab),
    }
