"""Sampling the topology GPT: batched, KV-cached, grammar-constrained decoding."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

from eda.errors import InputError
from eda.generators.topology_gpt import TopologyGPT
from eda.generators.topology_support import TypeSupport
from eda.graphs.euler import TourGrammar, Vocab, VocabTables, close_walk, sequence_to_graph, type_token

#: tokens added to a drawn length budget (the grammar's reservations are a little conservative).
#: The models rarely end a tour by themselves: tours run to their budget, so this slack adds to
#: the sizes. The retrained model (type embedding, context 1152), 400 samples, seed 5: slack 4 →
#: mean 22.1 devices (training 20.0), 14 rule failures; slack 0 → 21.7, 14 failures
LENGTH_SLACK = 0
#: further tokens the grammar may use beyond the drawn length plus LENGTH_SLACK when the circuit
#: is not yet acceptable there (the model still aims at the drawn length: past it, it sees no
#: tokens left and ends as soon as the grammar allows); a tour that meets the rules within the
#: drawn length never uses them. (Measured with the retrained model, 400 samples: 8 → 16 rule
#: failures against 14 with 0, and larger circuits; with the previous model 8 helped: 17 → 11.)
RESCUE_SLACK = 0


def rules_accept(g) -> bool:
    """The validity rules (:func:`~eda.generators.topology_check.rule_violations`) on a
    grammar's complete circuit: the final judge of ``<eos>`` while sampling."""
    from eda.generators.topology_check import rule_violations
    from eda.graphs.pin_graph import graph_to_circuit

    return not rule_violations(graph_to_circuit(g.graph()))


def draw_budgets(lengths: np.ndarray | list[int], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` length budgets drawn from the empirical distribution of ``lengths``, stratified and
    sorted: draw ``i`` is uniform within the ``i``-th of ``n`` equal-probability slices, so even
    a small ``n`` follows the distribution closely, its tail (the largest circuits) included,
    where independent draws would often miss it."""
    s = np.sort(np.asarray(lengths, int))
    u = (np.arange(n) + rng.random(n)) / n
    return s[np.minimum((u * len(s)).astype(int), len(s) - 1)]


def training_net_sizes(ck: dict, vocab: Vocab, ctype: str | None = None) -> np.ndarray:
    """Pins per internal net of the circuits a checkpoint was trained on (of type ``ctype`` when
    given and present, else all), read straight from their tours (pin-to-pin steps join a net;
    the same as :func:`internal_net_sizes` of their graphs, ~100× faster)."""
    from eda.generators.topology_checkpoint import training_types

    is_pin = VocabTables(vocab).is_pin
    flat = ck["train_tours"].numpy().astype(int)
    off = ck["train_offsets"].tolist()
    both = is_pin[flat[:-1]] & is_pin[flat[1:]]
    spans = list(zip(off[:-1], off[1:], strict=True))
    if ctype is not None and ctype in (types := training_types(ck)):
        spans = [ab for ab, t in zip(spans, types, strict=True) if t == ctype]
    out: list[int] = []
    for a, b in spans:
        up: dict[int, int] = {}
        for i in np.flatnonzero(both[a: b - 1]).tolist():
            ra, rb = _root(up, int(flat[a + i])), _root(up, int(flat[a + i + 1]))
            if ra != rb:
                up[ra] = rb
        out += Counter(_root(up, x) for x in list(up)).values()
    return np.asarray(out, int)


def _root(up: dict[int, int], x: int) -> int:
    while up.setdefault(x, x) != x:
        up[x] = up[up[x]]
        x = up[x]
    return x


def internal_net_sizes(graphs: list) -> np.ndarray:
    """Pins per internal net (nets that join pins only, no port) of device-pin graphs."""
    import networkx as nx

    out = []
    for g in graphs:
        pins = [n for n, k in g.nodes(data="kind") if k == "pin"]
        for comp in nx.connected_components(g.subgraph(pins)):
            if len(comp) > 1:
                out.append(len(comp))
    return np.asarray(out, int)


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
           lengths: np.ndarray | list[int] | None = None, guidance: float = 0.0,
           fill: float = 1.0, net_sizes: np.ndarray | list[int] | None = None,
           rules: bool = True, jobs: int = 1, stats: dict | None = None,
           support: TypeSupport | None = None) -> list[Sample]:
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
        fill: with ``lengths``, ``<eos>`` is refused until a tour is at least this share of its drawn
            length (unless nothing else fits; 0: end wherever the circuit is complete, as the model
            chooses). (With the shipped model it seldom binds: its tours run to their budget; the
            small sizes it had were net sizes, see ``net_sizes``.)
        net_sizes: pins per internal net of the training circuits (:func:`internal_net_sizes`): each
            new internal net of a sample may gather at most a number of pins drawn from these
            (:class:`~eda.graphs.grammar.TourGrammar` ``net_cap``), so net sizes, and with them the
            tokens a device costs, follow the training circuits'. None: no limit.
        rules: with ``grammar``, ``<eos>`` is legal only where the circuit passes every validity rule
            (:func:`rules_accept`; the incremental grammar leaves signal ports, the input-to-output
            path, the supply and inductor chains to the end).
        guidance: classifier-free guidance weight of a type condition (0: none; costs a second
            model row per sample, conditioned on ``<type:any>``).
        threads: torch threads of the model's steps (restored afterwards; 0: leave torch's
            setting). The grammar is Python on one thread. (Running the model's next step on a
            worker thread beside the grammar was measured slower than two torch threads: both
            halves hold the GIL most of the time.) With ``jobs`` > 1: the threads of each worker
            (0 there: 1).
        jobs: worker processes (local, spawned; each loads the model once). The run is cut into
            chunks (:func:`chunk_bounds`) that each draw from their own random streams, seeded by
            ``(seed, chunk index)``, so the samples are the same, in the same order, for any
            ``jobs`` (at the same ``threads``).
        support: with ``grammar`` and ``ctype``: draw only the steps the type's training circuits take,
            preferring those that set the type apart (its ``bias``;
            :func:`~eda.generators.topology_support.training_support`; None: every legal step).
        stats: a dict to receive ``processes`` (used), ``chunks``, ``cpu_s`` (CPU seconds of the
            sampling threads of every process together) and ``worker_cpu_s`` (those of the worker
            processes alone: what this process's own CPU time does not include).
    """
    if not math.isfinite(temperature) or temperature <= 0:
        raise InputError(f"temperature: must be a finite number > 0, got {temperature}")
    if not math.isfinite(fill) or not 0 <= fill <= 1:
        raise InputError(f"fill: must be a number in [0, 1], got {fill}")
    if not math.isfinite(guidance) or guidance < 0:
        raise InputError(f"guidance: must be a finite number >= 0, got {guidance}")
    if ctype is not None and type_token(ctype) not in vocab.index:
        raise InputError(f"type {ctype!r} is not in the model's vocabulary ({', '.join(vocab.types)})")
    max_len = min(max_len or model.config.block_size, model.config.block_size)
    if jobs < 1:
        raise InputError(f"jobs: must be >= 1, got {jobs}")
    rng = np.random.default_rng(seed)
    lengths = None if lengths is None else np.minimum(np.asarray(lengths, int), max_len)
    # budgets drawn up front and sorted, so each chunk holds similar lengths and is not kept
    # running by one long straggler
    drawn = np.full(n, max_len) if lengths is None else draw_budgets(lengths, n, rng)
    job = _Job(ctype=ctype, temperature=temperature, grammar=grammar, max_len=max_len, top_k=top_k,
               guidance=guidance, fill=fill if lengths is not None else 0.0, rules=rules, support=support,
               net_sizes=None if net_sizes is None or not len(net_sizes) else np.asarray(net_sizes, int))
    chunks = [(seed, k, drawn[a:b]) for k, (a, b) in enumerate(chunk_bounds(drawn, batch_size))]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, desc="sampling" + (f" ({jobs} processes)" if jobs > 1 else ""), unit="circuit")
    cpu: list[float] = []
    worker_cpu: list[float] = []
    jobs = min(jobs, len(chunks))
    try:
        if jobs == 1:
            return _run_here(model, vocab, job, chunks, threads, bar, cpu)
        return _run_pool(model, vocab, job, chunks, threads, jobs, bar, cpu, worker_cpu)
    finally:
        if stats is not None:
            stats.update(processes=jobs, chunks=len(chunks), cpu_s=sum(cpu), worker_cpu_s=sum(worker_cpu))
        if bar:
            bar.close()


def chunk_bounds(budgets: np.ndarray, batch_size: int) -> list[tuple[int, int]]:
    """How a run's sorted length budgets are cut into chunks, each sampled as one batch with its
    own random streams (from the seed and the chunk's index), so the samples do not depend on how
    many processes share the chunks. Each chunk carries at most ``1/k`` of the run's work (sum of
    budgets: tokens) and ``batch_size`` rows, ``k = max(n / batch_size, min(8, n / 32))``, so two
    or more processes can share even a small run and none is left with one long chunk at the end
    (a batch of 32 rows costs ~10 % more CPU per sample than one of 128)."""
    n = len(budgets)
    k = max(math.ceil(n / batch_size), min(8, math.ceil(n / 32)), 1)
    cum = np.cumsum(np.asarray(budgets, float))
    work = cum[-1] / k if n else 0.0
    out, a = [], 0
    while a < n:
        b = int(np.searchsorted(cum, (cum[a - 1] if a else 0.0) + work - 1e-9)) + 1
        b = min(max(b, a + 1), a + batch_size, n)
        out.append((a, b))
        a = b
    return out


@dataclass(frozen=True)
class _Job:
    """What every chunk of a :func:`sample` call shares (picklable: sent to worker processes)."""

    ctype: str | None
    temperature: float
    grammar: bool
    max_len: int
    top_k: int
    guidance: float
    fill: float
    rules: bool
    net_sizes: np.ndarray | None
    support: TypeSupport | None = None
    prompt: tuple[int, ...] = ()  # tokens after <bos> <type> VSS every row starts from (:func:`complete`)


def _chunk(model: TopologyGPT, vocab: Vocab, tables: VocabTables, job: _Job, seed: int, k: int,
           budgets: np.ndarray) -> tuple[list[Sample], float]:
    """Sample chunk ``k`` of a run: its own torch and numpy streams from ``(seed, k)``. Returns
    the samples and the CPU seconds of this thread."""
    import time

    c0 = time.thread_time()
    ss = np.random.SeedSequence([seed, k])
    gen = torch.Generator().manual_seed(int(ss.generate_state(1)[0]))
    cap = None
    if job.net_sizes is not None:
        rng, pool = np.random.default_rng(ss), job.net_sizes
        draws = iter(())

        def cap() -> int:  # one size limit per new internal net, drawn in blocks (cheap)
            nonlocal draws
            try:
                return next(draws)
            except StopIteration:
                draws = iter(pool[rng.integers(0, len(pool), 4096)].tolist())
                return next(draws)
    out = _sample_batch(model, vocab, tables, budgets, job.max_len, job.ctype, job.temperature, job.grammar, gen,
                        job.top_k, job.guidance, job.fill, cap, job.rules, job.support, job.prompt)
    return out, time.thread_time() - c0


def _run_here(model, vocab, job: _Job, chunks: list, threads: int, bar, cpu: list[float]) -> list[Sample]:
    tables = VocabTables(vocab)
    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    out: list[Sample] = []
    try:
        for seed, k, budgets in chunks:
            got, sec = _chunk(model, vocab, tables, job, seed, k, budgets)
            out += got
            cpu.append(sec)
            if bar:
                bar.update(len(budgets))
    finally:
        torch.set_num_threads(old)
    return out


def _run_pool(model, vocab, job: _Job, chunks: list, threads: int, jobs: int, bar,
              cpu: list[float], worker_cpu: list[float]) -> list[Sample]:
    """Chunks shared by this process and ``jobs - 1`` worker processes (started clean, the model's
    weights sent once to each), the longest first so the last ones to finish are short; results
    in chunk order. This process samples too, from the start, while the workers still load; each
    worker is fed its next chunk by a thread of this process the moment it is free."""
    import os
    import threading
    from concurrent.futures import ProcessPoolExecutor

    from eda import workers as worker_pools

    state = ({k: v.detach().numpy() for k, v in model.state_dict().items()}, model.config.model_dump(),
             list(vocab.tokens), threads or 1, os.getpid())
    # workers fork from a clean server that has imported torch, this module and the validity rules once
    # (~3 CPU-seconds of imports once instead of per worker, no threads or locks copied from this process)
    ctx = worker_pools.context([__name__, "eda.generators.topology_check", "eda.graphs.pin_graph"])
    pool = ProcessPoolExecutor(jobs - 1, mp_context=ctx, initializer=_worker_init, initargs=state)
    todo = list(reversed(chunks))  # longest first
    got: dict[int, list[Sample]] = {}
    errors: list[BaseException] = []
    running: set = set()
    lock = threading.Lock()

    def take():
        with lock:
            return todo.pop(0) if todo and not errors else None

    def done(k: int, res: tuple[list[Sample], float]) -> None:
        with lock:
            got[k] = res[0]
            cpu.append(res[1])
            if bar:
                bar.update(len(res[0]))

    def feed() -> None:  # one per worker: its next chunk as soon as it is free
        while (c := take()) is not None:
            f = pool.submit(_worker_chunk, job, *c)
            running.add(f)
            try:
                res = f.result()
                worker_cpu.append(res[1])
                done(c[1], res)
            except BaseException as e:  # noqa: BLE001 - re-raised by the main thread
                errors.append(e)
            running.discard(f)

    feeders = [threading.Thread(target=feed, daemon=True) for _ in range(jobs - 1)]
    for t in feeders:
        t.start()
    tables = VocabTables(vocab)
    old = torch.get_num_threads()
    torch.set_num_threads(threads or 1)
    try:
        while (c := take()) is not None:
            done(c[1], _chunk(model, vocab, tables, job, *c))
        for t in feeders:
            t.join()
        if errors:
            raise errors[0]
    except BaseException:
        with lock:
            todo.clear()
        worker_pools.stop(pool)
        raise
    finally:
        torch.set_num_threads(old)
    pool.shutdown(wait=True)
    return [s for k in sorted(got) for s in got[k]]


_WORKER: dict = {}


def _worker_init(state: dict, config: dict, tokens: list[str], threads: int, parent: int) -> None:
    """Worker process set-up: the model from its weights, one vocabulary, ``threads`` torch threads
    (and the project's pool-worker rules: Ctrl-C ignored, dies with the main process)."""
    from eda.generators.topology_gpt import GPTConfig
    from eda.workers import die_with_parent

    die_with_parent(parent)  # (spawned, or forked by the fork server)
    torch.set_num_threads(threads)
    model = TopologyGPT(GPTConfig(**config))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    model.eval()
    vocab = Vocab(tokens)
    _WORKER.update(model=model, vocab=vocab, tables=VocabTables(vocab))


@torch.inference_mode()
def _worker_chunk(job: _Job, seed: int, k: int, budgets: np.ndarray) -> tuple[list[Sample], float]:
    w = _WORKER
    return _chunk(w["model"], w["vocab"], w["tables"], job, seed, k, budgets)


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


class _Decoder:
    """The model's side of a batch: its rows' key/value caches and length targets. With
    classifier-free guidance (``guidance`` > 0 and a type), each row has a twin conditioned on
    ``<type:any>`` and the logits are ``c + guidance * (c - u)``: the type's pull, strengthened
    (the model learnt both from type dropout)."""

    def __init__(self, model: TopologyGPT, prefix: list[int], any_prefix: list[int] | None, target: torch.Tensor,
                 length: int, guidance: float):
        self.model, self.w, self.twin = model, guidance, any_prefix is not None
        self.n = len(target)
        rows = [prefix] * self.n + ([any_prefix] * self.n if self.twin else [])
        self.target = torch.cat([target, target]) if self.twin else target
        self.caches = model.new_cache(len(rows), length)
        x = torch.tensor(rows)
        self.ctype = x[:, 1].clone()  # each row's type token (a type_embed model sees it at every step)
        self.logits = self._mix(model(x, self.caches, 0, self.target)[:, -1])

    def _mix(self, lg: torch.Tensor) -> torch.Tensor:
        if not self.twin:
            return lg
        c, u = lg[: self.n], lg[self.n:]
        return c + self.w * (c - u)

    def keep(self, idx: torch.Tensor, pos: int, length: int) -> None:
        """Keep rows ``idx`` only (finished rows leave the batch)."""
        both = torch.cat([idx, idx + self.n]) if self.twin else idx
        self.caches = _shrink_cache(self.caches, both, pos, length)
        self.target = self.target[both]
        self.ctype = self.ctype[both]
        self.n = len(idx)

    def step(self, nxt: torch.Tensor, pos: int) -> None:
        x = torch.cat([nxt, nxt]) if self.twin else nxt
        self.logits = self._mix(self.model.step(x, self.caches, pos, self.target, self.ctype))


def _draw(logits: torch.Tensor, masks: np.ndarray | None, temperature: float, top_k: int,
          gen: torch.Generator) -> torch.Tensor:
    """One token per row from softmax(logits / temperature), among the legal (``masks``) and the
    ``top_k`` most likely tokens."""
    v = logits.shape[-1]
    lg = logits / temperature if temperature != 1.0 else logits
    if top_k:
        kth = torch.topk(lg, min(top_k, v), dim=-1).values[:, -1:]
        lg = lg.masked_fill(lg < kth, float("-inf"))
    if masks is not None:
        mt = torch.from_numpy(masks)
        lg = lg.masked_fill(~mt, float("-inf"))
        if top_k:
            # a legal token the model gives zero probability (after top-k) is still allowed
            dead = torch.isinf(lg).all(dim=-1)
            if dead.any():
                lg[dead] = torch.where(mt[dead], 0.0, float("-inf"))
    # inverse-CDF draw: one uniform per row (random tensors of the vocabulary's width cost more
    # than the model's step on CPU); finished rows draw <pad>, the only token their grammar allows
    cdf = torch.softmax(lg, dim=-1).cumsum_(dim=-1)
    u = torch.rand((cdf.shape[0], 1), generator=gen).mul_(cdf[:, -1:]).clamp_(min=1e-9)
    return torch.searchsorted(cdf, u).squeeze_(1).clamp_(max=v - 1)


def _sample_batch(model, vocab, tables, budgets, cap, ctype, temperature, grammar, gen, top_k,
                  guidance: float = 0.0, fill: float = 0.0, net_cap=None, rules: bool = False,
                  support: TypeSupport | None = None, prompt: tuple[int, ...] = ()) -> list[Sample]:
    # the model aims at the drawn length; the grammar allows a little more (its reservations
    # are conservative) and closes every tour within that
    target = torch.as_tensor(np.asarray(budgets), dtype=torch.long)
    floor = (fill * np.asarray(budgets)).astype(int)
    budgets = np.minimum(np.asarray(budgets) + LENGTH_SLACK + RESCUE_SLACK, cap)
    b = len(budgets)
    max_len = int(max(budgets))
    prefix = [vocab.bos, vocab.index[type_token(ctype)], tables.vss, *prompt]
    any_prefix = [vocab.bos, vocab.index[type_token(None)], tables.vss, *prompt] if guidance and ctype else None
    seqs = [list(prefix) for _ in range(b)]
    accept = rules_accept if rules else None
    gram = [TourGrammar(tables, int(n), prefix_len=2, min_len=int(f), net_cap=net_cap, accept=accept,
                        ctype=ctype, sampling=True)
            for n, f in zip(budgets, floor, strict=True)] if grammar else None
    # a prompt (a real circuit's tour) is held to the structural rules only: the sampling rules steer a fresh
    # draw and refuse many real tour orders; the rows' grammars follow it and apply every rule after it
    check = TourGrammar(tables, max_len, prefix_len=2, lenient=True) if prompt else None
    for j, tok in enumerate(prompt):
        if not check.mask()[tok]:
            raise InputError(f"prompt token {j + 1} ({vocab.tokens[tok]!r}) is not a valid continuation of the tour")
        check.step(tok)
        for g in gram or ():
            g.step(tok)
    done = np.zeros(b, bool)
    rows = np.arange(b)  # sample index of each row of the batch tensors
    dec = _Decoder(model, prefix, any_prefix, target, max_len, guidance)
    masks = _within(np.stack([g.mask() for g in gram]), support, seqs) if grammar else None
    pos = len(prefix)
    while len(rows) and pos < max_len:
        bonus = support.logit_bias([seqs[i][-2] for i in rows], [seqs[i][-1] for i in rows]) if support else None
        nxt = _draw(dec.logits if bonus is None else dec.logits + torch.from_numpy(bonus), masks, temperature,
                    top_k, gen)
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
            rows, nxt = rows[keep], nxt[idx]
            dec.keep(idx, pos, int(max(budgets[rows])))
        if grammar:
            live = rows.tolist()
            masks = _within(np.stack([gram[i].mask() for i in live]), support, [seqs[i] for i in live])
        dec.step(nxt, pos)
        pos += 1
    return [_finish(vocab, seqs[i], gram[i] if grammar else None, int(budgets[i]), ctype) for i in range(b)]


def complete(model: TopologyGPT, vocab: Vocab, prompt: list[int], n: int, ctype: str | None = None,
             length: int | None = None, temperature: float = 1.0, guidance: float = 0.0, seed: int = 0,
             net_sizes: np.ndarray | list[int] | None = None, support: TypeSupport | None = None) -> list[Sample]:
    """``n`` completions of one tour prefix: ``prompt`` holds the token ids after ``<bos> <type:T> VSS`` (e.g. the
    first half of a real circuit's compact tour), the model continues each row under the sampling grammar and its
    validity rules, as :func:`sample` draws (one process, one batch). ``length``: the length the model aims at (its
    remaining-length input; default the prompt plus half the block), ``net_sizes``/``support`` as in :func:`sample`.
    The prompt is held to the structural rules of a tour only (the sampling rules steer fresh draws and refuse many
    real tour orders); the rules apply from its end on. Raises :class:`InputError` on a prompt that is not a tour."""
    cap = model.config.block_size
    length = int(min(length or len(prompt) + 3 + cap // 2, cap))
    if len(prompt) + 4 > length:
        raise InputError(f"prompt of {len(prompt)} tokens leaves no room within {length}")
    job = _Job(ctype=ctype, temperature=temperature, grammar=True, max_len=cap, top_k=0, guidance=guidance, fill=1.0,
               rules=True, support=support, prompt=tuple(int(t) for t in prompt),
               net_sizes=None if net_sizes is None or not len(net_sizes) else np.asarray(net_sizes, int))
    with torch.inference_mode():
        return _chunk(model, vocab, VocabTables(vocab), job, seed, 0, np.full(n, length))[0]


def _within(masks: np.ndarray, support: TypeSupport | None, seqs: list[list[int]]) -> np.ndarray:
    """The rows' legal tokens narrowed by a type's support (:mod:`eda.generators.topology_support`)
    after each row's last two tokens (the last one is where its walk stands: the top of its stack)."""
    if support is None:
        return masks
    return support.narrow(masks, [s[-2] for s in seqs], [s[-1] for s in seqs])


def _finish(vocab: Vocab, ids: list[int], gram: TourGrammar | None, budget: int, ctype: str | None) -> Sample:
    """A sampled sequence as a :class:`Sample`: tokens with the implied walk back spelled out,
    and the graph or the reason there is none."""
    toks = vocab.decode(ids)
    if toks[-1] == "<eos>":
        # the walk back down the stack to VSS is implied by <eos>: spell it out
        toks = toks[:2] + close_walk(toks[2:-1]) + toks[-1:]
    s = Sample(tokens=toks)
    if gram is not None and gram.failed:
        s.error = gram.failed
    elif toks[-1] != "<eos>":
        s.error = f"no <eos> within {budget} tokens"
    elif gram is not None:
        # the grammar holds the graph it let through (the same as strict decoding gives)
        s.graph, s.ctype = gram.graph(), ctype
    else:
        try:
            s.graph, s.ctype = sequence_to_graph(toks, strict=True)
        except InputError as e:
            s.error = str(e)
    return s


__all__ = ["LENGTH_SLACK", "RESCUE_SLACK", "rules_accept", "Sample", "sample", "complete", "chunk_bounds",
           "draw_budgets", "internal_net_sizes", "training_net_sizes"]
