"""eda: an EDA machine-learning toolkit for circuit design.

``import eda`` is cheap (nothing heavy loads); the entry points a notebook wants are attributes that import
their module on first use::

    import eda
    c = eda.read_spice("amp.sp")                  # Circuit (eda.read.from_spice)
    pdn = eda.read_pdn("grid.sp")                 # PDN deck (eda.pdn.parse)
    res = eda.solve_static(pdn)                   # exact static IR drop (eda.pdn.solve)
    case = eda.read_case("iccad23/real/testcase1")  # ICCAD'23 contest case (eda.pdn.contest)
    eda.predict_case("grid.sp", "out/pred")       # PDNNet IR-drop map (eda.predictors.predict)
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name -> "module:attribute", imported on first access (PEP 562).
_LAZY = {
    "Circuit": "eda.circuit:Circuit",
    "read_spice": "eda.read.from_spice:read_spice",
    "parse_spice": "eda.read.from_spice:parse_spice",
    "write_spice": "eda.export.to_spice:write_spice",
    "to_spice": "eda.export.to_spice:to_spice",
    "operating_point": "eda.sim.ngspice:operating_point",
    "transient": "eda.sim.ngspice:transient",
    "PDN": "eda.pdn.model:PDN",
    "read_pdn": "eda.pdn.parse:read_pdn",
    "solve_static": "eda.pdn.solve:solve_static",
    "solve_transient": "eda.pdn.solve:solve_transient",
    "check_pdn": "eda.pdn.check:check_pdn",
    "read_case": "eda.pdn.contest:read_case",
    "find_cases": "eda.pdn.contest:find_cases",
    "score": "eda.pdn.metrics:score",
    "read_sample": "eda.dataset.irdrop:read_sample",
    "build_irdrop_dataset": "eda.generators.irdrop_sample:build_irdrop_dataset",
    "run_drc": "eda.verify.drc:run_drc",
    "run_lvs": "eda.verify.lvs:run_lvs",
    "predict_case": "eda.predictors.predict:predict_case",
    "build_macro": "eda.layout.build:build",
    "InputError": "eda.errors:InputError",
    "EdaError": "eda.errors:EdaError",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'eda' has no attribute {name!r}")
    mod, _, attr = target.partition(":")
    value = getattr(importlib.import_module(mod), attr)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
