"""A small GPT over Euler-tour token sequences: model, training, sampling with grammar masks.

Checkpoints are plain dicts of tensors, numbers and strings (``config``, ``state_dict``,
``vocab``, the training circuits' tours for novelty) so :func:`load_checkpoint` uses
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from eda.errors import InputError
from eda.graphs.euler import (
    TYPES,
    TourGrammar,
    Vocab,
    VocabTables,
    close_walk,
    compact_tour,
    euler_tours,
    sequence_to_graph,
    type_token,
)
from eda.graphs.pin_graph import circuit_to_graph


@dataclass(frozen=True)
class GPTConfig:
    """Model size. Defaults (~1 M parameters) train on two CPU cores in minutes.

    Attributes:
        vocab_size: number of tokens (set from the vocabulary).
        block_size: longest sequence, ``<bos>``, type and ``<eos>`` included.
        n_layer, n_head, n_embd: transformer depth, heads, width.
        dropout: dropout in attention and MLP while training.
        length_embed: add an embedding of the tokens left in the tour's length budget to each
            position (training: the tour's own full length; sampling: the drawn budget), so the
            model knows when to wrap the circuit up rather than learning it from nothing.
    """

    vocab_size: int = 903
    block_size: int = 640
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    length_embed: bool = False

    def __post_init__(self) -> None:
        for f in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            if getattr(self, f) < 1:
                raise InputError(f"GPTConfig.{f}: must be >= 1, got {getattr(self, f)}")
        if self.n_embd % self.n_head:
            raise InputError(f"GPTConfig.n_embd: {self.n_embd} is not a multiple of n_head={self.n_head}")
        if not 0 <= self.dropout < 1:
            raise InputError(f"GPTConfig.dropout: must be in [0, 1), got {self.dropout}")


class _Block(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.n_head = c.n_head
        self.ln1 = nn.LayerNorm(c.n_embd)
        self.qkv = nn.Linear(c.n_embd, 3 * c.n_embd)
        self.proj = nn.Linear(c.n_embd, c.n_embd)
        self.ln2 = nn.LayerNorm(c.n_embd)
        self.mlp = nn.Sequential(nn.Linear(c.n_embd, 4 * c.n_embd), nn.GELU(), nn.Linear(4 * c.n_embd, c.n_embd))
        self.drop = nn.Dropout(c.dropout)
        self.p = c.dropout

    def forward(self, x: torch.Tensor, cache: list | None = None, start: int = 0) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        if cache is not None:
            # preallocated (B, H, L, hd) buffers: write this step, attend to everything so far
            cache[0][:, :, start:start + t] = k
            cache[1][:, :, start:start + t] = v
            k, v = cache[0][:, :, :start + t], cache[1][:, :, :start + t]
        if cache is not None and t == 1:
            # one query per row: two batched mat-vecs beat SDPA on strided cache slices
            att = torch.softmax((q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1])), dim=-1)
            y = att @ v
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=k.shape[2] == t and t > 1,
                                               dropout_p=self.p if self.training else 0.0)
        y = y.transpose(1, 2).reshape(b, t, c)
        x = x + self.drop(self.proj(y))
        return x + self.drop(self.mlp(self.ln2(x)))


class TopologyGPT(nn.Module):
    """Decoder-only transformer over tour tokens (learned positions, tied embeddings)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.tok = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos = nn.Embedding(config.block_size, config.n_embd)
        self.rem = nn.Embedding(config.block_size + 1, config.n_embd) if config.length_embed else None
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.n_layer))
        self.ln = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.head.weight = self.tok.weight
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _left(self, budget: torch.Tensor | None, pos: torch.Tensor, batch: int) -> torch.Tensor:
        """Tokens left in each row's length budget at positions ``pos`` (clamped to the table)."""
        bs = self.config.block_size
        if budget is None:
            budget = torch.full((batch,), bs)
        return (budget.view(-1, 1) - pos.view(1, -1)).clamp_(0, bs)

    def forward(self, idx: torch.Tensor, caches: list | None = None, start: int = 0,
                budget: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, T, V)``; ``budget`` ``(B,)``: each row's full-tour length (used when the
        config has ``length_embed``; default ``block_size``)."""
        t = idx.shape[1]
        if start + t > self.config.block_size:
            raise InputError(f"sequence of {start + t} tokens exceeds block_size {self.config.block_size}")
        pos = torch.arange(start, start + t, device=idx.device)
        x = self.tok(idx) + self.pos(pos)[None]
        if self.rem is not None:
            x = x + self.rem(self._left(budget, pos, idx.shape[0]))
        for i, blk in enumerate(self.blocks):
            x = blk(x, caches[i] if caches is not None else None, start)
        return self.head(self.ln(x))

    def step(self, idx: torch.Tensor, caches: list, pos: int, budget: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, V)`` of one new token per row at position ``pos`` (inference only).

        The same computation as ``forward(idx[:, None], caches, pos)[:, -1]``, written for the
        decode loop: functional ops without module dispatch, the attention scale folded into the
        query, and the one-query attention as two batched mat-vecs over the (B*H, T, hd) cache
        views. Sampling spends most of its time here, memory-bound on the key/value reads.
        """
        c = self.config
        b, h, hd = idx.shape[0], c.n_head, c.n_embd // c.n_head
        if pos + 1 > c.block_size:
            raise InputError(f"sequence of {pos + 1} tokens exceeds block_size {c.block_size}")
        x = F.embedding(idx, self.tok.weight) + self.pos.weight[pos]
        if self.rem is not None:
            x = x + self.rem.weight[self._left(budget, torch.tensor([pos]), b)[:, 0]]
        scale = 1.0 / math.sqrt(hd)
        t = pos + 1
        for blk, (kc, vc) in zip(self.blocks, caches, strict=True):
            qkv = F.linear(F.layer_norm(x, (c.n_embd,), blk.ln1.weight, blk.ln1.bias), blk.qkv.weight, blk.qkv.bias)
            q, k, v = qkv.split(c.n_embd, dim=1)
            kc[:, :, pos] = k.view(b, h, hd)
            vc[:, :, pos] = v.view(b, h, hd)
            kk = kc[:, :, :t].reshape(b * h, t, hd)  # views: batch and head dims are contiguous
            vv = vc[:, :, :t].reshape(b * h, t, hd)
            att = torch.bmm((q * scale).reshape(b * h, 1, hd), kk.transpose(1, 2))
            y = torch.bmm(torch.softmax(att, dim=-1), vv).view(b, c.n_embd)
            x = x + F.linear(y, blk.proj.weight, blk.proj.bias)
            m1, _, m2 = blk.mlp
            hdn = F.linear(F.layer_norm(x, (c.n_embd,), blk.ln2.weight, blk.ln2.bias), m1.weight, m1.bias)
            x = x + F.linear(F.gelu(hdn), m2.weight, m2.bias)
        return F.linear(F.layer_norm(x, (c.n_embd,), self.ln.weight, self.ln.bias), self.head.weight)

    def new_cache(self, batch: int, length: int | None = None) -> list[list[torch.Tensor]]:
        """Preallocated key/value buffers for incremental decoding."""
        c = self.config
        shape = (batch, c.n_head, length or c.block_size, c.n_embd // c.n_head)
        return [[torch.empty(shape), torch.empty(shape)] for _ in self.blocks]


# ------------------------------------------------------------------------------------------ training


@dataclass(frozen=True)
class TrainParams:
    """Training settings.

    Attributes:
        tours: Euler tours per circuit (augmentation).
        steps: optimiser steps.
        batch_tokens: tokens per batch (sequences are grouped by length, padded within a batch).
        lr: peak learning rate (cosine decay, 5% warm-up).
        val_frac: fraction of circuits held out for the validation loss.
        type_dropout: probability of replacing the type token by ``<type:any>``.
        seed: seed of shuffling, tours and initialisation.
        threads: torch CPU threads (0: leave torch's default).
        grammar_loss: score each token only against the tokens :class:`TourGrammar` allows
            there (the choices sampling has), so the model spends nothing on learning legality
            and its preferences among legal moves, e.g. walking back to finish a tour, are sharp.
    """

    tours: int = 8
    steps: int = 600
    batch_tokens: int = 8192
    lr: float = 2e-3
    val_frac: float = 0.05
    type_dropout: float = 0.2
    seed: int = 0
    threads: int = 0
    grammar_loss: bool = True

    def __post_init__(self) -> None:
        for f in ("tours", "steps", "batch_tokens"):
            if getattr(self, f) < 1:
                raise InputError(f"TrainParams.{f}: must be >= 1, got {getattr(self, f)}")
        if not 0 <= self.val_frac < 1:
            raise InputError(f"TrainParams.val_frac: must be in [0, 1), got {self.val_frac}")
        if not 0 <= self.type_dropout <= 1:
            raise InputError(f"TrainParams.type_dropout: must be in [0, 1], got {self.type_dropout}")


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


def encode_topologies(topologies: list, vocab: Vocab, tours: int, seed: int, max_len: int
                      ) -> tuple[list[list[int]], list[list[int]], int]:
    """Token ids of ``tours`` tours per topology, in the compact form (:func:`compact_tour`: the
    walk back to ``VSS`` after the last new edge is implied by ``<eos>``); returns (sequences,
    one full canonical tour per circuit, number of circuits skipped for not fitting the
    vocabulary or ``max_len`` full tokens, full-tour length of each sequence)."""
    seqs: list[list[int]] = []
    canon: list[list[int]] = []
    full: list[int] = []
    skipped = 0
    for i, t in enumerate(topologies):
        try:
            g = circuit_to_graph(t.circuit, t.ports or None)
            ts = euler_tours(g, tours, seed=seed + i)
            enc = [vocab.encode(x, t.ctype if t.ctype in vocab.types else None) for x in ts]
        except InputError:
            skipped += 1
            continue
        enc = [e for e in enc if len(e) <= max_len]
        if not enc:
            skipped += 1
            continue
        canon.append(enc[0])
        seqs += [e[:2] + compact_tour(e[2:-1]) + e[-1:] for e in enc]
        full += [len(e) for e in enc]
    return seqs, canon, skipped, full


def _batches(seqs: list[list[int]], batch_tokens: int, rng: random.Random) -> list[list[int]]:
    order = sorted(range(len(seqs)), key=lambda i: (len(seqs[i]), rng.random()))
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


def grammar_masks(seq: list[int], tables: VocabTables, max_len: int) -> np.ndarray | None:
    """Packed legal-token masks of a training sequence under :class:`TourGrammar`.

    Row ``j`` (``np.packbits`` along the vocabulary) holds the tokens allowed as ``seq[j + 1]``;
    rows before the tour's second node allow everything. Returns None when the grammar rejects
    the sequence (it accepts every depth-first tour the serialiser writes).
    """
    v = len(tables.vocab)
    rows = np.ones((len(seq) - 1, v), bool)
    g = TourGrammar(tables, max_len, prefix_len=2)
    for j in range(2, len(seq) - 1):
        m = g.mask()
        if not m[seq[j + 1]]:
            return None
        rows[j] = m
        g.step(seq[j + 1])
    return np.packbits(rows, axis=1)


def _mask_tensor(masks: list[np.ndarray], idx: list[int], width: int, v: int) -> torch.Tensor:
    out = np.ones((len(idx), width - 1, v), bool)
    for r, i in enumerate(idx):
        m = np.unpackbits(masks[i], axis=1, count=v).astype(bool)
        out[r, : len(m)] = m
    return torch.from_numpy(out)


def _loss(model: TopologyGPT, x: torch.Tensor, pad: int, mask: torch.Tensor | None = None,
          budget: torch.Tensor | None = None) -> torch.Tensor:
    logits = model(x[:, :-1], budget=budget)
    if mask is not None:
        logits = logits.masked_fill(~mask, float("-inf"))
    y = x[:, 1:].clone()
    y[:, 0] = pad  # the type token is given, not predicted
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=pad)


def train(topologies: list, config: GPTConfig | None = None, params: TrainParams | None = None,
          vocab: Vocab | None = None, progress: bool = True) -> tuple[TopologyGPT, Vocab, TrainResult, dict]:
    """Train a GPT on Euler tours of ``topologies``.

    Returns:
        (model, vocab, history, checkpoint dict ready for :func:`save_checkpoint`).
    """
    params = params or TrainParams()
    vocab = vocab or Vocab.build()
    config = config or GPTConfig(vocab_size=len(vocab))
    if config.vocab_size != len(vocab):
        config = GPTConfig(**{**asdict(config), "vocab_size": len(vocab)})
    if params.threads:
        torch.set_num_threads(params.threads)
    torch.manual_seed(params.seed)
    rng = random.Random(params.seed)
    t0 = time.perf_counter()
    order = list(range(len(topologies)))
    rng.shuffle(order)
    n_val = int(round(params.val_frac * len(order)))
    val_t = [topologies[i] for i in order[:n_val]]
    tr_t = [topologies[i] for i in order[n_val:]]
    seqs, canon, skipped, full = encode_topologies(tr_t, vocab, params.tours, params.seed, config.block_size)
    vseqs, _, vskipped, vfull = encode_topologies(val_t, vocab, 1, params.seed + 1, config.block_size)
    masks = vmasks = None
    if params.grammar_loss:
        tables = VocabTables(vocab)
        masks = [grammar_masks(q, tables, config.block_size) for q in seqs]
        vmasks = [grammar_masks(q, tables, config.block_size) for q in vseqs]
        keep = [i for i, m in enumerate(masks) if m is not None]
        skipped += len(seqs) - len(keep)
        seqs, masks, full = [seqs[i] for i in keep], [masks[i] for i in keep], [full[i] for i in keep]
        vkeep = [i for i, m in enumerate(vmasks) if m is not None]
        vseqs, vmasks, vfull = [vseqs[i] for i in vkeep], [vmasks[i] for i in vkeep], [vfull[i] for i in vkeep]
    if not seqs:
        raise InputError("no training sequences: every circuit was skipped (vocabulary or block_size too small)")
    any_id = vocab.index[type_token(None)]
    model = TopologyGPT(config)
    opt = torch.optim.AdamW(model.parameters(), lr=params.lr, weight_decay=0.01, betas=(0.9, 0.95))
    warm = max(1, params.steps // 20)

    def lr_at(s: int) -> float:
        if s < warm:
            return params.lr * (s + 1) / warm
        return params.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, params.steps - warm))))

    hist = TrainResult(n_train_circuits=len(canon), n_sequences=len(seqs), skipped=skipped + vskipped,
                       n_tokens=sum(len(s) for s in seqs))
    batches: list[list[int]] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=params.steps, desc="training", unit="step")
    model.train()
    for step in range(params.steps):
        if not batches:
            batches = _batches(seqs, params.batch_tokens, rng)
            rng.shuffle(batches)
        bidx = batches.pop()
        x = _tensor(seqs, bidx, vocab.pad)
        mask = _mask_tensor(masks, bidx, x.shape[1], len(vocab)) if masks is not None else None
        drop = torch.rand(x.shape[0]) < params.type_dropout
        x[drop, 1] = any_id
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss = _loss(model, x, vocab.pad, mask, torch.tensor([full[i] for i in bidx]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        hist.train_loss.append(loss.item())
        last = step == params.steps - 1
        if vseqs and (last or (step + 1) % max(1, params.steps // 5) == 0):
            hist.val_loss.append((step + 1, evaluate(model, vseqs, vocab, params.batch_tokens, vmasks, vfull)))
        if bar:
            post = {"loss": f"{hist.train_loss[-1]:.3f}"}
            if hist.val_loss:
                post["val"] = f"{hist.val_loss[-1][1]:.3f}"
            bar.set_postfix(post)
            bar.update(1)
    if bar:
        bar.close()
    model.eval()
    hist.seconds = time.perf_counter() - t0
    ckpt = make_checkpoint(model, vocab, canon, {"train": asdict(params), "history": {
        "train_loss_last": hist.train_loss[-1], "val_loss": hist.val_loss, "seconds": hist.seconds,
        "n_train_circuits": hist.n_train_circuits, "n_sequences": hist.n_sequences}})
    return model, vocab, hist, ckpt


@torch.no_grad()
def evaluate(model: TopologyGPT, seqs: list[list[int]], vocab: Vocab, batch_tokens: int = 8192,
             masks: list[np.ndarray] | None = None, full: list[int] | None = None) -> float:
    """Mean token cross-entropy of ``seqs`` (type tokens excluded); with ``masks`` (from
    :func:`grammar_masks`) among the grammar's legal tokens only; ``full``: full-tour lengths
    (the length budgets of a ``length_embed`` model)."""
    was = model.training
    model.eval()
    tot, n = 0.0, 0
    for idx in _batches(seqs, batch_tokens, random.Random(0)):
        x = _tensor(seqs, idx, vocab.pad)
        k = int((x[:, 2:] != vocab.pad).sum())
        mask = _mask_tensor(masks, idx, x.shape[1], len(vocab)) if masks is not None else None
        budget = torch.tensor([full[i] for i in idx]) if full is not None else None
        tot += float(_loss(model, x, vocab.pad, mask, budget)) * k
        n += k
    model.train(was)
    return tot / max(n, 1)


# ------------------------------------------------------------------------------------- checkpoints


def make_checkpoint(model: TopologyGPT, vocab: Vocab, train_tours: list[list[int]], meta: dict) -> dict:
    flat = torch.tensor([i for s in train_tours for i in s], dtype=torch.int16)
    offsets = torch.tensor(np.cumsum([0] + [len(s) for s in train_tours]), dtype=torch.int64)
    return {"format": "eda-topology-gpt/1", "config": asdict(model.config),
            "state_dict": {k: v.detach().clone().half() for k, v in model.state_dict().items()},
            "vocab": list(vocab.tokens), "train_tours": flat, "train_offsets": offsets, "meta": meta}


def save_checkpoint(ckpt: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)
    return path


def load_checkpoint(path: str | Path | None = None) -> tuple[TopologyGPT, Vocab, dict]:
    """Load a checkpoint (default: the shipped ``data/models/topology_gpt.pt``).

    Raises:
        InputError: missing file or not a topology-GPT checkpoint.
    """
    from eda.paths import PATHS

    path = Path(path) if path else PATHS.models / "topology_gpt.pt"
    if not path.is_file():
        raise InputError("no such checkpoint (train one with `eda topo train`)", file=path)
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many types for a bad file
        raise InputError(f"not a readable torch checkpoint: {e}", file=path) from e
    if not isinstance(ck, dict) or ck.get("format") != "eda-topology-gpt/1":
        raise InputError("not a topology-GPT checkpoint (format eda-topology-gpt/1 expected)", file=path)
    vocab = Vocab(list(ck["vocab"]))
    model = TopologyGPT(GPTConfig(**ck["config"]))
    model.load_state_dict({k: v.float() for k, v in ck["state_dict"].items()})
    model.eval()
    return model, vocab, ck


def training_graphs(ck: dict, vocab: Vocab) -> list:
    """Device-pin graphs of the circuits a checkpoint was trained on."""
    flat, off = ck["train_tours"].tolist(), ck["train_offsets"].tolist()
    return [sequence_to_graph(vocab.decode(flat[a:b]))[0] for a, b in zip(off[:-1], off[1:], strict=True)]


# ------------------------------------------------------------------------------------------ sampling


#: tokens added to a drawn length budget (the grammar's reservations are a little conservative)
LENGTH_SLACK = 16


def training_types(ck: dict) -> list[str | None]:
    """Type label of each circuit a checkpoint was trained on (None: unlabelled)."""
    flat, off = ck["train_tours"], ck["train_offsets"].tolist()
    toks = ck["vocab"]
    out = []
    for a in off[:-1]:
        t = toks[int(flat[a + 1])][6:-1]
        out.append(None if t == "any" else t)
    return out


def training_lengths(ck: dict, ctype: str | None = None) -> np.ndarray:
    """Full-tour lengths (``<bos>`` to ``<eos>``; twice the edges plus four) of the circuits a
    checkpoint was trained on, of type ``ctype`` when given and present (else all): the size
    distribution sampling draws its length budgets from."""
    lens = np.diff(ck["train_offsets"].numpy())
    if ctype is not None:
        sel = np.array([t == ctype for t in training_types(ck)])
        if sel.any():
            return lens[sel]
    return lens


@dataclass
class Sample:
    """One generated sequence: its tokens, and the graph or the reason it failed to decode."""

    tokens: list[str]
    graph: object | None = None
    ctype: str | None = None
    error: str | None = None


@torch.inference_mode()
def sample(model: TopologyGPT, vocab: Vocab, n: int, ctype: str | None = None, temperature: float = 1.0,
           grammar: bool = True, batch_size: int = 128, max_len: int | None = None, seed: int = 0,
           top_k: int = 0, progress: bool = False, threads: int = 1,
           lengths: np.ndarray | list[int] | None = None) -> list[Sample]:
    """Sample ``n`` sequences (KV-cached, batched) and decode them.

    Args:
        ctype: condition on a circuit type (``None``: unconditional).
        temperature: softmax temperature (> 0).
        grammar: mask tokens by :class:`~eda.graphs.euler.TourGrammar` (else free sampling,
            decoded strictly afterwards).
        max_len: longest sequence (default the model's ``block_size``).
        lengths: full-tour lengths (tokens, ``<bos>`` to ``<eos>``) to draw each sample's length
            budget from, e.g. the training circuits' (:func:`training_lengths`); the grammar
            closes every tour within its budget, so the sizes follow this distribution.
            None: every sample may use ``max_len``.
        top_k: keep only the k most likely tokens (0: all).
        threads: torch threads of the model's steps (restored afterwards; 0: leave torch's
            setting). The grammar is Python on one thread. (Running the model's next step on a
            worker thread beside the grammar was measured slower than two torch threads: both
            halves hold the GIL most of the time.)
    """
    if temperature <= 0:
        raise InputError(f"temperature: must be > 0, got {temperature}")
    if ctype is not None and type_token(ctype) not in vocab.index:
        raise InputError(f"type {ctype!r} is not in the model's vocabulary ({', '.join(vocab.types)})")
    max_len = min(max_len or model.config.block_size, model.config.block_size)
    tables = VocabTables(vocab)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    lengths = None if lengths is None else np.minimum(np.asarray(lengths, int), max_len)
    out: list[Sample] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, desc="sampling", unit="circuit")
    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    # budgets drawn up front and sorted, so each batch holds similar lengths and is not kept
    # running by one long straggler
    drawn = np.full(n, max_len) if lengths is None else np.sort(rng.choice(lengths, n))
    try:
        while len(out) < n:
            b = min(batch_size, n - len(out))
            budgets = drawn[len(out): len(out) + b]
            out += _sample_batch(model, vocab, tables, budgets, max_len, ctype, temperature, grammar, gen, top_k)
            if bar:
                bar.update(b)
    finally:
        torch.set_num_threads(old)
        if bar:
            bar.close()
    return out


def _shrink_cache(caches: list, idx: torch.Tensor, pos: int, length: int) -> list:
    """Key/value buffers of rows ``idx`` only, ``length`` long, holding the first ``pos``
    positions (the rest is never read before it is written)."""
    out = []
    for kk, vv in caches:
        pair = []
        for c in (kk, vv):
            n = torch.empty((len(idx), c.shape[1], length, c.shape[3]))
            n[:, :, :pos] = c[idx, :, :pos]
            pair.append(n)
        out.append(pair)
    return out


def _sample_batch(model, vocab, tables, budgets, cap, ctype, temperature, grammar, gen, top_k) -> list[Sample]:
    # the model aims at the drawn length; the grammar allows a little more (its reservations
    # are conservative) and closes every tour within that
    target = torch.as_tensor(np.asarray(budgets), dtype=torch.long)
    budgets = np.minimum(np.asarray(budgets) + LENGTH_SLACK, cap)
    b = len(budgets)
    max_len = int(max(budgets))
    prefix = [vocab.bos, vocab.index[type_token(ctype)], tables.vss]
    seqs = [list(prefix) for _ in range(b)]
    gram = [TourGrammar(tables, int(n), prefix_len=2) for n in budgets] if grammar else None
    done = np.zeros(b, bool)
    rows = np.arange(b)  # sample index of each row of the batch tensors
    caches = model.new_cache(b, max_len)
    logits = model(torch.tensor([prefix] * b), caches, 0, target)[:, -1]
    masks = np.stack([g.mask() for g in gram]) if grammar else None
    pos = len(prefix)
    v = len(vocab)
    while len(rows) and pos < max_len:
        lg = logits / temperature if temperature != 1.0 else logits
        if top_k:
            kth = torch.topk(lg, min(top_k, v), dim=-1).values[:, -1:]
            lg = lg.masked_fill(lg < kth, float("-inf"))
        if grammar:
            mt = torch.from_numpy(masks)
            lg = lg.masked_fill(~mt, float("-inf"))
            if top_k:
                # a legal token the model gives zero probability (after top-k) is still allowed
                dead = torch.isinf(lg).all(dim=-1)
                if dead.any():
                    lg[dead] = torch.where(mt[dead], 0.0, float("-inf"))
        # inverse-CDF draw from softmax(lg): one uniform per row (random tensors of the
        # vocabulary's width cost more than the model's step on CPU); finished rows draw <pad>,
        # the only token their grammar allows
        cdf = torch.softmax(lg, dim=-1).cumsum_(dim=-1)
        u = torch.rand((cdf.shape[0], 1), generator=gen).mul_(cdf[:, -1:]).clamp_(min=1e-9)
        nxt = torch.searchsorted(cdf, u).squeeze_(1).clamp_(max=v - 1)
        for i, t in zip(rows.tolist(), nxt.tolist(), strict=True):
            if done[i]:
                continue
            seqs[i].append(t)
            if grammar:
                g = gram[i]
                g.step(t)
                done[i] = g.done or g.failed is not None
            else:
                done[i] = t == vocab.eos
        if pos + 1 >= max_len:
            break
        keep = np.flatnonzero(~done[rows])
        if not len(keep):
            break
        if len(keep) <= 0.75 * len(rows):
            # drop finished rows from the batch and the key/value buffers (in bulk: copies cost)
            idx = torch.from_numpy(keep)
            rows, nxt, target = rows[keep], nxt[idx], target[idx]
            caches = _shrink_cache(caches, idx, pos, int(max(budgets[rows])))
        if grammar:
            masks = np.stack([gram[i].mask() for i in rows.tolist()])
        logits = model.step(nxt, caches, pos, target)
        pos += 1
    out = []
    for i in range(b):
        toks = vocab.decode(seqs[i])
        if toks[-1] == "<eos>":
            # the walk back down the stack to VSS is implied by <eos>: spell it out
            toks = toks[:2] + close_walk(toks[2:-1]) + toks[-1:]
        s = Sample(tokens=toks)
        if grammar and gram[i].failed:
            s.error = gram[i].failed
        elif toks[-1] != "<eos>":
            s.error = f"no <eos> within {int(budgets[i])} tokens"
        elif grammar:
            # the grammar holds the graph it let through (the same as strict decoding gives)
            s.graph, s.ctype = gram[i].graph(), ctype
        else:
            try:
                s.graph, s.ctype = sequence_to_graph(toks, strict=True)
            except InputError as e:
                s.error = str(e)
        out.append(s)
    return out


# ---------------------------------------------------------------------------------------- pipeline


@dataclass(frozen=True)
class GenerateParams:
    """Settings of :func:`generate`.

    Attributes:
        n: sequences to sample. ctype: condition on a type (None: any).
        temperature: softmax temperature. grammar: grammar-masked decoding.
        simulate: run ngspice on ERC-clean circuits (validity = ERC + operating point).
        seed: sampling seed. batch_size: sequences per batch. gallery: graphs drawn in the PNG.
        threads: torch threads of the model's steps while sampling (2: both cores of an idle
            2-core machine; 1 when the other core is busy; see :func:`sample`).
        train_sizes: draw each sample's length budget from the training circuits' tour lengths
            (:func:`training_lengths`, those of type ``ctype`` when conditioned; needs the
            checkpoint); else every sample may use the model's whole ``block_size``.
    """

    n: int = 100
    ctype: str | None = None
    temperature: float = 1.0
    grammar: bool = True
    simulate: bool = True
    seed: int = 0
    batch_size: int = 128
    gallery: int = 6
    top_k: int = 0
    threads: int = 1
    train_sizes: bool = True

    def __post_init__(self) -> None:
        if self.threads < 0:
            raise InputError(f"GenerateParams.threads: must be >= 0, got {self.threads}")
        if self.n < 1:
            raise InputError(f"GenerateParams.n: must be >= 1, got {self.n}")
        if self.temperature <= 0:
            raise InputError(f"GenerateParams.temperature: must be > 0, got {self.temperature}")
        if self.batch_size < 1:
            raise InputError(f"GenerateParams.batch_size: must be >= 1, got {self.batch_size}")


def generate(model: TopologyGPT, vocab: Vocab, ck: dict | None, params: GenerateParams,
             out: str | Path | None = None, progress: bool = False, graphs: list | None = None) -> dict:
    """Sample, decode, check (ERC + ngspice), measure novelty and uniqueness, and write results.

    Writes under ``out`` (when given): ``gen_XXXX.sp`` per valid circuit (a deck that simulates
    as is), ``report.json`` and ``gallery.png``.

    Args:
        graphs: a list to receive the valid circuits' device-pin graphs (for further analysis).

    Returns:
        the report: rates (decoded, ERC-clean, valid, unique and novel among valid), device-count
        histogram, failure reasons, timings.
    """
    from collections import Counter

    from eda.export.to_spice import write_spice
    from eda.generators.topology_check import GraphSet, check_circuit, erc, simulation_deck
    from eda.graphs.pin_graph import graph_to_circuit

    t0 = time.perf_counter()
    samples = sample(model, vocab, params.n, ctype=params.ctype, temperature=params.temperature,
                     grammar=params.grammar, batch_size=params.batch_size, seed=params.seed,
                     top_k=params.top_k, progress=progress, threads=params.threads,
                     lengths=training_lengths(ck, params.ctype) if params.train_sizes and ck is not None else None)
    t_sample = time.perf_counter() - t0
    reasons: Counter = Counter()
    circuits = []
    t1 = time.perf_counter()
    for k, s in enumerate(samples):
        if s.graph is None:
            reasons["decode: " + (s.error or "?").split("\n")[0][:80]] += 1
            continue
        c = graph_to_circuit(s.graph, title=f"generated {k} ({s.ctype or 'any'})")
        bad = erc(c)
        if bad:
            reasons["erc: " + _reason_key(bad[0])] += 1
            continue
        circuits.append((k, s, c))
    t_erc = time.perf_counter() - t1
    valid = []
    t2 = time.perf_counter()
    for k, s, c in circuits:
        if params.simulate:
            r = check_circuit(c, run_sim=True)
            if not r.valid:
                reasons["ngspice: " + (r.sim or "?")[:80]] += 1
                continue
        valid.append((k, s, c))
    t_sim = time.perf_counter() - t2
    train_set = GraphSet(training_graphs(ck, vocab)) if ck is not None and "train_tours" in ck else None
    uniq = GraphSet()
    n_unique = n_novel = 0
    for _, s, _ in valid:
        if uniq.add(s.graph):
            n_unique += 1
        if train_set is not None and not train_set.find(s.graph):
            n_novel += 1
    sizes = [len(c.devices) for _, _, c in valid]
    hist = Counter(sizes)
    n = len(samples)
    report = {
        "n": n, "ctype": params.ctype, "temperature": params.temperature, "grammar": params.grammar,
        "decoded": sum(s.graph is not None for s in samples) / n,
        "erc_clean": len(circuits) / n,
        "valid": len(valid) / n,
        "validity_checks": "ERC + ngspice operating point" if params.simulate else "ERC only",
        "unique": n_unique / max(len(valid), 1),
        "novel": (n_novel / max(len(valid), 1)) if train_set is not None else None,
        "n_train_circuits": len(train_set) if train_set is not None else None,
        "max_devices": max(sizes, default=0),
        # how much of a circuit is wired through internal nets rather than straight to ports
        "internal_nets_per_device": float(np.mean([internal_nets(c) / len(c.devices) for _, _, c in valid]))
        if valid else 0.0,
        "mean_devices": float(np.mean(sizes)) if sizes else 0.0,
        "device_histogram": {str(k): hist[k] for k in sorted(hist)},
        "failures": dict(reasons.most_common()),
        "seconds": {"sample": t_sample, "erc": t_erc, "ngspice": t_sim},
        "circuits_per_s_sample_erc": n / max(t_sample + t_erc, 1e-9),
    }
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        files = []
        for k, s, c in valid:
            deck = simulation_deck(c, title=f"generated topology {k} ({s.ctype or 'any'}), "
                                             f"{len(c.devices)} devices")
            files.append(write_spice(deck, out / f"gen_{k:04d}.sp").name)
        report["files"] = files
        (out / "report.json").write_text(json.dumps(report, indent=2))
        if valid and params.gallery:
            # samples come in order of length budget: pick a spread of sizes
            pick = [valid[i] for i in sorted(set(np.linspace(0, len(valid) - 1, params.gallery).round().astype(int)))]
            draw_gallery([s.graph for _, s, _ in pick],
                         [f"#{k} {s.ctype or 'any'}, {len(c.devices)} dev" for k, s, c in pick],
                         out / "gallery.png")
    if graphs is not None:
        graphs += [s.graph for _, s, _ in valid]
    return report


def internal_nets(circuit) -> int:
    """Number of nets of a circuit that are not ports."""
    from eda.graphs.pin_graph import is_port_name

    return sum(1 for n in circuit.nets if not is_port_name(n))


def _reason_key(msg: str) -> str:
    """ERC message without its net/device names, so reasons group."""
    import re

    return re.sub(r"\b(net\d+|[A-Z]{1,3}[NP]?\d+|V[A-Z]+\d*)\b", "X", msg)[:80]


def draw_gallery(graphs: list, titles: list[str], path: str | Path) -> Path:
    """PNG of a few device-pin graphs: devices (squares), pins (dots), ports (labelled)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    k = len(graphs)
    cols = min(3, k)
    rows = (k + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4 * rows), squeeze=False)
    colors = {"device": "#d95f02", "pin": "#7570b3", "port": "#1b9e77"}
    for ax in axes.flat:
        ax.axis("off")
    for ax, g, title in zip(axes.flat, graphs, titles, strict=False):
        pos = nx.kamada_kawai_layout(g) if g.number_of_nodes() < 400 else nx.spring_layout(g, seed=0)
        kinds = nx.get_node_attributes(g, "kind")
        for kind, col in colors.items():
            nodes = [n for n in g if kinds.get(n) == kind]
            nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_color=col, ax=ax,
                                   node_size={"device": 60, "pin": 12, "port": 80}[kind],
                                   node_shape="s" if kind == "device" else "o")
        nx.draw_networkx_edges(g, pos, ax=ax, width=0.5, alpha=0.5)
        nx.draw_networkx_labels(g, pos, {n: n for n in g if kinds.get(n) == "port"}, font_size=6, ax=ax)
        ax.set_title(title, fontsize=9)
    fig.suptitle("generated device-pin graphs (orange: devices, purple: pins, green: ports)", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


__all__ = ["GPTConfig", "TopologyGPT", "TrainParams", "TrainResult", "train", "evaluate", "sample",
           "Sample", "save_checkpoint", "load_checkpoint", "make_checkpoint", "training_graphs",
           "encode_topologies", "TYPES", "GenerateParams", "generate", "draw_gallery", "grammar_masks",
           "training_lengths", "training_types", "LENGTH_SLACK"]
