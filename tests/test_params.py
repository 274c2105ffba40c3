"""The one params style (eda.params.Params): every params object is a frozen pydantic model, every field
described, and every bad value one typed error naming the field."""

from __future__ import annotations

import pytest
import torch
from pydantic import Field

from eda.errors import InputError
from eda.params import Params
from eda.paths import PATHS


class _P(Params):
    n: int = Field(2, ge=1, description="a count")
    x: float = Field(0.5, gt=0, le=1, description="a fraction")


@pytest.mark.parametrize("kw, says", [
    (dict(n=0), "_P.n: must be >= 1, got 0"),
    (dict(n=True), "_P.n: must be an integer, got True"),
    (dict(n=2.5), "_P.n: must be an integer"),
    (dict(n="3"), "_P.n: must be an integer"),
    (dict(x=0), "_P.x: must be > 0"),
    (dict(x=1.5), "_P.x: must be <= 1"),
    (dict(x=float("nan")), "_P.x: must be a finite number"),
    (dict(y=1), "_P.y: unknown parameter (expected one of ['n', 'x'])"),
])
def test_errors_name_the_field(kw, says):
    with pytest.raises(InputError) as e:
        _P(**kw)
    assert str(e.value).startswith(says)


def test_dataclass_conveniences():
    p = _P(3, 0.25)
    assert (p.n, p.x) == (3, 0.25) and _P(x=1) == _P(2, 1.0)
    assert p.replace(n=4) == _P(4, 0.25) and p.n == 3
    assert _P.from_dict({"n": 3.0, "x": 0.25}) == p and _P(**p.to_dict()) == p
    with pytest.raises(InputError, match="_P.n: must be >= 1"):
        p.replace(n=0)
    with pytest.raises(InputError, match="by position and by name"):
        _P(3, n=4)
    with pytest.raises(Exception):  # noqa: B017 - frozen
        p.n = 5


def _params_classes():
    from eda.generators.acim_column import ColumnBench
    from eda.generators.acim_params import AcimParams, AcimTech, CellSizes
    from eda.generators.acim_sim import SimConfig
    from eda.generators.topology_compose import ComposeParams, SampleRecord
    from eda.graphs.pdn_graph import GraphParams
    from eda.graphs.vocab import Vocab
    from eda.pdn.grid import GridParams, Layer
    from eda.predictors.hparams import CNNParams, GBDTParams, GNNParams, PDNNetParams
    from eda.predictors.train import TrainParams
    from eda.tech.generic45 import MetalTech, PdnTech, ViaTech

    return [AcimParams, AcimTech, CellSizes, CNNParams, GBDTParams, GNNParams, PDNNetParams, TrainParams,
            GridParams, Layer, GraphParams, Vocab, SimConfig, ComposeParams, SampleRecord,
            ColumnBench, MetalTech, ViaTech, PdnTech]


@pytest.mark.parametrize("cls", _params_classes(), ids=lambda c: c.__name__)
def test_every_field_is_described(cls):
    assert issubclass(cls, Params)
    missing = [k for k, f in cls.model_fields.items() if not f.description]
    assert not missing, f"{cls.__name__}: fields without a description: {missing}"


@pytest.mark.parametrize("target", ["static", "dynamic"])
def test_shipped_checkpoint_hparams_round_trip(target):
    """The shipped PDNNet checkpoints store their hyper-parameters as a plain dict of ints (weights-only
    load); the pydantic PDNNetParams reads them unchanged and writes back the same values. (Predictions of
    both shipped models were compared before/after the conversion: identical arrays.)"""
    from eda.predictors.checkpoint import load_checkpoint
    from eda.predictors.hparams import PDNNetParams

    path = PATHS.models / f"pdnnet_{target}.pt"
    ck = torch.load(str(path), map_location="cpu", weights_only=True)
    hp = PDNNetParams(**ck["hparams"])
    assert {k: hp.to_dict()[k] for k in ck["hparams"]} == ck["hparams"]  # older files lack n_fine (default)
    assert PDNNetParams(**hp.to_dict()) == hp
    model, _, _ = load_checkpoint(path)
    assert model.params == hp
    state = model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in ck["state"].items())


def test_hot_path_record_errors_read_like_params_errors():
    """Device stays a plain dataclass (bulk construction); its check goes through eda.errors.record_error."""
    from eda.circuit import Device

    assert Device("m1", "m", ["d", "g", "s", "b"]).kind == "M"
    with pytest.raises(ValueError, match=r"^Device\.kind: unknown device kind of 'Z1' .*, got 'Z'$"):
        Device("Z1", "z", ("a", "b"))
