"""Electrical rules of :class:`~eda.graphs.grammar.TourGrammar` (strict mode): shorted and
redundant devices, inductor loops between driven nets, DC paths of nets, signal ports that reach
a transistor. A mixin over the grammar's net state (union-find of nets, pins, ports)."""

from __future__ import annotations

import numpy as np

from eda.graphs.grammar_tables import _K_PIN


class _Roots:
    """A small union-find over token ids (nets joined by devices, on top of the grammar's nets)."""

    def __init__(self):
        self.up: dict[int, int] = {}

    def find(self, x: int) -> int:
        while self.up.get(x, x) != x:
            x = self.up[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.up[ra] = rb


class ElectricalRules:
    """Rule checks and mask restrictions of :class:`~eda.graphs.grammar.TourGrammar` (which
    holds the state they read: ``t``, ``members``, ``comp_port``, ``netless``, ``closed``...)."""

    def _dc_leavable(self, a: int) -> bool:
        """Whether node ``a`` (a pin on a net, or an undriven port) may be left for good: its net's
        DC component (nets joined through conducting terminals) reaches a voltage-driven port or
        a capacitor, or can still be extended later (a pin of it other than ``a`` not yet left, or
        a device on it with a pin not yet netted). Else leaving it would seal a net that floats at
        DC (a floating gate or node): the walk must first add a conducting path from here. (The
        first member left freezes an internal net, so open members of ``a``'s own net or of a
        frozen net do not count as a way to extend it.)"""
        t = self.t
        start = self._find(a)
        seen, todo = {start}, [start]
        while todo:
            r = todo.pop()
            cp = int(self.comp_port[r])
            if cp != -1 and (t.driven[cp] or (cp != a and not self.closed[cp])):
                return True
            mem = self.members[r]
            if r == start and t.is_cap_pin[mem].any():
                # a capacitor anchors its own net only (the rule's coupled net); a net that reaches
                # it through conducting terminals still needs a DC path to a driven port
                return True
            # an internal net is a clique: once a member is left (a's leaving included) no pin joins
            # it any more, so its open members extend it only while it has no finished member
            frozen = cp == -1 and (r == start or bool(self.net_closed[mem].any()))
            for p in mem:
                if t.kind[p] != _K_PIN:
                    continue
                if p != a and not self.closed[p] and not frozen:
                    return True
                if not t.is_dc_pin[p]:
                    continue
                for s in t.pins_of[int(t.dev[p])]:
                    if not t.is_dc_pin[s]:
                        continue  # (a gate or capacitor pin gives no DC path)
                    if self.netless[s]:
                        return True
                    rs = self._find(s)
                    if rs not in seen:
                        seen.add(rs)
                        todo.append(rs)
        return False

    def _reaches_active(self, port: int) -> bool:
        """Whether a port's net reaches, or may still reach, a transistor or diode terminal
        directly or through resistors, capacitors and inductors without crossing another driven
        port (the ``signal_port`` rule): true when such a path exists, or when it reaches another
        net with a pin not yet left or a passive device with a pin not yet netted (a depth-first
        walk may complete that net later: real tours do)."""
        t = self.t
        if not (self.pin_exists & t.is_active_pin).any():
            return True  # (no transistor or diode yet: the rule exempts passive-only circuits, e.g. #424)
        start = self._find(port)
        seen, todo = {start}, [start]
        while todo:
            r = todo.pop()
            mem = self.members[r]
            if t.is_active_pin[mem].any() or (r != start and not self.closed[mem].all()):
                return True
            for p in mem:
                if not t.is_passive_pin[p]:
                    continue
                for s in t.pins_of[int(t.dev[p])]:
                    if s != p and (self.netless[s] or self.unlinked[s]):
                        return True
                    if s == p:
                        continue
                    r = self._find(s)
                    cp = int(self.comp_port[r])
                    if r not in seen and not (cp != -1 and t.driven[cp]):
                        seen.add(r)
                        todo.append(r)
        return False

    def _dc_paths_ok(self) -> bool:
        """Every net joined through DC-conducting device terminals to a voltage-driven port."""
        t = self.t
        uf = _Roots()
        find = uf.find
        nets = set()
        for d in self.devices:
            roots = [self._find(p) for p in t.pins_of[d]]
            nets.update(roots)
            dc = [r for p, r in zip(t.pins_of[d], roots, strict=True) if t.is_dc_pin[p]]
            for a, b in zip(dc, dc[1:], strict=False):
                uf.union(a, b)
        good = {find(r) for r in nets if self.comp_port[r] != -1 and t.driven[self.comp_port[r]]}
        return all(find(r) in good or t.is_cap_pin[self.members[r]].any() for r in nets)

    def _loop_ids(self) -> np.ndarray:
        """Per token, the voltage-driven port its net reaches at DC through inductors (its own
        port included; -1: none, -2: several, already a loop). A netless inductor pin whose
        sibling is netted takes the sibling's: joining it to a net joins that inductor chain.
        Cached until the nets change."""
        if self._loop_version == self._version:
            return self._loop
        t = self.t
        cp = self.comp_port
        ids = np.where((cp >= 0) & t.driven[np.maximum(cp, 0)], cp, -1)
        ids[t.driven] = np.flatnonzero(t.driven)
        lg = self._inductor_groups()
        for g in np.unique(lg[lg >= 0]).tolist():
            group = lg == g
            got = set(ids[group].tolist()) - {-1}
            ids[group] = -1 if not got else (got.pop() if len(got) == 1 else -2)
        for d in self.devices:
            pins = t.pins_of[d]
            if t.is_inductor_pin[pins[0]]:
                p, q = pins
                if self.netless[p] != self.netless[q]:  # the netless pin takes its netted sibling's
                    ids[p if self.netless[p] else q] = ids[q if self.netless[p] else p]
        self._loop_version, self._loop = self._version, ids
        return ids

    def _dc_union(self):
        """``find`` of a union-find over net roots joined through the conducting terminals of devices
        (a netless pin its own net)."""
        t = self.t
        uf = _Roots()
        for d in self.devices:
            dc = [self._find(p) for p in t.pins_of[d] if t.is_dc_pin[p]]
            for x in dc[1:]:
                uf.union(dc[0], x)
        return uf.find

    def _satisfied(self) -> np.ndarray:
        """Per token, whether its net's DC component (nets joined through the conducting terminals
        of devices, a netless pin its own net) holds a voltage-driven port. Cached until the nets
        change."""
        if self._sat_version == self._version:
            return self._sat
        t = self.t
        find = self._dc_union()
        good = {find(r) for r in self.members if self.comp_port[r] != -1 and t.driven[self.comp_port[r]]}
        sat = t.driven.copy()
        for r, mem in self.members.items():
            if find(r) in good:
                sat[mem] = True
        self._sat_version, self._sat = self._version, sat
        return sat

    def _islands(self) -> tuple:
        """DC components (nets joined through conducting device terminals) that will break
        ``dc_path``/``floating_gate`` unless repaired: no voltage-driven port, no netless pin (a way
        out still owed), a net without a capacitor, and a net still open to a new pin (no member
        left). ``(find, their roots)``; cached until the nets change or a node is left."""
        key = (self._version, self._pops)
        if self._isl_key == key:
            return self._isl
        t = self.t
        find = self._dc_union()
        ok, bad, open_ = set(), set(), set()
        for r, mem in self.members.items():
            c = find(r)
            cp = int(self.comp_port[r])
            if (cp != -1 and t.driven[cp]) or self.netless[r]:
                ok.add(c)
            elif not t.is_cap_pin[mem].any():
                bad.add(c)
            if not self.net_closed[r] and not (cp != -1 and self.closed[cp]):
                open_.add(c)
        self._isl_key, self._isl = key, (find, (bad & open_) - ok)
        return self._isl

    def _io_components(self) -> tuple:
        """Components of nets joined through device terminals, not through VDD/VSS (the io_path
        rule's paths): ``(find, components with an input port, with an output port, whether one
        holds both)``. Cached until the nets change."""
        if self._io_version == self._version:
            return self._io
        t = self.t
        uf = _Roots()
        find = uf.find
        for d in self.devices:
            roots = [r for r in (self._find(p) for p in t.pins_of[d])
                     if self.comp_port[r] == -1 or not t.is_supply[self.comp_port[r]]]
            for x in roots[1:]:
                uf.union(roots[0], x)
        ins = {find(r) for r in self.members if self.comp_port[r] != -1 and t.in_role[self.comp_port[r]]}
        outs = {find(r) for r in self.members if self.comp_port[r] != -1 and t.out_role[self.comp_port[r]]}
        self._io_version, self._io = self._version, (find, ins, outs, bool(ins & outs))
        return self._io

    def _io_ports(self, a: int, ports: np.ndarray) -> np.ndarray:
        """New ports a netless pin may open under the io_path rule: while no input reaches an output,
        a new output port only where an input is already reached (if any exists), a new input port
        only where an output is (if any exists); so once both exist, a path joins them for good
        (nets only grow). The model alone left 1.5-2.6 % of its samples without such a path."""
        t = self.t
        if self.skeleton and self.IO_LATE:
            # (op-amp sampling: real tours open the second input before the first reaches the output;
            # io_path is judged at <eos> by the validity rules and the amplifier core instead)
            return ports
        if not (ports & ~self.exists & (t.in_role | t.out_role)).any():
            return ports
        find, ins, outs, done = self._io_components()
        if done:
            return ports
        c = find(self._find(a))
        if ins and c not in ins:
            ports = ports & ~(t.out_role & ~self.exists)
        if outs and c not in outs:
            ports = ports & ~(t.in_role & ~self.exists)
        return ports

    def _dc_urgent(self, a: int, m: np.ndarray, cand: np.ndarray) -> None:
        """Little room left and ``a`` a netless pin whose net would not reach a driven port at
        DC (a gate, or a conducting pin of a device not yet tied to one): it joins only nets
        that do (a driven port, or a net whose DC component holds one), so the tour does not
        end with a floating net for want of room to repair it."""
        sat = self._satisfied()
        if sat[a]:
            return
        cand &= sat
        m &= ~(self.t.is_port & ~sat)

    def _no_inductor_loop(self, a: int, m: np.ndarray, cand: np.ndarray) -> None:
        """Forbid joining ``a``'s net to a net that would tie two voltage-driven ports together
        through a chain of inductors (a DC short between sources: the ``voltage_loop`` rule); while
        sampling, also any move that would close a loop of inductors (:meth:`_inductor_cycle_moves`)."""
        ids = self._loop_ids()
        mi = int(ids[a])
        bad = (ids != -1) & (ids != mi) if mi >= 0 else None
        if self.sampling and (cyc := self._inductor_cycle_moves(a, cand)) is not None:
            bad = cyc if bad is None else bad | cyc
        if bad is None:
            return
        cand &= ~bad
        keep = m[self.stack[-2]] if len(self.stack) > 1 else False
        m &= ~(bad & self.t.is_port)
        if len(self.stack) > 1:
            m[self.stack[-2]] = keep

    def _inductor_groups(self) -> np.ndarray:
        """Per token, the group of nets its net is joined to through inductors with both pins on nets (the
        group's root token; -1: none). Cached until the nets change."""
        hit = self.__dict__.get("_lgroups")
        if hit is not None and hit[0] == self._version:
            return hit[1]
        t = self.t
        uf = _Roots()
        for d in self.devices:
            p, *rest = t.pins_of[d]
            if t.is_inductor_pin[p] and not (self.netless[p] or self.netless[rest[0]]):
                uf.union(self._find(p), self._find(rest[0]))
        out = np.full(len(t.kind), -1, np.int64)
        for r in list(uf.up):  # (a group's root net has no entry of its own)
            g = uf.find(r)
            out[self.members[r]] = out[self.members[g]] = g
        self.__dict__["_lgroups"] = (self._version, out)
        return out

    def _inductor_cycle_moves(self, a: int, cand: np.ndarray) -> np.ndarray | None:
        """Tokens whose move from ``a`` would close a loop of inductors (the ``voltage_loop`` rule's inductor
        loop: a loop of shorts at DC, singular in SPICE; two inductors in parallel are the common case): an
        inductor's last pin onto a net its sibling's net already reaches through inductors, or a merge of two
        nets so joined. Sampling only (6 of 3,212 training tours close one: replays keep them). None: none."""
        t = self.t
        lg = self._inductor_groups()
        if self.netless[a]:
            if not t.is_inductor_pin[a]:
                return None
            sr = self._siblings_root(a)
            return lg == lg[sr] if sr != -1 and lg[sr] >= 0 else None
        mine = self._find(a)
        k = int(lg[mine])
        bad = lg == k if k >= 0 else np.zeros(len(lg), bool)
        bad[self.members[mine]] = False  # (moves inside the own net merge nothing)
        for q in self.netless_set:
            if cand[q] and t.is_inductor_pin[q]:
                sr = self._siblings_root(q)
                if sr != -1 and (sr == mine or (k >= 0 and lg[sr] == k)):
                    bad[q] = True
        return bad

    def _target_rules(self, a: int, m: np.ndarray, cand: np.ndarray) -> None:
        """Moves from ``a`` (a port, or a pin already on a net) onto other pins' nets: a device's last
        free pin must not join the net its siblings share, an inductor must not join two source-driven
        nets, and no merge may put every pin of a device on one net."""
        t = self.t
        mine = self._find(a)
        my_port = int(self.comp_port[mine])
        on_rail = my_port != -1 and t.is_supply[my_port]
        for q in self.netless_set:
            if not cand[q]:
                continue
            sr = self._siblings_root(q)
            if sr == mine:
                cand[q] = False
            elif on_rail and self._siblings_on_rails(q):
                cand[q] = False  # the last pin of a device whose other pins are all on the rails
            elif (sr != -1 and t.is_inductor_pin[q] and my_port != -1 and t.driven[my_port]
                  and self.comp_port[sr] != -1 and self.comp_port[sr] != my_port
                  and t.driven[self.comp_port[sr]]):
                cand[q] = False  # an inductor (a DC short) between two source-driven nets
        for r in self._short_partners(mine):
            self._forbid_net(r, m, cand)

    def _siblings_root(self, q: int) -> int:
        """Net root shared by all the other pins of q's device, or -1 (cached until nets change)."""
        if self._sib_version != self._version:
            self._sib_cache.clear()
            self._sib_version = self._version
        hit = self._sib_cache.get(q)
        if hit is None:
            hit = self._sib_cache[q] = self._siblings_root_uncached(q)
        return hit

    def _siblings_on_rails(self, q: int) -> bool:
        """Whether every other pin of q's device is on a supply rail's net."""
        t = self.t
        for p in t.pins_of[int(t.dev[q])]:
            if p != q:
                if self.netless[p]:
                    return False
                cp = int(self.comp_port[self._find(p)])
                if cp == -1 or not t.is_supply[cp]:
                    return False
        return True

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
        if all(self.comp_port[r] != -1 and self.t.is_supply[self.comp_port[r]] for r in roots):
            m &= ~self.t.is_supply  # every terminal on the rails: a redundant device
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

    def _no_parallel_passive(self, a: int, m: np.ndarray, cand: np.ndarray) -> None:
        """(Sampling.) A resistor, capacitor or inductor never completes across two nets that one of its kind
        already joins (one element of another value would do). A two-terminal device's second terminal is
        always netted from itself (a depth-first walk goes pin, device, other pin), so ``a`` is the only
        place to check. Real circuits: 0.5 % of the public set has such a pair, the general model's samples
        had 12.7 % (README *Repeated devices*). Kept only while a move is left."""
        t = self.t
        if not (t.kind[a] == _K_PIN and self.netless[a] and t.is_passive_pin[a]):
            return
        b = next(p for p in t.pins_of[int(t.dev[a])] if p != a)
        if self.netless[b]:
            return
        rb, ty = self._find(b), t.dtype[a]
        across = set()  # nets that a complete device of a's kind joins to b's net
        for d in self.devices:
            if t.dtype[d] != ty or d == t.dev[a] or self.netless[t.pins_of[d]].any():
                continue
            ends = {self._find(p) for p in t.pins_of[d]}
            if len(ends) == 2 and rb in ends:
                across |= ends - {rb}
        if not across:
            return
        m0, c0 = m.copy(), cand.copy()
        for r in across:
            self._forbid_net(r, m, cand)
        if not ((m | cand) & ~self.closed).any():
            m[:], cand[:] = m0, c0

    def _forbid_net(self, r: int, m: np.ndarray, cand: np.ndarray) -> None:
        """Forbid every move onto the net whose root is ``r`` (its port, or its member pins)."""
        port = int(self.comp_port[r])
        if port != -1:
            m[port] = False
            cand[self.comp_port == port] = False
        else:
            cand[self.members[r]] = False


__all__ = ["ElectricalRules"]
