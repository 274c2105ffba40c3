"""Canonical forms of device-pin graphs: exact isomorphism, novelty and uniqueness in milliseconds.

Two device-pin graphs are the same circuit when a bijection of their nodes keeps node labels
(device types, pin roles, port names; :func:`~eda.graphs.pin_graph.node_label`) and edges.
:func:`canonical_form` relabels a graph by BLISS (igraph's ``canonical_permutation`` with the
labels as vertex colours) and returns the labels and edges in canonical order: two graphs are
isomorphic exactly when their forms are equal, so a set of forms answers "seen before?" by one
hash lookup, however symmetric the circuits (networkx VF2 needed seconds on circuits of 15–47
devices with many interchangeable branches).
"""

from __future__ import annotations

import hashlib
import json

import networkx as nx

Form = tuple[tuple[str, ...], tuple[tuple[int, int], ...]]


def canonical_form(g: nx.Graph) -> Form:
    """Canonical (labels, edges) of a labelled graph: equal for two graphs iff they are
    isomorphic with labels kept. Nodes without a ``label`` attribute use their name."""
    import igraph as ig  # here, not at import: igraph pulls in its drawing modules (~0.7 s), and every sizing worker
    # imports this module through the testbench without ever needing a canonical form

    nodes = list(g.nodes)
    labels = [g.nodes[n].get("label", n) for n in nodes]
    palette = {lab: i for i, lab in enumerate(sorted(set(labels)))}
    pos = {n: i for i, n in enumerate(nodes)}
    edges = [(pos[u], pos[v]) for u, v in g.edges]
    h = ig.Graph(n=len(nodes), edges=edges)
    # igraph 0.11/1.0 returns, for each canonical position, the vertex placed there (checked by
    # tests/test_topo_graph.py on shuffled copies): invert it to map each vertex to its position
    order = h.canonical_permutation(color=[palette[lab] for lab in labels])
    perm = [0] * len(nodes)
    for k, v in enumerate(order):
        perm[v] = k
    canon_labels = [""] * len(nodes)
    for i, lab in enumerate(labels):
        canon_labels[perm[i]] = lab
    canon_edges = sorted((min(perm[u], perm[v]), max(perm[u], perm[v])) for u, v in edges)
    return tuple(canon_labels), tuple(canon_edges)


def canonical_hash(g: nx.Graph) -> str:
    """Short hex digest of :func:`canonical_form` (for file names and reports; use the form
    itself where exactness matters)."""
    return hashlib.blake2b(repr(canonical_form(g)).encode(), digest_size=12).hexdigest()


class GraphSet:
    """A set of device-pin graphs up to labelled isomorphism (canonical forms, exact)."""

    def __init__(self, graphs: list[nx.Graph] | None = None):
        self.forms: set[Form] = set()
        for g in graphs or ():
            self.add(g)

    def to_json(self) -> str:
        """The set as JSON (each form as its labels joined by spaces and its edges as one flat list), read back by
        :meth:`from_json`.

        Raises:
            ValueError: a node label holds a space (that form cannot be written this way).
        """
        if any(" " in lab for labels, _ in self.forms for lab in labels):
            raise ValueError("a node label holds a space")
        return json.dumps(sorted([" ".join(labels), [x for uv in edges for x in uv]] for labels, edges in self.forms))

    @classmethod
    def from_json(cls, text: str) -> GraphSet:
        """The set written by :meth:`to_json`.

        Raises:
            ValueError: the text is not JSON of that form.
        """
        out, data = cls(), json.loads(text)
        if not isinstance(data, list):
            raise ValueError(f"not a set of canonical forms: a JSON {type(data).__name__}, not a list")
        try:
            for labels, flat in data:
                pairs = iter(int(x) for x in flat)
                out.forms.add((tuple(labels.split(" ")) if labels else (), tuple(zip(pairs, pairs, strict=True))))
        except (TypeError, AttributeError) as e:
            raise ValueError(f"not a set of canonical forms: {e}") from e
        return out

    def find(self, g: nx.Graph) -> bool:
        """Whether a graph isomorphic to ``g`` is in the set."""
        return canonical_form(g) in self.forms

    def __contains__(self, g: nx.Graph) -> bool:
        return self.find(g)

    def add(self, g: nx.Graph) -> bool:
        """Add ``g``; False when an isomorphic graph was already there."""
        f = canonical_form(g)
        if f in self.forms:
            return False
        self.forms.add(f)
        return True

    def __len__(self) -> int:
        return len(self.forms)


def novelty_uniqueness(samples: list[nx.Graph], reference: GraphSet) -> dict[str, float]:
    """Fractions of ``samples`` that are unique among themselves and novel w.r.t. ``reference``."""
    if not samples:
        return {"unique": 0.0, "novel": 0.0, "n": 0}
    forms = [canonical_form(g) for g in samples]
    novel = sum(f not in reference.forms for f in forms)
    return {"unique": len(set(forms)) / len(samples), "novel": novel / len(samples), "n": len(samples)}


def repeat_of(forms: dict[str, Form]) -> dict[str, str | None]:
    """Per name of ``forms`` (name -> :func:`canonical_form`, in order): the first earlier name with the same form,
    None for the first of its kind (a set of samples that repeats a circuit, and which one it repeats)."""
    first: dict[Form, str] = {}
    return {name: None if (seen := first.setdefault(form, name)) == name else seen for name, form in forms.items()}
