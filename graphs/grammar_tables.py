"""Per-token lookup arrays of a vocabulary for :class:`~eda.graphs.grammar.TourGrammar`."""

from __future__ import annotations

import numpy as np

from eda.graphs.pin_graph import DEVICE_TYPES, NC, node_label, parse_node
from eda.graphs.vocab import Vocab
from eda.topology import class_of, is_driven, is_signal, port_prefix

#: tokens a generator's length budget adds to a drawn full-tour length (the grammar's
#: reservations are a little conservative, so a tour needs this much room beyond its own length)
LENGTH_SLACK = 16

#: port classes a sampled op-amp may use (real op-amps with two inputs and an output: 492 of 495 use
#: no other; the rest add clocks, which an amplifier's testbench does not drive)
AMP_PORTS = ("VDD", "VSS", "VIN", "VOUT", "VB", "IB", "VCM", "VREF")

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
        self.is_cap_pin = np.array([bool(self.kind[i] == _K_PIN and self.types[self.dtype[i]] == "C")
                                    for i in range(v)])
        # pins that give a net its DC level: conducting pins, and capacitor plates (capacitively
        # coupled nets are real designs: AC coupling, switched-capacitor nodes, capacitive feedback)
        self.anchor_pin = self.is_dc_pin | self.is_cap_pin
        self.is_inductor_pin = np.array([bool(self.kind[i] == _K_PIN and self.types[self.dtype[i]] == "L")
                                         for i in range(v)])
        # ports a voltage source drives (supplies, inputs, biases, controls; eda.topology roles)
        self.driven = np.array([bool(self.kind[i] == _K_PORT and is_driven(t)) for i, t in enumerate(vocab.tokens)])
        # ports that no voltage source drives (IBk, IOUTk, VOUTk...): their net needs a DC pin
        self.needs_dc = (self.kind == _K_PORT) & ~self.driven
        self.is_port = self.kind == _K_PORT
        # supply rails (a device with every terminal on them changes nothing: ``redundant_device``)
        self.is_supply = np.array([bool(self.kind[i] == _K_PORT and class_of(t).role == "supply")
                                   for i, t in enumerate(vocab.tokens)])
        # signal ports (VIN*, VOUT*, IIN*...: each must reach a transistor or diode terminal)
        self.is_signal = np.array([bool(self.kind[i] == _K_PORT and is_signal(t)) for i, t in enumerate(vocab.tokens)])
        dev_kind = [self.types[self.dtype[i]] if self.kind[i] == _K_PIN else "" for i in range(v)]
        self.is_active_pin = np.array([k in ("NM", "PM", "NPN", "PNP", "D") for k in dev_kind])
        self.is_passive_pin = np.array([k in ("R", "C", "L") for k in dev_kind])
        # tokens a new device costs when opened through one of its pins (big for non-pins)
        new_cost = np.array([4 * len(DEVICE_TYPES[ty].pins) for ty in self.types])
        self.pin_new_cost = np.where(self.is_pin, new_cost[np.maximum(self.dtype, 0)], 1 << 30)
        self.min_new_cost = int(new_cost.min())
        self.mos_new_cost = int(new_cost[self.types.index("NM")])
        self.min_dc_new_cost = int(new_cost.min())  # (every device type anchors a net: see anchor_pin)
        # the cheapest new transistor or diode (what a signal port needs to reach)
        self.min_active_new_cost = int(min(c for ty, c in zip(self.types, new_cost, strict=True)
                                           if ty in ("NM", "PM", "NPN", "PNP", "D")))
        self.vss = vocab.index["VSS"]
        self.vdd = vocab.index["VDD"]
        # allowed port classes for generation: any port token of the vocabulary
        self.port_ids = np.flatnonzero(self.is_port)
        self.port_names = {i: vocab.tokens[i] for i in self.port_ids}
        # a class name alone (``VIN`` beside ``VIN1``...) is a vocabulary entry, never a port to walk to
        names = set(vocab.tokens)
        self.bare_port = np.array([bool(self.kind[i] == _K_PORT and tok not in ("VDD", "VSS")
                                        and port_prefix(tok) == tok and f"{tok}1" in names)
                                   for i, tok in enumerate(vocab.tokens)])
        self.is_nc = np.array([tok == NC for tok in vocab.tokens])
        # FET bodies (rules.bodies): each body pin's rail (VSS for NM, VDD for PM) and own source pin
        self.is_body = np.array([bool(self.kind[i] == _K_PIN and tok.endswith("_B") and self.types[self.dtype[i]]
                                      in ("NM", "PM")) for i, tok in enumerate(vocab.tokens)])
        self.body_rail = np.full(v, -1, np.int32)
        self.src_pin = np.full(v, -1, np.int32)
        self.body_of = np.full(v, -1, np.int32)  # a MOS source pin's body pin
        for i in np.flatnonzero(self.is_body):
            self.body_rail[i] = self.vss if self.types[self.dtype[i]] == "NM" else self.vdd
            self.src_pin[i] = vocab.index.get(vocab.tokens[i][:-1] + "S", -1)
            self.body_of[self.src_pin[i]] = i
        self.is_src = self.body_of >= 0
        self.nm_pin = np.array([k == "NM" for k in dev_kind])
        self.pm_pin = np.array([k == "PM" for k in dev_kind])
        # amplifier port roles (rules.amp_roles): input ports and the pins that may open one (a MOS
        # gate or BJT base), output ports and the pins that may open one (MOS drain/source, BJT C/E)
        pin_name = [tok.rsplit("_", 1)[-1] if self.kind[i] == _K_PIN else "" for i, tok in enumerate(vocab.tokens)]
        self.is_vin = np.array([bool(self.kind[i] == _K_PORT and port_prefix(t) == "VIN" and not self.bare_port[i])
                                for i, t in enumerate(vocab.tokens)])
        self.is_vout = np.array([bool(self.kind[i] == _K_PORT and port_prefix(t) == "VOUT" and not self.bare_port[i])
                                 for i, t in enumerate(vocab.tokens)])
        self.in_pin = np.array([(k in ("NM", "PM") and p == "G") or (k in ("NPN", "PNP") and p == "B")
                                for k, p in zip(dev_kind, pin_name, strict=True)])
        # ports of the input and output roles (the io_path rule: some input reaches some output)
        self.in_role = np.array([bool(self.kind[i] == _K_PORT and class_of(t).role == "input")
                                 for i, t in enumerate(vocab.tokens)])
        self.out_role = np.array([bool(self.kind[i] == _K_PORT and class_of(t).role == "output")
                                  for i, t in enumerate(vocab.tokens)])
        self.is_transistor_pin = np.array([k in ("NM", "PM", "NPN", "PNP") for k in dev_kind])
        self.out_pin = np.array([(k in ("NM", "PM") and p in ("D", "S")) or (k in ("NPN", "PNP") and p in ("C", "E"))
                                 for k, p in zip(dev_kind, pin_name, strict=True)])
        # op-amp skeleton (grammar_amp): per transistor pin, its device's gate/base (``in_of``) and the
        # other end of its channel (``chan_other``: drain/collector <-> source/emitter; -1 elsewhere)
        self.is_chan_src = np.array([(k in ("NM", "PM") and p == "S") or (k in ("NPN", "PNP") and p == "E")
                                     for k, p in zip(dev_kind, pin_name, strict=True)])
        self.in_of = np.full(v, -1, np.int32)
        self.chan_other = np.full(v, -1, np.int32)
        self.chan_ends: dict[int, tuple[int, int]] = {}
        for d, pins in self.pins_of.items():
            ins = [p for p in pins if self.in_pin[p]]
            ends = [p for p in pins if self.out_pin[p]]
            if ins and len(ends) == 2:
                self.in_of[pins] = ins[0]
                self.chan_other[ends[0]], self.chan_other[ends[1]] = ends[1], ends[0]
                self.chan_ends[d] = (ends[0], ends[1])
        # pins that can load a net at DC (channel ends, R, L, diode; not gates, bodies or bases)
        self.load_pin = self.out_pin | (self.is_dc_pin & np.array([k in ("R", "L", "D") for k in dev_kind]))
        self.amp_port_ok = ~self.is_port | np.array([port_prefix(tok) in AMP_PORTS for tok in vocab.tokens])
        self.port_ok = self.is_port & ~self.bare_port  # port tokens a pin may walk to
        # node attributes of each graph token, as :func:`~eda.graphs.pin_graph.relabel` sets them
        kinds = {_K_PORT: "port", _K_DEVICE: "device", _K_PIN: "pin"}
        self.node_attrs = [{"kind": kinds[int(self.kind[i])], "label": node_label(tok)}
                           if int(self.kind[i]) in kinds else None for i, tok in enumerate(vocab.tokens)]
