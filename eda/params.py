"""The one style of every params object: a frozen pydantic model whose errors name the field.

Every parameter object of the toolkit (grid, graph, model hyper-parameters, training, ACIM, topology
composer, ...) subclasses :class:`Params`: each field carries a ``description`` and its bounds
(``Field(..., ge=/gt=/le=/lt=)``), cross-field rules are ``model_validator(mode="after")`` methods that
raise :meth:`Params.param_error`, and any violation -- wrong type, bound, unknown field, cross-field
rule -- is one typed error naming the field (an :class:`~eda.errors.InputError`, so the CLI prints it
as one line)::

    >>> GridParams(width_um=-1)
    InputError: GridParams.width_um: must be > 0, got -1

A subclass changes how its errors read by overriding :meth:`Params.param_error` (the ACIM models raise
their ``ParamError`` with ``field``). Integer fields are strict (``True``/``2.5``/``"3"`` are refused, as
JSON-ish mistakes); floats accept ints; nan/inf are refused unless a class allows them.

Besides validation the base gives the frozen-dataclass conveniences the callers use: positional
construction in field order, :meth:`Params.replace`, :meth:`Params.to_dict`, :meth:`Params.from_dict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from eda.errors import InputError, record_error

__all__ = ["Params", "error_text", "error_field", "record_error"]

_WORDS = {
    "greater_than_equal": lambda c: f"must be >= {c['ge']}",
    "greater_than": lambda c: f"must be > {c['gt']}",
    "less_than_equal": lambda c: f"must be <= {c['le']}",
    "less_than": lambda c: f"must be < {c['lt']}",
    "int_type": lambda c: "must be an integer",
    "int_from_float": lambda c: "must be an integer",
    "int_parsing": lambda c: "must be an integer",
    "float_type": lambda c: "must be a number",
    "float_parsing": lambda c: "must be a number",
    "finite_number": lambda c: "must be a finite number",
    "bool_type": lambda c: "must be true or false",
    "string_type": lambda c: "must be text",
    "literal_error": lambda c: f"must be one of {c['expected']}",
    "enum": lambda c: f"must be one of {c['expected']}",
}


def error_field(err: Mapping[str, Any]) -> str:
    """The field path of one pydantic error (``layers[0].pitch_um``; ``params`` when it has none)."""
    out = ""
    for p in err.get("loc", ()):
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "params"


def error_text(err: Mapping[str, Any], fields: list[str] | None = None) -> str:
    """A short message for one pydantic error: ``must be >= 1, got 0`` (the field is not included)."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "extra_forbidden":
        return f"unknown parameter (expected one of {sorted(fields or [])})"
    if kind == "missing":
        return "is required"
    word = _WORDS.get(kind)
    msg = word(ctx) if word else str(err.get("msg", "invalid")).removeprefix("Value error, ")
    msg = msg[:1].lower() + msg[1:]
    return f"{msg}, got {err.get('input')!r}"


class Params(BaseModel):
    """Base of every params object: frozen, unknown fields refused, one typed error naming the field."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True,
                              arbitrary_types_allowed=True)

    def __init__(self, *args: Any, **data: Any) -> None:
        names = list(type(self).model_fields)
        if len(args) > len(names):
            raise self.param_error("params", f"{len(args)} positional values for {len(names)} fields")
        for name, v in zip(names, args, strict=False):  # positional values in field order (dataclass style)
            if name in data:
                raise self.param_error(name, "given both by position and by name")
            data[name] = v
        try:
            super().__init__(**data)
        except ValidationError as e:
            err = e.errors()[0]
            raise self.param_error(error_field(err), error_text(err, names)) from None

    @classmethod
    def param_error(cls, field: str, message: str) -> Exception:
        """The error for a bad ``field`` (override to change the error type/wording)."""
        return InputError(f"{cls.__name__}.{field}: {message}")

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (what checkpoints and JSON files store)."""
        return self.model_dump()

    def replace(self, **changes: Any):
        """A validated copy with ``changes`` (the frozen-dataclass ``replace``)."""
        return type(self)(**{**{k: getattr(self, k) for k in type(self).model_fields}, **changes})

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]):
        """Build from a mapping (a JSON object, a checkpoint entry), naming bad fields; JSON floats with
        an integer value are accepted for integer fields."""
        if not isinstance(d, Mapping):
            raise cls.param_error("params", f"expected an object of fields, got {type(d).__name__}")
        kw = {k: int(v) if (k in cls.model_fields and cls.model_fields[k].annotation in (int, "int")
                            and isinstance(v, float) and v.is_integer()) else v for k, v in d.items()}
        return cls(**kw)
