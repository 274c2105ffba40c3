"""Euler-tour sequences of device-pin graphs: serialisation, tokenizer, decoding, grammar.

A device-pin graph (:mod:`eda.graphs.pin_graph`) is serialised as an Eulerian circuit of its
*doubled* graph (every undirected edge replaced by its two directions, so every node is
balanced and the circuit walks each edge once each way), starting and ending at ``VSS``, as in
AnalogGenie. Different tours of one circuit are augmentations. Device indices are renumbered per
type in order of first appearance, so a tour is canonical given its walk.

A token sequence is ``<bos> <type:T> VSS ... VSS <eos>``; generators work on the compact form
(:func:`compact_tour`) that stops after the last new edge, the walk back being implied
(:func:`close_walk`). :func:`sequence_to_graph` decodes any
sequence back to a graph or raises :class:`SequenceError` naming the position and the reason.
:class:`TourGrammar` is the incremental form of the same rules, used to mask a generator's
next-token choices (pins only next to their device, tours that close, enough length to close).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

from eda.errors import InputError
from eda.graphs.pin_graph import DEVICE_TYPES, PORT_RE, node_label, parse_node, relabel

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
ANY_TYPE = "any"

#: Default maximum device index per type in the vocabulary.
MAX_DEVICES: dict[str, int] = {"NM": 48, "PM": 48, "NPN": 16, "PNP": 16, "R": 24, "C": 24, "L": 8, "D": 12}
#: Default port tokens: class name alone and with indices.
PORT_CLASSES: dict[str, int] = {"VDD": 0, "VSS": 0, "VIN": 8, "VOUT": 8, "VB": 16, "IB": 8, "VCLK": 8,
                                "VREF": 4, "VLO": 2, "VRF": 2, "VCM": 2}
#: Default circuit type labels (the library's and the composer's).
TYPES: tuple[str, ...] = (
    "current_mirror", "reference", "opamp1", "opamp2", "folded_cascode", "telescopic", "ldo",
    "bandgap", "comparator", "latch", "oscillator", "lna", "mixer", "sampler", "level_shifter",
    "amplifier", "buffer", "other",
)


class SequenceError(InputError):
    """A token sequence is not a well-formed tour; ``position`` is the 0-based token index."""

    def __init__(self, message: str, position: int | None = None, token: str | None = None):
        self.position = position
        self.token = token
        where = f"token {position}" + (f" ({token!r})" if token is not None else "") if position is not None \
            else "sequence"
        super().__init__(f"{where}: {message}", file="<sequence>")


# --------------------------------------------------------------------------------------------- tours


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


def close_walk(walk: list) -> list:
    """``walk`` followed by the walk back down its stack to its first node (inverse of
    :func:`compact_tour`; a closed tour is returned unchanged)."""
    return list(walk) + walk_stack(walk)[-2::-1]


# ----------------------------------------------------------------------------------------- tokenizer


def type_token(ctype: str | None) -> str:
    return f"<type:{ctype or ANY_TYPE}>"


@dataclass
class Vocab:
    """Token vocabulary: specials, type tokens, ports, device and pin tokens.

    Saved as JSON (and inside checkpoints) so a model always decodes with its own vocabulary.
    """

    tokens: list[str]
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(set(self.tokens)) != len(self.tokens):
            raise InputError("vocabulary has duplicate tokens")
        self.index = {t: i for i, t in enumerate(self.tokens)}
        for s in (PAD, BOS, EOS):
            if s not in self.index:
                raise InputError(f"vocabulary lacks {s}")

    @classmethod
    def build(cls, types: tuple[str, ...] = TYPES, max_devices: dict[str, int] | None = None,
              ports: dict[str, int] | None = None) -> Vocab:
        toks = [PAD, BOS, EOS, type_token(None)] + [type_token(t) for t in types]
        for cls_name, n in (ports or PORT_CLASSES).items():
            toks.append(cls_name)
            toks += [f"{cls_name}{i}" for i in range(1, n + 1)]
        for tok, n in (max_devices or MAX_DEVICES).items():
            pins = DEVICE_TYPES[tok].pins
            for i in range(1, n + 1):
                toks.append(f"{tok}{i}")
                toks += [f"{tok}{i}_{p}" for p in pins]
        return cls(toks)

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def pad(self) -> int:
        return self.index[PAD]

    @property
    def bos(self) -> int:
        return self.index[BOS]

    @property
    def eos(self) -> int:
        return self.index[EOS]

    @property
    def types(self) -> list[str]:
        return [t[6:-1] for t in self.tokens if t.startswith("<type:")]

    def encode(self, tour: list[str], ctype: str | None = None) -> list[int]:
        """Ids of ``<bos> <type:T> tour... <eos>``.

        Raises:
            InputError: a node is not in the vocabulary (too many devices of a type, an unknown
                port, an unknown type).
        """
        tt = type_token(ctype)
        if tt not in self.index:
            raise InputError(f"circuit type {ctype!r} is not in the vocabulary ({', '.join(self.types)})")
        ids = [self.bos, self.index[tt]]
        for n in tour:
            i = self.index.get(n)
            if i is None:
                raise InputError(f"token {n!r} is not in the vocabulary (more devices of a type than "
                                 "the vocabulary holds, or an unknown port)")
            ids.append(i)
        ids.append(self.eos)
        return ids

    def decode(self, ids: list[int]) -> list[str]:
        out = []
        for k, i in enumerate(ids):
            if not 0 <= int(i) < len(self.tokens):
                raise SequenceError(f"id {int(i)} is outside the vocabulary of {len(self.tokens)}", k)
            out.append(self.tokens[int(i)])
        return out

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"tokens": self.tokens}))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        try:
            data = json.loads(Path(path).read_text())
            return cls(list(data["tokens"]))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise InputError(f"not a vocabulary file: {e}", file=path) from e


# -------------------------------------------------------------------------------------------- decode


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
    g = nx.Graph()
    g.add_node("VSS")
    for k in range(1, len(walk)):
        u, v = walk[k - 1], walk[k]
        why = _edge_kind(u, v)
        if why:
            raise SequenceError(why, i + k, v)
        if strict and (u, v) in used:
            raise SequenceError(f"edge {u}->{v} walked twice in the same direction", i + k, v)
        used.add((u, v))
        g.add_edge(u, v)
    if strict:
        if walk[-1] != "VSS":
            raise SequenceError("the tour does not return to VSS", i + len(walk) - 1, walk[-1])
        for u, v in used:
            if (v, u) not in used:
                raise SequenceError(f"edge {u}-{v} walked only one way (the doubled tour is not closed)")
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


# ------------------------------------------------------------------------------------------- grammar

# token kinds
_K_SPECIAL, _K_TYPE, _K_PORT, _K_DEVICE, _K_PIN = 0, 1, 2, 3, 4


class VocabTables:
    """Per-token lookup arrays of a vocabulary for :class:`TourGrammar`."""

    def __init__(self, vocab: Vocab):
        v = len(vocab)
        self.vocab = vocab
        self.kind = np.zeros(v, np.int8)
        self.dtype = np.full(v, -1, np.int16)  # device type index
        self.didx = np.zeros(v, np.int16)  # device index (1-based)
        self.dev = np.full(v, -1, np.int32)  # device token of a pin / device
        self.types = list(DEVICE_TYPES)
        self.pins_of: dict[int, list[int]] = {}
        self.npins = np.zeros(v, np.int8)
        self.dev_by_type_idx: dict[tuple[int, int], int] = {}
        for i, t in enumerate(vocab.tokens):
            if t.startswith("<type:"):
                self.kind[i] = _K_TYPE
            elif t.startswith("<"):
                self.kind[i] = _K_SPECIAL
            else:
                k, tok, idx, _ = parse_node(t)
                if k == "port":
                    self.kind[i] = _K_PORT
                elif k in ("device", "pin"):
                    self.kind[i] = _K_DEVICE if k == "device" else _K_PIN
                    self.dtype[i] = self.types.index(tok)
                    self.didx[i] = idx
        for i, t in enumerate(vocab.tokens):
            if self.kind[i] == _K_DEVICE:
                self.dev[i] = i
                self.dev_by_type_idx[(int(self.dtype[i]), int(self.didx[i]))] = i
                tok = self.types[self.dtype[i]]
                self.pins_of[i] = [vocab.index[f"{t}_{p}"] for p in DEVICE_TYPES[tok].pins
                                   if f"{t}_{p}" in vocab.index]
                self.npins[i] = len(self.pins_of[i])
        for d, pins in self.pins_of.items():
            for p in pins:
                self.dev[p] = d
        self.is_pin = self.kind == _K_PIN
        # pins that conduct at DC (MOS drain/source/bulk, BJT, R, L, diode; not gates, not caps)
        self.is_dc_pin = np.array([bool(self.kind[i] == _K_PIN and not t.endswith("_G")
                                        and self.types[self.dtype[i]] != "C")
                                   for i, t in enumerate(vocab.tokens)])
        self.is_inductor_pin = np.array([bool(self.kind[i] == _K_PIN and self.types[self.dtype[i]] == "L")
                                         for i in range(v)])
        self.driven = np.array([bool(self.kind[i] == _K_PORT and not (t.startswith("IB") or t.startswith("VOUT")))
                                for i, t in enumerate(vocab.tokens)])
        # ports that no source drives: their net needs a DC pin
        self.needs_dc = np.array([bool(self.kind[i] == _K_PORT and (t.startswith("IB") or t.startswith("VOUT")))
                                  for i, t in enumerate(vocab.tokens)])
        self.is_port = self.kind == _K_PORT
        # tokens a new device costs when opened through one of its pins (big for non-pins)
        new_cost = np.array([4 * len(DEVICE_TYPES[ty].pins) for ty in self.types])
        self.pin_new_cost = np.where(self.is_pin, new_cost[np.maximum(self.dtype, 0)], 1 << 30)
        self.min_new_cost = int(new_cost.min())
        self.min_dc_new_cost = int(min(c for ty, c in zip(self.types, new_cost, strict=True) if ty != "C"))
        self.vss = vocab.index["VSS"]
        self.vdd = vocab.index["VDD"]
        # allowed port classes for generation: any port token of the vocabulary
        self.port_ids = np.flatnonzero(self.is_port)
        self.port_names = {i: vocab.tokens[i] for i in self.port_ids}
        self.bare_port = np.array([bool(PORT_RE.match(vocab.tokens[i]) and
                                        not PORT_RE.match(vocab.tokens[i]).group(2) and
                                        vocab.tokens[i] not in ("VDD", "VSS"))
                                   for i in range(v)])
        self.port_ok = self.is_port & ~self.bare_port  # port tokens a pin may walk to
        # node attributes of each graph token, as :func:`~eda.graphs.pin_graph.relabel` sets them
        kinds = {_K_PORT: "port", _K_DEVICE: "device", _K_PIN: "pin"}
        self.node_attrs = [{"kind": kinds[int(self.kind[i])], "label": node_label(tok)}
                           if int(self.kind[i]) in kinds else None for i, tok in enumerate(vocab.tokens)]


class TourGrammar:
    """Incremental rules for one tour being generated, as a next-token mask (edge-DFS form).

    The tour is generated as an edge depth-first walk, which is an Eulerian circuit of the
    doubled graph: the walker either opens a new edge (and stands on its far end) or returns
    along the edge it came by (a stack pop). Rules:

    * devices touch only their own pins; pins touch their device, other pins and ports; a net
      never joins two ports; nets keep the canonical form (a port net is a star on its port, an
      internal net joins pins only, so a pin on one never reaches into the other); new devices
      take the next free index of their type;
    * a device's last free pin never joins the net all its other pins share (no shorted device),
      an inductor's last free pin never joins a second source-driven net (later net merges are
      left to the ERC), and a net never consists of gate and
      capacitor pins alone (it would float at DC);
    * a node is left for good (popped) only when complete: a device with all its pins, a pin
      joined to its device and to a net, an undriven port (``IBk``, ``VOUTk``) with a pin that
      conducts at DC on its net;
    * the walk may end (``<eos>``) wherever the circuit is complete (:meth:`closable`): the
      rest of the tour, back down the stack to ``VSS``, is implied (:meth:`closing`,
      :func:`close_walk`); without ``VDD`` it ends only back at ``VSS`` once the remaining length
      cannot fit another device (the ERC then rejects the circuit);
    * a node walked back from is finished: it takes no new edge (the depth-first form of the
      training tours, which leave a node only once all its edges are walked);
    * a new edge is opened only if, after it, the remaining length still covers the pops back to
      ``VSS``, the owed links and nets (two tokens each) and ``<eos>``. This invariant makes
      every prefix completable, so the tour always closes.

    Args:
        tables: lookup arrays of the vocabulary.
        max_len: total sequence length including ``<bos>``, the type token and ``<eos>``.
        prefix_len: tokens placed before ``VSS`` (``<bos>`` and the type token).
    """

    VDD_COST = 8  # tokens reserved while VDD is absent (a device to reach it)
    VDD_URGENT = 16  # below this much room a netless pin must take VDD while it is absent

    def __init__(self, tables: VocabTables, max_len: int, prefix_len: int = 2):
        self.t = tables
        v = len(tables.vocab)
        self.max_len = max_len
        self.length = prefix_len + 1  # VSS placed
        self.stack = [tables.vss]
        self.exists = np.zeros(v, bool)
        self.exists[tables.vss] = True
        self.pin_exists = np.zeros(v, bool)
        self.n_dev = 0
        self.netless = np.zeros(v, bool)  # existing pins without a net edge
        self.unlinked = np.zeros(v, bool)  # existing pins not yet joined to their device
        self.n_unlinked_dev = np.zeros(v, np.int16)  # per device token: pins not yet joined
        self.comp_port = np.full(v, -1, np.int32)  # port token of each pin's net, -1: none yet
        self.comp_dc = np.zeros(v, bool)  # the pin's net has a port or a pin that conducts at DC
        self.adj: dict[int, set[int]] = {}
        self.count = np.zeros(len(tables.types), np.int32)
        self.next_new = np.zeros(v, bool)  # tokens of the next new device of each type
        for ti in range(len(tables.types)):
            self._mark_next(ti, True)
        self.parent: dict[int, int] = {}
        self.members: dict[int, list[int]] = {}
        self.n_unlinked = 0
        self.n_netless = 0
        self.netless_set: set[int] = set()
        self._version = 0  # bumped whenever nets change (invalidates cached net queries)
        self._partners_cache: dict[int, tuple[int, set[int]]] = {}
        self._sib_cache: dict[int, int] = {}
        self._sib_version = 0
        self.devices: list[int] = []  # device tokens in order of appearance
        # internal nets are cliques of their pins (the training graphs' form): pin edges still
        # owed, edges inside each net (by root), net size and "has a finished member" per pin
        self.clique_missing = 0
        self.net_edges: dict[int, int] = {}
        self.net_size = np.ones(v, np.int32)
        self.net_closed = np.zeros(v, bool)
        self.any_net_closed = False
        self.max_net = 1
        self._dc_version, self._dc = -1, False
        # nodes walked back from: in an edge depth-first walk a node is left only once all its
        # edges are walked, so it never takes a new edge again (the training tours' form)
        self.closed = np.zeros(v, bool)
        self.done = False
        self.failed: str | None = None

    # ---- bookkeeping
    def _mark_next(self, ti: int, on: bool) -> None:
        d = self.t.dev_by_type_idx.get((ti, int(self.count[ti]) + 1))
        if d is not None:
            self.next_new[d] = on
            self.next_new[self.t.pins_of[d]] = on

    def _find(self, x: int) -> int:
        if x not in self.parent:
            self.parent[x] = x
            self.members[x] = [x]
            if self.t.is_port[x]:
                self.comp_port[x] = x
            self.comp_dc[x] = bool(self.t.driven[x] or self.t.is_dc_pin[x])
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        port = max(int(self.comp_port[ra]), int(self.comp_port[rb]))
        dc = bool(self.comp_dc[ra] or self.comp_dc[rb])
        # keep every member pointing straight at its root, so lookups never walk a chain
        moved = self.members.pop(rb)
        par = self.parent
        for x in moved:
            par[x] = ra
        self.members[ra] += moved
        if port != -1:
            self.comp_port[self.members[ra]] = port
        if dc:
            self.comp_dc[self.members[ra]] = True

    @property
    def debt(self) -> int:
        """Tokens owed: two per missing device-pin link, per pin without a net and per edge an
        internal net still lacks to be a clique of its pins, and :attr:`VDD_COST` while VDD is
        absent."""
        return 2 * (self.n_unlinked + self.n_netless + self.clique_missing) + \
            (0 if self.exists[self.t.vdd] else self.VDD_COST)

    def remaining(self) -> int:
        """Tokens still placeable, ``<eos>`` included."""
        return self.max_len - self.length

    def _complete(self, a: int) -> bool:
        k = self.t.kind[a]
        if k == _K_DEVICE:
            return self.n_unlinked_dev[a] == 0
        if k == _K_PIN:
            if self.unlinked[a] or self.netless[a]:
                return False
            # on an internal net: joined to every other pin of it (device link + net edges)
            return self.comp_port[a] != -1 or len(self.adj[a]) == self.net_size[a]
        if self.t.needs_dc[a]:
            # an undriven port (IBk, VOUTk) is left only once its net has a DC path through a pin
            return bool(self.t.is_dc_pin[self.members[self._find(a)]].any())
        return True

    def closable(self) -> bool:
        """Whether the circuit is complete, so ``<eos>`` may end the walk here (the walk back
        down the stack, :meth:`closing`, is implied): every pin joined to its device and on a
        net, VDD present, every undriven port on the stack with a conducting pin on its net, and
        every net with a DC path to a voltage-driven port (the ERC's rule)."""
        if self.n_unlinked or self.n_netless or self.clique_missing or not self.exists[self.t.vdd]:
            return False
        # devices and pins are complete now; only ports on the stack may not be
        if not all(self._complete(a) for a in self.stack if self.t.kind[a] == _K_PORT):
            return False
        if self._dc_version != self._version:
            self._dc_version, self._dc = self._version, self._dc_paths_ok()
        return self._dc

    def _dc_paths_ok(self) -> bool:
        """Every net joined through DC-conducting device terminals to a voltage-driven port."""
        t = self.t
        up: dict[int, int] = {}

        def find(x: int) -> int:
            while up.get(x, x) != x:
                x = up[x]
            return x

        nets = set()
        for d in self.devices:
            roots = [self._find(p) for p in t.pins_of[d]]
            nets.update(roots)
            dc = [r for p, r in zip(t.pins_of[d], roots, strict=True) if t.is_dc_pin[p]]
            for a, b in zip(dc, dc[1:], strict=False):
                ra, rb = find(a), find(b)
                if ra != rb:
                    up[ra] = rb
        good = {find(r) for r in nets if self.comp_port[r] != -1 and t.driven[self.comp_port[r]]}
        return all(find(r) in good for r in nets)

    def graph(self) -> nx.Graph:
        """The device-pin graph walked so far (what :func:`sequence_to_graph` decodes from the
        tokens, built from the grammar's own adjacency without re-parsing them)."""
        t = self.t
        g = nx.Graph()
        toks = t.vocab.tokens
        g.add_node(toks[t.vss], **t.node_attrs[t.vss])
        for a in self.adj:
            g.add_node(toks[a], **t.node_attrs[a])
        g.add_edges_from((toks[a], toks[b]) for a, nb in self.adj.items() for b in nb if a < b)
        return g

    def closing(self) -> list[int]:
        """Tokens of the walk back down the stack to ``VSS`` (implied by an early ``<eos>``)."""
        return self.stack[-2::-1]

    # ---- the mask
    def mask(self) -> np.ndarray:
        """Boolean mask over the vocabulary of the legal next tokens (only ``<pad>`` once over)."""
        t = self.t
        m = np.zeros(len(t.vocab), bool)
        if self.done or self.failed:
            m[t.vocab.pad] = True
            return m
        a = self.stack[-1]
        if len(self.stack) > 1:
            if self._complete(a):
                m[self.stack[-2]] = True
        # invariant: remaining >= pops to VSS + debt + <eos>; a forward move costs itself and its
        # pop; it is legal when room + paid - added >= 0
        room = self.remaining() - len(self.stack) - self.debt - 2
        if self.n_dev and (self.closable() or (
                # without VDD the circuit fails the ERC; ending is still allowed once no device fits
                len(self.stack) == 1 and room + 2 - t.min_new_cost < 0)):
            m[t.vocab.eos] = True
        nbrs = self.adj.get(a, ())
        ka = t.kind[a]
        vdd_pay = 0 if self.exists[t.vdd] else self.VDD_COST
        if ka == _K_DEVICE:
            if room + 2 >= 0:
                for p in t.pins_of[a]:
                    if self.unlinked[p]:
                        m[p] = True
            return m
        own = 2 if (ka == _K_PIN and self.netless[a]) else 0
        force_vdd = False
        # existing pins: the edge costs 2, paid back (2) when it nets a netless pin; a new
        # device's pin also costs the device (the new pin is netted by this edge)
        if room + own >= 0:
            cand = self.pin_exists.copy()
        elif room + own + 2 >= 0:
            cand = self.netless.copy()
        else:
            cand = np.zeros(len(m), bool)
        cand |= self.next_new & (t.pin_new_cost <= room + own + 2)
        if ka == _K_PIN:
            d = int(t.dev[a])
            if self.unlinked[a] and room + 2 >= 0:
                m[d] = True
            ap = int(self.comp_port[a])
            # canonical nets: a port net is a star on its port, an internal net joins pins only;
            # a pin already on one never reaches into the other kind
            cand &= self.comp_port == -1
            if ap == -1:
                # joining nets of sizes sa and sq owes sa*sq - 1 more clique edges (2 tokens
                # each); an edge inside the net pays one off. A net with a finished member is
                # complete: it joins no other net (that member could not take the new edges).
                mine = self._find(a)
                sa = len(self.members[mine])
                if sa == 1:  # a netless pin (its own net; never finished): no mates to keep
                    if room + own < 2 * (self.max_net - 1):  # (else every join fits)
                        cand &= ~self.pin_exists | (room + own + 2 * self.netless - 2 * (self.net_size - 1) >= 0)
                    if self.any_net_closed:
                        cand &= ~self.net_closed
                else:
                    same = np.zeros(len(m), bool)
                    same[self.members[mine]] = True
                    if room + own < 2 * (sa * self.max_net - 1):
                        cand &= same | ~self.pin_exists | (room + own + 2 * self.netless
                                                            - 2 * (sa * self.net_size - 1) >= 0)
                    cand &= ~self.next_new | (t.pin_new_cost + 2 * (sa - 1) <= room + own + 2)
                    if self.net_closed[a]:
                        cand &= same
                    elif self.any_net_closed:
                        cand &= same | ~self.net_closed
            if ap != -1:
                cand[:] = False
                if room >= 0:
                    m[ap] = True
            elif not self.netless[a]:
                pass
            elif room + own >= 0:
                # (an undriven port reached from a gate must then take a conducting pin first,
                # so a gate opens one only with room left for a new device to provide it)
                ports = t.port_ok
                if not t.is_dc_pin[a] and room + own - t.min_dc_new_cost < 0:
                    ports = ports & ~(t.needs_dc & ~self.comp_dc)
                m |= ports
                # VDD still absent and little room left: a netless pin takes VDD now
                force_vdd = bool(vdd_pay) and room + own < self.VDD_URGENT
            elif vdd_pay and room + own + vdd_pay >= 0:
                m[t.vdd] = True
            cand[a] = False
            if not (self.comp_dc[a] or t.is_dc_pin[a]):
                # a gate or capacitor pin joins only nets that have (or get) a DC pin or a port:
                # nets of gates and capacitors alone float at DC
                cand &= self.comp_dc | t.is_dc_pin
            self._no_shorted_device(a, m, cand)
        elif ka == _K_PORT:
            cand &= self.netless | (self.comp_port == a) | ~self.exists
            if not self.comp_dc[self._find(a)]:
                cand &= self.comp_dc | t.is_dc_pin  # an undriven port's first pins must conduct
        else:
            return m
        if ka == _K_PORT or not self.netless[a]:
            # as a target, a device's last free pin must not join the net its siblings share
            mine = self._find(a)
            my_port = int(self.comp_port[mine])
            for q in self.netless_set:
                if not cand[q]:
                    continue
                sr = self._siblings_root(q)
                if sr == mine:
                    cand[q] = False
                elif (sr != -1 and t.is_inductor_pin[q] and my_port != -1 and t.driven[my_port]
                      and self.comp_port[sr] != -1 and self.comp_port[sr] != my_port
                      and t.driven[self.comp_port[sr]]):
                    cand[q] = False  # an inductor (a DC short) between two source-driven nets
            # merging this net with another must not put every pin of a device on one net
            for r in self._short_partners(mine):
                self._forbid_net(r, m, cand)
        m |= cand
        for q in nbrs:
            m[q] = False
        m &= ~self.closed
        if force_vdd and m[t.vdd]:
            m[:] = False
            m[t.vdd] = True
        if len(self.stack) > 1 and (self._complete(a) or not m.any()):
            m[self.stack[-2]] = True  # (an incomplete port with no move left: leave, the ERC judges)
        return m

    def _siblings_root(self, q: int) -> int:
        """Net root shared by all the other pins of q's device, or -1 (cached until nets change)."""
        if self._sib_version != self._version:
            self._sib_cache.clear()
            self._sib_version = self._version
        hit = self._sib_cache.get(q)
        if hit is None:
            hit = self._sib_cache[q] = self._siblings_root_uncached(q)
        return hit

    def _siblings_root_uncached(self, q: int) -> int:
        roots = set()
        for p in self.t.pins_of[int(self.t.dev[q])]:
            if p != q:
                if self.netless[p]:
                    return -1
                roots.add(self._find(p))
        return roots.pop() if len(roots) == 1 else -1

    def _short_partners(self, root: int) -> set[int]:
        """Net roots that, merged with ``root``, would leave some device with all pins on one net."""
        hit = self._partners_cache.get(root)
        if hit is not None and hit[0] == self._version:
            return hit[1]
        out = self._short_partners_uncached(root)
        self._partners_cache[root] = (self._version, out)
        return out

    def _short_partners_uncached(self, root: int) -> set[int]:
        out: set[int] = set()
        t = self.t
        par, netless, pins_of, dev, kind = self.parent, self.netless, t.pins_of, t.dev, t.kind
        for p in self.members.get(root, ()):
            if kind[p] != _K_PIN:
                continue
            others = set()
            for s in pins_of[dev[p]]:
                if netless[s]:
                    others = None
                    break
                # a pin with a net edge went through a union, so it is in ``parent`` (flat)
                r = par[s]
                if r != root:
                    others.add(r)
            if others is not None and len(others) == 1:
                out |= others
        return out

    def _no_shorted_device(self, a: int, m: np.ndarray, cand: np.ndarray) -> None:
        """Forbid putting the last netless pin of a device on the net all its other pins share."""
        if not self.netless[a]:
            return
        others = [p for p in self.t.pins_of[int(self.t.dev[a])] if p != a]
        if any(self.netless[p] for p in others):
            return
        roots = {self._find(p) for p in others}
        if self.t.is_inductor_pin[a]:
            # an inductor is a DC short: it must not join two nets driven by voltage sources
            sp = int(self.comp_port[next(iter(roots))])
            if sp != -1 and self.t.driven[sp]:
                m &= ~(self.t.driven & (np.arange(len(m)) != sp))
                cand &= ~((self.comp_port != -1) & (self.comp_port != sp)
                          & self.t.driven[np.maximum(self.comp_port, 0)])
        if len(roots) != 1:
            return
        self._forbid_net(roots.pop(), m, cand)

    def _forbid_net(self, r: int, m: np.ndarray, cand: np.ndarray) -> None:
        """Forbid every move onto the net whose root is ``r`` (its port, or its member pins)."""
        port = int(self.comp_port[r])
        if port != -1:
            m[port] = False
            cand[self.comp_port == port] = False
        else:
            cand[self.members[r]] = False

    def step(self, tok: int) -> None:
        """Apply one token (legal under :meth:`mask`)."""
        t = self.t
        self.length += 1
        if tok == t.vocab.eos:
            self.done = True
            return
        if tok == t.vocab.pad:
            self.failed = self.failed or "no legal next token"
            return
        a, b = self.stack[-1], int(tok)
        if len(self.stack) > 1 and b == self.stack[-2] and b in self.adj.get(a, ()):
            self.stack.pop()
            self.closed[a] = True
            if t.kind[a] == _K_PIN and self.comp_port[a] == -1:
                self.net_closed[self.members[self._find(a)]] = True
                self.any_net_closed = True
        else:
            self._introduce(b)
            self.adj.setdefault(a, set()).add(b)
            self.adj.setdefault(b, set()).add(a)
            self.stack.append(b)
            ka, kb = t.kind[a], t.kind[b]
            if _K_DEVICE in (ka, kb):
                pin, dev = (a, b) if ka == _K_PIN else (b, a)
                self.unlinked[pin] = False
                self.n_unlinked -= 1
                self.n_unlinked_dev[dev] -= 1
            else:
                self._version += 1
                for x in (a, b):
                    if self.netless[x]:
                        self.netless[x] = False
                        self.n_netless -= 1
                        self.netless_set.discard(x)
                if ka == _K_PIN and kb == _K_PIN:
                    self._join_pins(a, b)
                else:
                    self._union(a, b)
        if self.remaining() <= 0:
            self.failed = "length budget exhausted before the tour closed"

    def _join_pins(self, a: int, b: int) -> None:
        """Net edge between two pins: union their nets and keep the clique accounting."""
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            self.net_edges[ra] = self.net_edges.get(ra, 0) + 1
            self.clique_missing -= 1
            return
        sa, sb = len(self.members[ra]), len(self.members[rb])
        ea, eb = self.net_edges.pop(ra, 0), self.net_edges.pop(rb, 0)
        old = sa * (sa - 1) // 2 - ea + sb * (sb - 1) // 2 - eb
        n, e = sa + sb, ea + eb + 1
        self.clique_missing += n * (n - 1) // 2 - e - old
        closed = bool(self.net_closed[a] or self.net_closed[b])
        self._union(a, b)
        r = self._find(a)
        self.net_edges[r] = e
        mem = self.members[r]
        self.net_size[mem] = n
        self.max_net = max(self.max_net, n)
        if closed:
            self.net_closed[mem] = True

    def _introduce(self, x: int) -> None:
        t = self.t
        if self.exists[x]:
            return
        if t.kind[x] in (_K_DEVICE, _K_PIN):
            d = int(t.dev[x])
            ti = int(t.dtype[d])
            self._mark_next(ti, False)
            self.count[ti] += 1
            self.n_dev += 1
            self.devices.append(d)
            self._mark_next(ti, True)
            self.exists[d] = True
            pins = t.pins_of[d]
            self.exists[pins] = True
            self.pin_exists[pins] = True
            self.netless[pins] = True
            self.unlinked[pins] = True
            self.n_unlinked_dev[d] = len(pins)
            self.n_unlinked += len(pins)
            self.n_netless += len(pins)
            self.netless_set.update(pins)
        self.exists[x] = True
