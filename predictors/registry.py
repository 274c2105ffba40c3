"""The IR-drop model types by name, and how to build a fresh one for a graph."""

from __future__ import annotations

from torch_geometric.data import HeteroData

from eda.errors import InputError
from eda.predictors.baselines import GBDT, CNNOnly, GNNOnly
from eda.predictors.normalize import fine_channels
from eda.predictors.pdnnet import PDNNet

__all__ = ["MODEL_TYPES", "model_class", "build_model", "build_params"]

_CLASSES = {"pdnnet": PDNNet, "cnn": CNNOnly, "gnn": GNNOnly, "gbdt": GBDT}
#: Names of the model types, flagship first.
MODEL_TYPES = tuple(_CLASSES)


def model_class(name: str):
    """The class of model type ``name`` (:data:`MODEL_TYPES`)."""
    if name not in _CLASSES:
        raise InputError(f"unknown model type {name!r}; known: {', '.join(MODEL_TYPES)}")
    return _CLASSES[name]


def build_params(model_type: str, hparams: dict):
    """The hyper-parameter object of ``model_type`` with ``hparams`` over its defaults (validated)."""
    return model_class(model_type).Params(**hparams)


def build_model(model_type: str, graph: HeteroData, hparams: dict | None = None):
    """A fresh model sized for ``graph``'s channels, features and time slices (``hparams`` override)."""
    cls = model_class(model_type)
    dims = {"n_channels": len(graph.channels), "n_node": int(graph["pdn_cluster"].x.shape[1]),
            "n_cell": int(graph["cell"].x.shape[1]), "n_fine": len(fine_channels(graph))}
    hp = dict(hparams or {})
    fixed = sorted(set(hp) & set(dims))
    if fixed:
        raise InputError(f"hyper-parameter(s) {', '.join(fixed)} come from the data and cannot be set")
    try:
        return cls(cls.Params(**{**dims, **hp}))
    except TypeError as e:
        raise InputError(f"bad hyper-parameters for {model_type!r}: {e}") from None
