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

Inside the support a sample also *prefers* the steps that set its type apart: each legal next token
gets the logit bonus ``weight * log(p_type(c | a, b) / p_all(c | a, b))`` of its class triple, a
class-trigram model of the type's tours against one of all training tours (the type's counts
smoothed towards the overall model with :data:`SMOOTHING` pseudo-counts). It is guidance by a
naive-Bayes classifier of class trigrams, the generator's own statistics (the benchmark's
classifier is a separate WL/motif SVM). The hard support alone keeps what the type never does out;
the bonus moves the draw towards what the type does more than others, e.g. a converter's PMOS
switch with its body on ``VIN1``, which the model alone seldom drew (0.2 PMOS bodies on a source
net per sample against 5.0 in the 243 real converters). Chosen on the same validation seeds (12
types, W = 3): 91.0 / 88.2 / 87.8 % classified as their type with the support alone, 97.6 / 96.6 /
97.3 % at weight 0.5 (shipped), 97.6 / 96.2 / 95.9 % at 1. The cost: a type's samples are more alike
(median WL cosine between two samples 0.25 -> 0.29), not closer to the training circuits.
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
        bias: ``bias[a, b, c]``: the logit bonus of a step of class c after a, b (float32; None: none).
    """

    cls: np.ndarray
    seen: np.ndarray
    names: tuple[str, ...]
    bias: np.ndarray | None = None

    def logit_bias(self, prev: list[int], heads: list[int]) -> np.ndarray | None:
        """Each row's logit bonus over the vocabulary after its last two tokens (None: no preference)."""
        if self.bias is None:
            return None
        return self.bias[self.cls[prev], self.cls[heads]][:, self.cls]

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


#: Pseudo-counts pulling a type's class-trigram model towards the overall one (the bonus of a
#: context the type holds n times is damped by n / (n + SMOOTHING)).
SMOOTHING = 2.0
#: Default weight of the type preference (chosen on validation seeds 999-1001; README, *Type conditioning*).
TYPE_WEIGHT = 0.5


def training_support(ck: dict, vocab: Vocab, ctype: str | None, weight: float = TYPE_WEIGHT) -> TypeSupport | None:
    """The :class:`TypeSupport` of the circuits of type ``ctype`` a checkpoint was trained on (its
    stored tours), with the type preference of ``weight`` (0: the hard support alone). None
    without a type, or when no training circuit carries it."""
    from eda.generators.topology_checkpoint import training_types

    if ctype is None or ctype not in (types := training_types(ck)):
        return None
    cls, names = token_classes(vocab)
    k = len(names) + 1
    x = cls[ck["train_tours"].numpy().astype(int)]
    off = np.asarray(ck["train_offsets"].tolist())
    of_token = np.repeat(np.arange(len(off) - 1), np.diff(off))  # each token's tour
    tour, whole = of_token[:-2], of_token[:-2] == of_token[2:]  # a triple's tour; triples inside one tour
    idx = ((x[:-2] * k + x[1:-1]) * k + x[2:])[whole]
    of_type = np.array([ty == ctype for ty in types])[tour[whole]]
    n_all = np.bincount(idx, minlength=k ** 3).astype(float).reshape(k, k, k)
    n_type = np.bincount(idx[of_type], minlength=k ** 3).astype(float).reshape(k, k, k)
    bias = None
    if weight > 0:
        p_all = (n_all + 0.01) / (n_all.sum(2, keepdims=True) + 0.01 * k)
        p_type = (n_type + SMOOTHING * p_all) / (n_type.sum(2, keepdims=True) + SMOOTHING)
        bias = (weight * np.log(p_type / p_all)).astype(np.float32)
    return TypeSupport(cls=cls, seen=n_type > 0, names=names, bias=bias)


__all__ = ["SMOOTHING", "TYPE_WEIGHT", "TypeSupport", "token_classes", "training_support"]
