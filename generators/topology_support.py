"""Type support of conditioned sampling (issue #16): which steps of a tour a circuit type's real
circuits take, so that a sample drawn for that type takes only such steps.

A tour token's *class* is its device type (``NM3`` → NM), pin kind (``PM2_G`` → PMOS gate) or port
class (``VCONT4`` → VCONT; ``VDD`` and ``VSS`` are port classes too); the special tokens (``<bos>``,
type tokens, ``<eos>``, ``<pad>``) share one class. :func:`training_support` collects the class
*triples* (three consecutive tokens) of the type's training tours; :meth:`TypeSupport.narrow` then
keeps a next token only where the triple (token before the head, head, next) occurs in them. So a
port class sits only on the pin kinds it sits on in real circuits of the type, only the type's device
types appear, and each net is entered and left the ways the type's nets are.

Measured on the public set: none of the 60 comparators has an inductor, none of the 243 power
converters a bipolar transistor, and the converters' ``VCONTk`` ports sit on gates only (2.8 PMOS and
1.4 NMOS gates per circuit, no drain); conditioned on those types, the model alone drew 1.7 inductors
per comparator, and 0.8 BJTs and 1.5 PMOS drains on ``VCONT`` per converter. Chosen on validation
seeds (999-1001, 32 samples per type, shipped model, W = 3): the classifier labelled 72 % of the
conditioned samples as their type without a support, 84-88 % with pairs of classes, 89-91 % with
triples and 87-89 % with quadruples (too narrow for the small types: 38 PLLs, 37 power amplifiers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eda.graphs.euler import Vocab, VocabTables


@dataclass(frozen=True)
class TypeSupport:
    """Class triples of one type's training tours (picklable: sent to sampling workers).

    Attributes:
        cls: class of each vocabulary token (``n_classes`` for the special tokens).
        seen: ``seen[a, b, c]``: some training tour of the type has consecutive tokens of classes
            a, b, c.
        names: the class names (index order), for reports.
    """

    cls: np.ndarray
    seen: np.ndarray
    names: tuple[str, ...]

    def allowed(self, prev: int, head: int) -> np.ndarray:
        """Mask over the vocabulary of the next tokens after ``prev``, ``head``."""
        return self.seen[self.cls[prev], self.cls[head]][self.cls]

    def narrow(self, masks: np.ndarray, prev: list[int], heads: list[int]) -> np.ndarray:
        """Each row's legal tokens (``masks``, modified in place and returned) restricted to the
        supported steps after its last two tokens, where that leaves one; a row whose legal moves
        all leave the support keeps them (the grammar's way out stays open).

        ``<eos>`` is a special token like the others: the type's tours end after a step back to
        ``VSS``, so a sample's walk goes back down its stack instead of ending early with the walk
        back implied (validation seeds 999-1001: 89.8 % classified as the type on average, 88.5 %
        with ``<eos>`` left free)."""
        narrowed = masks & self.seen[self.cls[prev], self.cls[heads]][:, self.cls]
        ok = narrowed.any(1)
        masks[ok] = narrowed[ok]
        return masks


def token_classes(vocab: Vocab) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class index of every token (device type, pin kind, port class; the special tokens get
    ``len(names)``) and the class names."""
    from eda.topology import port_prefix

    t = VocabTables(vocab)
    names = [f"{t.types[t.dtype[i]]}_{tok.rsplit('_', 1)[1]}" if t.is_pin[i] else
             t.types[t.dtype[i]] if t.dtype[i] >= 0 else port_prefix(tok) if t.is_port[i] else None
             for i, tok in enumerate(vocab.tokens)]
    order = tuple(sorted({c for c in names if c is not None}))
    index = {c: k for k, c in enumerate(order)}
    return np.array([len(order) if c is None else index[c] for c in names]), order


def training_support(ck: dict, vocab: Vocab, ctype: str | None) -> TypeSupport | None:
    """The :class:`TypeSupport` of the circuits of type ``ctype`` a checkpoint was trained on (its
    stored tours). None without a type, or when no training circuit carries it."""
    from eda.generators.topology_checkpoint import training_types

    if ctype is None or ctype not in (types := training_types(ck)):
        return None
    cls, names = token_classes(vocab)
    k = len(names) + 1
    flat = cls[ck["train_tours"].numpy().astype(int)]
    off = ck["train_offsets"].tolist()
    seen = np.zeros(k ** 3, bool)
    for (a, b), ty in zip(zip(off[:-1], off[1:], strict=True), types, strict=True):
        if ty == ctype:
            x = flat[a:b]
            seen[(x[:-2] * k + x[1:-1]) * k + x[2:]] = True
    return TypeSupport(cls=cls, seen=seen.reshape(k, k, k), names=names)


__all__ = ["TypeSupport", "token_classes", "training_support"]
