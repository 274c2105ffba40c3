"""Parameters of the ACIM model: the cell sizes read from a cell library, the process/circuit
coefficients (:class:`AcimTech`) and one macro design (:class:`AcimParams`).

``AcimTech`` and ``AcimParams`` are pydantic models (the project's one params style): every field
has a description and bounds; any violation — a wrong type, a bound, a cross-field rule such as
"2**adc_bits must divide rows/local_array" — raises :class:`ParamError` naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, StrictInt, model_validator

from eda.layout.dac import ParamError, check_dac_fit
from eda.layout.library import ROLES as _LAYOUT_ROLES
from eda.params import Params

#: roles whose sizes the model needs: the layout's, less the shared-ADC DAC-switch variants (the
#: model counts DAC switches by the dac_switch cell; the variants only tell that waiting lines are held)
ROLES: tuple[str, ...] = tuple(r for r in _LAYOUT_ROLES if r not in ("dac_sel", "dac_msb"))

__all__ = ["AcimParams", "AcimTech", "CellSizes", "ParamError", "ParamsModel", "ROLES", "load_cell_sizes"]


class ParamsModel(Params):
    """Base of the ACIM params objects (:class:`eda.params.Params`): every validation failure is one
    :class:`ParamError` naming the (first) failing field, ``where`` the object it belongs to."""

    where: ClassVar[str] = "acim params"

    @classmethod
    def param_error(cls, field: str, message: str) -> ParamError:
        return ParamError(field, message, cls.where)


class CellSizes(ParamsModel):
    """Sizes of the library cells the model needs, by role, in µm (errors: :class:`ParamError` naming the role
    or field, ``where`` the library folder)."""

    where: ClassVar[str] = "cell library"
    sizes: Mapping[str, tuple[float, float]] = Field(..., strict=False, description="role → (width_um, height_um) "
                                                     "for every role in ROLES")
    cap_fF: float | None = Field(None, gt=0, description="the compute cell's capacitance if the library states "
                                 "it (manifest cap_fF), else None (the model then uses AcimParams.c_unit_fF)")
    technology: str = Field("", description="the library's technology name")
    source: str = Field("", description="where the sizes came from (library folder), for reports")
    max_adc_bits: int | None = Field(None, ge=1, description="the most ADC bits the library's column template "
                                     "can wire (manifest template.max_adc_bits), else None (no limit)")
    max_adc_share: int | None = Field(None, ge=1, description="the most columns the template lets share one ADC "
                                      "(template.max_adc_share); None: no limit. A library loaded by "
                                      "from_library whose template does not state it builds one ADC per column")
    held_waiting_lines: bool = Field(False, description="shared ADCs: a column waiting for its conversion holds its "
                                     "DAC lines (select-gated DAC switches, library roles dac_sel/dac_msb), so its "
                                     "compute line does not follow the other columns' trials")

    @model_validator(mode="after")
    def _every_role(self) -> CellSizes:
        where = self.source or self.where
        for role in ROLES:
            if role not in self.sizes:
                raise ParamError(role, f"the cell library has no cell for role '{role}' "
                                 f"(needed roles: {', '.join(ROLES)})", where=where)
            w, h = self.sizes[role]
            if not (w > 0 and h > 0 and math.isfinite(w) and math.isfinite(h)):
                raise ParamError(role, f"cell size must be positive, got {w} x {h} µm", where=where)
        return self

    def w(self, role: str) -> float:
        return float(self.sizes[role][0])

    def h(self, role: str) -> float:
        return float(self.sizes[role][1])

    def area(self, role: str) -> float:
        """Cell area in µm²."""
        return self.w(role) * self.h(role)

    @classmethod
    def from_library(cls, lib: Any) -> CellSizes:
        """Take the sizes from an ``eda.layout.library.CellLibrary`` (or anything with
        ``.cell(role) -> CellInfo(width_um, height_um, ...)``)."""
        source = str(getattr(lib, "path", getattr(lib, "root", "")) or "")
        sizes = {}
        for role in ROLES:
            try:
                info = lib.cell(role)
            except (KeyError, LookupError) as e:
                raise ParamError(role, f"the cell library has no cell for role '{role}' ({e})",
                                 where=source or "cell library") from e
            sizes[role] = (float(info.width_um), float(info.height_um))
        template = getattr(lib, "template", None) or {}
        template = template if isinstance(template, Mapping) else {}
        mab = template.get("max_adc_bits")
        return cls(sizes=sizes, cap_fF=_compute_cap_fF(lib), source=source,
                   technology=str(getattr(lib, "technology", "") or ""),
                   max_adc_bits=int(mab) if mab is not None else None,
                   max_adc_share=int(template.get("max_adc_share", 1)),
                   held_waiting_lines=all(r in getattr(lib, "roles", {}) for r in ("dac_sel", "dac_msb")))


def _compute_cap_fF(lib: Any) -> float | None:
    """``cap_fF`` of the compute cell when the library states it (on the cell info, its template,
    or the cell's entry in the manifest of the folder it came from), else ``None``."""
    info = lib.cell("compute")
    for holder in (info, getattr(info, "template", None), getattr(info, "extra", None)):
        if holder is None:
            continue
        v = holder.get("cap_fF") if isinstance(holder, Mapping) else getattr(holder, "cap_fF", None)
        if v is not None:
            return float(v)
    gds = getattr(info, "gds", None)
    if gds:
        import json

        manifest = Path(gds).parent / "manifest.json"
        if manifest.is_file():
            try:
                entry = json.loads(manifest.read_text())["cells"][info.name]
            except (KeyError, ValueError, TypeError):
                return None
            if isinstance(entry, Mapping) and entry.get("cap_fF") is not None:
                return float(entry["cap_fF"])
    return None


def load_cell_sizes(path: str | Path | None = None) -> CellSizes:
    """Cell sizes of a cell library folder (``None``: the default sky130 library)."""
    from eda.layout.library import load_library

    lib = load_library(path)
    sizes = CellSizes.from_library(lib)
    if not sizes.source and path is not None:
        sizes = sizes.replace(source=str(path))
    return sizes


def _pos(description: str, default: float, **kw: Any) -> Any:
    return Field(default, gt=0, description=description, **kw)


class AcimTech(ParamsModel):
    """Process and circuit coefficients the cell library does not carry (sky130-like defaults).
    Every field is described below (``AcimTech.model_fields[name].description``)."""

    where: ClassVar[str] = "acim tech"
    temperature_K: float = _pos("temperature for kT/C noise (K)", 300.0)
    cap_mismatch_pct: float = _pos("Pelgrom coefficient of the unit capacitor: sigma(dC/C) = A_C/sqrt(C/1 fF), in % "
                                   "for 1 fF (metal-finger / MIM caps: about 0.5-1 %·sqrt(fF))", 1.0)
    c_wire_fF_per_um: float = _pos("wire capacitance per µm of compute line / word line (fF/µm)", 0.2)
    c_top_junction_fF: float = _pos("switch junction capacitance each compute cell adds to the compute line (fF)",
                                    0.3)
    c_gate_fF: float = _pos("gate load each bitcell adds to its read word line (fF)", 0.4)
    c_mux_fF: float = _pos("multiplexer node of a shared ADC (S > 1): comparator input pair, its reset gate, the S "
                           "select gates and the strap (fF); shares charge with the selected compute line. 4 fF: "
                           "the sky130 group transient (S = 2) at N = 4 and 8", 4.0)
    sigma_cmp_noise_V: float = _pos("comparator input-referred noise, rms per decision (V)", 0.5e-3)
    sigma_cmp_offset_V: float = _pos("comparator input offset spread across columns, static, uncalibrated (V)",
                                     2.0e-3)
    e_cmp_fJ: float = _pos("comparator energy per decision at v_ref (fJ); scales with VDD²", 30.0)
    e_sar_bit_fJ: float = _pos("SAR logic energy per bit cycle at v_ref (fJ); scales with VDD²", 15.0)
    p_leak_bitcell_W: float = _pos("leakage of one bitcell at v_ref (W); scales with VDD", 10e-12)
    r_on_ohm: float = _pos("on-resistance of the compute-cell switch at v_ref (ohm)", 2000.0)
    r_dac_ohm: float = _pos("output resistance of a DAC-switch (group control) driver at v_ref (ohm)", 2000.0)
    v_ref: float = _pos("reference supply of the coefficients above (V)", 1.8)
    v_th: float = _pos("switch threshold voltage (V); R_on ∝ 1/(VDD − v_th); must be below v_ref", 0.45)
    f_logic_ref_hz: float = _pos("SAR-logic clock limit at v_ref (Hz); alpha-power law in VDD", 200e6)
    alpha_power: float = _pos("velocity-saturation exponent of the alpha-power law", 1.3)
    settle_lsb: float = _pos("DAC settles to within this fraction of one ADC LSB (0.5 = half an LSB)", 0.5)
    n_mac_cycles: StrictInt = Field(2, ge=1, description="clock cycles of the MAC phase (drive bottom plates, "
                                                          "sample)")
    n_conv_extra_cycles: StrictInt = Field(1, ge=0, description="extra cycles per conversion (reset / sample) "
                                                                 "besides the b decisions")
    p_input: float = _pos("probability that an input bit is 1 (signal statistics for SNR and energy)", 0.5, le=1)
    p_weight: float = _pos("probability that a weight bit is 1", 0.5, le=1)
    feature_um: float = _pos("feature size F for F²/bit (µm)", 0.13)
    area_utilisation: float = _pos("fraction of macro area covered by cells (the rest: routing spines, empty row "
                                   "ends); the sky130 macro template measures 0.92-0.98", 0.95, le=1)

    @model_validator(mode="after")
    def _vth_below_vref(self) -> AcimTech:
        if self.v_th >= self.v_ref:
            raise ParamError("v_th", f"must be below v_ref={self.v_ref}, got {self.v_th}", self.where)
        return self


class AcimParams(ParamsModel):
    """One ACIM macro design (the ``params`` of a ``pareto.json`` entry).

    Cross-field rules (each error names its field): ``2**adc_bits`` must divide
    ``rows/local_array`` (the DAC is built from the column's compute caps, ``check_dac_fit``);
    ``weight_bits`` and ``adc_share`` must divide ``cols``. The clock limit is checked by
    :func:`eda.generators.acim_model.check_design` (reported as ``f_max_hz``).
    """

    rows: StrictInt = Field(..., ge=1, description="H, word lines (inputs per column); given by the workload")
    cols: StrictInt = Field(..., ge=1, description="W, bit lines (columns); given by the workload")
    local_array: StrictInt = Field(..., ge=1, description="L, bitcells sharing one compute cell; divides rows")
    adc_bits: StrictInt = Field(..., ge=1, le=16, description="b, SAR ADC resolution; 2**b divides rows/local_array")
    input_bits: StrictInt = Field(4, ge=1, le=16, description="Bx, input precision (applied bit-serially)")
    weight_bits: StrictInt = Field(4, ge=1, le=16, description="Bw, weight precision (bit-sliced over Bw columns); "
                                                               "divides cols")
    adc_share: StrictInt = Field(1, ge=1, description="S, columns sharing one comparator + SAR logic; divides cols")
    vdd: float = Field(1.8, gt=0, description="supply voltage (V)")
    f_clk_hz: float = Field(100e6, gt=0, description="clock frequency (Hz); at most the settling/logic limit")
    c_unit_fF: float = Field(2.0, gt=0, description="unit compute capacitance (fF); used only when the cell "
                                                    "library does not state the compute cell's cap_fF")

    @model_validator(mode="after")
    def _fits(self) -> AcimParams:
        check_dac_fit(self.rows, self.local_array, self.adc_bits)
        if self.cols % self.weight_bits:
            raise ParamError("weight_bits", f"cols={self.cols} must be divisible by weight_bits="
                             f"{self.weight_bits} (bit-sliced weights)")
        if self.cols % self.adc_share:
            raise ParamError("adc_share", f"cols={self.cols} must be divisible by adc_share={self.adc_share}")
        return self
