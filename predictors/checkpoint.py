"""Checkpoints of the IR-drop models: one file of plain tensors, dicts, lists, strings and numbers.

``save_checkpoint(path, model, norm, info)`` / ``load_checkpoint(path, ...)``: format name, version, model
type, target, hyper-parameters, normalisation, weights and free-form info (split, history). Loading uses
``torch.load(..., weights_only=True)``, so a checkpoint never executes code; a model whose weights are not
all finite is refused.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from eda.errors import InputError
from eda.predictors.normalize import Normalizer
from eda.predictors.registry import MODEL_TYPES, model_class

__all__ = ["CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "save_checkpoint", "load_checkpoint", "MedianEnsemble"]

CHECKPOINT_FORMAT = "eda-irdrop-model"
#: Bumped whenever the checkpoint layout or a model's meaning changes; older files are refused.
CHECKPOINT_VERSION = 2


class MedianEnsemble(torch.nn.Module):
    """Models of one type trained on the same split and normaliser from different initial seeds; predicts
    the per-pixel median of their outputs (robust to one member that extrapolates badly)."""

    def __init__(self, members: list):
        super().__init__()
        self.members = torch.nn.ModuleList(members)
        self.model_type = members[0].model_type
        self.params = members[0].params

    def forward(self, p):
        return torch.stack([m(p) for m in self.members]).median(dim=0).values


def save_checkpoint(path, model, norm: Normalizer, info: dict | None = None) -> None:
    """Write weights, hyper-parameters, normalisation, model type and format version to one file.

    Only tensors, dicts, lists, strings and numbers are stored, so ``torch.load(path, weights_only=True)``
    reads it back without executing code.
    """
    ck = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "model_type": model.model_type,
          "target": norm.target, "hparams": model.params.to_dict(), "norm": norm.to_dict(),
          "state": model.state_dict(), "info": _plain(info or {}),
          "members": len(model.members) if isinstance(model, MedianEnsemble) else 0}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(ck, str(path))


def _plain(d):
    if isinstance(d, dict):
        return {str(k): _plain(v) for k, v in d.items()}
    if isinstance(d, (list, tuple)):
        return [_plain(v) for v in d]
    if isinstance(d, (np.floating, np.integer)):
        return d.item()
    if isinstance(d, float) and not math.isfinite(d):
        return str(d)
    return d


def load_checkpoint(path, expect_type: str | None = None, expect_target: str | None = None):
    """Load a checkpoint written by :func:`save_checkpoint`.

    Returns:
        ``(model, normalizer, info)``; the model is in eval mode.

    Raises:
        InputError: unreadable file, not an eda IR-drop checkpoint, incompatible version, unknown or
            unexpected model type, or a target other than ``expect_target``.
    """
    try:
        ck = torch.load(str(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError("checkpoint not found", file=path) from None
    except Exception as e:  # noqa: BLE001 - any unpickling failure means "not our file"
        raise InputError(f"not a loadable weights-only checkpoint: {type(e).__name__}: {e}", file=path) from None
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"not an eda IR-drop model checkpoint (expected format {CHECKPOINT_FORMAT!r})", file=path)
    if ck.get("version") != CHECKPOINT_VERSION:
        raise InputError(f"checkpoint format version {ck.get('version')!r} is incompatible with this eda "
                         f"(expects version {CHECKPOINT_VERSION}); retrain with 'eda irdrop train'", file=path)
    mt = ck.get("model_type")
    if mt not in MODEL_TYPES:
        raise InputError(f"unknown model type {mt!r} in checkpoint; known: {', '.join(MODEL_TYPES)}", file=path)
    if expect_type is not None and mt != expect_type:
        raise InputError(f"checkpoint holds a {mt!r} model, expected {expect_type!r}", file=path)
    if expect_target is not None and ck.get("target") != expect_target:
        raise InputError(f"checkpoint predicts {ck.get('target')!r} IR drop, expected {expect_target!r}", file=path)
    cls = model_class(mt)
    try:
        k = int(ck.get("members", 0) or 0)
        model = (MedianEnsemble([cls(cls.Params(**ck["hparams"])) for _ in range(k)]) if k
                 else cls(cls.Params(**ck["hparams"])))
        model.load_state_dict(ck["state"])
        norm = Normalizer.from_dict(ck["norm"])
    except (TypeError, RuntimeError, KeyError, AttributeError, InputError) as e:
        raise InputError(f"checkpoint does not fit the {mt!r} model: {e}", file=path) from None
    bad = [k for k, v in model.state_dict().items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise InputError(f"checkpoint holds non-finite weights (NaN or inf) in {', '.join(bad[:3])}"
                         + (f" and {len(bad) - 3} more" if len(bad) > 3 else ""), file=path)
    model.eval()
    return model, norm, ck.get("info", {})
