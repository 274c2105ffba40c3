"""Row-cell generator: validation, caching, and DRC/LVS-clean cells from new params."""

from __future__ import annotations

import gdstk
import pytest

from eda.circuit import Circuit
from eda.errors import InputError
from eda.layout.devices import Chain, Fet, Port, RowCellParams, row_cell
from eda.verify.drc import run_drc
from eda.verify.lvs import run_lvs

PW = (Port("VDD", "power"), Port("VSS", "power"))


def _check(tmp_path, p: RowCellParams):
    r = row_cell(p)
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    lib.add(r.gds)
    g = tmp_path / f"{p.name}.gds"
    lib.write_gds(str(g))
    d = run_drc(g)
    lv = run_lvs(g, Circuit(devices=r.subckt.devices, ports=r.subckt.ports))
    return r, d, lv


def test_nand2_and_wide_inverter_are_clean(tmp_path):
    nand = RowCellParams("nand2", nmos=(Chain((Fet("N1", "Y", "A", "n1"), Fet("N2", "n1", "B", "VSS"))),),
                         pmos=(Chain((Fet("P1", "Y", "A", "VDD"), Fet("P2", "VDD", "B", "Y"))),),
                         ports=(Port("A", "h", "l"), Port("B", "h", "l"), Port("Y", "h", "r")) + PW)
    r, d, lv = _check(tmp_path, nand)
    assert d.clean, [(v.rule, v.locations[:2]) for v in d.violations]
    assert lv.clean, lv.mismatches
    assert len(r.subckt.devices) == 4
    inv = RowCellParams("inv_w", nmos=(Chain((Fet("N", "VSS", "A", "Y", w_nm=840),)),),
                        pmos=(Chain((Fet("P", "VDD", "A", "Y", w_nm=1260),)),), wn_band=840, wp_band=1260,
                        ports=(Port("A", "h", "l"), Port("Y", "h", "r")) + PW)
    r, d, lv = _check(tmp_path, inv)
    assert d.clean and lv.clean
    assert r.subckt.devices[1].params["W"] == pytest.approx(1.26)


def test_cached_by_params():
    p = RowCellParams("c1", nmos=(Chain((Fet("N", "VSS", "A", "Y"),)),), pmos=(Chain((Fet("P", "VDD", "A", "Y"),)),),
                      ports=(Port("A"), Port("Y")) + PW)
    assert row_cell(p) is row_cell(RowCellParams(**p.__dict__))


@pytest.mark.parametrize("kw, text", [
    (dict(nmos=(Chain((Fet("N", "VSS", "A", "Y", w_nm=300),)),)), "w_nm=300"),
    (dict(nmos=(Chain((Fet("N", "VSS", "A", "Y", l_nm=180),)),)), "l_nm=180"),
    (dict(nmos=(Chain((Fet("N1", "VSS", "A", "Y"), Fet("N2", "Z", "B", "VSS"))),)), "N1.right=Y"),
    (dict(nmos=(Chain((Fet("N", "VSS", "A", "Y", w_nm=840),)),)), "wn_band"),
    (dict(pmos=(Chain((Fet("P", "VSS", "A", "Y"),)),)), "VSS on a pmos"),
])
def test_bad_params_are_typed_errors(kw, text):
    p = RowCellParams("bad_" + text[:3].replace(".", "_").replace("=", "_"), ports=PW, **kw)
    with pytest.raises(InputError) as e:
        row_cell(p)
    assert text in str(e.value)


def test_cyclic_vertical_constraints_are_reported():
    # column 0: nmos net A under pmos net B; column 4: nmos B under pmos A → no track order exists
    p = RowCellParams("cyc", nmos=(Chain((Fet("N1", "A", "G1", "VSS"),)), Chain((Fet("N2", "B", "G2", "VSS"),), col=4)),
                      pmos=(Chain((Fet("P1", "B", "G3", "VDD"),)), Chain((Fet("P2", "A", "G4", "VDD"),), col=4)),
                      ports=(Port("G1"), Port("G2"), Port("G3"), Port("G4")) + PW)
    with pytest.raises(InputError, match="cyclic"):
        row_cell(p)
