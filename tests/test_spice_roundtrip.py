"""Writer twin of the reader: parse(write(c)) == c, and real files keep devices and connectivity."""

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eda.circuit import Analysis, Circuit, Device, Model, Subckt, Waveform
from eda.errors import InputError, SpiceParseError
from eda.export.to_spice import to_spice
from eda.paths import PATHS
from eda.read.from_spice import parse_spice, read_spice

# a bare word starting "inf"/"nan" reads as a number where an R/C/L value may stand (eda.read.numbers.NUMBER_LIKE):
# SPICE cannot name a model so, and the writer refuses it (test_writer_refuses_a_model_name_read_as_a_value)
ident = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(lambda s: not s.startswith(("inf", "nan")))
named_net = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,5}", fullmatch=True)  # never ground: a letter first
net = st.one_of(st.just("0"), named_net)
num = st.floats(allow_nan=False, allow_infinity=False, width=64)
pos = st.floats(min_value=1e-18, max_value=1e12, allow_nan=False)
expr = ident.map(lambda s: "{" + s + "*2}")
pval = st.one_of(num, expr)
params = st.dictionaries(ident.filter(lambda k: k not in {"dc", "ac", "r", "c", "l", "params"}), pval,
                         max_size=3)


def _name(letter):
    return st.from_regex(r"[0-9a-z]{1,4}", fullmatch=True).map(lambda s: letter + s)


@st.composite
def device(draw, allow_x=True):
    kind = draw(st.sampled_from("MQRCLDVIX" if allow_x else "MQRCLDVI"))
    name = draw(_name(kind))
    if kind == "M":
        return Device(name, "M", tuple(draw(st.lists(net, min_size=4, max_size=4))), model=draw(ident),
                      params=draw(params))
    if kind == "Q":
        n = draw(st.sampled_from([3, 4]))
        nodes = tuple(draw(st.lists(named_net, min_size=n, max_size=n)))
        return Device(name, "Q", nodes, model=draw(ident), value=draw(st.none() | pos), params=draw(params))
    if kind == "D":
        return Device(name, "D", tuple(draw(st.lists(net, min_size=2, max_size=2))), model=draw(ident),
                      value=draw(st.none() | pos), params=draw(params))
    if kind in "RCL":
        value = draw(st.none() | num | expr)
        model = draw(ident) if value is None else draw(st.none() | ident)
        return Device(name, kind, tuple(draw(st.lists(net, min_size=2, max_size=2))), model=model,
                      value=value, params=draw(params))
    if kind in "VI":
        wave = draw(st.none() | st.builds(lambda a: Waveform("pulse", tuple(a)), st.lists(num, min_size=2,
                                                                                     max_size=7))
                    | st.builds(lambda a: Waveform("pwl", tuple(a)), st.lists(num, min_size=1, max_size=3)
                                .map(lambda xs: [v for x in xs for v in (abs(x), x)])))
        return Device(name, kind, tuple(draw(st.lists(net, min_size=2, max_size=2))),
                      value=draw(st.none() | num), ac=draw(st.none() | num), waveform=wave)
    return Device(name, "X", tuple(draw(st.lists(net, min_size=1, max_size=5))), model=draw(ident),
                  params=draw(params))


models = st.builds(Model, ident, st.sampled_from(["nmos", "pmos", "npn", "d", "r"]), params)
analyses = st.builds(Analysis, st.sampled_from(["op", "tran", "dc", "ac"]),
                     st.lists(st.sampled_from(["1n", "10u", "dec", "10", "V1", "0", "1.8"]), max_size=4)
                     .map(tuple))
subckts = st.builds(Subckt, ident, st.lists(named_net, min_size=1, max_size=4)
                    .map(tuple), st.lists(device(allow_x=False), max_size=4), params,
                    st.lists(models, max_size=2))
circuits = st.builds(
    Circuit,
    title=st.text(string.ascii_letters + string.digits + " _-", max_size=20).map(str.strip),
    devices=st.lists(device(), max_size=12),
    ports=st.lists(net, max_size=4).map(tuple),
    subckts=st.lists(subckts, max_size=2),
    models=st.lists(models, max_size=3),
    params=params,
    analyses=st.lists(analyses, max_size=2),
    options=st.dictionaries(ident, num, max_size=2),
).filter(lambda c: c.devices or c.subckts or c.models).map(lambda c: _declare_models(c))


def _declare_models(c: Circuit) -> Circuit:
    """An R/C/L that names a model needs its .model card (the reader refuses undeclared ones as junk)."""
    known = {m.name.lower() for m in c.models} | {m.name.lower() for s in c.subckts for m in s.models}
    for d in c.devices + [d for s in c.subckts for d in s.devices]:
        if d.kind in "RCL" and d.model and d.model.lower() not in known:
            c.models.append(Model(d.model, d.kind.lower(), {}))
            known.add(d.model.lower())
    return c


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a timing check: shared CI
@given(circuits)
def test_roundtrip_property(c):
    assert parse_spice(to_spice(c)) == c


def test_roundtrip_shipped_files():
    for f in sorted(PATHS.netlists.glob("*.sp")):
        c = read_spice(f)
        back = parse_spice(to_spice(c))
        assert back.devices == c.devices and back.subckts == c.subckts and back.models == c.models
        assert back.nets == c.nets


def test_cadence_form_reads_back_with_same_connectivity():
    src = "M0 (n1 VIN1 VSS VSS) nmos4\nM1 (VOUT1 n1 VDD VDD) pmos4\nR0 (n1 VDD) resistor\nI9 (n1 VOUT1) capacitor\n"
    c = parse_spice(src, title=False)
    back = parse_spice(to_spice(c))
    assert [(d.kind, d.nodes, d.model) for d in back.devices] == [(d.kind, d.nodes, d.model) for d in c.devices]


@pytest.mark.parametrize("value", [None, 5.0])
@pytest.mark.parametrize("model", ["inf", "info_r", "NaNo", "1res", ".5r"])
def test_writer_refuses_a_model_name_read_as_a_value(model, value):
    c = Circuit(title="t", devices=[Device("R0", "R", ("a", "0"), value=value, model=model, params={"l": 10.0})])
    with pytest.raises(InputError, match=f"R0: model name '{model}' reads as a number"):
        to_spice(c)
    # what it guards against: written as it stands, the reader takes the name for the value (or refuses it)
    text = f"t\nR0 a 0 {'' if value is None else value} {model} l=10\n.end\n"
    try:
        back = parse_spice(text)
    except SpiceParseError:
        return
    assert back.devices[0].model != model


def test_writer_keeps_model_names_that_only_contain_inf():
    c = Circuit(title="t", models=[Model("rinf", "r", {}), Model("inf_n", "nmos", {})],
                devices=[Device("R0", "R", ("a", "0"), model="rinf", params={"l": 10.0}),
                         Device("M1", "M", ("d", "g", "s", "b"), model="inf_n")])
    back = parse_spice(to_spice(c))
    assert [d.model for d in back.devices] == ["rinf", "inf_n"]  # after a MOS's nodes a model is always a model
