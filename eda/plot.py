"""The one plotting helper: Matplotlib with a file-writing backend chosen once, figures saved and closed.

Library functions that draw import ``plt`` from here instead of calling ``matplotlib.use`` themselves::

    from eda.plot import plt, save
    fig, ax = plt.subplots()
    ...
    save(fig, "out/picture.png")

The non-interactive ``Agg`` backend is selected when this module is first imported, unless pyplot was
already imported (a notebook or an application chose its backend: it is kept) or ``MPLBACKEND`` is set.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - after the backend choice

__all__ = ["plt", "figure", "save"]


def figure(nrows: int = 1, ncols: int = 1, **kw):
    """``plt.subplots(nrows, ncols, **kw)``: (figure, axes)."""
    return plt.subplots(nrows, ncols, **kw)


def save(fig, path: str | Path, dpi: int = 100, tight: bool = True) -> Path:
    """Write ``fig`` to ``path`` (parent folders created), close it, return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
