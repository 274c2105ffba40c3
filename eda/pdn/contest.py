"""ICCAD'23 Problem C cases, read as they come.

Two layouts:

- folder: ``testcaseN/{netlist.sp, current_map.csv, pdn_density.csv, eff_dist_map.csv, ir_drop_map.csv}``
  (``real/``; some cases ship the maps only, without ``netlist.sp``);
- flat: ``current_mapNN.sp`` beside ``current_mapNN_{current,pdn_density,eff_dist,ir_drop}.csv`` (``fake/``).

Maps are float arrays in the contest orientation ``map[x, y]`` (CSV row = x µm). A case with a deck and
maps fixes the database units per µm from the maps' shape (:func:`eda.pdn.maps.fit_dbu_per_um`); a
maps-only case reports the contest's 2000. Reading is lazy: :func:`find_cases` only looks at file names,
maps are read on first use of :attr:`ContestCase.maps`, the deck on first use of :attr:`ContestCase.pdn`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from eda.errors import InputError

__all__ = ["ContestCase", "read_case", "find_cases", "MAP_KEYS", "FOLDER_FILES", "FLAT_SUFFIX"]

#: The four maps of a case: three inputs and the golden static IR drop.
MAP_KEYS = ("current", "pdn_density", "eff_dist", "ir_drop")
#: File names in the folder layout.
FOLDER_FILES = {"current": "current_map.csv", "pdn_density": "pdn_density.csv", "eff_dist": "eff_dist_map.csv",
                "ir_drop": "ir_drop_map.csv"}
FOLDER_DECK = "netlist.sp"
#: Suffixes in the flat layout (``<stem>_<suffix>.csv``).
FLAT_SUFFIX = {k: f"_{k}.csv" for k in MAP_KEYS}


@dataclass
class ContestCase:
    """One contest case.

    Attributes:
        name: ``testcase1`` (folder) or ``current_map11`` (flat).
        deck: the SPICE deck, ``None`` for maps-only cases.
        map_paths: the map files present, by key (``current``, ``pdn_density``, ``eff_dist``, ``ir_drop``).
        dbu_override: a user's ``--dbu-per-um``, checked against the maps.
    """

    name: str
    deck: Path | None
    map_paths: dict[str, Path] = field(default_factory=dict)
    dbu_override: float | None = None

    @cached_property
    def maps(self) -> dict[str, np.ndarray]:
        """The given maps (``map[x, y]``), read on first use; all of one shape."""
        from eda.pdn.mapcsv import read_map_csv

        out = {k: read_map_csv(p) for k, p in self.map_paths.items()}
        shapes = {k: m.shape for k, m in out.items()}
        if len(set(shapes.values())) > 1:
            raise InputError(f"maps of case {self.name} differ in shape: "
                             + ", ".join(f"{k} {s[0]}x{s[1]}" for k, s in shapes.items()))
        return out

    @property
    def shape(self) -> tuple[int, int] | None:
        """Shape of the given maps, ``None`` when the case has none."""
        return next(iter(self.maps.values())).shape if self.map_paths else None

    @cached_property
    def pdn(self):
        """The parsed deck (:class:`~eda.pdn.model.PDN`); ``InputError`` for a maps-only case."""
        if self.deck is None:
            raise InputError(f"case {self.name} has no netlist (maps only)")
        from eda.pdn.parse import read_pdn

        return read_pdn(self.deck)

    @cached_property
    def dbu_per_um(self) -> float:
        """Database units per µm: the override, else fitted to the maps (2000 when there is no deck)."""
        from eda.pdn.maps import CONTEST_DBU_PER_UM, fit_dbu_per_um

        if self.deck is None:
            return float(self.dbu_override or CONTEST_DBU_PER_UM)
        return fit_dbu_per_um(self.pdn, self.shape, override=self.dbu_override)

    @property
    def complete(self) -> bool:
        """A deck and all four maps."""
        return self.deck is not None and set(self.map_paths) == set(MAP_KEYS)

    def __repr__(self) -> str:
        return (f"ContestCase({self.name!r}, deck={self.deck.name if self.deck else None}, "
                f"maps={sorted(self.map_paths)})")


def _folder_case(d: Path, require_maps: bool) -> ContestCase:
    deck = d / FOLDER_DECK
    paths = {k: d / f for k, f in FOLDER_FILES.items() if (d / f).is_file()}
    if require_maps:
        _check_missing(d.name, paths, {k: d / f for k, f in FOLDER_FILES.items()})
    return ContestCase(d.name, deck if deck.is_file() else None, paths)


def _flat_case(deck: Path) -> ContestCase:
    stem = deck.with_suffix("")
    paths = {k: Path(f"{stem}{s}") for k, s in FLAT_SUFFIX.items() if Path(f"{stem}{s}").is_file()}
    return ContestCase(stem.name, deck, paths)


def _check_missing(name: str, have: dict, expect: dict) -> None:
    miss = [str(p) for k, p in expect.items() if k not in have]
    if miss and have:
        raise InputError(f"contest case {name} is missing map(s): {', '.join(miss)}")


def read_case(path: str | Path, dbu_per_um: float | None = None) -> ContestCase:
    """Read one case: a ``testcaseN`` folder, a deck (``netlist.sp`` in such a folder, or a flat
    ``current_mapNN.sp`` with its CSVs beside it), or any bare deck (no maps).

    Args:
        path: folder or deck.
        dbu_per_um: override of the database units per µm (checked against the maps when there are any).

    Raises:
        InputError: path absent; a folder with neither deck nor maps; a folder with some of the four maps
            but not all (names the missing file).
    """
    p = Path(path)
    if p.is_dir():
        if not (p / FOLDER_DECK).is_file() and not any((p / f).is_file() for f in FOLDER_FILES.values()):
            raise InputError(f"not a contest case folder: no {FOLDER_DECK} and none of "
                             f"{', '.join(FOLDER_FILES.values())}", file=p)
        case = _folder_case(p, require_maps=True)
    elif p.is_file():
        if p.name == FOLDER_DECK:
            case = _folder_case(p.parent, require_maps=True)
        else:
            case = _flat_case(p)
            _check_missing(case.name, case.map_paths,
                           {k: Path(f"{p.with_suffix('')}{s}") for k, s in FLAT_SUFFIX.items()})
    else:
        raise InputError("no such case folder or deck", file=p)
    case.dbu_override = dbu_per_um
    return case


def find_cases(root: str | Path, complete: bool = False) -> list[ContestCase]:
    """All cases under ``root`` (recursively), both layouts, sorted by path.

    Args:
        complete: keep only cases with a deck and all four maps.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError("no such folder", file=root)
    cases: dict[Path, ContestCase] = {}
    for f in sorted(root.rglob("*")):
        if f.name == FOLDER_DECK or f.name in FOLDER_FILES.values():
            d = f.parent
            if d not in cases:
                cases[d] = _folder_case(d, require_maps=False)
        elif f.suffix == ".sp" and f.is_file():
            cases[f] = _flat_case(f)
        elif f.name.endswith(FLAT_SUFFIX["current"]):  # flat maps-only case
            deck = Path(str(f)[: -len(FLAT_SUFFIX["current"])] + ".sp")
            if not deck.exists():
                c = _flat_case(deck)
                cases[deck] = ContestCase(c.name, None, c.map_paths)
    out = [cases[k] for k in sorted(cases)]
    return [c for c in out if c.complete] if complete else out
