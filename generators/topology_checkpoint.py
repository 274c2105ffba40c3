"""Topology-GPT checkpoints: plain dicts of tensors, numbers and strings (``config``,
``state_dict`` in fp16, ``vocab``, the training circuits' tours for novelty and sizes), so
:func:`load_checkpoint` uses ``torch.load(weights_only=True)``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from eda.errors import ConfigError, InputError
from eda.generators.topology_gpt import GPTConfig, TopologyGPT
from eda.graphs.euler import Vocab, sequence_to_graph

FORMAT = "eda-topology-gpt/1"
#: The shipped general model (every type: a type-balanced fine-tune of the base model, ``eda topo train
#: --init BASE --balance 1 --natural-any``), the op-amp specialist (a fine-tune of the base model on the
#: op-amp types only: ``--types opamp-family --init BASE``), which samples the op-amp types, and the base
#: model both were tuned from (trained on the public set and the library; kept for that lineage).
GENERAL_FILE = "topology_gpt.pt"
OPAMP_FILE = "topology_gpt_opamp.pt"
BASE_FILE = "topology_gpt_base.pt"
#: The op-amp type family: the public set's op-amp chapters (``opamp``) and the library's op-amp labels.
OPAMP_FAMILY: tuple[str, ...] = ("opamp", "opamp1", "opamp2", "folded_cascode", "telescopic")


def checkpoint_for(ctype: str | None, models: Path | None = None) -> Path:
    """The shipped checkpoint that samples ``ctype``: the op-amp specialist for a type of
    :data:`OPAMP_FAMILY` (when it is shipped), else the general model. ``models``: the folder
    (default ``data/models``)."""
    from eda.paths import PATHS

    folder = Path(models) if models is not None else PATHS.models
    if ctype in OPAMP_FAMILY and (folder / OPAMP_FILE).is_file():
        return folder / OPAMP_FILE
    return folder / GENERAL_FILE


def checkpoint_id(path: str | Path) -> dict[str, str]:
    """Which checkpoint a result came from: its file name and the first 8 hex digits of its sha256."""
    import hashlib

    path = Path(path)
    return {"checkpoint": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:8]}


def save_checkpoint(path: str | Path, model: TopologyGPT, vocab: Vocab, train_tours: list[list[int]],
                    meta: dict | None = None) -> Path:
    """Write a checkpoint: fp16 weights, config, vocabulary, one canonical tour (token ids) per
    training circuit and ``meta`` (JSON-like). Written to a temporary file and renamed, so a
    reader never sees a half-written file (training saves periodically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = torch.tensor([i for s in train_tours for i in s], dtype=torch.int16)
    offsets = torch.tensor(np.cumsum([0] + [len(s) for s in train_tours]), dtype=torch.int64)
    ck = {"format": FORMAT, "config": model.config.model_dump(),
          "state_dict": {k: v.detach().cpu().clone().half() for k, v in model.state_dict().items()},
          "vocab": list(vocab.tokens), "train_tours": flat, "train_offsets": offsets, "meta": meta or {}}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(ck, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(path: str | Path | None = None) -> tuple[TopologyGPT, Vocab, dict]:
    """Load a checkpoint (default: the shipped ``data/models/topology_gpt.pt``), weights only.

    Returns:
        (model in eval mode, its vocabulary, the checkpoint dict).

    Raises:
        InputError: missing file or not a topology-GPT checkpoint.
    """
    from eda.paths import PATHS

    path = Path(path) if path else PATHS.models / GENERAL_FILE
    if not path.is_file():
        raise InputError("no such checkpoint (train one with `eda topo train`)", file=path)
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many types for a bad file
        raise InputError(f"not a readable torch checkpoint: {e}", file=path) from e
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise InputError(f"not a topology-GPT checkpoint (format {FORMAT} expected)", file=path)
    try:
        vocab = Vocab(list(ck["vocab"]))
        model = TopologyGPT(GPTConfig(**{"n_kv_head": None, "type_embed": False, "block_size": 1024,
                                         **ck["config"]}))  # older files: one kv head per head, no type embedding
        model.load_state_dict({k: v.float() for k, v in ck["state_dict"].items()})
    except (KeyError, TypeError, RuntimeError) as e:
        raise InputError(f"damaged topology-GPT checkpoint: {e}", file=path) from e
    model.eval()
    return model, vocab, ck


def sampling_defaults(ck: dict | None) -> dict[str, float]:
    """The sampling settings a checkpoint ships with (``meta["sampling"]``, written by
    ``eda topo train --sample-temperature/--sample-guidance``): ``temperature`` (default 1)
    and ``guidance`` (classifier-free guidance of a type condition, default 0)."""
    got = ((ck or {}).get("meta") or {}).get("sampling") or {}
    return {"temperature": float(got.get("temperature", 1.0)), "guidance": float(got.get("guidance", 0.0))}


def training_graphs(ck: dict, vocab: Vocab) -> list:
    """Device-pin graphs of the circuits a checkpoint was trained on."""
    flat, off = ck["train_tours"].tolist(), ck["train_offsets"].tolist()
    return [sequence_to_graph(vocab.decode(flat[a:b]))[0] for a, b in zip(off[:-1], off[1:], strict=True)]


#: version of the on-disk form of :func:`training_set`'s cache; raise it when canonical forms change
TRAINING_SET_VERSION = 1
_TRAINING_SETS: dict[str, object] = {}  # content key -> GraphSet, the sets built in this process


def training_set(ck: dict, vocab: Vocab):
    """The training circuits of a checkpoint up to isomorphism (a :class:`~eda.graphs.canon.GraphSet`), what novelty
    is measured against. Decoding ~3,200 tours to graphs and their canonical forms takes 10-20 s, so the forms are
    kept per checkpoint content (its tours and vocabulary, not its file or object) in this process and in the user's
    cache (:func:`eda.paths.user_cache_dir`); a cache file that cannot be read is rebuilt."""
    import hashlib
    import os

    from eda.graphs.canon import GraphSet
    from eda.paths import user_cache_dir

    h = hashlib.blake2b(digest_size=12)
    for part in (ck["train_tours"], ck["train_offsets"]):
        h.update(np.ascontiguousarray(part.numpy()).tobytes())
    h.update("\0".join(ck["vocab"]).encode())
    key = h.hexdigest()
    if key in _TRAINING_SETS:
        return _TRAINING_SETS[key]
    try:
        path = user_cache_dir("novelty") / f"training-forms-v{TRAINING_SET_VERSION}-{key}.json"
    except ConfigError:  # no cache folder: the decode every time, nothing else
        path = None
    try:
        got = GraphSet.from_json(path.read_text()) if path is not None else None
    except (OSError, ValueError):  # missing or unreadable: built again and written over
        got = None
    if got is None:
        got = GraphSet(training_graphs(ck, vocab))
        if path is not None:
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            try:
                tmp.write_text(got.to_json())
                os.replace(tmp, path)
            except (OSError, ValueError):  # a cache that cannot be written costs the next run the decode, nothing else
                tmp.unlink(missing_ok=True)
    _TRAINING_SETS.clear()  # one set held (a 3,200-circuit set is ~30 MB of tuples)
    _TRAINING_SETS[key] = got
    return got


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


__all__ = ["FORMAT", "GENERAL_FILE", "OPAMP_FILE", "BASE_FILE", "OPAMP_FAMILY", "checkpoint_for", "checkpoint_id",
           "save_checkpoint", "load_checkpoint", "sampling_defaults",
           "training_graphs", "training_set", "training_types", "training_lengths"]
