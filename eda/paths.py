"""The one paths object: where shipped data and outputs live.

Package data is found through the installed ``eda.data`` package, never the working directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

#: The shipped data folders: attribute name → what it holds (each is ``PATHS.data / name``).
FOLDERS: dict[str, str] = {
    "netlists": "Example SPICE netlists.",
    "pdn": "Example PDN decks.",
    "topologies": "Built-in analog topology library (and the standard cells the public data set uses).",
    "cells": "Default ACIM cell library (sky130).",
    "models": "Pretrained checkpoints.",
}


def _folder(name: str) -> property:
    return property(lambda self: self.data / name, doc=FOLDERS[name])


@dataclass(frozen=True)
class Paths:
    """Locations of shipped data (one property per entry of :data:`FOLDERS`). Use :data:`PATHS`; do not
    build string paths elsewhere."""

    data: Path
    netlists = _folder("netlists")
    pdn = _folder("pdn")
    topologies = _folder("topologies")
    cells = _folder("cells")
    models = _folder("models")


PATHS = Paths(data=Path(str(resources.files("eda.data"))))


def user_cache_dir(*parts: str) -> Path:
    """A folder in the user's cache (``$EDA_CACHE``, else ``$XDG_CACHE_HOME/eda``, else
    ``~/.cache/eda``), created on first use. Holds things derived at run time from installed files
    (reduced device-model libraries, gm/Id tables), never shipped data.

    Raises:
        ConfigError: the folder cannot be made (the variable names a file, or a folder without write access).
    """
    import os

    base = os.environ.get("EDA_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "eda")
    path = Path(base).joinpath(*parts)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        from eda.errors import ConfigError

        raise ConfigError("EDA_CACHE", f"cannot make the cache folder {path} ({e.strerror or e}); set EDA_CACHE to "
                                       "a folder you can write") from e
    return path
