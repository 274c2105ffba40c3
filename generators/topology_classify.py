"""Circuit-type classifier of the type-conditioning benchmark (issue #16): a linear SVM over the
Weisfeiler-Lehman features of :func:`eda.generators.topology_check.wl_features`."""

from __future__ import annotations

import networkx as nx

from eda.errors import InputError
from eda.generators.topology_check import wl_features


class LinearTypeClassifier:
    """Circuit-type classifier: a linear SVM (one-vs-rest) over idf-weighted, log-scaled WL
    subtree counts (:func:`~eda.generators.topology_check.wl_features`). On the 3,028 labelled
    public + library circuits it scores 89.1 % in 5-fold cross-validation (13 types), against
    82.9 % for the 5-NN :class:`~eda.generators.topology_check.TypeClassifier` on the same
    features; ``benchmarks/bench_topo.py`` measures type conditioning with it.

    Args:
        graphs: labelled device-pin graphs. types: their type labels. c: the SVM's regularisation.
    """

    def __init__(self, graphs: list[nx.Graph], types: list[str], c: float = 1.0):
        if len(graphs) != len(types) or not graphs:
            raise InputError("LinearTypeClassifier: graphs and types must be non-empty and equally long")
        self._fit([wl_features(g) for g in graphs], list(types), c)

    def _fit(self, feats: list[dict[str, int]], types: list[str], c: float) -> None:
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.svm import LinearSVC

        self.dv = DictVectorizer()
        self.tfidf = TfidfTransformer()
        x = self.tfidf.fit_transform(_log_counts(self.dv.fit_transform(feats)))
        self.svm = LinearSVC(C=c).fit(x, types)

    def _predict_feats(self, feats: list[dict[str, int]]) -> list[str]:
        if not feats:
            return []
        return [str(t) for t in self.svm.predict(self.tfidf.transform(_log_counts(self.dv.transform(feats))))]

    def predict(self, g: nx.Graph) -> str:
        """The type of one device-pin graph."""
        return self._predict_feats([wl_features(g)])[0]

    def predict_many(self, graphs: list[nx.Graph]) -> list[str]:
        """The types of several graphs (one vectorised call)."""
        return self._predict_feats([wl_features(g) for g in graphs])

    @classmethod
    def cross_validate(cls, graphs: list[nx.Graph], types: list[str], folds: int = 5, seed: int = 0,
                       c: float = 1.0) -> float:
        """Accuracy on held-out circuits: stratified ``folds``-fold cross-validation, each fold
        classified by a model fitted on the others only."""
        import numpy as np
        from sklearn.model_selection import StratifiedKFold

        feats = [wl_features(g) for g in graphs]
        y = np.asarray(types)
        hits = 0
        for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
            m = cls.__new__(cls)
            m._fit([feats[i] for i in tr], list(y[tr]), c)
            hits += sum(p == t for p, t in zip(m._predict_feats([feats[i] for i in te]), y[te], strict=True))
        return hits / len(y)


def _log_counts(x):
    """Sparse counts as 1 + log(count) (the scaling both classifiers use)."""
    import numpy as np

    x = x.tocsr(copy=True)
    x.data = 1 + np.log(x.data)
    return x


__all__ = ["LinearTypeClassifier"]
