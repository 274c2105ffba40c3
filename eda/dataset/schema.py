"""The shapes of a dataset's JSON files, checked with pydantic when they are read.

A file of the wrong shape (a list where an object belongs, a missing field, text where a number
belongs, binary junk) is an :class:`~eda.errors.InputError` naming the file (and the line of a
manifest row) and the field, never a ``KeyError`` deep inside a command.

- :class:`DatasetMeta`: ``DIR/dataset.json`` (identity of a dataset directory).
- :class:`ManifestRow`: one line of ``DIR/manifest.jsonl``.
- :class:`IrdropParams`: ``params.json`` of an IR-drop sample (only the fields readers use are checked;
  the rest is kept as is).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eda.errors import InputError

__all__ = ["DatasetMeta", "ManifestRow", "IrdropParams", "IrdropSummary", "read_json_file", "read_model",
           "validation_text", "load_npy", "check_sample_files"]


class DatasetMeta(BaseModel):
    """``dataset.json``: what built the dataset; a resumed build must match it."""

    model_config = ConfigDict(extra="allow")
    kind: str = Field(..., min_length=1, description="dataset kind (irdrop, topo, ...)")
    builder: str = Field(..., min_length=1, description="module:function of the per-sample builder")
    verifier: str | None = Field(None, description="module:function of the per-sample verifier")
    config: dict[str, Any] = Field(..., description="options that change sample contents")
    seed: int = Field(..., ge=0, description="base seed")
    format: int = Field(..., ge=1, description="on-disk layout version")


class ManifestRow(BaseModel):
    """One row of ``manifest.jsonl``: a finished attempt at one sample."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(..., pattern=r"^s\d{6,}$", description="sample folder name")
    index: int = Field(..., ge=0)
    seed: int = Field(..., ge=0)
    status: Literal["ok", "failed"]
    seconds: float | None = None
    files: int | None = Field(None, ge=0)
    bytes: int | None = Field(None, ge=0)
    error: str | None = None
    info: dict[str, Any] = Field(default_factory=dict)


class IrdropSummary(BaseModel):
    model_config = ConfigDict(extra="allow")
    nodes: int = Field(..., ge=1)
    loads: int = Field(..., ge=0)
    pads: int = Field(..., ge=1)
    n_steps: int = Field(..., ge=2)
    n_slices: int = Field(..., ge=1)
    vdd: float = Field(..., gt=0)


class IrdropParams(BaseModel):
    """``params.json`` of an IR-drop sample (format 1)."""

    model_config = ConfigDict(extra="allow")
    format: int = Field(..., ge=1)
    kind: Literal["irdrop"] = "irdrop"
    seed: int = Field(..., ge=0)
    size: str
    summary: IrdropSummary


def validation_text(e: ValidationError) -> str:
    """``field.sub: message; ...`` of a pydantic error."""
    return "; ".join(f"{'.'.join(str(x) for x in err['loc']) or 'value'}: {err['msg']}" for err in e.errors())


def read_json_file(path: str | Path, what: str = "JSON file") -> Any:
    """The parsed JSON of ``path``; ``InputError`` naming the file when it is missing, binary or not JSON."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"missing {what}", file=path) from None
    except OSError as e:
        raise InputError(f"cannot read {what}: {e.strerror}", file=path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{what} is not UTF-8 text (binary junk at byte {e.start})", file=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{what} is not valid JSON: {e.msg}", file=path, line=e.lineno) from None


def read_model(path: str | Path, model: type[BaseModel], what: str = "JSON file") -> BaseModel:
    """Read ``path`` and validate it as ``model`` (``InputError`` naming the file and the field)."""
    obj = read_json_file(path, what)
    try:
        return model.model_validate(obj)
    except ValidationError as e:
        raise InputError(f"{what} has the wrong shape: {validation_text(e)}", file=path) from None


def load_npy(path: str | Path, mmap: bool = False):
    """``np.load`` of a plain array file, never unpickling (``allow_pickle=False``); ``InputError`` naming the
    file when it is not an ``.npy`` array or holds pickled (object) data."""
    import numpy as np

    path = Path(path)
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    except FileNotFoundError:
        raise InputError("missing array file", file=path) from None
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise InputError("holds pickled (object) data; refused: arrays are loaded with allow_pickle=False",
                             file=path) from None
        raise InputError(f"not a NumPy .npy array: {e}", file=path) from None
    except (OSError, EOFError) as e:
        raise InputError(f"not a readable .npy array: {e}", file=path) from None


def check_sample_files(sample_dir: str | Path) -> None:
    """Cheap sanity of a sample folder before a reader relies on it: every ``.npy`` is a plain array (no
    pickles), every ``.json`` parses, every text file (``.csv``, ``.sp``) starts as UTF-8 text without NUL
    bytes. ``InputError`` names the first bad file."""
    d = Path(sample_dir)
    for f in sorted(d.iterdir()):
        if f.suffix == ".npy":
            load_npy(f, mmap=True)
        elif f.suffix == ".json":
            read_json_file(f, f.name)
        elif f.suffix in (".csv", ".sp"):
            with open(f, "rb") as fh:
                head = fh.read(1 << 16)
            if b"\x00" in head:
                raise InputError("binary data (NUL bytes) in a text file", file=f)
            try:
                head.decode("utf-8")
            except UnicodeDecodeError as e:
                if e.start < len(head) - 4:  # not just a multi-byte character cut at the 64 KiB mark
                    raise InputError(f"not UTF-8 text (byte 0x{head[e.start]:02x} at offset {e.start})",
                                     file=f) from None
