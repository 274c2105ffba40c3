"""Training the topology GPT on Euler tours of circuits (grammar-masked loss, length budgets)."""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field

from eda.errors import InputError
from eda.generators.topology_checkpoint import OPAMP_FAMILY
from eda.generators.topology_gpt import GPTConfig, TopologyGPT
from eda.graphs.euler import (
    TourGrammar,
    Vocab,
    VocabTables,
    compact_sequence,
    euler_tours,
    type_token,
)
from eda.graphs.pin_graph import circuit_to_graph


class TrainParams(BaseModel):
    """Training settings (a pydantic model: bad values raise a ``ValidationError`` naming the field).

    The grammar-masked loss scores each token only against the tokens :class:`TourGrammar` allows
    there (the choices sampling has), so the model spends nothing on learning legality and its
    preferences among legal moves, e.g. walking back to finish a tour, are sharp.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tours: int = Field(2, ge=1, le=1000, description="Euler tours per circuit (augmentation)")
    steps: int = Field(800, ge=1, description="optimiser steps (the learning-rate schedule's length)")
    stop_after: int | None = Field(None, ge=1, description="stop after this many steps, on the schedule of "
                                   "`steps` (the same weights as that step's periodic checkpoint of a full run)")
    batch_tokens: int = Field(6144, ge=16, description="tokens per batch (sequences grouped by length, padded)")
    lr: float = Field(2e-3, gt=0, le=1, allow_inf_nan=False, description="peak learning rate (cosine, 5% warm-up)")
    val_frac: float = Field(0.05, ge=0, lt=1, allow_inf_nan=False,
                            description="fraction of circuits held out for the validation loss")
    type_dropout: float = Field(0.2, ge=0, le=1, allow_inf_nan=False,
                                description="probability of replacing the type token by <type:any>")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of shuffling, tours and initialisation")
    threads: int = Field(0, ge=0, le=256, description="torch CPU threads (0: leave torch's default)")
    grammar_loss: bool = Field(True, description="score each token only against the grammar's legal tokens")
    drawable_pool: int = Field(0, ge=0, le=64, description="N > 0: draw N * tours candidate tours per training "
                               "circuit and keep at most `tours` that the sampling grammar (the circuit type's "
                               "rules, the FET-body rule) accepts token by token, the orders a sampler can draw; "
                               "circuits with none are dropped (0: every drawn tour)")
    device: str = Field("cpu", pattern=r"^(cpu|cuda(:\d+)?)$",
                        description="torch device of the model and batches; checkpoints are saved from CPU copies")
    balance: float = Field(0.0, ge=0, le=1, allow_inf_nan=False,
                           description="type balancing: each training sequence is drawn with weight "
                                       "max(n_type, balance_floor) ** -balance (0: every sequence once per epoch; "
                                       "1: every type about equally often)")
    natural_any: bool = Field(False, description="with balance > 0: drop each sequence's type token with a "
                              "probability proportional to its type's balancing down-weight, so the rows trained "
                              "as <type:any> keep the natural type mix (what unconditioned sampling draws) "
                              "while the conditioned rows are balanced")
    balance_floor: int = Field(30, ge=1, description="type size below which a type is weighted as if it had "
                                                     "this many circuits (tiny types are not repeated without end)")
    time_budget: float | None = Field(None, gt=0, allow_inf_nan=False,
                                      description="seconds of training after preparation: the learning-rate "
                                      "schedule runs on the larger of step / steps and elapsed / time_budget, and "
                                      "training stops when either reaches the end (None: steps alone)")
    val_points: int = Field(5, ge=1, le=1000, description="validation-loss evaluations per run, evenly spread "
                            "over the schedule")
    keep_best: bool = Field(False, description="end with the weights of the lowest validation loss seen at the "
                            "evaluations (early stopping), not the last step's")
    workers: int = Field(1, ge=1, le=256, description="processes that draw the tours and grammar masks "
                         "(the same results as one; preparation is most of a short run's time)")


@dataclass
class TrainResult:
    """History of a training run."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0
    n_train_circuits: int = 0
    n_sequences: int = 0
    n_tokens: int = 0
    skipped: int = 0
    skipped_files: list[tuple[str, str]] = field(default_factory=list)
    train_tours: list[list[int]] = field(default_factory=list)
    prepare_seconds: float = 0.0
    steps_done: int = 0
    best_step: int | None = None

    def meta(self, params: TrainParams, steps_done: int) -> dict:
        """Checkpoint metadata: settings and history so far."""
        return {"train": params.model_dump(), "steps_done": steps_done, "history": {
            "train_loss_last": float(np.mean(self.train_loss[-50:])) if self.train_loss else None,
            "val_loss": self.val_loss, "seconds": self.seconds, "prepare_seconds": self.prepare_seconds,
            "n_train_circuits": self.n_train_circuits, "n_sequences": self.n_sequences,
            "n_tokens": self.n_tokens, "skipped": self.skipped, "best_step": self.best_step}}


def _parallel(fn, jobs: list, workers: int) -> list:
    """``[fn(j) for j in jobs]``, in ``workers`` processes when more than one (:func:`eda.workers.pool`)."""
    if workers <= 1 or len(jobs) <= 1:
        return [fn(j) for j in jobs]
    from eda.workers import pool, stop

    ex = pool(min(workers, len(jobs)), preload=("eda.generators.topology_train",))
    try:
        return list(ex.map(fn, jobs))
    finally:
        stop(ex)


def _spans(n: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous index ranges covering ``range(n)``, about four per worker."""
    k = max(1, min(n, 4 * workers))
    cut = [round(i * n / k) for i in range(k + 1)]
    return [(a, b) for a, b in zip(cut, cut[1:], strict=False) if b > a]


def _tour_job(job: tuple) -> tuple:
    tops, tours, seed = job
    return tour_sets(tops, tours, seed)


def tour_sets(topologies: list, tours: int, seed: int, workers: int = 1
              ) -> tuple[list[tuple[str | None, list[list[str]]]], list[tuple[str, str]]]:
    """``tours`` Euler tours (token strings) per topology, and (source, reason) of each topology
    that does not encode (:func:`~eda.graphs.pin_graph.circuit_to_graph` refuses it); topology
    ``i`` draws with seed ``seed + i``, so ``workers`` processes give the same tours as one."""
    if workers > 1:
        parts = _parallel(_tour_job, [(topologies[a:b], tours, seed + a) for a, b in
                                      _spans(len(topologies), workers)], workers)
        return [x for p in parts for x in p[0]], [x for p in parts for x in p[1]]
    out: list[tuple[str | None, list[list[str]]]] = []
    skipped: list[tuple[str, str]] = []
    for i, t in enumerate(topologies):
        try:
            g = circuit_to_graph(t.circuit, t.ports or None)
            out.append((t.ctype, euler_tours(g, tours, seed=seed + i)))
        except InputError as e:
            skipped.append((str(t.source or t.name), str(e).split("\n")[0]))
    return out, skipped


def drawable_sets(sets: list, vocab: Vocab, tours: int) -> tuple[list, int]:
    """Of each circuit's candidate tours, at most ``tours`` that the sampling grammar accepts token by
    token (:func:`~eda.graphs.grammar.grammar_accepts` with ``sampling``, the FET-body rule and the
    circuit's type: an op-amp type's skeleton and core rules); circuits with none are left out.
    Returns (the kept sets, how many circuits were left out)."""
    from eda.graphs.grammar import grammar_accepts

    tables = VocabTables(vocab)
    out, dropped = [], 0
    for ctype, ts in sets:
        ct = ctype if ctype in vocab.types else None
        kept = []
        for x in ts:
            try:
                e = vocab.encode(x, ct)
            except InputError:
                continue
            if grammar_accepts(compact_sequence(e), tables, sampling=True, bodies=True,
                               ctype=ct) is None:
                kept.append(x)
                if len(kept) >= tours:
                    break
        if kept:
            out.append((ctype, kept))
        else:
            dropped += 1
    return out, dropped


def encode_topologies(topologies: list, vocab: Vocab, tours: int, seed: int, max_len: int,
                      sets: list | None = None) -> tuple[list[list[int]], list[list[int]], int, list[int]]:
    """Token ids of ``tours`` tours per topology, in the compact form (:func:`compact_tour`: the
    walk back to ``VSS`` after the last new edge is implied by ``<eos>``); returns (sequences,
    one full canonical tour per circuit, number of circuits skipped for not encoding, not fitting
    the vocabulary or ``max_len`` full tokens, full-tour length of each sequence).
    ``sets``: the tours already drawn (:func:`tour_sets`; else drawn here)."""
    skipped = 0
    if sets is None:
        sets, bad = tour_sets(topologies, tours, seed)
        skipped = len(bad)
    seqs: list[list[int]] = []
    canon: list[list[int]] = []
    full: list[int] = []
    for ctype, ts in sets:
        try:
            enc = [vocab.encode(x, ctype if ctype in vocab.types else None) for x in ts]
        except InputError:
            skipped += 1
            continue
        enc = [e for e in enc if len(e) <= max_len]
        if not enc:
            skipped += 1
            continue
        canon.append(enc[0])
        seqs += [compact_sequence(e) for e in enc]
        full += [len(e) for e in enc]
    return seqs, canon, skipped, full


def balanced_draw(types: list, balance: float, floor: int, rng: random.Random) -> list[int]:
    """One epoch of sequence indices, as many as ``types``, drawn with replacement with weight
    ``max(n_t, floor) ** -balance`` for a sequence of type ``t`` (``n_t``: sequences of that type;
    unlabelled ones form their own group); ``balance == 0``: every index once."""
    if balance <= 0:
        return list(range(len(types)))
    count: dict = {}
    for t in types:
        count[t] = count.get(t, 0) + 1
    w = [max(count[t], floor) ** -balance for t in types]
    return rng.choices(range(len(types)), weights=w, k=len(types))


def dropout_probs(types: list, balance: float, floor: int, rate: float, natural_any: bool) -> np.ndarray:
    """Probability of replacing each sequence's type token by ``<type:any>``: ``rate`` for all, or
    with ``natural_any`` and ``balance > 0``: ``rate * m_t ** balance / c`` (``m_t = max(n_t, floor)``,
    ``c`` its mean over :func:`balanced_draw`'s draw, capped at 1), which undoes the balancing for
    the dropped rows: sequence ``i`` is drawn with weight ``m_t ** -balance`` and dropped with
    probability ``∝ m_t ** balance``, so every sequence is equally likely among them (the natural mix)."""
    if not natural_any or balance <= 0:
        return np.full(len(types), rate)
    count = Counter(types)
    m = np.array([max(count[t], floor) for t in types], float)
    c = len(types) / float(np.sum(m ** -balance))  # E[m^balance] under the balanced draw
    return np.minimum(1.0, rate * m ** balance / c)


def _batches(seqs: list[list[int]], batch_tokens: int, rng: random.Random,
             pick: list[int] | None = None) -> list[list[int]]:
    order = sorted(range(len(seqs)) if pick is None else pick, key=lambda i: (len(seqs[i]), rng.random()))
    out, cur, width = [], [], 0
    for i in order:
        w = max(width, len(seqs[i]))
        if cur and w * (len(cur) + 1) > batch_tokens:
            out.append(cur)
            cur, w = [], len(seqs[i])
        cur.append(i)
        width = w
    if cur:
        out.append(cur)
    return out


def _tensor(seqs: list[list[int]], idx: list[int], pad: int) -> torch.Tensor:
    w = max(len(seqs[i]) for i in idx)
    x = torch.full((len(idx), w), pad, dtype=torch.long)
    for r, i in enumerate(idx):
        x[r, : len(seqs[i])] = torch.tensor(seqs[i])
    return x


def grammar_masks(seq: list[int], tables: VocabTables, max_len: int, lenient: bool = True) -> np.ndarray | None:
    """Packed legal-token masks of a training sequence under :class:`TourGrammar`.

    Row ``j`` (``np.packbits`` along the vocabulary) holds the tokens allowed as ``seq[j + 1]``;
    rows before the tour's second node allow everything. Returns None when the grammar rejects
    the sequence. ``lenient`` (training): the grammar's structural rules only, which every real
    circuit's tour passes; sampling masks with the strict grammar, a subset, renormalised.
    """
    v = len(tables.vocab)
    rows = np.ones((len(seq) - 1, v), bool)
    g = TourGrammar(tables, max_len, prefix_len=2, lenient=lenient)
    for j in range(2, len(seq) - 1):
        m = g.mask()
        if not m[seq[j + 1]]:
            return None
        rows[j] = m
        g.step(seq[j + 1])
    return np.packbits(rows, axis=1)


def _mask_tensor(masks: list[np.ndarray], idx: list[int], width: int, v: int,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """The ``(B, width - 1, v)`` bool masks of a batch: padded in packed form here (padding rows allow
    everything), unpacked on ``device`` (8x less to build and copy than the unpacked masks)."""
    nb = (v + 7) // 8
    out = np.full((len(idx), width - 1, nb), 255, np.uint8)
    for r, i in enumerate(idx):
        out[r, : len(masks[i])] = masks[i]
    packed = torch.from_numpy(out).to(device)
    shifts = torch.arange(7, -1, -1, dtype=torch.uint8, device=packed.device)
    bits = (packed.unsqueeze(-1) >> shifts) & 1
    return bits.view(len(idx), width - 1, nb * 8)[..., :v].bool()


def _loss(model: TopologyGPT, x: torch.Tensor, pad: int, mask: torch.Tensor | None = None,
          budget: torch.Tensor | None = None) -> torch.Tensor:
    logits = model(x[:, :-1], budget=budget)
    if mask is not None:
        logits = logits.masked_fill(~mask, float("-inf"))
    y = x[:, 1:].clone()
    y[:, 0] = pad  # the type token is given, not predicted
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=pad)


def _split(topologies: list, params: TrainParams, rng: random.Random) -> tuple[list, list]:
    order = list(range(len(topologies)))
    rng.shuffle(order)
    n_val = int(round(params.val_frac * len(order)))
    return [topologies[i] for i in order[n_val:]], [topologies[i] for i in order[:n_val]]


def _mask_job(job: tuple) -> list:
    seqs, vocab, max_len = job
    tables = VocabTables(vocab)
    return [grammar_masks(q, tables, max_len) for q in seqs]


def _with_masks(seqs: list, full: list, tables: VocabTables | None, max_len: int, workers: int = 1
                ) -> tuple[list, list, list | None, int]:
    """Sequences the grammar accepts, their full lengths and packed masks (None without a
    grammar), and how many it rejected."""
    if tables is None:
        return seqs, full, None, 0
    if workers > 1:
        parts = _parallel(_mask_job, [(seqs[a:b], tables.vocab, max_len) for a, b in _spans(len(seqs), workers)],
                          workers)
        masks = [m for p in parts for m in p]
    else:
        masks = [grammar_masks(q, tables, max_len) for q in seqs]
    keep = [i for i, m in enumerate(masks) if m is not None]
    return [seqs[i] for i in keep], [full[i] for i in keep], [masks[i] for i in keep], len(seqs) - len(keep)


def train(topologies: list, config: GPTConfig | None = None, params: TrainParams | None = None,
          vocab: Vocab | None = None, progress: bool = True, checkpoint: str | Path | None = None,
          save_every: int = 0, meta: dict | None = None, log=None,
          init: TopologyGPT | None = None) -> tuple[TopologyGPT, Vocab, TrainResult]:
    """Train a GPT on Euler tours of ``topologies``.

    Args:
        vocab: token vocabulary (default: grown to cover the data, ``Vocab.for_topologies``).
        checkpoint: where to save (:func:`~eda.generators.topology_checkpoint.save_checkpoint`)
            every ``save_every`` steps (0: only at the end), so a partial run is usable.
        meta: extra checkpoint metadata (e.g. where the data came from).
        log: callable taking one line of progress text (e.g. ``print`` to a log file).
        init: a trained model to start from (fine-tuning; its config is kept, ``vocab`` must be
            the one it was trained with, ``config`` is ignored).

    Returns:
        (model, vocab, history); ``history.train_tours`` holds one canonical tour per training
        (and validation) circuit, what novelty is measured against.
    """
    from eda.generators.topology_checkpoint import save_checkpoint

    params = params or TrainParams()
    if params.threads:
        torch.set_num_threads(params.threads)
    torch.manual_seed(params.seed)
    rng = random.Random(params.seed)
    t0 = time.perf_counter()
    tr_t, val_t = _split(topologies, params, rng)
    nw = params.workers
    sets, bad = tour_sets(tr_t, params.tours * max(1, params.drawable_pool), params.seed, nw)
    vsets, vbad = tour_sets(val_t, 1, params.seed + 1, nw)
    vocab = vocab or Vocab.for_topologies(tr_t + val_t)
    undrawable = 0
    if params.drawable_pool:
        sets, undrawable = drawable_sets(sets, vocab, params.tours)
        if log:
            log(f"drawable tours: {len(sets)} training circuits keep up to {params.tours} tours the sampling "
                f"grammar accepts ({params.drawable_pool * params.tours} drawn each); {undrawable} have none")
    if init is not None:
        if init.config.vocab_size != len(vocab):
            raise InputError(f"init model has {init.config.vocab_size} tokens, vocabulary {len(vocab)}: "
                             "pass the vocabulary it was trained with")
        config = init.config
    config = config or GPTConfig(vocab_size=len(vocab))
    if config.vocab_size != len(vocab):
        config = config.model_copy(update={"vocab_size": len(vocab)})
    seqs, canon, skipped, full = encode_topologies(tr_t, vocab, params.tours, params.seed, config.block_size, sets)
    vseqs, vcanon, vskipped, vfull = encode_topologies(val_t, vocab, 1, params.seed + 1, config.block_size, vsets)
    tables = VocabTables(vocab) if params.grammar_loss else None
    seqs, full, masks, rej = _with_masks(seqs, full, tables, config.block_size, nw)
    vseqs, vfull, vmasks, _ = _with_masks(vseqs, vfull, tables, config.block_size, nw)
    if not seqs:
        raise InputError("no training sequences: every circuit was skipped (vocabulary or block_size too small)")
    any_id = vocab.index[type_token(None)]
    dev = torch.device(params.device)
    model = (init if init is not None else TopologyGPT(config)).to(dev)
    stypes = [q[1] for q in seqs]  # the type token of each sequence
    p_drop = dropout_probs(stypes, params.balance, params.balance_floor * params.tours, params.type_dropout,
                           params.natural_any)
    opt = torch.optim.AdamW(model.parameters(), lr=params.lr, weight_decay=0.01, betas=(0.9, 0.95))
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True

    warm = max(1, params.steps // 20)

    def lr_at(s: float) -> float:
        """Linear warm-up over 5 % of the schedule, then cosine to 10 % of the peak; ``s``: position on the
        schedule in steps (the step itself, or the elapsed share of ``time_budget`` times ``steps``)."""
        if s < warm:
            return params.lr * (s + 1) / warm
        return params.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, params.steps - warm))))

    hist = TrainResult(n_train_circuits=len(canon), n_sequences=len(seqs), n_tokens=sum(len(s) for s in seqs),
                       skipped=len(bad) + len(vbad) + skipped + vskipped + rej + undrawable,
                       skipped_files=bad + vbad,
                       train_tours=canon + vcanon, prepare_seconds=time.perf_counter() - t0)
    if log:
        log(f"{hist.n_train_circuits} training + {len(vseqs)} validation circuits, {len(seqs)} sequences, "
            f"{hist.n_tokens} tokens, vocabulary {len(vocab)}, {hist.skipped} skipped; "
            f"prepared in {hist.prepare_seconds:.0f} s")

    def save(step: int) -> None:
        if checkpoint is not None:
            hist.seconds = time.perf_counter() - t0
            save_checkpoint(checkpoint, model, vocab, hist.train_tours, {**(meta or {}), **hist.meta(params, step)})

    batches: list[list[int]] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=None if params.time_budget else params.steps, desc="training", unit="step")
    model.train()
    n_steps = min(params.stop_after or params.steps, params.steps)
    t_train = time.perf_counter()
    best: tuple[float, int, dict] | None = None
    step, val_next = 0, 1

    def position(s: int) -> float:
        """Where step ``s`` stands on the schedule, in steps: ``s`` itself, or further when the elapsed share
        of ``time_budget`` is larger."""
        if params.time_budget:
            return max(s, (time.perf_counter() - t_train) / params.time_budget * params.steps)
        return s

    for step in range(n_steps):
        pos = position(step)
        if not batches:
            batches = _batches(seqs, params.batch_tokens, rng,
                               balanced_draw(stypes, params.balance, params.balance_floor * params.tours, rng))
            rng.shuffle(batches)
        bidx = batches.pop()
        x = _tensor(seqs, bidx, vocab.pad)
        mask = _mask_tensor(masks, bidx, x.shape[1], len(vocab), dev) if masks is not None else None
        drop = torch.rand(x.shape[0]) < torch.as_tensor(p_drop[bidx], dtype=torch.float32)
        x[drop, 1] = any_id
        for g in opt.param_groups:
            g["lr"] = lr_at(pos)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            loss = _loss(model, x.to(dev), vocab.pad, mask, torch.tensor([full[i] for i in bidx], device=dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        hist.train_loss.append(loss.item())
        done = position(step + 1) / params.steps
        last = step == n_steps - 1 or done >= 1.0
        if vseqs and (last or done * params.val_points >= val_next):
            val_next = math.floor(done * params.val_points) + 1
            hist.val_loss.append((step + 1, evaluate(model, vseqs, vocab, params.batch_tokens, vmasks, vfull)))
            if params.keep_best and (best is None or hist.val_loss[-1][1] < best[0]):
                best = (hist.val_loss[-1][1], step + 1,
                        {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()})
        if bar:
            post = {"loss": f"{hist.train_loss[-1]:.3f}"}
            if hist.val_loss:
                post["val"] = f"{hist.val_loss[-1][1]:.3f}"
            bar.set_postfix(post)
            bar.update(1)
        if log and ((step + 1) % 50 == 0 or last):
            val = f" val {hist.val_loss[-1][1]:.4f}@{hist.val_loss[-1][0]}" if hist.val_loss else ""
            log(f"step {step + 1}/{n_steps} loss {np.mean(hist.train_loss[-50:]):.4f}{val} "
                f"{time.perf_counter() - t0:.0f} s")
        if save_every and (step + 1) % save_every == 0 and not last:
            save(step + 1)
        if last:
            break
    if bar:
        bar.close()
    model.eval()
    hist.seconds = time.perf_counter() - t0
    hist.steps_done = step + 1
    if best is not None and best[1] != hist.steps_done:
        model.load_state_dict(best[2])
        hist.best_step = best[1]
        if log:
            log(f"kept the weights of step {best[1]} (val {best[0]:.4f}), the lowest validation loss")
    save(hist.steps_done)
    return model, vocab, hist


@torch.no_grad()
def evaluate(model: TopologyGPT, seqs: list[list[int]], vocab: Vocab, batch_tokens: int = 8192,
             masks: list[np.ndarray] | None = None, full: list[int] | None = None) -> float:
    """Mean token cross-entropy of ``seqs`` (type tokens excluded); with ``masks`` (from
    :func:`grammar_masks`) among the grammar's legal tokens only; ``full``: full-tour lengths
    (the length budgets of a ``length_embed`` model)."""
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    tot, n = 0.0, 0
    for idx in _batches(seqs, batch_tokens, random.Random(0)):
        x = _tensor(seqs, idx, vocab.pad).to(dev)
        k = int((x[:, 2:] != vocab.pad).sum())
        mask = _mask_tensor(masks, idx, x.shape[1], len(vocab), dev) if masks is not None else None
        budget = torch.tensor([full[i] for i in idx], device=dev) if full is not None else None
        tot += float(_loss(model, x, vocab.pad, mask, budget)) * k
        n += k
    model.train(was)
    return tot / max(n, 1)


def parse_types(spec: str | None) -> tuple[str, ...] | None:
    """Type labels of a ``--types`` value: comma-separated names, ``opamp-family`` standing for
    :data:`OPAMP_FAMILY` (None: no filter).

    Raises:
        InputError: an empty list or a name that is no type label of the vocabulary.
    """
    from eda.graphs.vocab import TYPES

    if spec is None:
        return None
    out: list[str] = []
    for name in (x.strip() for x in spec.split(",")):
        if not name:
            continue
        for t in OPAMP_FAMILY if name == "opamp-family" else (name,):
            if t not in TYPES:
                raise InputError(f"--types: unknown type {t!r} (known: {', '.join(TYPES)}, opamp-family)")
            if t not in out:
                out.append(t)
    if not out:
        raise InputError("--types: no type named")
    return tuple(out)


def load_training_topologies(data: str | Path, compose: int = 0, seed: int = 0, library: bool = True,
                             errors: list | None = None, types: tuple[str, ...] | None = None,
                             opamp_subtypes: bool = False) -> list:
    """Training circuits: ``"builtin"`` (the library), a library folder (``<type>/<name>.cir``)
    or a public dataset folder (``N/N.cir`` + ``PortN.txt``, type labels from its
    ``data_categorization.md``) plus the built-in library (``library``); and ``compose``
    composed circuits.

    Args:
        errors: a list to receive (file, reason) of each dataset netlist that does not parse
            (they are skipped).
        types: keep only circuits with one of these type labels (e.g. :data:`OPAMP_FAMILY` for
            an op-amp specialist; None: all).
        opamp_subtypes: a circuit labelled only ``opamp`` (the public set's op-amp chapters) takes the
            sub-type its structure shows (:func:`~eda.generators.topology_subtype.opamp_subtype`: ``opamp1``,
            ``opamp2``, ``folded_cascode``, ``telescopic``); one without an input pair stays ``opamp``. The
            dataset's label is kept in ``meta["label"]``.

    Raises:
        InputError: ``data`` is neither ``builtin`` nor a folder of circuits.
    """
    from eda.generators.topology_compose import ComposeParams, compose_family
    from eda.read.topology_dataset import load_library, load_topologies

    tops = load_topologies(data, errors)
    if library and str(data) != "builtin" and any((d / f"{d.name}.cir").is_file()
                                                   for d in Path(data).iterdir() if d.is_dir()):
        tops += load_library()
    if compose:
        tops += compose_family(compose, seed=10_000 + seed, params=ComposeParams(simulate=False), progress=True)
    if opamp_subtypes:
        from eda.generators.topology_subtype import opamp_subtype

        for t in tops:
            if t.ctype == "opamp" and (sub := opamp_subtype(t.circuit)):
                t.meta["label"], t.ctype = t.ctype, sub
    if types is not None:
        tops = [t for t in tops if t.ctype in types]
    return tops


__all__ = ["TrainParams", "TrainResult", "train", "evaluate", "tour_sets", "balanced_draw",
           "encode_topologies", "grammar_masks", "load_training_topologies", "OPAMP_FAMILY", "parse_types",
           "drawable_sets"]
