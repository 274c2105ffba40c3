"""Multi-objective design-space exploration of ACIM macros (NSGA-II, pymoo).

For a given array (rows H × cols W, input/weight precision), NSGA-II searches

====================  ==============================================  ==========
variable              range                                           kind
====================  ==============================================  ==========
``local_array`` L     divisors of H with H/L ≥ 2, L ≤ ``max_local``     discrete
``adc_bits`` b        1 .. min(``max_adc_bits``, v2(H/L_min), library)  discrete
``adc_share`` S       divisors of W up to ``max_adc_share`` (and the     discrete
                      library template's ``max_adc_share``)
``vdd``               ``vdd_range`` (V)                                continuous
``f_clk_hz``          ``f_range`` (Hz)                                 continuous
====================  ==============================================  ==========

minimising ``(−snr_db, −tops, energy_per_op_fJ, area_mm2)`` of :mod:`eda.generators.acim_model`,
with constraints as constraints (``g ≤ 0``): the DAC fits the column (``b ≤ v2(H/L)``), the clock
meets the settling/logic limit (``f_clk ≤ f_max``), with a shared ADC (S > 1) the compute line of a
column waiting for its conversion stays within ``v_th`` of the rails (``cl_overshoot_V``: beyond it
its multiplexer and reset gates conduct and the MAC charge leaks, measured by
:mod:`eda.generators.acim_shared`), and any user requirements (``"snr_db>=20"``).
Every evaluated design goes into an archive; the returned front is the exact non-dominated set of
the archive's feasible designs (duplicates removed), so it is truly non-dominated, and a fixed seed
gives the same front.

``pareto.json`` (read by ``eda acim build --from-pareto pareto.json --pick N``) is a JSON **list**;
entry ``N`` (0-based, also stored as ``index``) is one Pareto design::

    [{"index": 0,
      "params": {"rows": 256, "cols": 64, "local_array": 4, "adc_bits": 6, "input_bits": 4,
                 "weight_bits": 4, "adc_share": 1, "vdd": 1.8, "f_clk_hz": 1.5e8, "c_unit_fF": 2.0},
      "metrics": {"snr_db": 31.2, "tops": 0.004, "energy_per_op_fJ": 120.0, "area_mm2": 0.28, ...},
      "counts": {"bitcell": 16384, "compute": 4096, ...}},
     ...]

``params`` are the fields of :class:`~eda.generators.acim_model.AcimParams` (``AcimParams.from_dict``
reads them back); ``metrics`` are the keys of :data:`~eda.generators.acim_model.METRICS` (units
there); ``counts`` are the cells per library role. Designs are sorted by descending ``snr_db``.
``exploration.json`` next to it records the spec, cell library, seed, run time and the pick.
"""

from __future__ import annotations

import csv
import json
import operator
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from eda.errors import EdaError, InputError
from eda.generators.acim_model import (
    ADDED_METRICS,
    METRICS,
    AcimParams,
    AcimTech,
    CellSizes,
    ParamError,
    cell_counts,
    evaluate_batch,
    two_adic,
)
from eda.generators.acim_params import ParamsModel

#: Objectives as (metric, sense); pymoo minimises, so "max" metrics are negated.
OBJECTIVES: tuple[tuple[str, str], ...] = (("snr_db", "max"), ("tops", "max"),
                                            ("energy_per_op_fJ", "min"), ("area_mm2", "min"))

#: Design variables, in the optimiser's order.
_VARS = ("local_array", "adc_bits", "adc_share", "vdd", "f_clk_hz")

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_REQ = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*$")


class InfeasibleError(EdaError):
    """No explored design satisfies the constraints; the message names the tightest one."""


@dataclass(frozen=True)
class Requirement:
    """A requirement on one metric, e.g. ``snr_db >= 20``."""

    metric: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str, where: str = "requirement") -> Requirement:
        m = _REQ.match(text)
        if not m:
            raise InputError(f"cannot read requirement {text!r}: expected METRIC>=VALUE, METRIC<=VALUE "
                             f"(e.g. 'snr_db>=20')", file=where)
        metric, op, val = m.group(1), m.group(2), m.group(3)
        if metric not in METRICS:
            raise InputError(f"unknown metric {metric!r} in {text!r}; known: {', '.join(METRICS)}",
                             file=where)
        try:
            value = float(val)
        except ValueError as e:
            raise InputError(f"bad number {val!r} in {text!r}", file=where) from e
        return cls(metric, op, value)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"

    def violation(self, x: np.ndarray) -> np.ndarray:
        """``g ≤ 0`` form, scaled by the bound's magnitude so constraints are comparable."""
        scale = max(abs(self.value), 1e-12)
        if self.op in (">=", ">"):
            return (self.value - x) / scale
        return (x - self.value) / scale

    def ok(self, x: float) -> bool:
        return bool(_OPS[self.op](x, self.value))


class ExploreSpec(ParamsModel):
    """What to explore (a pydantic params model: errors name the field)."""

    where: ClassVar[str] = "acim explore"
    rows: StrictInt = Field(..., ge=2, description="array rows H (inputs per column); given")
    cols: StrictInt = Field(..., ge=1, description="array columns W; given")
    input_bits: StrictInt = Field(4, ge=1, le=16, description="input precision Bx (bit-serial)")
    weight_bits: StrictInt = Field(4, ge=1, le=16, description="weight precision Bw (bit-sliced); divides cols")
    pop: StrictInt = Field(100, ge=4, description="NSGA-II population")
    gens: StrictInt = Field(100, ge=1, description="NSGA-II generations")
    seed: StrictInt = Field(1, ge=0, description="random seed (same seed, same front)")
    max_local: StrictInt = Field(64, ge=1, description="largest local array size L considered")
    max_adc_bits: StrictInt = Field(8, ge=1, le=16, description="largest ADC resolution considered")
    max_adc_share: StrictInt = Field(8, ge=1, description="most columns sharing one comparator")
    vdd_range: tuple[float, float] = Field((1.2, 1.8), description="supply range (V), 0 < low <= high")
    f_range: tuple[float, float] = Field((10e6, 400e6), description="clock range (Hz), 0 < low <= high")
    vdd_step: float = Field(0.05, gt=0, description="grid the supply is snapped to (a regulator step, V)")
    f_step_hz: float = Field(1e6, gt=0, description="grid the clock is snapped to (a PLL step, Hz)")
    c_unit_fF: float = Field(2.0, gt=0, description="unit cap when the cell library does not state it (fF)")
    requirements: tuple[str, ...] = Field((), description="metric requirements enforced as constraints, e.g. "
                                                          "('snr_db>=20',)")

    @model_validator(mode="after")
    def _consistent(self) -> ExploreSpec:
        if self.cols % self.weight_bits:
            raise ParamError("weight_bits", f"cols={self.cols} must be divisible by weight_bits="
                             f"{self.weight_bits} (bit-sliced weights)", where=self.where)
        for name in ("vdd_range", "f_range"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                raise ParamError(name, f"needs 0 < low <= high, got ({lo}, {hi})", where=self.where)
        if not self.local_choices():
            raise ParamError("rows", f"no local array size L <= max_local={self.max_local} leaves "
                             f"at least 2 caps per column for rows={self.rows}", where=self.where)
        for r in self.requirements:
            Requirement.parse(r, where="acim explore requirements")
        return self

    def local_choices(self) -> list[int]:
        """Divisors L of rows with rows/L ≥ 2 and L ≤ max_local."""
        return [d for d in range(1, self.rows // 2 + 1) if self.rows % d == 0 and d <= self.max_local]

    def share_choices(self) -> list[int]:
        """Divisors S of cols with S ≤ max_adc_share."""
        return [d for d in range(1, self.cols + 1) if self.cols % d == 0 and d <= self.max_adc_share]

    def bits_max(self) -> int:
        return max(1, min(self.max_adc_bits, int(two_adic(self.rows // self.local_choices()[0]))))

    def parsed_requirements(self) -> list[Requirement]:
        return [Requirement.parse(r, where="acim explore requirements") for r in self.requirements]


@dataclass
class ExploreResult:
    """Outcome of :func:`explore`.

    Attributes:
        designs: the Pareto designs, each ``{"index", "params", "metrics", "counts"}``, sorted by
            descending SNR (the ``pareto.json`` entries).
        archive_metrics: every evaluated design's objectives (rows: designs; columns: the
            :data:`OBJECTIVES` metrics, natural signs), for plots.
        archive_feasible: whether each evaluated design met every constraint.
        spec, cells, tech: what was explored with.
        n_evals: designs evaluated. seconds: wall time.
    """

    designs: list[dict[str, Any]]
    archive_metrics: np.ndarray
    archive_feasible: np.ndarray
    spec: ExploreSpec
    cells: CellSizes
    tech: AcimTech
    n_evals: int
    seconds: float


class ParetoDesign(BaseModel):
    """One entry of ``pareto.json`` (the file is a JSON list of these, sorted by descending SNR)."""

    model_config = ConfigDict(extra="forbid")
    index: StrictInt = Field(..., ge=0, description="position in the list (what --pick takes)")
    params: AcimParams = Field(..., description="the design (AcimParams fields)")
    metrics: dict[str, float] = Field(..., description="every acim_model.METRICS key (units there)")
    counts: dict[str, StrictInt] = Field(..., description="cells per library role")

    @model_validator(mode="after")
    def _complete(self) -> ParetoDesign:
        missing = [k for k in METRICS if k not in self.metrics and k not in ADDED_METRICS]
        if missing:
            raise ValueError(f"metrics lack {', '.join(missing[:3])}")
        return self


def read_pareto(path: str | Path) -> list[ParetoDesign]:
    """Read and validate a ``pareto.json``; a missing, binary, non-JSON or wrongly shaped file is
    one :class:`InputError` naming the file and the field (``[3].params.adc_bits: ...``)."""
    from pydantic import TypeAdapter, ValidationError

    from eda.dataset.schema import read_json_file

    data = read_json_file(path, "pareto file")
    if not isinstance(data, list) or not data:
        raise InputError("expected a non-empty JSON list of designs (pareto.json of eda acim explore)", file=path)
    try:
        designs = TypeAdapter(list[ParetoDesign]).validate_python(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in err["loc"])
        raise InputError(f"design {loc}: {err['msg']}", file=path) from None
    except ParamError as e:
        raise InputError(f"design params: {e}", file=path) from None
    bad = next((i for i, d in enumerate(designs) if d.index != i), None)
    if bad is not None:
        raise InputError(f"design [{bad}]: index {designs[bad].index} != its position {bad}", file=path)
    return designs


class _Decoder:
    """Maps the optimiser's vectors to design parameter arrays (integer columns are indices)."""

    def __init__(self, spec: ExploreSpec, cells: CellSizes):
        self.spec = spec
        self.Ls = np.array(spec.local_choices(), dtype=np.int64)
        self.Ss = np.array([s for s in spec.share_choices() if s <= (cells.max_adc_share or s)], dtype=np.int64)
        self.bmax = min(spec.bits_max(), cells.max_adc_bits or spec.bits_max())
        self.xl = np.array([0, 1, 0, spec.vdd_range[0], spec.f_range[0]], dtype=float)
        self.xu = np.array([len(self.Ls) - 1, self.bmax, len(self.Ss) - 1, spec.vdd_range[1],
                            spec.f_range[1]], dtype=float)
        self.int_cols = [0, 1, 2]

    def decode(self, X: np.ndarray) -> dict[str, np.ndarray]:
        X = np.atleast_2d(X)
        ii = np.clip(np.rint(X[:, self.int_cols]), self.xl[self.int_cols], self.xu[self.int_cols]).astype(int)
        s = self.spec
        vdd = s.vdd_range[0] + np.floor((X[:, 3] - s.vdd_range[0]) / s.vdd_step + 0.5) * s.vdd_step
        f = s.f_range[0] + np.floor((X[:, 4] - s.f_range[0]) / s.f_step_hz + 0.5) * s.f_step_hz
        return {"local_array": self.Ls[ii[:, 0]], "adc_bits": ii[:, 1], "adc_share": self.Ss[ii[:, 2]],
                "vdd": np.round(np.minimum(vdd, s.vdd_range[1]), 6),
                "f_clk_hz": np.round(np.minimum(f, s.f_range[1]), 3)}


def _evaluate(spec: ExploreSpec, cells: CellSizes, tech: AcimTech, d: dict[str, np.ndarray],
              cache: dict | None = None):
    m = evaluate_batch(spec.rows, spec.cols, d["local_array"], d["adc_bits"], spec.input_bits,
                       spec.weight_bits, d["adc_share"], d["vdd"], d["f_clk_hz"], spec.c_unit_fF,
                       cells, tech, cache=cache)
    n_caps = spec.rows // d["local_array"]
    g = [d["adc_bits"] - two_adic(n_caps),  # 2**b equal cap groups in the column
         d["f_clk_hz"] / m["f_max_hz"] - 1.0,  # clock within the settling / logic limit
         m["cl_overshoot_V"] / tech.v_th - 1.0]  # S > 1: waiting compute lines keep their gates off
    g += [r.violation(m[r.metric]) for r in spec.parsed_requirements()]
    return m, np.stack(g, -1).astype(float)


def constraint_names(spec: ExploreSpec) -> list[str]:
    return (["adc_bits <= log2 of the column's cap groups (2**adc_bits | rows/local_array)",
             "f_clk_hz <= f_max_hz (DAC settling / SAR logic)",
             "cl_overshoot_V <= v_th (shared ADC: a waiting compute line stays within a threshold of the rails)"]
            + [f"requirement {r}" for r in spec.parsed_requirements()])


def _infeasible_message(spec: ExploreSpec, F: np.ndarray, G: np.ndarray) -> str:
    names = constraint_names(spec)
    worst = G.min(0)  # the smallest violation reached for each constraint
    j = int(np.argmax(worst))
    msg = (f"no feasible design among {len(G)} evaluated: the tightest constraint is "
           f"'{names[j]}' (never met; closest miss {worst[j]:.3g} relative)")
    n_fixed = len(names) - len(spec.parsed_requirements())
    if j >= n_fixed:
        r = spec.parsed_requirements()[j - n_fixed]
        col = {k: i for i, (k, _) in enumerate(OBJECTIVES)}.get(r.metric)
        if col is not None:
            vals = F[:, col] * (-1 if OBJECTIVES[col][1] == "max" else 1)
            best = vals.max() if r.op in (">=", ">") else vals.min()
            msg += f"; best {r.metric} reached: {best:.4g}"
    return msg


def non_dominated(F: np.ndarray) -> np.ndarray:
    """Indices (ascending) of the rows of ``F`` (minimised objectives) that no other row
    dominates — pymoo's ``NonDominatedSorting`` first front; among identical rows only the first
    is kept."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    F = np.asarray(F, dtype=float)
    if len(F) == 0:
        return np.zeros(0, dtype=np.int64)
    _, first = np.unique(F, axis=0, return_index=True)  # identical rows: keep the first
    first = np.sort(first)
    front = NonDominatedSorting().do(F[first], only_non_dominated_front=True)
    return np.sort(first[np.asarray(front, dtype=np.int64)])


def explore(spec: ExploreSpec, cells: CellSizes, tech: AcimTech | None = None,
            progress: bool = True) -> ExploreResult:
    """Run NSGA-II on ``spec`` with the given cell sizes; return the exact Pareto front of all
    evaluated feasible designs.

    Raises:
        InfeasibleError: no evaluated design satisfies every constraint (the message names the
            tightest constraint and the best value reached).
    """
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.callback import Callback
    from pymoo.core.problem import Problem
    from pymoo.core.repair import Repair
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.sampling.rnd import FloatRandomSampling
    from pymoo.optimize import minimize

    tech = tech or AcimTech()
    dec = _Decoder(spec, cells)
    n_g = len(constraint_names(spec))
    cache: dict = {}  # conversion MSE by exact inputs: the GA revisits (L, b, vdd) often
    arch_P: list[np.ndarray] = []  # decoded design variables
    arch_M: list[np.ndarray] = []  # all metrics, in METRICS order
    arch_F: list[np.ndarray] = []
    arch_G: list[np.ndarray] = []

    class RoundInts(Repair):
        def _do(self, problem, X, **kwargs):
            X = np.array(X, dtype=float)
            X[:, dec.int_cols] = np.rint(X[:, dec.int_cols])
            return X

    class AcimProblem(Problem):
        def __init__(self):
            super().__init__(n_var=5, n_obj=len(OBJECTIVES), n_ieq_constr=n_g, xl=dec.xl, xu=dec.xu,
                             elementwise=False)

        def _evaluate(self, X, out, *args, **kwargs):
            d = dec.decode(X)
            m, g = _evaluate(spec, cells, tech, d, cache)
            m.pop("_counts")
            F = np.stack([-m[k] if s == "max" else m[k] for k, s in OBJECTIVES], -1)
            arch_P.append(np.stack([d[k].astype(float) for k in _VARS], -1))
            arch_M.append(np.stack([np.broadcast_to(m[k], F.shape[:1]) for k in METRICS], -1))
            arch_F.append(F)
            arch_G.append(g)
            out["F"] = F
            out["G"] = g

    class Bar(Callback):
        def __init__(self, bar):
            super().__init__()
            self.bar = bar

        def notify(self, algorithm):
            if self.bar is not None:
                self.bar.update(1)

    algo = NSGA2(pop_size=spec.pop, sampling=FloatRandomSampling(), repair=RoundInts(),
                 crossover=SBX(prob=0.9, eta=15), mutation=PM(eta=20), eliminate_duplicates=True)
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=spec.gens, desc=f"NSGA-II {spec.rows}x{spec.cols}", unit="gen", leave=False)
    try:
        minimize(AcimProblem(), algo, ("n_gen", spec.gens), seed=spec.seed, verbose=False,
                 callback=Bar(bar))
    finally:
        if bar is not None:
            bar.close()
    P = np.concatenate(arch_P)
    M = np.concatenate(arch_M)
    F = np.concatenate(arch_F)
    G = np.concatenate(arch_G)
    feasible = (G <= 0).all(1)
    if not feasible.any():
        raise InfeasibleError(_infeasible_message(spec, F, G))
    # one entry per distinct design (the GA revisits designs), then the exact non-dominated set
    _, first = np.unique(P, axis=0, return_index=True)
    uniq = np.sort(first)
    fi = uniq[feasible[uniq]]
    front = fi[non_dominated(F[fi])]
    order = front[np.argsort(-M[front, list(METRICS).index("snr_db")], kind="stable")]
    designs = []
    for rank, j in enumerate(order):
        vals = dict(zip(_VARS, P[j], strict=True))
        metrics = {k: float(v) for k, v in zip(METRICS, M[j], strict=True)}
        params = AcimParams(rows=spec.rows, cols=spec.cols, local_array=int(vals["local_array"]),
                            adc_bits=int(vals["adc_bits"]), input_bits=spec.input_bits,
                            weight_bits=spec.weight_bits, adc_share=int(vals["adc_share"]),
                            vdd=float(vals["vdd"]), f_clk_hz=float(vals["f_clk_hz"]),
                            c_unit_fF=metrics["c_unit_fF"])
        counts = cell_counts(spec.rows, spec.cols, params.local_array, params.adc_bits, params.adc_share, tech)
        designs.append({"index": rank, "params": params.to_dict(), "metrics": metrics,
                        "counts": {k: int(v) for k, v in counts.items()}})
    nat = F * np.array([-1.0 if s == "max" else 1.0 for _, s in OBJECTIVES])
    return ExploreResult(designs=designs, archive_metrics=nat, archive_feasible=feasible, spec=spec,
                         cells=cells, tech=tech, n_evals=len(F), seconds=time.perf_counter() - t0)


def parse_prefer(text: str) -> tuple[str, str]:
    """``"min:area_mm2"`` / ``"max:tops"`` / ``"area_mm2"`` (the metric's natural sense)."""
    sense, _, metric = text.partition(":") if ":" in text else ("", "", text)
    metric = metric.strip()
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r} in preference {text!r}; known: {', '.join(METRICS)}",
                         file="acim preference")
    sense = sense.strip() or METRICS[metric][1] or "min"
    if sense not in ("min", "max"):
        raise InputError(f"preference sense must be 'min' or 'max', got {sense!r}", file="acim preference")
    return sense, metric


def pick(designs: Sequence[dict[str, Any]], require: Sequence[str] = (),
         prefer: str = "min:area_mm2") -> dict[str, Any]:
    """One design: among those meeting every requirement, the best by ``prefer``.

    Example: ``pick(front, ["snr_db>=20"], "min:area_mm2")`` = "SNR ≥ 20 dB, then minimum area".

    Raises:
        InfeasibleError: no design meets the requirements (names the tightest one and the best
            value on the front).
    """
    reqs = [Requirement.parse(r, where="acim preference") for r in require]
    sense, metric = parse_prefer(prefer)
    if not designs:
        raise InfeasibleError("no designs to pick from")
    ok = [d for d in designs if all(r.ok(d["metrics"][r.metric]) for r in reqs)]
    if not ok:
        # tightest: the requirement that the fewest designs meet
        met = [sum(r.ok(d["metrics"][r.metric]) for d in designs) for r in reqs]
        r = reqs[int(np.argmin(met))]
        vals = [d["metrics"][r.metric] for d in designs]
        best = max(vals) if r.op in (">=", ">") else min(vals)
        raise InfeasibleError(f"no Pareto design meets all requirements; tightest: {r} "
                              f"(met by {min(met)} of {len(designs)}; best {r.metric} on the front: "
                              f"{best:.4g})")
    key = (lambda d: d["metrics"][metric]) if sense == "min" else (lambda d: -d["metrics"][metric])
    return min(ok, key=key)


#: What ``eda acim explore`` does without options: the 64×64 array (4-bit inputs and weights), then
#: the preference pick "SNR >= 20 dB, then minimum area".
DEFAULT_ROWS, DEFAULT_COLS = 64, 64
DEFAULT_REQUIRE: tuple[str, ...] = ("snr_db>=20",)
DEFAULT_PREFER = "min:area_mm2"


def default_design(cells: CellSizes | None = None) -> dict[str, Any]:
    """The design ``eda acim explore`` picks with every option at its default (the
    ``pareto.json`` entry: index, params, metrics, counts) — what ``eda acim build`` builds without
    options. Deterministic (seed 1); only designs the cell library's template can build are
    explored (ADC bits and ADC sharing within its limits)."""
    from eda.generators.acim_model import load_cell_sizes

    cells = cells if cells is not None else load_cell_sizes()
    res = explore(ExploreSpec(rows=DEFAULT_ROWS, cols=DEFAULT_COLS), cells, progress=False)
    return pick(res.designs, DEFAULT_REQUIRE, DEFAULT_PREFER)


def best_per_objective(designs: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """For each objective, the Pareto design that is best on it."""
    out = {}
    for k, s in OBJECTIVES:
        f = max if s == "max" else min
        out[k] = f(designs, key=lambda d, k=k: d["metrics"][k])
    return out


PARAM_COLUMNS = ("local_array", "adc_bits", "adc_share", "vdd", "f_clk_hz", "rows", "cols", "input_bits",
                 "weight_bits", "c_unit_fF")


def write_pareto(result: ExploreResult, out: str | Path, picked: dict[str, Any] | None = None,
                 plot: bool = True) -> dict[str, Path]:
    """Write ``pareto.json``, ``pareto.csv``, ``exploration.json`` and ``pareto.png`` under ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "pareto.json", "csv": out / "pareto.csv", "meta": out / "exploration.json"}
    for d in result.designs:  # what we write is what read_pareto accepts
        ParetoDesign.model_validate(d)
    paths["json"].write_text(json.dumps(result.designs, indent=1))
    metric_cols = [k for k in METRICS]
    with paths["csv"].open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["index", *PARAM_COLUMNS, *metric_cols])
        for d in result.designs:
            w.writerow([d["index"], *(d["params"][k] for k in PARAM_COLUMNS),
                        *(f"{d['metrics'][k]:.6g}" for k in metric_cols)])
    meta = {"spec": result.spec.to_dict(), "cells": result.cells.source, "technology": result.cells.technology,
            "cell_sizes_um": {k: list(v) for k, v in result.cells.sizes.items()},
            "cells_cap_fF": result.cells.cap_fF, "cells_max_adc_bits": result.cells.max_adc_bits,
            "cells_max_adc_share": result.cells.max_adc_share,
            "tech": result.tech.to_dict(), "objectives": [f"{s}:{k}" for k, s in OBJECTIVES],
            "n_evals": result.n_evals, "n_feasible": int(result.archive_feasible.sum()),
            "n_pareto": len(result.designs), "seconds": round(result.seconds, 3),
            "picked": picked["index"] if picked else None}
    paths["meta"].write_text(json.dumps(meta, indent=1))
    if plot:
        paths["png"] = plot_pareto(result, out / "pareto.png", picked)
    return paths


def plot_pareto(result: ExploreResult, path: str | Path, picked: dict[str, Any] | None = None,
                dpi: int = 90) -> Path:
    """Pairwise objective plots: every feasible evaluated design in grey, the front in colour
    (coloured by local array size), the picked design as a star."""
    from eda.plot import plt

    names = [k for k, _ in OBJECTIVES]
    labels = {k: f"{k} [{METRICS[k][0]}]" for k in names}
    A = result.archive_metrics[result.archive_feasible]
    P = np.array([[d["metrics"][k] for k in names] for d in result.designs])
    Lc = np.array([d["params"]["local_array"] for d in result.designs])
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    fig, axes = plt.subplots(2, 3, figsize=(14, 8), layout="constrained")
    sc = None
    for ax, (i, j) in zip(list(axes.flat), pairs, strict=True):
        ax.scatter(A[:, i], A[:, j], s=4, c="0.8", label="evaluated (feasible)", rasterized=True)
        sc = ax.scatter(P[:, i], P[:, j], s=14, c=np.log2(Lc), cmap="viridis", label="Pareto front")
        if picked is not None:
            ax.scatter([picked["metrics"][names[i]]], [picked["metrics"][names[j]]], marker="*", s=220,
                       c="red", edgecolors="k", label="picked", zorder=5)
        for axis, k in ((ax.set_xscale, names[i]), (ax.set_yscale, names[j])):
            if k in ("tops", "energy_per_op_fJ"):
                axis("log")
        ax.set_xlabel(labels[names[i]])
        ax.set_ylabel(labels[names[j]])
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8, loc="best")
    if sc is not None:
        cb = fig.colorbar(sc, ax=axes, shrink=0.5)
        cb.set_label("log2(local array L)")
    s = result.spec
    fig.suptitle(f"ACIM {s.rows}x{s.cols}, {s.input_bits}b x {s.weight_bits}b: {len(result.designs)} "
                 f"Pareto designs of {result.n_evals} evaluated ({result.seconds:.1f} s)")
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
