"""Hyper-parameters of every IR-drop model, in one place (saved in each checkpoint, validated on creation).

Every class records the input sizes a model was built for (``n_channels`` tile-grid channels, ``n_node``
cluster features, ``n_cell`` cell features, ``n_fine`` full-resolution channels) beside its own settings, so
a checkpoint rebuilds the model without the data. Errors name the class and the field.
"""

from __future__ import annotations

from pydantic import Field

from eda.params import Params

__all__ = ["PDNNetParams", "CNNParams", "GNNParams", "GBDTParams"]


def _count(default: int, description: str, minimum: int = 1):
    return Field(default, ge=minimum, description=description)


class _Sizes(Params):
    """Input sizes every model records: tile-grid channels, cluster features, cell features, fine channels
    (:class:`eda.params.Params`: frozen, strict integers, errors ``Class.field: must be >= 1, got 0``)."""

    n_channels: int = _count(3, "tile-grid image channels (3 static, +1 physics, + T dynamic)")
    n_node: int = _count(11, "pdn_cluster node features")
    n_cell: int = _count(2, "cell node features (2 + T)")
    n_fine: int = _count(3, "full-resolution channels of the fine head (3, or 4 with physics)")


class PDNNetParams(_Sizes):
    """Hyper-parameters of :class:`~eda.predictors.pdnnet.PDNNet` (stored in its checkpoints as a plain dict,
    ``to_dict()``; ``PDNNetParams(**d)`` rebuilds them)."""

    hidden: int = _count(16, "GNN width")
    layers: int = _count(4, "ConductanceConv steps per branch", minimum=0)
    base: int = _count(12, "CNN width at tile resolution")
    depth: int = _count(3, "U-Net down-sampling levels")


class CNNParams(_Sizes):
    """Hyper-parameters of :class:`~eda.predictors.baselines.CNNOnly` (graph sizes recorded for a uniform
    interface)."""

    base: int = _count(16, "CNN width at tile resolution")
    depth: int = _count(3, "U-Net down-sampling levels")


class GNNParams(_Sizes):
    """Hyper-parameters of :class:`~eda.predictors.baselines.GNNOnly`."""

    hidden: int = _count(24, "GNN width")
    layers: int = _count(8, "message-passing steps")


class GBDTParams(_Sizes):
    """Hyper-parameters of :class:`~eda.predictors.baselines.GBDT` (scikit-learn ``GradientBoostingRegressor``)."""

    n_estimators: int = _count(100, "boosting stages")
    max_depth: int = _count(5, "depth of each tree")
    learning_rate: float = Field(0.1, gt=0, le=1, description="shrinkage of each stage")
    subsample: float = Field(0.8, gt=0, le=1, description="row fraction drawn for each stage")
    max_rows: int = _count(40000, "training rows kept (a random subset of larger sets)", minimum=100)
    seed: int = _count(0, "random seed", minimum=0)
