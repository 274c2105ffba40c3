"""Hyper-parameters of every IR-drop model, in one place (saved in each checkpoint, validated on creation).

Every class records the input sizes a model was built for (``n_channels`` tile-grid channels, ``n_node``
cluster features, ``n_cell`` cell features, ``n_fine`` full-resolution channels) beside its own settings, so
a checkpoint rebuilds the model without the data. Errors name the class and the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from eda.errors import InputError

__all__ = ["PDNNetParams", "CNNParams", "GNNParams", "GBDTParams", "check_min"]


def check_min(params, fields: tuple[str, ...], minimum: int) -> None:
    """Raise :class:`InputError` naming the first integer field of ``params`` below ``minimum`` (or not an int)."""
    for k in fields:
        v = getattr(params, k)
        if isinstance(v, bool) or not isinstance(v, int):
            raise InputError(f"{type(params).__name__}.{k}: must be an integer, got {v!r}")
        if v < minimum:
            raise InputError(f"{type(params).__name__}.{k}: must be >= {minimum}, got {v}")


_SIZES = ("n_channels", "n_node", "n_cell", "n_fine")


@dataclass(frozen=True)
class _Sizes:
    """Input sizes every model records: tile-grid channels, cluster features, cell features, fine channels."""

    n_channels: int = 3
    n_node: int = 11
    n_cell: int = 2
    n_fine: int = 3


@dataclass(frozen=True)
class PDNNetParams(_Sizes):
    """Hyper-parameters of :class:`~eda.predictors.pdnnet.PDNNet`.

    Attributes:
        n_channels: tile-grid image channels (3 static, +1 physics, + T dynamic). n_node: pdn_cluster features.
        n_cell: cell features (2 + T). n_fine: full-resolution channels of the fine head (3, or 4 with physics).
        hidden: GNN width. layers: ConductanceConv steps per branch.
        base: CNN width at tile resolution. depth: U-Net down-sampling levels.
    """

    hidden: int = 16
    layers: int = 4
    base: int = 12
    depth: int = 3

    def __post_init__(self):
        check_min(self, (*_SIZES, "hidden", "base", "depth"), 1)
        check_min(self, ("layers",), 0)


@dataclass(frozen=True)
class CNNParams(_Sizes):
    """Hyper-parameters of :class:`~eda.predictors.baselines.CNNOnly` (graph sizes recorded for a uniform
    interface)."""

    base: int = 16
    depth: int = 3

    def __post_init__(self):
        check_min(self, (*_SIZES, "base", "depth"), 1)


@dataclass(frozen=True)
class GNNParams(_Sizes):
    """Hyper-parameters of :class:`~eda.predictors.baselines.GNNOnly`."""

    hidden: int = 24
    layers: int = 8

    def __post_init__(self):
        check_min(self, (*_SIZES, "hidden", "layers"), 1)


@dataclass(frozen=True)
class GBDTParams(_Sizes):
    """Hyper-parameters of :class:`~eda.predictors.baselines.GBDT` (scikit-learn ``GradientBoostingRegressor``)."""

    n_estimators: int = 100
    max_depth: int = 5
    learning_rate: float = 0.1
    subsample: float = 0.8
    max_rows: int = 40000
    seed: int = 0

    def __post_init__(self):
        check_min(self, (*_SIZES, "n_estimators", "max_depth"), 1)
        check_min(self, ("max_rows",), 100)
        check_min(self, ("seed",), 0)
        for k in ("learning_rate", "subsample"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 1:
                raise InputError(f"GBDTParams.{k}: must be a number in (0, 1], got {v!r}")
