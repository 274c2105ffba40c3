"""The sky130 technology: GDS layers, periphery drawing rules, device names.

One place for process numbers (layers, rules, devices); nothing else in the toolkit holds them.
Layer/datatype numbers are the official SkyWater sky130 GDS numbers (``drawing``, ``label``,
``pin`` purposes) and the rule values are the published sky130 periphery rules
(https://skywater-pdk.readthedocs.io/en/main/rules/periphery.html), so that the standard sky130
rule decks (magic, KLayout ``sky130A_mr.drc``) apply to our GDS. All lengths are in µm; the
database unit is 1 nm and every coordinate is on the 5 nm manufacturing grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache


@dataclass(frozen=True)
class Layer:
    """One GDS layer: name, layer/datatype numbers and what it is for."""

    name: str
    layer: int
    datatype: int
    purpose: str = "drawing"

    @property
    def spec(self) -> tuple[int, int]:
        return (self.layer, self.datatype)


@dataclass(frozen=True)
class Rule:
    """One drawing rule.

    Attributes:
        name: the sky130 rule id (``m1.2``).
        kind: ``width`` | ``space`` | ``enclosure`` (``layer`` encloses ``other``) |
            ``separation`` (``layer`` to ``other``) | ``area`` (µm²) | ``extension``
            (``layer`` extends past ``other`` by at least ``value`` where it crosses it) |
            ``exact`` (``layer`` shapes are squares of side ``value``) | ``inside``
            (``layer`` must lie inside ``other``) | ``not_overlap`` (no overlap of ``layer`` and ``other``) |
            ``corner_enclosure`` (``layer`` encloses the cut ``other`` by ``value`` on at least one of
            every two adjacent edges: the precheck "2 adjacent edges" rules) | ``grid`` (every vertex
            of every drawn layer on the ``value`` grid) | ``plate_space`` (MIM bottom plates, ``other``
            ∩ ``layer`` grown by capm.3, ``value`` apart) | ``plate_separation`` (``layer`` shapes not
            touching a bottom plate ``value`` from it) | ``separation_free`` (``layer`` shapes not
            touching ``other``, ``value`` from it) | ``wide_space`` (metal parts wider than 3 µm keep
            ``value`` from any metal edge).
        layer: the checked layer.
        other: the second layer for two-layer rules.
        value: the rule value in µm (µm² for ``area``).
        text: the rule as written in the sky130 manual.
    """

    name: str
    kind: str
    layer: str
    value: float
    other: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Technology:
    """Layers, rules and device names of one process."""

    name: str
    dbu_um: float
    grid_um: float
    layers: dict[str, Layer]
    rules: tuple[Rule, ...]
    devices: dict[str, str] = field(default_factory=dict)
    #: routing layer connectivity: (lower, cut, upper) stacks, bottom to top
    stack: tuple[tuple[str, str, str], ...] = ()

    def layer(self, name: str) -> Layer:
        try:
            return self.layers[name]
        except KeyError:
            raise KeyError(f"technology {self.name} has no layer {name!r}") from None

    def rule(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(f"technology {self.name} has no rule {name!r}")

    def value(self, name: str) -> float:
        return self.rule(name).value


def _L(name: str, layer: int, datatype: int, purpose: str = "drawing") -> tuple[str, Layer]:
    return name, Layer(name, layer, datatype, purpose)


_LAYERS = dict([
    _L("nwell", 64, 20), _L("nwell.pin", 64, 16, "pin"), _L("nwell.label", 64, 5, "label"),
    _L("pwell.label", 64, 59, "label"),
    _L("diff", 65, 20), _L("tap", 65, 44),
    _L("poly", 66, 20), _L("poly.pin", 66, 16, "pin"), _L("poly.label", 66, 5, "label"),
    _L("licon", 66, 44), _L("npc", 95, 20),
    _L("nsdm", 93, 44), _L("psdm", 94, 20),
    _L("li", 67, 20), _L("li.pin", 67, 16, "pin"), _L("li.label", 67, 5, "label"),
    _L("mcon", 67, 44),
    _L("met1", 68, 20), _L("met1.pin", 68, 16, "pin"), _L("met1.label", 68, 5, "label"),
    _L("via", 68, 44),
    _L("met2", 69, 20), _L("met2.pin", 69, 16, "pin"), _L("met2.label", 69, 5, "label"),
    _L("via2", 69, 44),
    _L("met3", 70, 20), _L("met3.pin", 70, 16, "pin"), _L("met3.label", 70, 5, "label"),
    _L("via3", 70, 44),
    _L("met4", 71, 20), _L("met4.pin", 71, 16, "pin"), _L("met4.label", 71, 5, "label"),
    _L("capm", 89, 44),
    _L("prbndry", 235, 4, "boundary"),
])

R = Rule
_RULES: tuple[Rule, ...] = (
    # nwell
    R("nwell.1", "width", "nwell", 0.84, text="Width of nwell"),
    R("nwell.2a", "space", "nwell", 1.27, text="Spacing between two n-wells"),
    # diff / tap
    R("difftap.1", "width", "diff", 0.15, text="Width of diff or tap"),
    R("difftap.1t", "width", "tap", 0.15, text="Width of diff or tap"),
    R("difftap.2", "width", "gate_w", 0.42, text="Minimum channel width (W) of a 1.8 V MOSFET"),
    R("difftap.3", "space", "difftap", 0.27, text="Spacing of diff to diff, tap to tap, or diff to tap"),
    R("difftap.8", "enclosure", "nwell", 0.18, "pdiff", "Enclosure of p+ diff by nwell"),
    R("difftap.9", "separation", "ndiff", 0.34, "nwell", "Spacing of n+ diff to nwell"),
    R("difftap.10", "enclosure", "nwell", 0.18, "ntap", "Enclosure of n+ tap by nwell"),
    R("difftap.11", "separation", "ptap", 0.13, "nwell", "Spacing of p+ tap to nwell"),
    # poly
    R("poly.1a", "width", "poly", 0.15, text="Width of poly"),
    R("poly.2", "space", "poly", 0.21, text="Spacing of poly to poly"),
    R("poly.4", "separation", "poly", 0.075, "diff", "Spacing of poly on field to diff"),
    R("poly.7", "extension", "diff", 0.25, "poly", "Extension of diff beyond poly (source/drain)"),
    R("poly.8", "extension", "poly", 0.13, "diff", "Extension of poly beyond diff (endcap)"),
    # licon
    R("licon.1", "exact", "licon", 0.17, text="Width and length of licon (square 0.17)"),
    R("licon.2", "space", "licon", 0.17, text="Spacing of licon to licon"),
    R("licon.5a", "enclosure", "diff", 0.04, "licon_diff", "Enclosure of licon by diff"),
    R("licon.7", "enclosure", "tap", 0.0, "licon_tap", "Enclosure of licon by tap (one direction 0.12)"),
    R("licon.8", "enclosure", "poly", 0.05, "licon_poly", "Enclosure of poly licon by poly"),
    R("licon.9", "enclosure", "npc", 0.10, "licon_poly", "Enclosure of poly licon by npc"),
    R("licon.11", "separation", "licon_diff", 0.055, "gate", "Spacing of diff licon to gate"),
    R("licon.14", "separation", "licon_poly", 0.19, "diff", "Spacing of poly licon to diff"),
    R("licon.13", "separation", "licon_difftap", 0.09, "npc", "Spacing of licon on diff or tap to npc"),
    R("licon.13_a", "not_overlap", "licon_difftap", 0.0, "npc", "licon on diff or tap must not overlap npc"),
    R("npc.1", "width", "npc", 0.27, text="Width of npc"),
    R("npc.2", "space", "npc", 0.27, text="Spacing of npc to npc"),
    R("npc.4", "separation", "npc", 0.09, "gate", "Spacing of npc to gate"),
    # implants
    R("nsd.1", "width", "nsdm", 0.38, text="Width of nsdm"),
    R("nsd.2", "space", "nsdm", 0.38, text="Spacing of nsdm to nsdm"),
    R("psd.1", "width", "psdm", 0.38, text="Width of psdm"),
    R("psd.2", "space", "psdm", 0.38, text="Spacing of psdm to psdm"),
    R("nsd.5a", "enclosure", "nsdm", 0.125, "ndiff", "Enclosure of n+ diff by nsdm"),
    R("psd.5a", "enclosure", "psdm", 0.125, "pdiff", "Enclosure of p+ diff by psdm"),
    R("nsd.5b", "enclosure", "nsdm", 0.125, "ntap", "Enclosure of n+ tap by nsdm"),
    R("psd.5b", "enclosure", "psdm", 0.125, "ptap", "Enclosure of p+ tap by psdm"),
    R("nsd.10", "not_overlap", "nsdm", 0.0, "psdm", "nsdm and psdm must not overlap"),
    R("difftap.sdm", "inside", "difftap", 0.0, "sdm", "Every diff/tap is covered by nsdm or psdm"),
    # li1 and mcon
    R("li.1", "width", "li", 0.17, text="Width of li1"),
    R("li.3", "space", "li", 0.17, text="Spacing of li1 to li1"),
    R("li.5", "enclosure", "li", 0.0, "licon", "Enclosure of licon by li1 (0.08 on two opposite sides)"),
    R("li.5a", "corner_enclosure", "li", 0.08, "licon",
      "Enclosure of licon by li1 on one of every two adjacent edges"),
    R("li.6", "area", "li", 0.0561, text="Area of li1"),
    R("ct.1", "exact", "mcon", 0.17, text="Width and length of mcon (square 0.17)"),
    R("ct.2", "space", "mcon", 0.19, text="Spacing of mcon to mcon"),
    R("ct.4", "enclosure", "li", 0.0, "mcon", "Enclosure of mcon by li1"),
    # met1 and via
    R("m1.1", "width", "met1", 0.14, text="Width of metal1"),
    R("m1.2", "space", "met1", 0.14, text="Spacing of metal1 to metal1"),
    R("m1.4", "enclosure", "met1", 0.03, "mcon", "Enclosure of mcon by metal1 (0.06 on two adjacent sides)"),
    R("m1.5", "corner_enclosure", "met1", 0.06, "mcon",
      "Enclosure of mcon by metal1 on one of every two adjacent edges"),
    R("m1.6", "area", "met1", 0.083, text="Area of metal1"),
    R("m1.3ab", "wide_space", "met1", 0.28, text="Spacing of metal1 wider than 3 µm to metal1"),
    R("via.1a", "exact", "via", 0.15, text="Width and length of via (square 0.15)"),
    R("via.2", "space", "via", 0.17, text="Spacing of via to via"),
    R("via.4a", "enclosure", "met1", 0.055, "via", "Enclosure of via by metal1 (0.085 on two adjacent sides)"),
    R("via.5a", "corner_enclosure", "met1", 0.085, "via",
      "Enclosure of via by metal1 on one of every two adjacent edges"),
    R("m2.1", "width", "met2", 0.14, text="Width of metal2"),
    R("m2.2", "space", "met2", 0.14, text="Spacing of metal2 to metal2"),
    R("m2.4", "enclosure", "met2", 0.055, "via", "Enclosure of via by metal2 (0.085 on two adjacent sides)"),
    R("m2.5", "corner_enclosure", "met2", 0.085, "via",
      "Enclosure of via by metal2 on one of every two adjacent edges"),
    R("m2.6", "area", "met2", 0.0676, text="Area of metal2"),
    R("m2.3ab", "wide_space", "met2", 0.28, text="Spacing of metal2 wider than 3 µm to metal2"),
    # via2, met3
    R("via2.1a", "exact", "via2", 0.20, text="Width and length of via2 (square 0.20)"),
    R("via2.2", "space", "via2", 0.20, text="Spacing of via2 to via2"),
    R("via2.4", "enclosure", "met2", 0.04, "via2", "Enclosure of via2 by metal2 (0.085 on two adjacent sides)"),
    R("via2.5", "corner_enclosure", "met2", 0.085, "via2",
      "Enclosure of via2 by metal2 on one of every two adjacent edges"),
    R("m3.1", "width", "met3", 0.30, text="Width of metal3"),
    R("m3.2", "space", "met3", 0.30, text="Spacing of metal3 to metal3"),
    R("m3.4", "enclosure", "met3", 0.065, "via2", "Enclosure of via2 by metal3"),
    R("m3.6", "area", "met3", 0.24, text="Area of metal3"),
    R("m3.3cd", "wide_space", "met3", 0.40, text="Spacing of metal3 wider than 3 µm to metal3"),
    # via3, met4
    R("via3.1", "exact", "via3", 0.20, text="Width and length of via3 (square 0.20)"),
    R("via3.2", "space", "via3", 0.20, text="Spacing of via3 to via3"),
    R("via3.4", "enclosure", "met3", 0.06, "via3_m3", "Enclosure of via3 by metal3 (off capm)"),
    R("via3.5", "corner_enclosure", "met3", 0.09, "via3",
      "Enclosure of via3 by metal3 on one of every two adjacent edges"),
    R("m4.1", "width", "met4", 0.30, text="Width of metal4"),
    R("m4.2", "space", "met4", 0.30, text="Spacing of metal4 to metal4"),
    R("m4.3", "enclosure", "met4", 0.065, "via3", "Enclosure of via3 by metal4"),
    R("m4.4a", "area", "met4", 0.24, text="Area of metal4"),
    R("m4.5ab", "wide_space", "met4", 0.40, text="Spacing of metal4 wider than 3 µm to metal4"),
    # MIM capacitor (sky130_fd_pr__cap_mim_m3_1)
    R("capm.1", "width", "capm", 1.0, text="Width of capm"),
    R("capm.2a", "space", "capm", 0.84, text="Spacing of capm to capm"),
    R("capm.2b", "plate_space", "met3", 1.2, "capm", "Spacing of MIM bottom plates (met3 ∩ capm grown 0.14)"),
    R("capm.2b_a", "plate_separation", "met3", 1.2, "capm",
      "Spacing of a MIM bottom plate (met3 ∩ capm grown 0.14) to other metal3"),
    R("capm.3", "enclosure", "met3", 0.14, "capm", "Enclosure of capm by metal3 (bottom plate)"),
    R("capm.4", "enclosure", "capm", 0.14, "via3_capm", "Enclosure of via3 by capm"),
    R("capm.5", "separation", "capm", 0.14, "via2", "Spacing of capm to via2"),
    R("capm.8", "separation", "capm", 0.14, "via3_m3", "Spacing of capm to via3 off capm"),
    R("capm.11", "separation_free", "met3", 0.5, "capm", "Spacing of capm to metal3 not overlapping capm"),
    # manufacturing grid (precheck x.1b): every vertex of every drawn layer
    R("x.1b", "grid", "*", 0.005, text="Vertex off the 5 nm manufacturing grid"),
)

#: SPICE device names of the sky130 primitives we draw.
_DEVICES = {
    "nfet": "sky130_fd_pr__nfet_01v8",
    "pfet": "sky130_fd_pr__pfet_01v8",
    "mim": "sky130_fd_pr__cap_mim_m3_1",
}

#: (lower, cut, upper) connectivity, bottom to top.
_STACK = (
    ("li", "mcon", "met1"), ("met1", "via", "met2"), ("met2", "via2", "met3"),
    ("met3", "via3", "met4"),
)

#: Feature size F for F²/bit figures: the minimum drawn gate length / poly width (poly.1a), 0.15 µm.
FEATURE_UM = 0.15

#: MIM capacitance per area and per perimeter (sky130 typical: 2 fF/µm², 0.38 fF/µm... ) used for
#: the SPICE value of a drawn MIM cap; LVS compares it with a 1 % tolerance.
MIM_CAP_F_PER_UM2 = 2.0e-15


@cache
def sky130() -> Technology:
    """The sky130 technology object (cached; immutable)."""
    return Technology(name="sky130", dbu_um=0.001, grid_um=0.005, layers=_LAYERS, rules=_RULES,
                      devices=dict(_DEVICES), stack=_STACK)


def get_technology(name: str = "sky130") -> Technology:
    """Look up a technology by name.

    Raises:
        InputError: for an unknown technology name.
    """
    from eda.errors import InputError

    if name.lower() != "sky130":
        raise InputError(f"unknown technology {name!r}; expected one of: sky130", file="--tech")
    return sky130()
