"""FET-body and amplifier port-role rules of :class:`~eda.graphs.grammar.TourGrammar` (strict mode).

* **Bodies**: a MOS body pin joins only its rail (NMOS: ``VSS``, PMOS: ``VDD``) or the net of its
  own source. In the public AnalogGenie set 98.6 % of NMOS bodies are on VSS and 1.1 % on their
  own source (99.8 % together), 81.3 % of PMOS bodies on VDD and 10.5 % on their own source (91.8 %;
  6.6 % more sit on nets of PMOS bodies alone, separate wells the schematics leave unconnected);
  the model alone put ~37 % of its bodies on signal nets. Once a body is on its rail or beside its
  source it stays so (port nets never merge, and a merge of its internal net keeps the source), so
  the rule is applied only where a body pin gets its net.
* **Amplifier port roles** (sampling an op-amp type): a new ``VINk`` is opened only from a MOS gate
  or a BJT base, a new ``VOUTk`` only from a MOS drain/source or a BJT collector/emitter, and the
  walk ends only with two inputs and an output. Real op-amps (555 public + library circuits): 1,020
  of 1,036 input nets hold a gate or base (98.5 %), 613 of 618 output nets a drain/source/collector/
  emitter (99.2 %), 502 of the 526 with an input port have two or more. A missing port holds a
  length reserve (:attr:`ROLE_COST` tokens, a new transistor to carry it) beyond the netless pins
  that could still open it, which such a transistor may spend; near the end of the budget a
  netless pin that is needed for a missing port takes it (where no such port is legal there, the
  roles are given up for that sample: the tour still closes).
"""

from __future__ import annotations

import numpy as np

from eda.graphs.grammar_tables import _K_PIN, _K_PORT


class RoleRules:
    """Body and op-amp port-role restrictions of the grammar's mask (a mixin over its state)."""

    #: op-amp sampling (``skeleton``) accepts two orders real op-amp tours use that the session-6 sampling
    #: rules refused (issue #17; False: the session-6 orders, for measurements and tests): a supply rail left
    #: for good while a new MOS still fits (:meth:`_rail_stays`), and an input or output port opened before
    #: an input reaches an output (``ElectricalRules._io_ports``). The op-amp specialist's 555 training
    #: tours, replayed as its sampler draws them: 52 accepted -> 182 (rails) -> 211 (both).
    RAIL_LEAVE = True
    IO_LATE = True

    # ---- bodies
    def _body_rule(self, a: int, m: np.ndarray, cand: np.ndarray) -> None:
        """Restrict the moves from ``a`` that would put a netless MOS body pin on a net other than
        its rail or its own source's net (``a`` itself a netless body, or a move onto one). Once
        its rail is left for good (a depth-first walk closes it) no new MOS of its polarity is
        placed: in the training tours 0.09 % of NMOS appear after VSS is closed and 0.7 % of PMOS
        after VDD, against 33 % and 42 % in the model's samples without this rule (whose bodies then
        had no rail to go to). (Should a body still be netless then, it pairs with its source.)"""
        t = self.t
        for rail, pins in ((t.vss, t.nm_pin), (t.vdd, t.pm_pin)):
            if self.closed[rail]:
                cand &= ~(self.next_new & pins)
        if self.netless[a]:
            if t.is_body[a]:
                self._own_body_moves(a, m, cand)
                return
            if t.is_src[a] and self._must_pair(int(t.body_of[a])):
                self._restrict(m, cand, np.zeros(len(m), bool), int(t.body_of[a]))
                return
        qs = np.flatnonzero(cand & (t.is_body | t.is_src) & (self.netless | ~self.exists))
        if not len(qs):
            return
        ka = t.kind[a]
        for q in qs.tolist():
            if t.is_src[q]:
                b = int(t.body_of[q])
                if a != b and (self.closed[t.body_rail[b]] if not self.exists[q] else self._must_pair(b)):
                    cand[q] = False  # (a source whose body must join it, entered from elsewhere)
                continue
            s = int(t.src_pin[q])
            s_net = self.exists[q] and not self.netless[s]
            if ka == _K_PORT:
                ok = a == t.body_rail[q] or (s_net and self.comp_port[self._find(s)] == a)
            elif self.netless[a]:
                ok = a == s  # a new net of two netless pins: only the body with its own source
            else:
                ok = a == s or (s_net and self._find(s) == self._find(a))
            if not ok:
                cand[q] = False

    def _must_pair(self, b: int) -> bool:
        """Whether body pin ``b`` is netless with its rail closed (it can only join its source)."""
        return bool(self.netless[b] and self.closed[self.t.body_rail[b]])

    def _own_body_moves(self, a: int, m: np.ndarray, cand: np.ndarray) -> None:
        """A netless body pin at the walk's head: its rail, its source, or its source's net."""
        t = self.t
        s = int(t.src_pin[a])
        ports = np.zeros(len(m), bool)
        ports[t.body_rail[a]] = True
        if self.netless[s]:
            self._restrict(m, cand, ports, s)
            return
        r = self._find(s)
        cp = int(self.comp_port[r])
        if cp != -1:
            ports[cp] = True
            self._restrict(m, cand, ports)
        else:
            self._restrict(m, cand, ports, *self.members[r])

    def _restrict(self, m: np.ndarray, cand: np.ndarray, ports: np.ndarray, *pins: int) -> None:
        """Keep only the moves to ``ports`` and ``pins`` (unless none of them is legal here: then
        the moves stay as they were, and the validity rules judge the result)."""
        t = self.t
        mine = np.zeros(len(m), bool)
        mine[list(pins)] = True
        new_m = m & (~t.is_port | ports)
        new_c = cand & mine
        if (((new_m & t.is_port) | new_c) & ~self.closed).any():
            m &= ~t.is_port | ports
            cand &= mine

    def _rail_stays(self, a: int, room: int) -> bool:
        """Whether ``a``, a supply rail, may not be left for good yet: while a new MOS still fits
        (in the training tours a rail is closed only after the last device whose body it takes;
        the model alone closed them early, before a third of its MOS devices were placed). Not while
        sampling an op-amp type (:attr:`RAIL_LEAVE`): real op-amp tours pop back from a rail with room
        left (``PM1_B VDD PM5_B ... PM5_B VDD`` then back to ``PM1_B``: the first refusal of 189 of the
        specialist's 555 training tours). What the rule protects stays: a body still waiting for the rail
        keeps it open (:meth:`_bodies_waiting`), and no new MOS of a closed rail's polarity is placed."""
        return bool(self.sampling and self.bodies and self.t.is_supply[a] and room >= self.t.mos_new_cost
                    and not (self.RAIL_LEAVE and self.skeleton))

    def _bodies_waiting(self, rail: int) -> bool:
        """Whether a body of this rail is still netless (the rail is left for good only after it)."""
        t = self.t
        return any(t.is_body[q] and t.body_rail[q] == rail for q in self.netless_set)

    # ---- amplifier port roles
    def _role_missing(self) -> tuple[int, int]:
        return max(0, self.AMP_INPUTS - self.n_vin), max(0, self.AMP_OUTPUTS - self.n_vout)

    def _role_reserve(self) -> int:
        """Tokens held for the op-amp ports still missing beyond the netless pins that can open them."""
        mi, mo = self._role_missing()
        return self.ROLE_COST * (max(0, mi - self._free_in()) + max(0, mo - self.n_free_out))

    def _role_funds(self) -> np.ndarray:
        """Per token, the reserve a new device entered through it releases (it brings a netless
        gate/base for a missing input, a drain/source/collector/emitter for a missing output)."""
        t = self.t
        mi, mo = self._role_missing()
        funds = np.zeros(len(t.in_pin), np.int64)
        if mi > self._free_in():
            funds += self.ROLE_COST * (self.next_new & t.is_transistor_pin & ~t.in_pin)
        if mo > self.n_free_out:
            funds += self.ROLE_COST * (self.next_new & t.is_transistor_pin & ~t.out_pin)
        return funds

    def _role_ports(self, a: int, ports: np.ndarray) -> np.ndarray:
        """Ports a netless pin may open: a new input only from a gate/base, a new output only from a
        drain/source/collector/emitter."""
        t = self.t
        if not t.in_pin[a]:
            ports = ports & ~(t.is_vin & ~self.exists)
        if not t.out_pin[a]:
            ports = ports & ~(t.is_vout & ~self.exists)
        return ports

    def _role_urgent(self, a: int, m: np.ndarray, cand: np.ndarray, room: int) -> None:
        """With the pins that can still open a missing port all needed and less than twice
        :attr:`ROLE_COST` room left: such a pin at the head takes a new port of its role, and no
        move nets such a pin elsewhere."""
        t = self.t
        if room >= 2 * self.ROLE_COST:  # (one move may net an input pin and an output pin at once)
            return
        mi, mo = self._role_missing()
        in_pin = self._live_in_pins() if self.skeleton else t.in_pin
        for need, free, pin, port in ((mi, int((in_pin & self.netless).sum()), in_pin, t.is_vin),
                                      (mo, self.n_free_out, t.out_pin, t.is_vout)):
            if not need or need < free:
                continue
            cand &= ~(self.netless & pin)
            if t.kind[a] == _K_PIN and self.netless[a] and pin[a]:
                new = m & port & ~self.exists & ~self.closed
                if new.any():
                    m &= new
                    cand[:] = False
                else:
                    # no new port of its role is legal here (e.g. an output would float at DC):
                    # the roles are given up for this sample rather than the tour's length invariant
                    self.amp = False
                    return


__all__ = ["RoleRules"]
