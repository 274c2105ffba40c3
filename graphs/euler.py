"""Euler-tour sequences of device-pin graphs: one import point for the four modules.

* :mod:`eda.graphs.tour` — serialisation (tours of the doubled graph, compact form);
* :mod:`eda.graphs.vocab` — tokens (:class:`Vocab`, type tokens, :class:`SequenceError`);
* :mod:`eda.graphs.decode` — token sequence → device-pin graph;
* :mod:`eda.graphs.grammar` — the incremental rules as a next-token mask (:class:`TourGrammar`).
"""

from __future__ import annotations

from eda.graphs.decode import sequence_to_graph
from eda.graphs.grammar import TourGrammar, VocabTables, grammar_accepts
from eda.graphs.tour import canonical_numbering, close_walk, compact_sequence, compact_tour, euler_tours, walk_stack
from eda.graphs.vocab import (
    ANY_TYPE,
    BOS,
    EOS,
    MAX_DEVICES,
    PAD,
    PORT_CLASSES,
    TYPES,
    SequenceError,
    Vocab,
    type_token,
)

__all__ = ["ANY_TYPE", "BOS", "EOS", "MAX_DEVICES", "PAD", "PORT_CLASSES", "TYPES", "SequenceError", "TourGrammar",
           "Vocab", "VocabTables", "canonical_numbering", "close_walk", "compact_sequence", "compact_tour",
           "euler_tours", "grammar_accepts", "sequence_to_graph", "type_token", "walk_stack"]
