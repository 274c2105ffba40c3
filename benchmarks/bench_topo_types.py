"""What limits the type-conditioned accuracy of the topology GPT (issue #16): measurements that
need no sampling, and (c) a diversity measure of conditioned samples that ``bench_topo.py`` applies.

(a) **Labels vs classifier.** The shipped type classifier (``data/models/topology_types.npz``) on
the labelled circuits the model was trained on, against their ``data_categorization.md`` chapter
labels: in-sample agreement per type and the confusion matrix, beside the classifier's held-out
(near-duplicate-grouped 5-fold CV) figures from ``benchmarks/results/topo_classifier_cv.json``.
A generator that reproduced each type's real circuits exactly would score about the per-type
held-out recall, so this bounds what conditioning alone can reach.

(b) **Does the type token condition the model?** Teacher-forced log-likelihood of real circuits
(the model's held-out validation circuits, plus up to ``--per-type`` training circuits per type)
under every type token and under ``<type:any>``: the mean gain in nats per circuit of the true
type over ``<type:any>``, and the model used as a Bayes classifier (argmax over the measured
types of log p(tour | type), a uniform prior). If the model cannot tell a type's real circuits
apart by its own likelihood, conditioning cannot make it draw them.

With ``--data DIR`` also per chapter: the classifier's held-out recall on each chapter's circuits
(textbook chapters name a topic, the "Assorted Papers" sections a circuit type).

Usage: ``.venv/bin/python benchmarks/bench_topo_types.py [--model CKPT ...] [--data DIR] [--out JSON]``
(writes ``benchmarks/results/topo_type_limits.json``).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


def classifier_vs_labels(ck: dict, vocab, min_type: int) -> dict:
    """(a): the shipped classifier on the labelled training circuits of checkpoint ``ck``."""
    from eda.generators.topology_checkpoint import training_graphs, training_types
    from eda.generators.topology_classify import CLASS_OF_TYPE, LinearTypeClassifier

    tg, tt = training_graphs(ck, vocab), training_types(ck)
    lab = [i for i, t in enumerate(tt) if t]
    truth = [CLASS_OF_TYPE.get(tt[i], tt[i]) for i in lab]
    pred = LinearTypeClassifier.load().predict_many([tg[i] for i in lab])
    counts = Counter(truth)
    measured = [t for t, k in counts.most_common() if k >= min_type]
    conf = {t: dict(Counter(p for p, y in zip(pred, truth, strict=True) if y == t).most_common()) for t in measured}
    per = {t: conf[t].get(t, 0) / counts[t] for t in measured}
    cv_file = HERE / "results" / "topo_classifier_cv.json"
    cv = json.loads(cv_file.read_text()).get("cv", {}) if cv_file.is_file() else {}
    hits = sum(p == y for p, y in zip(pred, truth, strict=True))
    return {"n_labelled": len(lab), "in_sample_accuracy": hits / len(lab),
            "in_sample_per_type": per, "in_sample_mean_per_type": sum(per.values()) / len(per),
            "in_sample_confusion": conf, "cv_accuracy": cv.get("accuracy"),
            "cv_per_type": {t: (cv.get("per_type") or {}).get(t) for t in measured},
            "cv_mean_per_type_measured": (sum((cv.get("per_type") or {}).get(t, 0) for t in measured) / len(measured)
                                          if cv else None),
            "measured_types": measured}


def _book_of_ids(md: Path) -> dict[int, str]:
    """Circuit ID -> the ``## N. Title`` section (book, or "Assorted Papers") of a
    ``data_categorization.md`` that lists it."""
    import re

    from eda.read.topology_dataset import _RANGE_LINE

    out, book = {}, "?"
    for ln in md.read_text(errors="replace").splitlines():
        h = re.match(r"^\s*##\s*\d+\.\s*\**(.+?)\**\s*$", ln)
        if h:
            book = h.group(1).replace("*", "").strip()
            continue
        m = _RANGE_LINE.match(ln)
        for part in m.group(1).split(",") if m else ():
            ends = [int(x) for x in re.split(r"[-–—]", part.strip()) if x.strip()]
            out.update({i: book for i in range(ends[0], ends[-1] + 1)} if ends else {})
    return out


def labels_by_chapter(data: Path, min_type: int) -> dict:
    """(a, per chapter): held-out (grouped 5-fold CV) recall of the classifier on each chapter's
    circuits, and per book: which chapter labels the classifier can tell apart at all."""
    from eda.generators.topology_classify import LinearTypeClassifier, labelled_graphs
    from eda.read.topology_dataset import read_categories

    md = data / "data_categorization.md"
    chap, book = read_categories(md), _book_of_ids(md)
    names: list[str] = []
    graphs, types = labelled_graphs(data, names)
    pred, _ = LinearTypeClassifier.cross_validate_predict(graphs, types)
    ids = [int(n) if str(n).isdigit() else None for n in names]
    src = [(book.get(i, "?"), chap.get(i, "?")) if i is not None else ("built-in library", "library")
           for i in ids]
    rows: dict = {}
    for (b, c), t, p in zip(src, types, pred, strict=True):
        r = rows.setdefault(f"{t} | {b} | {c}", {"type": t, "book": b, "chapter": c, "n": 0, "hit": 0,
                                                 "predicted": Counter()})
        r["n"], r["hit"] = r["n"] + 1, r["hit"] + int(p == t)
        r["predicted"][str(p)] += 1
    books: dict = {}
    for r in rows.values():
        k = "papers" if r["book"].startswith("Assorted") else "library" if r["chapter"] == "library" else "textbooks"
        books.setdefault(k, [0, 0])
        books[k] = [books[k][0] + r["n"], books[k][1] + r["hit"]]
        r["cv_recall"], r["predicted"] = r["hit"] / r["n"], dict(r["predicted"].most_common(4))
    counts = Counter(types)
    return {"by_source": {k: {"n": n, "cv_recall": h / n} for k, (n, h) in books.items()},
            "chapters": sorted((r for r in rows.values() if counts[r["type"]] >= min_type),
                               key=lambda r: (r["type"], -r["n"]))}


def _loglik(model, seqs: list[list[int]], full: list[int], type_ids: list[int], pad: int, tables, max_len: int):
    """log p(sequence | type) for each sequence and each type id (grammar-masked, as trained)."""
    import numpy as np
    import torch

    from eda.generators.topology_train import grammar_masks

    out = np.zeros((len(seqs), len(type_ids)))
    with torch.no_grad():
        for r, (q, n) in enumerate(zip(seqs, full, strict=True)):
            x = torch.tensor([q] * len(type_ids))
            x[:, 1] = torch.tensor(type_ids)
            logits = model(x[:, :-1], budget=torch.tensor([n] * len(type_ids)))
            m = grammar_masks(q, tables, max_len)
            if m is not None:
                mask = torch.from_numpy(np.unpackbits(m, axis=1, count=logits.shape[-1]).astype(bool))
                logits = logits.masked_fill(~mask[None], float("-inf"))
            lp = torch.log_softmax(logits, -1)
            y = x[:, 1:]
            tok = lp.gather(-1, y[..., None])[..., 0][:, 1:]  # the type token itself is given
            out[r] = tok.sum(1).numpy()
    return out


def model_conditioning(path: str | None, measured: list[str], per_type: int, seed: int) -> dict:
    """(b): teacher-forced likelihood of real circuits under each type token of checkpoint ``path``."""
    import numpy as np
    import torch

    from eda.generators.topology_checkpoint import load_checkpoint, training_types
    from eda.graphs.euler import VocabTables, compact_sequence, type_token

    torch.set_num_threads(1)
    model, vocab, ck = load_checkpoint(path)
    flat, off = ck["train_tours"].tolist(), ck["train_offsets"].tolist()
    tt = training_types(ck)
    n_train = ((ck.get("meta") or {}).get("history") or {}).get("n_train_circuits")
    n_val = len(tt) - int(n_train) if n_train else int(round(0.05 * len(tt)))  # validation circuits come last
    names = [t for t in measured if type_token(t) in vocab.index]
    type_ids = [vocab.index[type_token(t)] for t in names] + [vocab.index[type_token(None)]]
    rng = random.Random(seed)
    sets: dict[str, list[int]] = {}
    val = list(range(len(tt) - n_val, len(tt)))
    for t in names:
        tr = [i for i in range(len(tt) - n_val) if tt[i] == t]
        sets[t] = rng.sample(tr, min(per_type, len(tr)))
    rows = []
    for part, idx in (("validation", [i for i in val if tt[i] in names]),
                      ("training", [i for t in names for i in sets[t]])):
        seqs, full = [], []
        for i in idx:
            e = flat[off[i]:off[i + 1]]
            seqs.append(compact_sequence(e))
            full.append(len(e))
        t0 = time.perf_counter()
        ll = _loglik(model, seqs, full, type_ids, vocab.pad, VocabTables(vocab), model.config.block_size)
        truth = [names.index(tt[i]) for i in idx]
        pred = ll[:, :-1].argmax(1)
        gain = [ll[r, truth[r]] - ll[r, -1] for r in range(len(idx))]
        per = {t: {"n": sum(1 for y in truth if y == k),
                   "bayes_recall": float(np.mean([pred[r] == k for r in range(len(idx)) if truth[r] == k]))
                   if any(y == k for y in truth) else None,
                   "gain_vs_any_nats": float(np.mean([gain[r] for r in range(len(idx)) if truth[r] == k]))
                   if any(y == k for y in truth) else None}
               for k, t in enumerate(names)}
        rows.append({"part": part, "n": len(idx), "seconds": time.perf_counter() - t0,
                     "bayes_accuracy": float(np.mean(pred == np.array(truth))),
                     "bayes_mean_per_type": float(np.mean([v["bayes_recall"] for v in per.values()
                                                           if v["bayes_recall"] is not None])),
                     "mean_gain_vs_any_nats": float(np.mean(gain)), "per_type": per})
    return {"model": path or "shipped", "types": names, "parts": rows}


def diversity_space(train_graphs: list) -> tuple:
    """The WL-subtree (3 hops) tf-idf space of :func:`sample_diversity`, fitted once on all training
    circuits: (vectoriser, tf-idf transform, the training circuits' rows)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfTransformer

    from eda.generators.topology_motifs import wl_bag

    dv = DictVectorizer()
    x = dv.fit_transform([wl_bag(g) for g in train_graphs])
    tf = TfidfTransformer().fit(x)
    return dv, tf, tf.transform(x)


def sample_diversity(space: tuple, same_type: list[int], samples: list) -> dict:
    """(c) How alike a type's samples are, to each other and to the training circuits, beside the
    type's real circuits: medians of the cosine in ``space`` (:func:`diversity_space`).
    ``samples_within``: between two samples; ``samples_nearest_training``: a sample and its most
    similar training circuit (1 would be a copy); ``training_within`` and ``training_nearest_other``:
    the same among the type's real circuits (``same_type``: their rows; leave one out). A sampling
    rule that narrowed the draws would raise ``samples_within``; one that copied training circuits
    would raise ``samples_nearest_training``."""
    import numpy as np

    from eda.generators.topology_motifs import wl_bag

    dv, tf, xt = space
    y = tf.transform(dv.transform([wl_bag(g) for g in samples]))

    def within(m) -> float:
        s = (m @ m.T).toarray()
        return float(np.median(s[~np.eye(len(s), dtype=bool)])) if len(s) > 1 else float("nan")

    real = (xt[same_type] @ xt.T).toarray()
    real[np.arange(len(same_type)), same_type] = -1.0
    return {"samples_within": within(y), "samples_nearest_training": float(np.median((y @ xt.T).toarray().max(1))),
            "training_within": within(xt[same_type]), "training_nearest_other": float(np.median(real.max(1)))}


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", default=None, help="checkpoint(s) (default: the shipped model)")
    ap.add_argument("--min-type", type=int, default=30)
    ap.add_argument("--per-type", type=int, default=12, help="training circuits per type for (b)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None, help="public dataset folder: also the classifier's held-out recall per "
                    "chapter of data_categorization.md (~3 min)")
    ap.add_argument("--out", default=str(HERE / "results" / "topo_type_limits.json"))
    args = ap.parse_args()
    from eda.generators.topology_checkpoint import load_checkpoint

    _, vocab, ck = load_checkpoint(None)
    a = classifier_vs_labels(ck, vocab, args.min_type)
    print(f"(a) classifier vs chapter labels, {a['n_labelled']} labelled training circuits: in-sample "
          f"{a['in_sample_accuracy']:.1%} (mean per type {a['in_sample_mean_per_type']:.1%}); held-out CV "
          f"{a['cv_accuracy']:.1%} (mean per measured type {a['cv_mean_per_type_measured']:.1%})")
    for t in a["measured_types"]:
        print(f"    {t:16s} in-sample {a['in_sample_per_type'][t]:6.1%}  CV {a['cv_per_type'][t] or 0:6.1%}  "
              f"-> {a['in_sample_confusion'][t]}")
    res = {"classifier_vs_labels": a, "conditioning": []}
    if args.data:
        res["by_chapter"] = ch = labels_by_chapter(Path(args.data), args.min_type)
        print("(a) held-out recall by label source: " + ", ".join(
            f"{k} {v['cv_recall']:.1%} of {v['n']}" for k, v in ch["by_source"].items()))
        for r in ch["chapters"]:
            if r["n"] >= 5 and r["cv_recall"] < 0.8:
                print(f"    {r['type']:16s} {r['chapter'][:48]:48s} n={r['n']:3d} CV {r['cv_recall']:4.0%} "
                      f"-> {r['predicted']}")
    for m in args.model or [None]:
        b = model_conditioning(m, a["measured_types"], args.per_type, args.seed)
        res["conditioning"].append(b)
        for p in b["parts"]:
            print(f"(b) {b['model']} {p['part']} ({p['n']} circuits, {p['seconds']:.0f} s): model as Bayes "
                  f"classifier {p['bayes_accuracy']:.1%} (mean per type {p['bayes_mean_per_type']:.1%}), "
                  f"log p(true type) - log p(any) = {p['mean_gain_vs_any_nats']:.2f} nats per circuit")
            print("    " + ", ".join(f"{t} {v['bayes_recall']:.0%}/{v['gain_vs_any_nats']:.1f}"
                                     for t, v in p["per_type"].items() if v["bayes_recall"] is not None))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
