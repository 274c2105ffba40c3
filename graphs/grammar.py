"""Incremental tour grammar: which next tokens keep a partial Euler tour a valid circuit.

:class:`TourGrammar` applies the rules of :func:`~eda.graphs.decode.sequence_to_graph` and the ERC
incrementally, as a mask over the vocabulary for a generator's next-token choice (pins only next
to their device, tours that close, enough length to close). :func:`grammar_accepts` replays a
training tour through it (every real circuit's tour must be accepted).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from eda.graphs.grammar_amp import AMP_NET_PINS, AmpRules
from eda.graphs.grammar_ports import SignalPortRules
from eda.graphs.grammar_roles import RoleRules
from eda.graphs.grammar_rules import ElectricalRules
from eda.graphs.grammar_tables import (  # noqa: F401 - VocabTables and LENGTH_SLACK re-exported
    _K_DEVICE,
    _K_PIN,
    _K_PORT,
    LENGTH_SLACK,
    VocabTables,
)


class TourGrammar(ElectricalRules, RoleRules, AmpRules, SignalPortRules):
    """Incremental rules for one tour being generated, as a next-token mask (edge-DFS form): an Eulerian
    circuit of the doubled graph, the walker opening a new edge or returning along the one it came by. Rules:

    * devices touch only their own pins; pins touch their device, other pins and ports; a net
      never joins two ports; nets keep the canonical form (a port net is a star on its port, an
      internal net joins pins only, so a pin on one never reaches into the other); new devices
      take the next free index of their type;
    * a device's last free pin never joins the net all its other pins share (no shorted device),
      an inductor's last free pin never joins a second source-driven net (later net merges are
      left to the ERC), and a net never consists of gate pins alone (it would float at DC; a
      capacitor anchors a net, as in real capacitively coupled designs) [strict mode only];
    * a node is left for good (popped) only when complete: a device with all its pins, a pin
      joined to its device and to a net, an undriven port (``IBk``, ``VOUTk``) with a pin that
      conducts at DC or a capacitor on its net [strict mode only];
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
        require_vdd: the circuit must use ``VDD`` (off: the public data set has circuits without).
        lenient: keep only the structural rules (well-formed tour, canonical nets, device indices,
            length) and drop the electrical ones (DC anchoring of nets, shorted devices,
            inductor loops), so every real circuit's tour is accepted, including the ~11 % of the
            public set that break a validity rule (bias lines of gates only, shorted dummies).
            Default (strict): the electrical rules of :mod:`eda.generators.topology_check`.
        net_cap: draws the most pins a new internal net may gather (e.g. from the training circuits'
            net sizes); None: no limit. The model alone grows nets far beyond real ones (8 % of its
            internal nets have 10+ pins, 0.2 % of the training circuits'), which spends the
            length budget on quadratic clique edges instead of devices.
        min_len: ``<eos>`` is refused while the full tour (placed tokens, the pops back to ``VSS``
            and ``<eos>``) would be shorter, unless no other token is legal: a generator's samples
            then follow the length distribution its budgets are drawn from, instead of ending at
            the first point the circuit is complete.
        accept: a final judge of a complete circuit (strict mode): ``<eos>`` is legal only where
            ``accept(self)`` is true, e.g. the validity rules of
            :func:`~eda.generators.topology_check.rule_violations` on :meth:`graph` (signal ports,
            input-to-output path, supply, inductor loops: rules the incremental checks leave to
            the end). Called only when every incremental check passes, once per change of the nets.
        bodies: (strict mode; None: with ``sampling``) a MOS body pin joins only its rail (NMOS:
            VSS, PMOS: VDD) or its own source's net, as real circuits do (public set: 99.8 % of NMOS
            and 91.8 % of PMOS bodies; the rest mostly PMOS wells on nets of bodies alone); the
            model alone put ~37 % on signal nets.
        sampling: restrictions for a generator that real depth-first tours need not follow (off
            for replaying them): with ``bodies``, a supply rail is not left for good while a new MOS
            still fits in the budget (the model alone closed VSS/VDD early, before a third of its
            MOS devices were placed: 0.1-0.7 % in the training tours; no new MOS of a closed rail's
            polarity may follow, its body would have no rail); the ``io_path`` rule by construction (a new
            output port only where an input is reached, and vice versa, until an input reaches an output;
            real tours may join the two later); no R, C or L across two nets one of its kind already joins.
        ctype: the circuit type being sampled; an op-amp type (:data:`AMP_ROLE_TYPES`) turns on the
            amplifier port roles (strict mode): a new ``VINk`` only from a MOS gate or BJT base, a
            new ``VOUTk`` only from a MOS drain/source or BJT collector/emitter, and ``<eos>`` only
            with two inputs and an output (real op-amps: 98.5 % of input nets hold a gate or base,
            99.2 % of output nets a drain/source/collector/emitter, 95 % of those with inputs have two).
    """

    VDD_COST = 8  # tokens reserved while VDD is absent (a device to reach it)
    VDD_URGENT = 16  # below this much room a netless pin must take VDD while it is absent
    DC_URGENT = 24  # below this much room a netless pin joins only nets with a DC path to a driven port
    ROLE_COST = 16  # tokens reserved per op-amp port still missing (a new transistor to carry it)
    ISLAND_COST = 12  # tokens reserved per repairable DC island (sampling): a resistor to a driven net
    #: circuit types sampled with the amplifier port roles (``ctype``), and the ports they need
    AMP_ROLE_TYPES = ("opamp", "opamp1", "opamp2", "folded_cascode", "telescopic", "ota")
    AMP_INPUTS, AMP_OUTPUTS = 2, 1

    def __init__(self, tables: VocabTables, max_len: int, prefix_len: int = 2, require_vdd: bool = False,
                 lenient: bool = False, min_len: int = 0, net_cap: Callable[[], int] | None = None,
                 accept: Callable[[TourGrammar], bool] | None = None, bodies: bool | None = None,
                 ctype: str | None = None, sampling: bool = False):
        self.t = tables
        self.bodies = bool(sampling if bodies is None else bodies) and not lenient
        self.sampling = sampling and not lenient
        self.amp = ctype in self.AMP_ROLE_TYPES and not lenient
        # the op-amp skeleton (grammar_amp; sampling only): kept when the port roles are given up
        self.skeleton = self.amp and self.sampling
        if self.skeleton:  # no internal net beyond a real op-amp's largest
            net_cap = (lambda cap=net_cap: min(int(cap()), AMP_NET_PINS)) if net_cap else (lambda: AMP_NET_PINS)
        self.n_vin = self.n_vout = 0  # input / output ports placed (amp roles)
        self.n_free_in = self.n_free_out = 0  # netless pins that may open one (amp roles)
        self.accept = accept
        self.min_len = min_len
        self.net_cap = net_cap
        # pins allowed on each pin's internal net (2 for a pin not on one yet; see net_cap)
        self.cap = np.full(len(tables.vocab), 2, np.int32) if net_cap else None
        self.require_vdd = require_vdd
        self.lenient = lenient
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
        self._loop_version, self._loop = -1, None
        self._sat_version, self._sat = -1, None
        self._io_version, self._io = -1, None
        self._pops, self._isl_key, self._isl = 0, None, None
        self._l_type = tables.types.index("L")
        # nodes walked back from: in an edge depth-first walk a node is left only once all its
        # edges are walked, so it never takes a new edge again (the training tours' form)
        self.closed = np.zeros(v, bool)
        self.done = False
        self.failed: str | None = None

    # ---- bookkeeping
    def _vdd_ok(self) -> bool:
        """VDD is present or not required (real circuits without VDD exist: current-driven
        networks, mirrors referenced to IB; ``require_vdd`` makes a generator place it)."""
        return bool(self.exists[self.t.vdd]) or not self.require_vdd

    def _mark_next(self, ti: int, on: bool) -> None:
        d = self.t.dev_by_type_idx.get((ti, int(self.count[ti]) + 1))
        if d is not None:
            self.next_new[d] = on
            self.next_new[self.t.pins_of[d]] = on

    def _find(self, x: int) -> int:
        r = self.parent.get(x)
        if r is not None:
            return r  # (``_union`` points every member straight at its root)
        self.parent[x] = x
        self.members[x] = [x]
        if self.t.is_port[x]:
            self.comp_port[x] = x
        self.comp_dc[x] = bool(self.t.driven[x] or self.t.anchor_pin[x])
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
            (0 if self._vdd_ok() else self.VDD_COST) + (self._role_reserve() if self.amp else 0)

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
            if not (self.comp_port[a] != -1 or len(self.adj[a]) == self.net_size[a]):
                return False
            if self.skeleton and self._core_owed(a):
                return False
            return self.lenient or (self._dc_leavable(a) and self._keeps_routes(a))
        if self.lenient:
            return True
        if not self._keeps_routes(a):
            return False  # (the last open route of a signal port that reaches no transistor yet)
        if self.bodies and self.t.is_supply[a] and self._bodies_waiting(a):
            return False  # (a rail is left for good only once the bodies that need it are on it)
        if self.t.needs_dc[a] and not self.t.anchor_pin[self.members[self._find(a)]].any():
            # an undriven port (IBk, VOUTk) is left only once its net has a pin that anchors it
            return False
        if self.t.needs_dc[a] and not self._dc_leavable(a):
            return False
        if self.skeleton and self._core_owed(a):
            return False
        # a signal port (VINk, VOUTk...) is left only once it reaches a transistor or diode
        return not self.t.is_signal[a] or self._reaches_active(a)

    def closable(self) -> bool:
        """Whether the circuit is complete, so ``<eos>`` may end the walk here (the walk back
        down the stack, :meth:`closing`, is implied): every pin joined to its device and on a
        net, VDD present, every undriven port on the stack with a conducting pin on its net, and
        every net with a DC path to a voltage-driven port (the ERC's rule)."""
        if self.n_unlinked or self.n_netless or self.clique_missing or not self._vdd_ok():
            return False
        if self.amp and (self.n_vin < self.AMP_INPUTS or self.n_vout < self.AMP_OUTPUTS):
            return False
        # devices and pins are complete now; only ports on the stack may not be
        if not all(self._complete(a) for a in self.stack if self.t.kind[a] == _K_PORT):
            return False
        if self.lenient:
            return True
        if self._dc_version != self._version:
            self._dc_version = self._version
            self._dc = self._dc_paths_ok() and (self.accept is None or bool(self.accept(self))) and (
                not self.skeleton or self._amp_judge())
        return self._dc

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
        # invariant: remaining >= pops to VSS + debt + <eos>; a forward move costs itself and its
        # pop; it is legal when room + paid - added >= 0
        room = self.remaining() - len(self.stack) - self.debt - 2
        # a repair reserve (sampling, near the end of the budget only: cheap): room held back for each
        # DC island that can still be repaired (a new conducting device from it to a driven net),
        # spendable only from that island
        fund = 0
        if self.sampling and 0 < room < 4 * self.ISLAND_COST:
            find, isl = self._islands()
            if isl:
                hold = min(self.ISLAND_COST * len(isl), room)
                room -= hold
                if find(self._find(a)) in isl:
                    fund = hold * t.is_dc_pin
        if self.sampling and room > 0 and (hold := min(self._port_reserve(), room)):
            room -= hold  # (held for a signal port's transistor: spendable on one from its route)
            fund = fund + (hold * t.is_active_pin if self._on_route(a) else 0)
        leave = len(self.stack) > 1 and self._complete(a) and not self._rail_stays(a, room)
        if leave:
            m[self.stack[-2]] = True
        # a tour shorter than min_len (its full length: placed, the pops back to VSS and <eos>)
        # ends only when nothing else is legal
        short = self.length + len(self.stack) < self.min_len
        reserve = self._role_reserve() if self.amp else 0
        if self.n_dev and ((self.closable() and not short) or (
                # without VDD the circuit fails the ERC; ending is still allowed once no device fits
                len(self.stack) == 1 and room + reserve + 2 - t.min_new_cost < 0)):
            m[t.vocab.eos] = True
        nbrs = self.adj.get(a, ())
        ka = t.kind[a]
        vdd_pay = 0 if self._vdd_ok() else self.VDD_COST
        if ka == _K_DEVICE:
            # (a device's own pins are owed whatever the op-amp reserve holds: it may be spent on them)
            if room + reserve + 2 >= 0:
                for p in t.pins_of[a]:
                    if self.unlinked[p]:
                        m[p] = True
            if self.skeleton and not m.any():
                m[t.vocab.pad] = True  # (no move left: the sample fails here rather than stall)
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
        cand |= self.next_new & (t.pin_new_cost <= room + own + 2 + fund)
        if reserve:
            # a new transistor that brings the pin a missing op-amp port needs is paid by its reserve
            cand |= self.next_new & (t.pin_new_cost <= room + own + 2 + self._role_funds())
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
                if self.cap is not None:  # no internal net beyond its drawn size (edges inside stay legal)
                    inside = np.zeros(len(m), bool)
                    inside[self.members[mine]] = True
                    cand &= (sa + self.net_size <= np.maximum(self.cap, self.cap[a])) | inside
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
                    cand &= ~self.next_new | (t.pin_new_cost + 2 * (sa - 1) <= room + own + 2 + fund)
                    if self.net_closed[a]:
                        cand &= same
                    elif self.any_net_closed:
                        cand &= same | ~self.net_closed
                    if room + own + 2 >= 0:
                        # an edge still owed inside the own net costs its 2 tokens and pays 2 of
                        # debt: always affordable (else the pin is left with its clique unfinished)
                        cand |= same & ~self.closed
            if ap != -1:
                cand[:] = False
                if room >= 0:
                    m[ap] = True
            elif not self.netless[a]:
                pass
            elif room + own >= 0:
                # (an undriven port reached from a gate must then take a conducting pin first,
                # so a gate opens one only with room left for a new device to provide it)
                # (a bare class name such as VOUT and open pins occur in real data: lenient only)
                ports = t.is_port if self.lenient else t.port_ok & ~t.is_nc
                if not (self.lenient or t.anchor_pin[a]) and room + own - t.min_dc_new_cost < 0:
                    ports = ports & ~(t.needs_dc & ~self.comp_dc)
                if not (self.lenient or t.is_active_pin[a]) and room + own - t.min_active_new_cost < 0:
                    # a new signal port must reach a transistor or diode: from a passive pin, only
                    # with room left for one
                    ports = ports & ~(t.is_signal & ~self.exists)
                if self.amp:
                    ports = self._role_ports(a, ports)
                if self.sampling:
                    ports = self._io_ports(a, ports)
                m |= ports
                # VDD still absent and little room left: a netless pin takes VDD now
                force_vdd = bool(vdd_pay) and room + own < self.VDD_URGENT
            elif vdd_pay and room + own + vdd_pay >= 0:
                m[t.vdd] = True
            cand[a] = False
            if not (self.lenient or self.comp_dc[a] or t.anchor_pin[a]):
                # a gate pin joins only nets that have (or get) a DC pin, a capacitor or a port:
                # a net of gates alone floats
                cand &= self.comp_dc | t.anchor_pin
            if not self.lenient:
                self._no_shorted_device(a, m, cand)
        elif ka == _K_PORT:
            cand &= self.netless | (self.comp_port == a) | ~self.exists
            if not (self.lenient or self.comp_dc[self._find(a)]):
                cand &= self.comp_dc | t.anchor_pin  # an undriven port's first pins must anchor it
        else:
            return m
        if not self.lenient and (ka == _K_PORT or not self.netless[a]):
            self._target_rules(a, m, cand)
        if not self.lenient and self.count[self._l_type]:
            self._no_inductor_loop(a, m, cand)
        if not self.lenient and ka == _K_PIN and self.netless[a] and room + own < self.DC_URGENT:
            self._dc_urgent(a, m, cand)
        if not self.lenient:
            self._route_moves(a, m, cand, room + own)
        if self.bodies:
            self._body_rule(a, m, cand)
        if self.amp:
            self._role_urgent(a, m, cand, room + own)
        if self.skeleton:
            self._amp_moves(a, m, cand)
        if self.sampling:  # (last: it keeps its restriction only while a move is left)
            self._no_parallel_passive(a, m, cand)
        m |= cand
        for q in nbrs:
            m[q] = False
        m &= ~self.closed
        if force_vdd and m[t.vdd]:
            m[:] = False
            m[t.vdd] = True
        if self.cap is not None and not (leave or m.any() or self.skeleton) and len(self.stack) > 1:
            cap, self.cap = self.cap, None  # (stuck on an incomplete node: its net may outgrow its drawn size)
            try:
                return self.mask()
            finally:
                self.cap = cap
        if len(self.stack) > 1 and (leave or not m.any()):
            m[self.stack[-2]] = True  # (an incomplete port with no move left: leave, the ERC judges)
        elif short and not m.any() and self.n_dev and self.closable():
            m[t.vocab.eos] = True  # (below min_len, but no device fits any more)
        elif self.skeleton and not m.any() and self.n_dev:
            m[t.vocab.eos] = True  # (the op-amp rules left no move at the root: ends, and fails there)
        if self.skeleton and not m.any():
            m[t.vocab.pad] = True  # (no move left: the sample fails here rather than stall)
        return m

    def step(self, tok: int) -> None:
        """Apply one token (legal under :meth:`mask`)."""
        t = self.t
        self.length += 1
        if tok == t.vocab.eos:
            self.done = True
            if self.skeleton and (bad := self._amp_broken()):
                self.failed = f"op-amp skeleton rules broken at the end of the budget: {', '.join(bad)}"
            return
        if tok == t.vocab.pad:
            self.failed = self.failed or "no legal next token"
            return
        a, b = self.stack[-1], int(tok)
        if len(self.stack) > 1 and b == self.stack[-2] and b in self.adj.get(a, ()):
            self.stack.pop()
            self.closed[a] = True
            self._pops += 1
            if t.kind[a] == _K_PIN and self.comp_port[a] == -1:
                mem = self.members[self._find(a)]
                self.net_closed[mem] = True
                self.any_net_closed = True
                # edges owed between this pin and open mates can no longer be walked (a closed
                # node takes no edge): they leave the debt, so the budget is not spent on them
                nb = self.adj.get(a, ())
                lost = sum(1 for b in mem if b != a and b not in nb and not self.closed[b])
                self.clique_missing -= lost
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
                        self.n_free_in -= int(t.in_pin[x])
                        self.n_free_out -= int(t.out_pin[x])
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
        if self.cap is not None:  # a new net draws its size limit; a merged one keeps the larger
            self.cap[mem] = max(int(self.net_cap()), 2) if sa == sb == 1 else max(self.cap[a], self.cap[b])
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
            self.n_free_in += int(t.in_pin[pins].sum())
            self.n_free_out += int(t.out_pin[pins].sum())
        elif t.kind[x] == _K_PORT:
            self.n_vin += int(t.is_vin[x])
            self.n_vout += int(t.is_vout[x])
        self.exists[x] = True


def grammar_accepts(seq: list[int], tables: VocabTables, max_len: int | None = None,
                    lenient: bool = False, bodies: bool = False, ctype: str | None = None,
                    sampling: bool = False) -> tuple[int, str] | None:
    """Replay a compact tour (ids ``<bos> <type:T> VSS ... <eos>``) through :class:`TourGrammar`.

    Args:
        seq: token ids. tables: the vocabulary's tables.
        max_len: the grammar's length budget (default: the full tour's length plus :data:`LENGTH_SLACK`).
        lenient: replay under the structural rules only (see :class:`TourGrammar`).
        bodies: also the sampling rule for MOS bodies (rail or own source; not a validity rule, so
            off by default: real circuits with a body elsewhere are valid).
        ctype, sampling: replay under a generator's rules (:class:`TourGrammar`'s ``ctype`` and
            ``sampling``; e.g. an op-amp type's port roles and skeleton rules, off by default).

    Returns:
        None when every token is legal where it stands, else (position, why) of the first that is not.
    """
    toks = tables.vocab.tokens
    if max_len is None:
        walk = [toks[i] for i in seq[2:-1]]
        from eda.graphs.tour import close_walk

        max_len = len(close_walk(walk)) + 3 + LENGTH_SLACK
    g = TourGrammar(tables, max_len, prefix_len=2, lenient=lenient, bodies=bodies, ctype=ctype, sampling=sampling)
    for j in range(2, len(seq) - 1):
        m = g.mask()
        nxt = int(seq[j + 1])
        if not m[nxt]:
            here = toks[int(seq[j])]
            return j + 1, f"{toks[nxt]!r} after {here!r} is not allowed by the tour grammar"
        g.step(nxt)
    if g.failed:
        return len(seq) - 1, g.failed
    return None if g.done else (len(seq) - 1, "the tour did not end with <eos>")

