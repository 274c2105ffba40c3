"""The topology GPT: a small decoder-only transformer over Euler-tour tokens (nanoGPT-style).

Training (:mod:`eda.generators.topology_train`), sampling (:mod:`eda.generators.topology_sample`),
checkpoints (:mod:`eda.generators.topology_checkpoint`) and the generate-and-check pipeline
(:mod:`eda.generators.topology_report`) live beside it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

from eda.errors import InputError


class GPTConfig(BaseModel):
    """Model size (a pydantic model: bad values raise a ``ValidationError`` naming the field).

    The defaults are the shipped model's: 3 layers x 128 wide, context 1152 (the longest training
    tour, 72 devices with the 3 x 2-tour augmentation's longest walk, is 1,046 tokens).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    vocab_size: int = Field(903, ge=4, description="number of tokens (set from the vocabulary)")
    block_size: int = Field(1152, ge=4, le=65536,
                            description="longest sequence, <bos>, type and <eos> included")
    n_layer: int = Field(3, ge=1, le=64, description="transformer layers")
    n_head: int = Field(4, ge=1, le=64, description="attention heads (n_embd must be a multiple)")
    n_embd: int = Field(128, ge=1, le=8192, description="model width")
    n_kv_head: int | None = Field(1, ge=1, le=64, description="key/value heads, shared by groups of query heads "
                                  "(1: multi-query attention, a 4x smaller key/value cache to read at each "
                                  "sampling step with 4 heads; None: one per head, classic attention)")
    dropout: float = Field(0.0, ge=0, lt=1, allow_inf_nan=False, description="dropout while training")
    length_embed: bool = Field(True, description="add an embedding of the tokens left in the tour's length "
                               "budget to each position (training: the tour's own full length; sampling: "
                               "the drawn budget), so the model knows when to wrap the circuit up")
    type_embed: bool = Field(True, description="add an embedding of the circuit's type token to every position "
                             "(not only the type token at position 1), so the condition stays as strong at the "
                             "last token of a long tour as at the first")

    @model_validator(mode="after")
    def _heads_divide(self) -> GPTConfig:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd: {self.n_embd} is not a multiple of n_head={self.n_head}")
        if self.n_head % self.kv_heads:
            raise ValueError(f"n_kv_head: n_head={self.n_head} is not a multiple of n_kv_head={self.n_kv_head}")
        return self

    @property
    def kv_heads(self) -> int:
        return self.n_kv_head or self.n_head


class _Block(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.n_head, self.n_kv = c.n_head, c.kv_heads
        self.hd = c.n_embd // c.n_head
        self.ln1 = nn.LayerNorm(c.n_embd)
        self.qkv = nn.Linear(c.n_embd, c.n_embd + 2 * self.n_kv * self.hd)
        self.proj = nn.Linear(c.n_embd, c.n_embd)
        self.ln2 = nn.LayerNorm(c.n_embd)
        self.mlp = nn.Sequential(nn.Linear(c.n_embd, 4 * c.n_embd), nn.GELU(), nn.Linear(4 * c.n_embd, c.n_embd))
        self.drop = nn.Dropout(c.dropout)
        self.p = c.dropout

    def forward(self, x: torch.Tensor, cache: list | None = None, start: int = 0) -> torch.Tensor:
        b, t, c = x.shape
        kvd = self.n_kv * self.hd
        q, k, v = self.qkv(self.ln1(x)).split((c, kvd, kvd), dim=2)
        q = q.view(b, t, self.n_head, self.hd).transpose(1, 2)
        k, v = (z.view(b, t, self.n_kv, self.hd).transpose(1, 2) for z in (k, v))
        if cache is not None:
            # preallocated (B, KV, L, hd) buffers: write this step, attend to everything so far
            cache[0][:, :, start:start + t] = k
            cache[1][:, :, start:start + t] = v
            k, v = cache[0][:, :, :start + t], cache[1][:, :, :start + t]
        if self.n_kv != self.n_head:
            # each key/value head serves a group of consecutive query heads
            k, v = (z.repeat_interleave(self.n_head // self.n_kv, dim=1) for z in (k, v))
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
        self.typ = nn.Embedding(config.vocab_size, config.n_embd) if config.type_embed else None
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
            budget = torch.full((batch,), bs, device=pos.device)
        return (budget.view(-1, 1) - pos.view(1, -1)).clamp_(0, bs)

    def _type_ids(self, ctype: torch.Tensor | None, idx: torch.Tensor, start: int) -> torch.Tensor:
        """Each row's type-token id (given, or read from position 1 of a sequence from its start)."""
        if ctype is not None:
            return ctype
        if start != 0 or idx.shape[1] < 2:
            raise InputError("a type_embed model needs each row's type token (ctype) after the prefix")
        return idx[:, 1]

    def forward(self, idx: torch.Tensor, caches: list | None = None, start: int = 0,
                budget: torch.Tensor | None = None, ctype: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, T, V)``; ``budget`` ``(B,)``: each row's full-tour length (used when the
        config has ``length_embed``; default ``block_size``); ``ctype`` ``(B,)``: each row's type
        token id (a ``type_embed`` model; default ``idx[:, 1]``, for sequences from their start)."""
        t = idx.shape[1]
        if start + t > self.config.block_size:
            raise InputError(f"sequence of {start + t} tokens exceeds block_size {self.config.block_size}")
        pos = torch.arange(start, start + t, device=idx.device)
        x = self.tok(idx) + self.pos(pos)[None]
        if self.rem is not None:
            x = x + self.rem(self._left(budget, pos, idx.shape[0]))
        if self.typ is not None:
            x = x + self.typ(self._type_ids(ctype, idx, start))[:, None]
        for i, blk in enumerate(self.blocks):
            x = blk(x, caches[i] if caches is not None else None, start)
        return self.head(self.ln(x))

    def step(self, idx: torch.Tensor, caches: list, pos: int, budget: torch.Tensor | None = None,
             ctype: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, V)`` of one new token per row at position ``pos`` (inference only;
        ``ctype``: each row's type token id, needed by a ``type_embed`` model).

        The same computation as ``forward(idx[:, None], caches, pos)[:, -1]``, written for the
        decode loop: functional ops without module dispatch, the attention scale folded into the
        query, and the one-query attention as two batched mat-vecs over the (B*H, T, hd) cache
        views, each key/value head read once for its group of query heads. Sampling spends most of
        its time here, memory-bound on the key/value reads.
        """
        c = self.config
        b, h, hd, kv = idx.shape[0], c.n_head, c.n_embd // c.n_head, c.kv_heads
        if pos + 1 > c.block_size:
            raise InputError(f"sequence of {pos + 1} tokens exceeds block_size {c.block_size}")
        x = F.embedding(idx, self.tok.weight) + self.pos.weight[pos]
        if self.rem is not None:
            x = x + self.rem.weight[self._left(budget, torch.tensor([pos]), b)[:, 0]]
        if self.typ is not None:
            x = x + self.typ.weight[self._type_ids(ctype, idx[:, None], pos)]
        scale = 1.0 / math.sqrt(hd)
        t = pos + 1
        for blk, (kc, vc) in zip(self.blocks, caches, strict=True):
            qkv = F.linear(F.layer_norm(x, (c.n_embd,), blk.ln1.weight, blk.ln1.bias), blk.qkv.weight, blk.qkv.bias)
            q, k, v = qkv.split((c.n_embd, kv * hd, kv * hd), dim=1)
            kc[:, :, pos] = k.view(b, kv, hd)
            vc[:, :, pos] = v.view(b, kv, hd)
            kk = kc[:, :, :t].reshape(b * kv, t, hd)  # views: batch and head dims are contiguous
            vv = vc[:, :, :t].reshape(b * kv, t, hd)
            att = torch.bmm((q * scale).reshape(b * kv, h // kv, hd), kk.transpose(1, 2))
            y = torch.bmm(torch.softmax(att, dim=-1), vv).view(b, c.n_embd)
            x = x + F.linear(y, blk.proj.weight, blk.proj.bias)
            m1, _, m2 = blk.mlp
            hdn = F.linear(F.layer_norm(x, (c.n_embd,), blk.ln2.weight, blk.ln2.bias), m1.weight, m1.bias)
            x = x + F.linear(F.gelu(hdn), m2.weight, m2.bias)
        return F.linear(F.layer_norm(x, (c.n_embd,), self.ln.weight, self.ln.bias), self.head.weight)

    def new_cache(self, batch: int, length: int | None = None) -> list[list[torch.Tensor]]:
        """Preallocated key/value buffers for incremental decoding."""
        c = self.config
        shape = (batch, c.kv_heads, length or c.block_size, c.n_embd // c.n_head)
        return [[torch.empty(shape), torch.empty(shape)] for _ in self.blocks]


__all__ = ["GPTConfig", "TopologyGPT"]
