"""``generic45``: the generic 45 nm technology behind the synthetic design and PDN generators.

Looked up by name with :func:`eda.tech.get_technology` (``get_technology("generic45")``), beside sky130.

Every process number of :mod:`eda.generators.synth_design` and :mod:`eda.generators.synth_pdn` lives
here: row and site geometry, supply, metal stack (direction, sheet resistance, width and pitch ranges),
via cut resistance, package and decap ranges. Nothing else in the generators holds a process number.

The default, ``generic45``, is a 45 nm-class stack shaped like the ICCAD'23 contest PDNs (which come from
Nangate45 designs): horizontal ``m1`` standard-cell rails, vertical ``m4`` straps, ``m7``/``m8`` global
mesh and ``m9`` top layer carrying the bumps. Values are from public Nangate45/FreePDK45 data rounded to
representative figures (sheet resistance from the LEF ``RESISTANCE RPERSQ``, straps from OpenROAD's
Nangate45 ``pdn.tcl``); they are typical, not a foundry's sign-off numbers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from eda.params import Params

__all__ = ["MetalTech", "ViaTech", "PdnTech", "GENERIC45", "pdn_technology"]


class MetalTech(Params):
    """One routing layer of the PDN stack (:class:`eda.params.Params`; errors ``MetalTech.field: ...``)."""

    name: str = Field(..., description="layer name as written in node names (m1)")
    direction: Literal["h", "v"] = Field(..., description="h (stripes along x) or v (along y); adjacent layers "
                                         "alternate")
    sheet_res: float = Field(..., gt=0, description="sheet resistance (ohm per square)")
    width_um: tuple[float, float] = Field(..., description="(min, max) stripe width sampled per design (µm)")
    pitch_um: tuple[float, float] = Field(..., description="(min, max) stripe pitch sampled per design (µm); "
                                          "ignored for the rail layer, whose pitch is fixed by the rows")
    blocked_by_macros: bool = Field(False, description="stripes of this layer are cut where a macro sits (macros "
                                    "own these layers)")

    @model_validator(mode="after")
    def _ranges(self) -> MetalTech:
        for f in ("width_um", "pitch_um"):
            lo, hi = getattr(self, f)
            if not 0 < lo <= hi:
                raise self.param_error(f, f"{self.name}: must be a range 0 < min <= max, got {(lo, hi)}")
        return self


class ViaTech(Params):
    """Via stack between two adjacent PDN layers (all cut levels between them, in series)."""

    r_cut: float = Field(..., gt=0, description="resistance of one stacked cut column (ohm)")
    cut_pitch_um: float = Field(..., gt=0, description="pitch of cuts inside a via array (µm); the array fills "
                                "the stripe overlap")
    max_cuts: int = Field(64, ge=1, description="cap on cuts per array (large arrays are split by tools anyway)")


def _range(description: str) -> Any:
    return Field(..., description=f"(min, max) {description}")


class PdnTech(Params):
    """A technology for synthetic designs and PDNs (:class:`eda.params.Params`; errors ``PdnTech.field: ...``)."""

    name: str = Field(..., description="technology name")
    dbu_per_um: int = Field(2000, gt=0, description="database units per µm in node names (2000: the ICCAD'23 "
                            "contest convention)")
    vdd: float = Field(..., gt=0, description="nominal supply (V)")
    row_height_um: float = Field(..., gt=0, description="standard-cell row height (µm)")
    site_width_um: float = Field(..., gt=0, description="placement site width (µm)")
    cell_sites: tuple[int, int, int] = Field(..., description="(min, median, max) cell width in sites (lognormal "
                                             "between min and max)")
    layers: tuple[MetalTech, ...] = Field(..., min_length=2, description="PDN layers bottom-up; the first is the "
                                          "rail layer (one VDD rail per two rows)")
    vias: tuple[ViaTech, ...] = Field(..., description="via stacks between consecutive layers (len(layers) - 1)")
    power_density_w_mm2: tuple[float, float] = _range("mean standard-cell power density sampled per design")
    leakage_frac: tuple[float, float] = _range("leakage share of standard-cell power")
    cell_cap_ff_um2: tuple[float, float] = _range("intrinsic (non-switching) decoupling capacitance of placed "
                                                  "cells (fF/µm²)")
    decap_ff_um2: tuple[float, float] = _range("explicit decap-cell capacitance density when decaps are enabled")
    pad_inductance_h: tuple[float, float] = _range("package inductance per bump (H)")
    rail_tap_um: dict[str, tuple[float, float]] = Field(..., description="per dataset size, (min, max) spacing of "
                                                        "PDN nodes along the rails (µm): where cells tap the rails")
    pad_pitch_um: tuple[float, float] = _range("bump pitch of array and ring pad patterns (µm)")
    clock_ns: tuple[float, float] = _range("clock period (ns)")
    slew_ps: tuple[float, float] = _range("switching current pulse width (ps)")

    @model_validator(mode="after")
    def _stack(self) -> PdnTech:
        if len(self.vias) != len(self.layers) - 1:
            raise self.param_error("vias", f"need {len(self.layers) - 1} via stacks for {len(self.layers)} layers")
        for i in range(1, len(self.layers)):
            if self.layers[i].direction == self.layers[i - 1].direction:
                raise self.param_error(f"layers[{i}].direction", "directions must alternate")
        lo, med, hi = self.cell_sites
        if not 1 <= lo <= med <= hi:
            raise self.param_error("cell_sites", f"must be 1 <= min <= median <= max, got {self.cell_sites}")
        return self

    @property
    def rail(self) -> MetalTech:
        """The standard-cell rail layer (first layer)."""
        return self.layers[0]

    def layer(self, name: str) -> MetalTech:
        for ly in self.layers:
            if ly.name == name:
                return ly
        raise KeyError(name)


GENERIC45 = PdnTech(
    name="generic45",
    dbu_per_um=2000,
    vdd=1.1,
    row_height_um=1.4,
    site_width_um=0.19,
    cell_sites=(2, 5, 40),
    layers=(
        MetalTech(name="m1", direction="h", sheet_res=0.38, width_um=(0.17, 0.34), pitch_um=(2.8, 2.8),
                  blocked_by_macros=True),
        MetalTech(name="m4", direction="v", sheet_res=0.21, width_um=(0.36, 1.2), pitch_um=(14.0, 56.0),
                  blocked_by_macros=True),
        MetalTech(name="m7", direction="h", sheet_res=0.075, width_um=(1.4, 3.2), pitch_um=(20.0, 60.0)),
        MetalTech(name="m8", direction="v", sheet_res=0.075, width_um=(1.4, 3.2), pitch_um=(20.0, 60.0)),
        MetalTech(name="m9", direction="h", sheet_res=0.03, width_um=(2.0, 6.0), pitch_um=(40.0, 120.0)),
    ),
    vias=(
        ViaTech(r_cut=15.0, cut_pitch_um=0.19),   # via1..via3 stacked, 5 ohm per cut level
        ViaTech(r_cut=9.0, cut_pitch_um=0.28),    # via4..via6
        ViaTech(r_cut=1.0, cut_pitch_um=0.8),     # via7
        ViaTech(r_cut=0.5, cut_pitch_um=0.8),     # via8
    ),
    power_density_w_mm2=(0.02, 1.0),  # the public ICCAD'23 cases sit near the low end
    leakage_frac=(0.03, 0.25),
    cell_cap_ff_um2=(2.0, 8.0),
    decap_ff_um2=(10.0, 25.0),
    pad_inductance_h=(20e-12, 200e-12),
    rail_tap_um={"small": (1.6, 2.8), "medium": (1.6, 2.8), "large": (0.9, 1.1)},
    pad_pitch_um=(30.0, 140.0),
    clock_ns=(0.8, 2.0),
    slew_ps=(20.0, 80.0),
)

def pdn_technology(name: str) -> PdnTech:
    """The technology ``name`` (:func:`eda.tech.get_technology`), which must carry a PDN stack."""
    from eda.errors import InputError
    from eda.tech import get_technology

    tech = get_technology(name)
    if not isinstance(tech, PdnTech):
        raise InputError(f"technology {name!r} has no PDN stack for the synthetic generators; use generic45")
    return tech
