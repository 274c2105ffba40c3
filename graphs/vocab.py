"""Token vocabulary of Euler tours: specials, circuit-type tokens, ports, devices and pins.

A token sequence is ``<bos> <type:T> VSS ... VSS <eos>`` (:mod:`eda.graphs.tour` writes the walk,
:mod:`eda.graphs.decode` reads it back).
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

from pydantic import Field, model_validator

from eda.errors import InputError
from eda.graphs.pin_graph import DEVICE_TYPES, NC, device_type
from eda.params import Params
from eda.topology import PORT_CLASSES as TOPOLOGY_PORT_CLASSES
from eda.topology import port_index, port_prefix

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
ANY_TYPE = "any"

#: Default maximum device index per type in the vocabulary.
MAX_DEVICES: dict[str, int] = {"NM": 48, "PM": 48, "NPN": 16, "PNP": 16, "R": 24, "C": 24, "L": 8, "D": 12}
#: Default port tokens: prefix alone and with indices 1..n (the classes of :mod:`eda.topology`,
#: and the digital-control prefixes of the public data set).
PORT_CLASSES: dict[str, int] = {
    **{c.name: c.max_index for c in TOPOLOGY_PORT_CLASSES if c.name != "LOGIC"},
    **{p: 2 for p in ("LOGICA", "LOGICB", "LOGICD", "LOGICF", "LOGICG", "LOGICQ", "LOGICQA", "LOGICQB",
                      "VLOGICA", "VLOGICB")},
    NC: 0,  # open terminals (eda.graphs.pin_graph.NC)
}
#: Default circuit type labels: the library's and the composer's, then the public data set's
#: chapters (:func:`eda.read.topology_dataset.category_type`).
TYPES: tuple[str, ...] = (
    "current_mirror", "reference", "opamp1", "opamp2", "folded_cascode", "telescopic", "ldo",
    "bandgap", "comparator", "latch", "oscillator", "lna", "mixer", "sampler", "level_shifter",
    "amplifier", "buffer", "other", "opamp", "power_converter", "power_amplifier", "pll", "filter",
)


class SequenceError(InputError):
    """A token sequence is not a well-formed tour; ``position`` is the 0-based token index."""

    def __init__(self, message: str, position: int | None = None, token: str | None = None):
        self.position = position
        self.token = token
        where = f"token {position}" + (f" ({token!r})" if token is not None else "") if position is not None \
            else "sequence"
        super().__init__(f"{where}: {message}", file="<sequence>")


def type_token(ctype: str | None) -> str:
    return f"<type:{ctype or ANY_TYPE}>"


class Vocab(Params):
    """Token vocabulary: specials, type tokens, ports, device and pin tokens (:class:`eda.params.Params`).

    Saved as JSON (and inside checkpoints) so a model always decodes with its own vocabulary. ``index``
    (token → id) is derived from ``tokens`` on first use.
    """

    tokens: list[str] = Field(..., description="the tokens in id order; unique, with <pad>, <bos> and <eos>")

    @model_validator(mode="after")
    def _unique_with_specials(self) -> Vocab:
        if len(set(self.tokens)) != len(self.tokens):
            raise self.param_error("tokens", "vocabulary has duplicate tokens")
        for s in (PAD, BOS, EOS):
            if s not in self.tokens:
                raise self.param_error("tokens", f"vocabulary lacks {s}")
        return self

    @cached_property
    def index(self) -> dict[str, int]:
        """Token → id (computed once; a plain instance attribute afterwards, as fast as a dict field)."""
        return {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, types: tuple[str, ...] = TYPES, max_devices: dict[str, int] | None = None,
              ports: dict[str, int] | None = None, extra_ports: tuple[str, ...] | list[str] = ()) -> Vocab:
        """Vocabulary of ``types``, port prefixes with indices 1..n (``ports``), ``extra_ports``
        (names outside those, e.g. generic ports of a data set) and ``max_devices`` per device type."""
        toks = [PAD, BOS, EOS, type_token(None)] + [type_token(t) for t in types]
        for cls_name, n in (ports or PORT_CLASSES).items():
            toks.append(cls_name)
            toks += [f"{cls_name}{i}" for i in range(1, n + 1)]
        have = set(toks)
        toks += sorted({p for p in extra_ports if p not in have})
        for tok, n in (max_devices or MAX_DEVICES).items():
            pins = DEVICE_TYPES[tok].pins
            for i in range(1, n + 1):
                toks.append(f"{tok}{i}")
                toks += [f"{tok}{i}_{p}" for p in pins]
        return cls(toks)

    @classmethod
    def for_topologies(cls, topologies: list, types: tuple[str, ...] = TYPES,
                       max_devices: dict[str, int] | None = None) -> Vocab:
        """The default vocabulary grown to cover ``topologies``: every port name they use (indices
        beyond the defaults, generic ports kept by name), more devices of a type, new type labels."""
        ports = dict(PORT_CLASSES)
        extra: set[str] = set()
        devs = dict(max_devices or MAX_DEVICES)
        tys = list(types)
        for t in topologies:
            for p in t.ports:
                pre, i = port_prefix(p), port_index(p)
                if pre in ports and p in (pre, f"{pre}{i}"):
                    ports[pre] = max(ports[pre], i)
                else:
                    extra.add(p)
            counts: dict[str, int] = {}
            for d in t.circuit.devices:
                try:
                    tok = device_type(d, t.circuit)
                except InputError:
                    continue
                counts[tok] = counts.get(tok, 0) + 1
            for tok, n in counts.items():
                devs[tok] = max(devs[tok], n)
            if t.ctype and t.ctype not in tys:
                tys.append(t.ctype)
        return cls.build(tuple(tys), devs, ports, sorted(extra))

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
        except (OSError, ValueError, KeyError, TypeError, InputError) as e:
            raise InputError(f"not a vocabulary file: {e}", file=path) from e
