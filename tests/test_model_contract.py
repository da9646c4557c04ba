"""The names contract (DESIGN.md section 5) and the registry rules: units, ranges, comments."""

import pytest

from sdlib.core.display import display_of
from sdlib.core.paths import DEFAULT_MODEL
from sdlib.core.registry import parameters
from sdlib.core.spec import load_spec

# The names contract of DESIGN.md section 5, with the units each must carry.
PARAMETERS = {
    "capital share": "Dmnl",
    "token return parameter": "Dmnl",
    "token frontier growth rate": "1/Year",
    "developer growth rate": "1/Year",
    "capital depreciation rate": "1/Year",
    "capital investment rate": "Dmnl",
    "token productivity scale": "Dmnl",
    "efficiency investment share": "Dmnl",
    "efficiency research productivity": "1/$",
    "efficiency knowledge depreciation rate": "1/Year",
    "efficiency returns exponent": "Dmnl",
    "initial computing capital": "$",
    "adoption year": "Year",
    "token access mode": "Dmnl",
    "frontier mode": "Dmnl",
    "production function mode": "Dmnl",
    "tokens per question": "token/question",
}
INDICATORS = {
    "Developers": "Person",
    "Computing capital": "$",
    "Software output": "$/Year",
    "Output per developer": "$/(Person*Year)",
    "Token use": "token/Year",
    "Token augmentation factor": "Dmnl",
    "Efficiency knowledge": "Dmnl",
    "Elasticity of substitution": "Dmnl",
    "Labor share": "Dmnl",
    "Wage": "$/(Person*Year)",
    "Token price": "$/Mtoken",
    "Token demand": "token/Year",
    "Token supply capacity": "token/Year",
    "Compute capacity": "H100e",
    "Energy per token": "J/token",
    "Landauer floor energy per token": "J/token",
    "AI electricity use": "TWh/Year",
    "Tokens per person per day": "token/(Person*Day)",
    "Questions per person per day": "question/(Person*Day)",
    "Data centre copper demand": "t/Year",
    "Copper reserves": "t",
    "Copper price": "$/t",
    "Public token share": "Dmnl",
}


@pytest.fixture(scope="module")
def spec():
    return load_spec(DEFAULT_MODEL)


@pytest.mark.parametrize("name, units", sorted({**PARAMETERS, **INDICATORS}.items()))
def test_contract_name_exists_with_units(spec, name, units):
    assert spec[name].units == units


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_contract_parameters_are_settable_constants(spec, name):
    assert spec[name].kind == "constant"


@pytest.mark.parametrize("switch", ["token access mode", "frontier mode", "production function mode"])
def test_switches_are_declared_as_switches(spec, switch):
    assert parameters(spec)[switch].is_switch


def test_every_parameter_has_units_range_and_a_cited_comment(spec):
    # Registry rule (issue 3): units, a [min,max] range in the units field, and a comment.
    for param in parameters(spec).values():
        assert param.units, param.name
        assert param.low is not None and param.high is not None, param.name
        assert param.low <= param.value <= param.high, param.name
        assert len(param.comment) > 10, param.name


def test_one_view_per_sector():
    from pysd.translators.vensim.vensim_file import VensimFile

    vf = VensimFile(DEFAULT_MODEL)
    vf.parse()
    vf.parse_sketch([])
    views = vf.get_abstract_model().sections[0].views_dict
    sectors = {"production", "substitution", "frontier", "efficiency", "demand", "price", "compute", "hardware",
               "energy", "copper_mining", "copper_use", "questions"}
    assert sectors <= set(views)


def test_display_file_names_only_variables_of_the_model(spec):
    # Reading it checks every name (a misspelled one is refused naming the file and the name).
    display = display_of(spec)
    assert display.summary and display.headline and display.charts and display.sectors
    for u in display.uncertainties:
        param = parameters(spec)[u.name.lower()]
        assert param.low <= u.low < u.high <= param.high, u.name
    for slider in display.sliders:
        param = parameters(spec)[slider.name.lower()]
        assert param.low <= slider.low < slider.high <= param.high, slider.name


def test_a_misspelled_display_name_is_refused(tmp_path):
    from sdlib.core.errors import BadInput

    model = tmp_path / "tokenworld.mdl"
    model.write_bytes(DEFAULT_MODEL.read_bytes())
    (tmp_path / "tokenworld-display.toml").write_text('summary = ["Token prize"]\n', encoding="utf-8")
    with pytest.raises(BadInput, match="tokenworld-display.toml: summary: 'Token prize' is not a variable"):
        display_of(load_spec(model))
