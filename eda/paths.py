"""The one paths object: where shipped data and outputs live.

Package data is found through the installed ``eda.data`` package, never the working directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    """Locations of shipped data. Use :data:`PATHS`; do not build string paths elsewhere."""

    data: Path

    @property
    def netlists(self) -> Path:
        """Example SPICE netlists."""
        return self.data / "netlists"

    @property
    def pdn(self) -> Path:
        """Example PDN decks."""
        return self.data / "pdn"

    @property
    def topologies(self) -> Path:
        """Built-in analog topology library."""
        return self.data / "topologies"

    @property
    def cells(self) -> Path:
        """Default ACIM cell library (sky130)."""
        return self.data / "cells"

    @property
    def models(self) -> Path:
        """Pretrained checkpoints."""
        return self.data / "models"


PATHS = Paths(data=Path(str(resources.files("eda.data"))))


def user_cache_dir(*parts: str) -> Path:
    """A folder in the user's cache (``$EDA_CACHE``, else ``$XDG_CACHE_HOME/eda``, else
    ``~/.cache/eda``), created on first use. Holds things derived at run time from installed files
    (reduced device-model libraries, gm/Id tables), never shipped data."""
    import os

    base = os.environ.get("EDA_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "eda")
    path = Path(base).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
