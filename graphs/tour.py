"""Euler-tour serialisation of device-pin graphs (the sequences the topology generator learns).

A device-pin graph (:mod:`eda.graphs.pin_graph`) is serialised as an Eulerian circuit of its
*doubled* graph (every undirected edge replaced by its two directions, so every node is
balanced and the circuit walks each edge once each way), starting and ending at ``VSS``, as in
AnalogGenie. Different tours of one circuit are augmentations. Device indices are renumbered per
type in order of first appearance, so a tour is canonical given its walk. Generators work on the
compact form (:func:`compact_tour`) that stops after the last new edge, the walk back being
implied (:func:`close_walk`).
"""

from __future__ import annotations

import random

import networkx as nx

from eda.errors import InputError
from eda.graphs.pin_graph import parse_node


def canonical_numbering(tour: list[str]) -> list[str]:
    """Rename device indices per type in order of first appearance (device or one of its pins)."""
    mapping: dict[tuple[str, int], int] = {}
    counts: dict[str, int] = {}
    out = []
    for n in tour:
        kind, tok, idx, pin = parse_node(n)
        if kind in ("device", "pin"):
            key = (tok, idx)
            if key not in mapping:
                counts[tok] = counts.get(tok, 0) + 1
                mapping[key] = counts[tok]
            new = f"{tok}{mapping[key]}"
            out.append(new if pin is None else f"{new}_{pin}")
        else:
            out.append(n)
    return out


def _floats_at_dc(node: str) -> bool:
    kind, tok, _, pin = parse_node(node)
    return kind == "pin" and (pin == "G" or tok == "C")


def _dfs_tour(g: nx.Graph, start: str, rng: random.Random) -> list[str]:
    """Randomised edge depth-first walk: an Eulerian circuit of the doubled graph in which
    every edge is walked out and, once everything beyond it is done, back."""
    nbrs = {n: list(g.neighbors(n)) for n in g.nodes}
    for v in nbrs.values():
        rng.shuffle(v)
        # pins that conduct at DC and ports first, so a gate or capacitor pin's first net edge
        # reaches a DC pin (the grammar's no-floating-net rule accepts every such tour)
        v.sort(key=_floats_at_dc)
    used: set[frozenset] = set()
    tour = [start]
    stack = [(start, iter(nbrs[start]))]
    while stack:
        u, it = stack[-1]
        for v in it:
            e = frozenset((u, v))
            if e not in used:
                used.add(e)
                tour.append(v)
                stack.append((v, iter(nbrs[v])))
                break
        else:
            stack.pop()
            if stack:
                tour.append(stack[-1][0])
    return tour


def euler_tours(g: nx.Graph, k: int = 1, seed: int = 0, start: str = "VSS",
                max_tries: int | None = None, method: str = "dfs") -> list[list[str]]:
    """Up to ``k`` distinct Eulerian circuits of the doubled graph of ``g`` from ``start``.

    ``method="dfs"`` (default, the form :class:`TourGrammar` generates, and AnalogGenie's
    augmentation): randomised edge depth-first walks. ``method="networkx"``:
    :func:`networkx.eulerian_circuit` on the directed double of ``g`` built with node and edge
    orders shuffled by ``seed``. Device indices are canonicalised per tour.

    Raises:
        InputError: ``start`` is not in the graph or the graph is not connected.
    """
    if start not in g:
        raise InputError(f"graph has no {start} node to start the tour")
    if not nx.is_connected(g):
        raise InputError("device-pin graph is not connected: a circuit must be one piece to be one tour")
    rng = random.Random(seed)
    nodes = list(g.nodes)
    edges = list(g.edges)
    seen: set[tuple[str, ...]] = set()
    out: list[list[str]] = []
    if method not in ("dfs", "networkx"):
        raise InputError(f"method: expected 'dfs' or 'networkx', got {method!r}")
    for attempt in range(max_tries or 4 * k):
        if method == "dfs":
            tour = canonical_numbering(_dfs_tour(g, start, rng))
            if tuple(tour) not in seen:
                seen.add(tuple(tour))
                out.append(tour)
                if len(out) == k:
                    break
            continue
        d = nx.DiGraph()
        if attempt:
            rng.shuffle(nodes)
            rng.shuffle(edges)
        d.add_nodes_from(nodes)
        for u, v in edges:
            if attempt and rng.random() < 0.5:
                u, v = v, u
            d.add_edge(u, v)
            d.add_edge(v, u)
        tour = canonical_numbering([start] + [v for _, v in nx.eulerian_circuit(d, source=start)])
        key = tuple(tour)
        if key not in seen:
            seen.add(key)
            out.append(tour)
            if len(out) == k:
                break
    return out


def walk_stack(walk: list) -> list:
    """Stack of an edge depth-first walk after its last node: a step to the node below the top
    walks back along the edge the top was reached by (a pop), any other step pushes."""
    stack = [walk[0]] if walk else []
    for v in walk[1:]:
        if len(stack) > 1 and v == stack[-2]:
            stack.pop()
        else:
            stack.append(v)
    return stack


def compact_tour(tour: list) -> list:
    """A depth-first tour without its trailing walk back to the start.

    After the last new edge a depth-first tour only walks back down its stack; that suffix is
    implied (:func:`close_walk` restores it), so a generator is trained to stop with ``<eos>``
    once the circuit is complete instead of spelling out the return, one decision instead of
    dozens, and about half the tokens.
    """
    stack = [tour[0]]
    last = 0
    for k, v in enumerate(tour[1:], 1):
        if len(stack) > 1 and v == stack[-2]:
            stack.pop()
        else:
            stack.append(v)
            last = k
    return list(tour[: last + 1])


def compact_sequence(ids: list) -> list:
    """An encoded sequence (``<bos> <type:T> tour... <eos>``, :meth:`eda.graphs.vocab.Vocab.encode`) with its
    tour in the compact form (:func:`compact_tour`): the form the generator is trained on and samples."""
    return list(ids[:2]) + compact_tour(ids[2:-1]) + list(ids[-1:])


def close_walk(walk: list) -> list:
    """``walk`` followed by the walk back down its stack to its first node (inverse of
    :func:`compact_tour`; a closed tour is returned unchanged)."""
    return list(walk) + walk_stack(walk)[-2::-1]
