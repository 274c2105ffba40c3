"""Decode token sequences back to device-pin graphs.

:func:`sequence_to_graph` decodes any sequence (:mod:`eda.graphs.vocab` form) back to a graph or
raises :class:`~eda.graphs.vocab.SequenceError` naming the position and the reason.
"""

from __future__ import annotations

import networkx as nx

from eda.graphs.pin_graph import DEVICE_TYPES, parse_node, relabel
from eda.graphs.vocab import ANY_TYPE, BOS, EOS, PAD, SequenceError


def _edge_kind(u: str, v: str) -> str | None:
    """Reason an edge u-v is illegal in a device-pin graph, else None."""
    ku, tu, iu, _ = parse_node(u)
    kv, tv, iv, _ = parse_node(v)
    if u == v:
        return f"self-loop on {u}"
    kinds = {ku, kv}
    if "unknown" in kinds:
        return f"unknown node {u if ku == 'unknown' else v!r}"
    if kinds == {"device"}:
        return f"device {u} next to device {v} (devices touch only their own pins)"
    if kinds == {"port"}:
        return f"port {u} next to port {v} (that shorts two ports)"
    if kinds == {"device", "port"}:
        return f"device next to port ({u}, {v}); devices touch only their own pins"
    if kinds == {"device", "pin"}:
        if (tu, iu) != (tv, iv):
            return f"device {u if ku == 'device' else v} next to a pin of another device " \
                   f"({v if ku == 'device' else u})"
    return None


def sequence_to_graph(tokens: list[str], strict: bool = True) -> tuple[nx.Graph, str | None]:
    """Decode a token sequence into a device-pin graph and its type label.

    Accepted forms: ``[<bos>] [<type:T>] VSS ... VSS [<eos> <pad>...]``.

    Args:
        tokens: token strings (use :meth:`Vocab.decode` for ids).
        strict: also require a closed tour of the doubled graph (every edge walked exactly once
            in each direction, ending at ``VSS``); without it any walk of legal edges decodes.

    Raises:
        SequenceError: the first problem found, with its position.
    """
    i = 0
    toks = list(tokens)
    if toks and toks[0] == BOS:
        i = 1
    ctype = None
    if i < len(toks) and toks[i].startswith("<type:"):
        ctype = toks[i][6:-1]
        ctype = None if ctype == ANY_TYPE else ctype
        i += 1
    end = len(toks)
    for j in range(i, len(toks)):
        if toks[j] == EOS:
            end = j
            for k in range(j + 1, len(toks)):
                if toks[k] != PAD:
                    raise SequenceError("only <pad> may follow <eos>", k, toks[k])
            break
        if toks[j] == PAD:
            raise SequenceError("<pad> before <eos>", j, toks[j])
        if toks[j] in (BOS,) or toks[j].startswith("<"):
            raise SequenceError("special token inside the tour", j, toks[j])
    walk = toks[i:end]
    if not walk:
        raise SequenceError("empty tour", i)
    if walk[0] != "VSS":
        raise SequenceError("a tour starts at VSS", i, walk[0])
    used: set[tuple[str, str]] = set()
    edges: dict[tuple[str, str], tuple[str, str]] = {}  # each undirected edge once, as first walked
    for k in range(1, len(walk)):
        u, v = walk[k - 1], walk[k]
        key = (u, v) if u <= v else (v, u)
        if key not in edges:  # legality does not depend on the direction: asked once per edge
            why = _edge_kind(u, v)
            if why:
                raise SequenceError(why, i + k, v)
            edges[key] = (u, v)
        if strict and (u, v) in used:
            raise SequenceError(f"edge {u}->{v} walked twice in the same direction", i + k, v)
        used.add((u, v))
    if strict:
        if walk[-1] != "VSS":
            raise SequenceError("the tour does not return to VSS", i + len(walk) - 1, walk[-1])
        for u, v in used:
            if (v, u) not in used:
                raise SequenceError(f"edge {u}-{v} walked only one way (the doubled tour is not closed)")
    g = nx.Graph()
    g.add_node("VSS")
    g.add_edges_from(edges.values())
    g = relabel(g)
    for n, kind in list(g.nodes(data="kind")):
        if kind == "device":
            tok = parse_node(n)[1]
            for p in DEVICE_TYPES[tok].pins:
                if not g.has_edge(n, f"{n}_{p}"):
                    raise SequenceError(f"device {n} lacks its pin {n}_{p}")
        elif kind == "pin":
            _, tok, idx, _ = parse_node(n)
            if not g.has_edge(n, f"{tok}{idx}"):
                raise SequenceError(f"pin {n} never joins its device {tok}{idx}")
            if g.degree(n) < 2:
                raise SequenceError(f"pin {n} is on no net")
    return g, ctype
