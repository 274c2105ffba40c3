"""Circuit-type classifier of the type-conditioning benchmark (issue #16): a linear SVM over the
Weisfeiler-Lehman subtree bag of the device-pin graph and a designer's motif counts
(:mod:`eda.generators.topology_motifs`), fitted on labelled training circuits only.

The shipped classifier (``data/models/topology_types.npz``, plain arrays, no pickle) is
reproduced by::

    python -m eda.generators.topology_classify --data ../shared/analoggenie/Dataset \\
        --out data/models/topology_types.npz [--cv]

``--cv`` also measures it honestly: 5-fold cross-validation grouped by near-duplicates (circuits
whose WL cosine similarity is >= 0.8 are joined into one group, and a group never straddles
folds), with overall and per-type accuracy and the confusion matrix."""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np

from eda.errors import InputError
from eda.generators.topology_motifs import motif_features, wl_bag

#: Dense features get this total weight beside the unit-norm WL part.
DENSE_WEIGHT = 1.0
#: Library sub-types the classifier reads as the public set's type (all four are op-amps; the
#: GPT keeps its own type tokens for them).
CLASS_OF_TYPE = {"opamp1": "opamp", "opamp2": "opamp", "telescopic": "opamp", "folded_cascode": "opamp"}
#: WL cosine similarity at or above which two circuits count as near-duplicates (one CV group).
NEAR_DUPLICATE = 0.8


class LinearTypeClassifier:
    """Circuit-type classifier: a one-vs-rest linear SVM (class-balanced) over idf-weighted,
    log-scaled WL subtree counts (depth 3, :func:`~eda.generators.topology_motifs.wl_bag`) and
    standardised log motif counts (:func:`~eda.generators.topology_motifs.motif_features`).
    Held-out accuracy on the labelled public + library circuits: see :meth:`cross_validate_report`
    and the README (*Type conditioning*).

    Args:
        graphs: labelled device-pin graphs. types: their type labels. c: the SVM's regularisation.
    """

    def __init__(self, graphs: list[nx.Graph], types: list[str], c: float = 1.0):
        if len(graphs) != len(types) or not graphs:
            raise InputError("LinearTypeClassifier: graphs and types must be non-empty and equally long")
        self._fit(features(graphs), list(types), c)

    # ---------------------------------------------------------------- fit / predict
    def _fit(self, feats: list[tuple[dict, dict]], types: list[str], c: float) -> None:
        from sklearn.svm import LinearSVC

        wl_df = Counter(k for w, _ in feats for k in w)
        self.wl_keys = sorted(k for k, n in wl_df.items() if n >= 2)  # a key of one circuit cannot generalise
        self.dense_keys = sorted({k for _, d in feats for k in d})
        n = len(feats)
        self.idf = np.log((1 + n) / (1 + np.array([wl_df[k] for k in self.wl_keys], float))) + 1
        dense = np.log1p(np.array([[d.get(k, 0.0) for k in self.dense_keys] for _, d in feats], float))
        self.mu, self.sd = dense.mean(0), dense.std(0) + 1e-6
        svm = LinearSVC(C=c, class_weight="balanced").fit(self._matrix(feats), types)
        self.classes = [str(t) for t in svm.classes_]
        coef, icpt = svm.coef_, svm.intercept_
        if len(self.classes) == 2:  # sklearn keeps one row for two classes
            coef, icpt = np.vstack([-coef, coef]), np.hstack([-icpt, icpt])
        self.coef, self.intercept = coef.astype(np.float32), icpt.astype(np.float32)

    def _matrix(self, feats: list[tuple[dict, dict]]):
        from scipy import sparse

        col = {k: i for i, k in enumerate(self.wl_keys)}
        rows, cols, vals = [], [], []
        for r, (w, _) in enumerate(feats):
            for k, v in w.items():
                if k in col:
                    rows.append(r)
                    cols.append(col[k])
                    vals.append((1 + np.log(v)) * self.idf[col[k]])
        x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(feats), len(self.wl_keys)))
        norm = np.sqrt(np.asarray(x.multiply(x).sum(1)).ravel())
        x = sparse.diags(1 / np.maximum(norm, 1e-12)) @ x
        d = np.log1p(np.array([[dd.get(k, 0.0) for k in self.dense_keys] for _, dd in feats], float))
        d = (d - self.mu) / self.sd * DENSE_WEIGHT / np.sqrt(max(len(self.dense_keys), 1))
        return sparse.hstack([x, sparse.csr_matrix(d)]).tocsr()

    def _predict_feats(self, feats: list[tuple[dict, dict]]) -> list[str]:
        if not feats:
            return []
        scores = self._matrix(feats) @ self.coef.T + self.intercept
        return [self.classes[i] for i in np.asarray(scores).argmax(1)]

    def predict(self, g: nx.Graph) -> str:
        """The type of one device-pin graph."""
        return self._predict_feats(features([g]))[0]

    def predict_many(self, graphs: list[nx.Graph]) -> list[str]:
        """The types of several graphs (one vectorised call)."""
        return self._predict_feats(features(graphs))

    # ---------------------------------------------------------------- files
    def save(self, path: str | Path, meta: dict | None = None) -> Path:
        """Write the fitted classifier as plain arrays (``.npz``, no pickle)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, format=np.array("eda-topology-types/1"), classes=np.array(self.classes),
                            wl_keys=np.array(self.wl_keys), dense_keys=np.array(self.dense_keys),
                            idf=self.idf.astype(np.float32), mu=self.mu.astype(np.float32),
                            sd=self.sd.astype(np.float32), coef=self.coef.astype(np.float16),
                            intercept=self.intercept, meta=np.array(json.dumps(meta or {})))
        return path

    @classmethod
    def load(cls, path: str | Path | None = None) -> LinearTypeClassifier:
        """A saved classifier (default: the shipped ``data/models/topology_types.npz``).

        Raises:
            InputError: missing file or not a saved type classifier.
        """
        from eda.paths import PATHS

        path = Path(path) if path else PATHS.models / "topology_types.npz"
        if not path.is_file():
            raise InputError("no such type classifier (python -m eda.generators.topology_classify writes one)",
                             file=path)
        try:
            z = np.load(path, allow_pickle=False)
            if str(z["format"]) != "eda-topology-types/1":
                raise ValueError("format eda-topology-types/1 expected")
            m = cls.__new__(cls)
            m.classes, m.wl_keys, m.dense_keys = (list(map(str, z[k])) for k in ("classes", "wl_keys", "dense_keys"))
            m.idf, m.mu, m.sd = (z[k].astype(float) for k in ("idf", "mu", "sd"))
            m.coef, m.intercept = z["coef"].astype(np.float32), z["intercept"].astype(np.float32)
            m.meta = json.loads(str(z["meta"]))
        except (KeyError, ValueError, OSError) as e:
            raise InputError(f"not a saved type classifier: {e}", file=path) from e
        return m

    # ---------------------------------------------------------------- honest accuracy
    @classmethod
    def cross_validate(cls, graphs: list[nx.Graph], types: list[str], folds: int = 5, seed: int = 0,
                       c: float = 1.0) -> float:
        """Accuracy on held-out circuits (:meth:`cross_validate_report`'s ``accuracy``)."""
        return cls.cross_validate_report(graphs, types, folds, seed, c)["accuracy"]

    @classmethod
    def cross_validate_predict(cls, graphs: list[nx.Graph], types: list[str], folds: int = 5, seed: int = 0,
                               c: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Held-out prediction of every circuit (by a model fitted on the other folds of a 5-fold
        split grouped by near-duplicates, stratified by type as far as groups allow) and each
        circuit's near-duplicate group."""
        from sklearn.model_selection import StratifiedGroupKFold

        feats = features(graphs)
        y = np.asarray(types)
        groups = near_duplicate_groups([w for w, _ in feats])
        pred = np.empty(len(y), dtype=object)
        split = StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y, groups)
        for tr, te in split:
            m = cls.__new__(cls)
            m._fit([feats[i] for i in tr], list(y[tr]), c)
            pred[te] = m._predict_feats([feats[i] for i in te])
        return pred, groups

    @classmethod
    def cross_validate_report(cls, graphs: list[nx.Graph], types: list[str], folds: int = 5, seed: int = 0,
                              c: float = 1.0, min_type: int = 30) -> dict:
        """Cross-validation grouped by near-duplicates (:func:`near_duplicate_groups`; stratified
        by type as far as groups allow): every circuit is classified by a model fitted on the
        other folds only. Returns ``accuracy``, ``balanced_accuracy`` (mean per-type accuracy over
        types with at least ``min_type`` circuits), ``per_type``, ``confusion`` (true → predicted
        → count) and the split (``folds``, ``groups``)."""
        pred, groups = cls.cross_validate_predict(graphs, types, folds, seed, c)
        y = np.asarray(types)
        counts = Counter(types)
        per = {t: float(np.mean(pred[y == t] == t)) for t, _ in counts.most_common()}
        confusion: dict[str, dict[str, int]] = {}
        for t, p in zip(y, pred, strict=True):
            confusion.setdefault(str(t), Counter())[str(p)] += 1
        big = [t for t, k in counts.items() if k >= min_type]
        return {"accuracy": float(np.mean(pred == y)),
                "balanced_accuracy": float(np.mean([per[t] for t in big])) if big else None,
                "per_type": per, "counts": dict(counts.most_common()),
                "confusion": {t: dict(v) for t, v in confusion.items()},
                "folds": folds, "groups": int(len(set(groups))), "near_duplicate_cosine": NEAR_DUPLICATE,
                "n": len(y)}


def features(graphs: list[nx.Graph]) -> list[tuple[dict[str, int], dict[str, float]]]:
    """(WL bag, motif counts) of each graph."""
    return [(wl_bag(g), motif_features(g)) for g in graphs]


def near_duplicate_groups(bags: list[dict[str, int]], threshold: float = NEAR_DUPLICATE) -> np.ndarray:
    """Group id of each circuit: connected components of "WL cosine similarity (idf-weighted)
    >= ``threshold``", so near-duplicate circuits share a group (and a cross-validation fold)."""
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfTransformer

    x = TfidfTransformer().fit_transform(DictVectorizer().fit_transform(bags))  # rows unit-norm
    s = (x @ x.T).tocsr()
    s.data = (s.data >= threshold - 1e-9).astype(np.int8)
    s.eliminate_zeros()
    return connected_components(s, directed=False)[1]


def labelled_graphs(data: str | Path, names: list[str] | None = None) -> tuple[list[nx.Graph], list[str]]:
    """Device-pin graphs and type labels of the labelled training circuits: a public dataset
    folder (labels from its ``data_categorization.md``) plus the built-in library, as
    ``eda topo train --data`` reads them (library op-amp sub-types as ``opamp``:
    :data:`CLASS_OF_TYPE`); unlabelled circuits are left out. ``names``: a list that receives
    each kept circuit's name (the public set's circuit ID)."""
    from eda.generators.topology_train import load_training_topologies
    from eda.graphs.pin_graph import circuit_to_graph

    graphs, types = [], []
    for t in load_training_topologies(data):
        if t.ctype and t.ctype != "any":
            graphs.append(circuit_to_graph(t.circuit))
            types.append(CLASS_OF_TYPE.get(t.ctype, t.ctype))
            if names is not None:
                names.append(t.name)
    if not graphs:
        raise InputError("no labelled circuits (a dataset needs data_categorization.md)", file=Path(data))
    return graphs, types


def wl_features(g: nx.Graph, iterations: int = 2) -> dict[str, int]:
    """Bag of Weisfeiler-Lehman subtree labels of a device-pin graph (device types, pins, port
    classes and their neighbourhoods up to ``iterations`` hops), for structural similarity."""
    hashes = nx.weisfeiler_lehman_subgraph_hashes(g, node_attr="label", iterations=iterations, digest_size=8)
    bag = Counter(g.nodes[n]["label"] for n in g)
    for hs in hashes.values():
        bag.update(hs)
    return dict(bag)


class TypeClassifier:
    """Nearest-neighbour circuit-type classifier over :func:`wl_features` (cosine on
    idf-weighted, log-scaled counts): a circuit gets the majority type of its ``k`` most
    similar labelled circuits. Used to measure what type conditioning does to samples.

    Args:
        graphs: labelled device-pin graphs. types: their type labels. k: neighbours.
    """

    def __init__(self, graphs: list[nx.Graph], types: list[str], k: int = 5):
        if len(graphs) != len(types) or not graphs:
            raise InputError("TypeClassifier: graphs and types must be non-empty and equally long")
        self.k = k
        self.types = list(types)
        feats = [wl_features(g) for g in graphs]
        self.vocab: dict[str, int] = {}
        for f in feats:
            for key in f:
                self.vocab.setdefault(key, len(self.vocab))
        df = np.zeros(len(self.vocab))
        for f in feats:
            df[[self.vocab[key] for key in f]] += 1
        self.idf = np.log((1 + len(feats)) / (1 + df)) + 1
        from scipy import sparse

        # sparse rows: a few hundred features per circuit among tens of thousands (dense was
        # 1 GB and 0.1 s per prediction on the 3,000 public circuits)
        self.X = sparse.vstack([sparse.csr_matrix(self._vec(f)) for f in feats]).tocsr()

    def _vec(self, f: dict[str, int]):
        v = np.zeros(len(self.vocab))
        for key, c in f.items():
            j = self.vocab.get(key)
            if j is not None:
                v[j] = 1 + math.log(c)
        v *= self.idf
        return v / max(float(np.linalg.norm(v)), 1e-12)

    def predict(self, g: nx.Graph, exclude: int | None = None) -> str:
        """Majority type of the ``k`` nearest labelled circuits (``exclude``: an index to leave out)."""
        s = self.X @ self._vec(wl_features(g))
        if exclude is not None:
            s[exclude] = -np.inf
        top = np.argsort(-s)[: self.k]
        votes = Counter(self.types[i] for i in top)
        best = max(votes.values())
        return next(self.types[i] for i in top if votes[self.types[i]] == best)  # ties: the nearest

    def leave_one_out(self, graphs: list[nx.Graph], max_n: int | None = None) -> float:
        """Accuracy on its own labelled circuits, each left out of its own neighbours."""
        idx = range(len(graphs)) if max_n is None else range(0, len(graphs), max(1, len(graphs) // max_n))
        hits = [self.predict(graphs[i], exclude=i) == self.types[i] for i in idx]
        return sum(hits) / max(len(hits), 1)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description="fit (and cross-validate) the circuit-type classifier")
    ap.add_argument("--data", default="builtin", help="dataset folder (N/N.cir) or 'builtin'")
    ap.add_argument("--out", default=None, help="write the fitted classifier here (.npz)")
    ap.add_argument("--cv", action="store_true", help="also measure grouped 5-fold cross-validation")
    ap.add_argument("--report", default=None, help="write the CV report here (.json)")
    args = ap.parse_args(argv)
    graphs, types = labelled_graphs(args.data)
    res: dict = {"n": len(graphs), "types": dict(Counter(types).most_common())}
    if args.cv:
        res["cv"] = LinearTypeClassifier.cross_validate_report(graphs, types)
        cv = res["cv"]
        print(f"grouped {cv['folds']}-fold CV over {cv['n']} circuits ({cv['groups']} near-duplicate groups): "
              f"accuracy {cv['accuracy']:.1%}, balanced over types >= 30: {cv['balanced_accuracy']:.1%}")
        print({t: round(a, 2) for t, a in cv["per_type"].items()})
    if args.report:
        Path(args.report).write_text(json.dumps(res, indent=2))
    if args.out:
        meta = {"data": str(args.data), "n": len(graphs), "cv": {k: res["cv"][k] for k in
                                                              ("accuracy", "balanced_accuracy", "groups", "per_type",
                                                                 "confusion")}
                if args.cv else None}
        LinearTypeClassifier(graphs, types).save(args.out, meta)
        print(f"saved {args.out} ({Path(args.out).stat().st_size / 1e3:.0f} kB)")
    return res


__all__ = ["CLASS_OF_TYPE", "LinearTypeClassifier", "TypeClassifier", "features", "near_duplicate_groups",
           "labelled_graphs", "wl_features", "main"]

if __name__ == "__main__":
    main()
