"""The ``eda acim build`` pipeline: macro → GDS + SPICE → DRC → LVS → pictures → summary."""

from __future__ import annotations

import json
import time
from pathlib import Path

from eda.errors import InputError
from eda.layout.library import CellLibrary, load_library
from eda.layout.macro import MacroParams, build_macro
from eda.tech.sky130 import FEATURE_UM

#: EasyACIM's best reported density (F²/bit), the reference of the README's density table.
EASYACIM_BEST_F2 = 1500


#: `acim build` refuses a design whose estimate exceeds these (unless --force): README "Limits".
LIMIT_SECONDS = 600.0
LIMIT_MIB = 8192.0


def estimate(p: MacroParams, check: bool = True) -> dict:
    """Size, time and memory of building ``p``, from counts alone (no geometry is drawn).

    The counts are the top cell's instances (local arrays, ADC cells, row-end cells) and its flat
    routing shapes (per column ~8 per ADC bit + 12, per row ~12); the coefficients are fitted on
    64x64, 256x256 and 8x2000 builds on the 2-core machine with a factor ~2 of margin.
    """
    G = max(p.rows // max(p.local, 1), 1)
    n_inst = p.cols * (G + 3 * p.adc_bits + 2) + 4 * p.rows
    n_flat = p.cols * (8 * p.adc_bits + 12) + 12 * p.rows
    seconds = 1.0 + 1.2e-3 * n_flat + 2e-4 * n_inst
    mib = 250.0 + 4e-3 * n_flat + 4e-3 * n_inst
    if check:  # DRC on the flat routing, LVS on the instances
        seconds += 4.0 + 1e-3 * n_flat + 2e-3 * n_inst
        mib += 1e-2 * n_flat + 2e-2 * n_inst
    return {"bitcells": p.rows * p.cols, "top_instances": n_inst, "flat_shapes": n_flat,
            "gds_mb": round((80 * n_flat + 60 * n_inst) / 1e6 + 0.2, 1),
            "seconds": round(seconds, 1), "memory_mib": round(mib)}


def check_budget(p: MacroParams, check: bool = True) -> dict:
    """:func:`estimate`, refusing (``InputError`` with the numbers) beyond :data:`LIMIT_SECONDS` or
    :data:`LIMIT_MIB`; returns the estimate."""
    e = estimate(p, check)
    if e["seconds"] > LIMIT_SECONDS or e["memory_mib"] > LIMIT_MIB:
        raise InputError(f"{p.rows}x{p.cols} (L={p.local}, B={p.adc_bits}) is estimated at {e['seconds']:.0f} s and "
                         f"{e['memory_mib']} MiB ({e['bitcells']} bitcells, {e['top_instances']} top-cell instances, "
                         f"{e['flat_shapes']} routing shapes, ~{e['gds_mb']} MB of GDS); the limit is "
                         f"{LIMIT_SECONDS:.0f} s and {LIMIT_MIB:.0f} MiB — pass --force to build it anyway",
                         file="--rows/--cols")
    return e


def params_from_pareto(path: Path | str, pick: int) -> MacroParams:
    """Read design ``pick`` of an exploration's ``pareto.json`` as macro params.

    Raises:
        InputError: missing file/fields or a bad index (the design's own limits are checked by
            :meth:`MacroParams.validate` when it is built).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("pareto file not found", file=path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e.msg}", file=path, line=e.lineno) from None
    if not isinstance(data, list) or not data:
        raise InputError("expected a non-empty JSON list of designs", file=path)
    if not 0 <= pick < len(data):
        raise InputError(f"--pick {pick} is out of range; the file holds designs 0..{len(data) - 1}", file=path)
    d = data[pick]
    pr = d.get("params") if isinstance(d, dict) else None
    if not isinstance(pr, dict):
        raise InputError(f"design {pick}: field 'params' missing", file=path)
    try:
        rows, cols = int(pr["rows"]), int(pr["cols"])
        local, bits = int(pr["local_array"]), int(pr["adc_bits"])
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"design {pick}: field params.{e.args[0] if e.args else '?'} missing or not an integer",
                         file=path) from None
    try:
        share = int(pr.get("adc_share", 1))
    except (TypeError, ValueError):
        raise InputError(f"design {pick}: field params.adc_share is not an integer", file=path) from None
    return MacroParams(rows, cols, local, bits, share)


def build(params: MacroParams, out: Path | str, lib: CellLibrary | None = None, check: bool = True,
          render: bool = True, progress: bool = True, force: bool = False) -> dict:
    """Build, verify and picture one macro under ``out``; returns the summary dict.

    Refuses (``InputError``) a design beyond the documented size limits (:func:`check_budget`)
    unless ``force``. Files: ``macro.gds``, ``macro.spice``, ``drc.json`` + ``drc.lyrdb``, ``lvs.json`` + ``lvs.lvsdb``,
    ``macro.png``, ``macro_tile.png``, ``summary.json``. ``lib`` defaults to the shipped library,
    the shared-ADC one (:data:`eda.layout.library.SHARED_LIBRARY`) when ``params.adc_share`` > 1.
    """
    from tqdm import tqdm

    from eda.export.to_spice import write_spice
    from eda.verify.drc import run_drc
    from eda.verify.lvs import run_lvs

    lib = lib or load_library(shared=params.adc_share > 1)  # S > 1: the narrower shared-ADC pitch
    params.validate(int(lib.template.get("max_adc_bits", 4)), int(lib.template.get("max_adc_share", 1)))
    est = estimate(params, check) if force else check_budget(params, check)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    steps = ["place+route", "write"] + (["drc", "lvs"] if check else []) + (["render"] if render else [])
    drc = lvs = None
    with tqdm(total=len(steps), desc="acim build", disable=not progress, leave=False) as bar:
        for name in steps:
            bar.set_description(f"acim build: {name}")
            t = time.perf_counter()
            if name == "place+route":
                m = build_macro(params, lib)
            elif name == "write":
                gds = out / "macro.gds"
                m.library.write_gds(str(gds))
                write_spice(m.circuit, out / "macro.spice")
            elif name == "drc":
                drc = run_drc(gds, report=out / "drc.lyrdb")
                drc.write_json(out / "drc.json")
            elif name == "lvs":
                lvs = run_lvs(gds, m.circuit, report=out / "lvs.lvsdb")
                lvs.write_json(out / "lvs.json")
            else:
                _render(m, gds, out)
            times[{"place+route": "place_route_s"}.get(name, f"{name}_s")] = time.perf_counter() - t
            bar.update()
    bits = params.rows * params.cols
    area = m.width_um * m.height_um
    bpr = m.extra.get("bits_per_row", 1)  # 2: the pair bitcell rows
    bit_um2 = lib.cell("bitcell2" if bpr == 2 else "bitcell").area_um2 / bpr  # bitcell area per bit
    summary = {
        "params": {"rows": params.rows, "cols": params.cols, "local": params.local, "adc_bits": params.adc_bits,
                   "adc_share": params.adc_share},
        "cell_library": str(lib.path), "library_overrides": lib.overrides,
        "width_um": round(m.width_um, 3), "height_um": round(m.height_um, 3),
        "area_um2": round(area, 1), "area_mm2": round(area / 1e6, 5),
        "um2_per_bit": round(area / bits, 3), "F2_per_bit": round(area / bits / FEATURE_UM ** 2, 1),
        "bitcell_F2": round(bit_um2 / FEATURE_UM ** 2, 1),
        "feature_um": FEATURE_UM,
        "bitcell_um2": round(bit_um2, 3), "bits_per_row": bpr,
        "area_breakdown_um2_per_bit": _breakdown(params, lib, m),
        "array_efficiency": round(bit_um2 * bits / area, 4),
        "counts": m.counts, "dac_groups_local_arrays": m.groups,
        "column_pitch_um": m.extra["column_pitch_um"], "row_height_um": m.extra["row_height_um"],
        "drc_clean": drc.clean if drc else None, "drc_violations": drc.count if drc else None,
        "lvs_clean": lvs.clean if lvs else None,
        "times_s": {k: round(v, 3) for k, v in times.items()}, "estimate": est,
        "total_s": round(sum(times.values()), 3),
        "files": sorted({p.name for p in out.iterdir()} | {"summary.json"}),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _breakdown(p, lib, m) -> dict[str, float]:
    """Macro area per bit by region (they add up to the total): the bitcells, the compute cells, the
    ADC rows below the array (column width × their height) and the row ends + spines left/right."""
    pitch, hb, bpr = m.extra["column_pitch_um"], m.extra["row_height_um"], m.extra.get("bits_per_row", 1)
    width_um, height_um = m.width_um, m.height_um
    hc, bits, n_loc = lib.cell("compute").height_um, p.rows * p.cols, p.rows // p.local
    array_h = p.rows // bpr * hb + n_loc * hc
    parts = {"bitcells": pitch * hb / bpr, "compute": n_loc * p.cols * pitch * hc / bits,
             "adc": (height_um - array_h) * p.cols * pitch / bits,
             "row_ends_spines": (width_um - p.cols * pitch) * height_um / bits}
    return {k: round(v, 3) for k, v in parts.items()}


def _render(m, gds: Path, out: Path) -> None:
    """``macro.png`` (whole macro) and ``macro_tile.png`` (the array's top-left corner: tap,
    word-line driver, first bitcell columns)."""
    from eda.layout.render import render_png

    render_png(gds, out / "macro.png")
    x0 = m.extra["origin_um"][0]
    pitch, hb = m.extra["column_pitch_um"], m.extra["row_height_um"]
    render_png(gds, out / "macro_tile.png", box_um=(x0, m.height_um - 4 * hb, x0 + 3 * pitch + 12, m.height_um))
