"""One evaluator for constants and equations, and the six ways the batch engine used to answer wrongly.

Constants are evaluated by the same translation the kernel compiles (`sdlib.core.evaluate`), so
`registry.constant_value` follows PySD: -2^2 is -4 and 2^3^2 is 512. Each former wrong answer is
now either PySD's number or a refusal that names the variable (exit 2, nothing written).
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
from pysd.translators.structures import abstract_expressions as ax

from sdlib.core.errors import ModelError, UnsupportedConstruct
from sdlib.core.registry import constant_value, parameters
from sdlib.core.spec import load_spec
from sdlib.engine import compile_spec

CONTROLS = ("FINAL TIME = 10\n ~ Year\n ~ |\nINITIAL TIME = 0\n ~ Year\n ~ |\nSAVEPER = 1\n ~ Year\n ~ |\n"
            "TIME STEP = 0.5\n ~ Year\n ~ |\n")
DATA = "t,v,w\n0,1,10\n4,3,20\n10,2,40\n"  # times in column A, two series in B and C


def write_model(tmp_path, equations: str, data: bool = False):
    path = tmp_path / "model.mdl"
    path.write_text("{UTF-8}\n" + equations + CONTROLS, encoding="utf-8")
    if data:
        (tmp_path / "data.csv").write_text(DATA, encoding="utf-8")
    return path


def pysd_run(path, tmp_path):
    import pysd

    folder = tmp_path / "pysd"
    folder.mkdir()
    for file in path.parent.iterdir():
        if file.is_file():
            shutil.copy(file, folder / file.name)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return pysd.read_vensim(str(folder / path.name)).run()


def assert_equal_to_pysd(batch, reference):
    for column in reference.columns:
        if column in ("INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER"):
            continue
        np.testing.assert_array_equal(np.asarray(batch[column], float), np.asarray(reference[column], float),
                                      err_msg=column)


@pytest.mark.parametrize("ast, value", [
    (ax.ArithmeticStructure(["^"], (-2, 2)), -4.0),  # PySD writes -2**2: the minus after the power
    (ax.ArithmeticStructure(["^", "^"], (2, 3, 2)), 512.0),  # powers nest from the right
    (ax.ArithmeticStructure(["negative"], (ax.ArithmeticStructure(["^"], (3, 2)),)), -9.0),
    (ax.ArithmeticStructure(["^"], (2, ax.ArithmeticStructure(["negative"], (1,)))), 0.5),
    (ax.ArithmeticStructure(["-", "+"], (10, 4, 3)), 9.0),  # left to right
    (ax.GameStructure(12), 12.0),
    (ax.CallStructure(ax.ReferenceStructure("min"), (3, ax.ArithmeticStructure(["/"], (1, 4)))), 0.25),
])
def test_constant_value_follows_pysd(ast, value):
    assert constant_value(ast) == value


def test_constant_value_of_what_is_not_a_number():
    assert constant_value(ax.ReferenceStructure("x")) is None
    assert constant_value(ax.ArithmeticStructure(["/"], (1, 0))) is None  # PySD raises ZeroDivisionError
    assert np.isnan(constant_value(float("nan")))  # :NA:


def test_constants_with_powers_equal_pysd(tmp_path):
    # 1. -2^2 and 2^3^2 in a model: the registry and both engines agree on -4 and 512.
    path = write_model(tmp_path, "a = -2^2\n ~ Dmnl\n ~ |\nb = 2^3^2\n ~ Dmnl\n ~ |\n"
                                 "c = a * b + Time\n ~ Dmnl\n ~ |\n")
    params = parameters(load_spec(path))
    assert (params["a"].value, params["b"].value) == (-4.0, 512.0)
    batch = compile_spec(load_spec(path)).run().to_frame(0)
    assert batch["a"].iloc[0] == -4 and batch["b"].iloc[0] == 512
    assert_equal_to_pysd(batch, pysd_run(path, tmp_path))


def test_na_is_a_value_not_a_divergence(tmp_path):
    # 2. :NA: used to crash numba; it is NaN in PySD, and NaN is no divergence.
    path = write_model(tmp_path, "missing = :NA:\n ~ Dmnl\n ~ |\nuse = missing + Time\n ~ Dmnl\n ~ |\n"
                                 "Stock = INTEG(1, 0)\n ~ Dmnl\n ~ |\n")
    result = compile_spec(load_spec(path)).run()
    assert result.status[0] == "ok"
    assert np.isnan(result.values["use"][0]).all() and result.values["Stock"][0][-1] == 10
    assert_equal_to_pysd(result.to_frame(0), pysd_run(path, tmp_path))


def test_data_and_get_constants_in_equations_equal_pysd(tmp_path):
    # 3. and 4. A data variable and a := GET constant in an equation (KeyError before), GAME(12)
    # and GET DIRECT CONSTANTS (NaN and "diverged at 0" before), read by PySD's own readers.
    path = write_model(tmp_path, "series := GET DIRECT DATA('data.csv', ',', 'A', 'B2')\n ~ Dmnl\n ~ |\n"
                                 "held:HOLD BACKWARD: := GET DIRECT DATA('data.csv', ',', 'A', 'C2')\n ~ Dmnl\n ~ |\n"
                                 "level := GET DIRECT CONSTANTS('data.csv', ',', 'C3')\n ~ Dmnl\n ~ |\n"
                                 "curve( GET DIRECT LOOKUPS('data.csv', ',', 'A', 'C2') )\n ~ Dmnl\n ~ |\n"
                                 "game = GAME(12)\n ~ Dmnl\n ~ |\n"
                                 "use = series * level + held + curve(Time * 1.5) + game\n ~ Dmnl\n ~ |\n",
                       data=True)
    result = compile_spec(load_spec(path)).run()
    assert result.status[0] == "ok"
    batch = result.to_frame(0)
    assert batch["level"].iloc[0] == 20 and batch["game"].iloc[0] == 12
    assert batch.loc[2.0, "series"] == 2.0  # halfway from (0, 1) to (4, 3)
    assert batch.loc[5.0, "held"] == 20.0  # holds 20 from time 4 until 10
    assert_equal_to_pysd(batch, pysd_run(path, tmp_path))


def test_a_missing_data_file_is_refused_naming_variable_and_file(tmp_path, cli):
    # 5. GET DATA and GET CONSTANTS variables used to vanish (exit 0) when their file was missing.
    path = write_model(tmp_path, "level := GET DIRECT CONSTANTS('nowhere.csv', ',', 'C3')\n ~ Dmnl\n ~ |\n"
                                 "use = level * 2\n ~ Dmnl\n ~ |\n")
    with pytest.raises(ModelError, match=r"model.mdl: 'level' reads a file that is not there .*nowhere.csv"):
        compile_spec(load_spec(path))
    code, _, err = cli("simulate", path, "--engine", "batch", "--out", tmp_path / "out")
    assert code == 2 and "nowhere.csv" in err and not (tmp_path / "out").exists()


def test_a_complex_power_is_refused_at_the_time_it_happens(tmp_path):
    # 6. (-8)^(1/3) with the base computed: PySD gives a complex number, numba gave NaN. The base
    # turns negative at 4.5; like PySD, the engine computes 'root' when it saves it, at 5.
    path = write_model(tmp_path, "base = 4 - Time\n ~ Dmnl\n ~ |\nroot = base ^ (1/3)\n ~ Dmnl\n ~ |\n")
    with pytest.raises(UnsupportedConstruct, match=r"negative number raised to a fractional power in 'root' "
                                                   r".* at time 5 "):
        compile_spec(load_spec(path)).run()
    # A whole exponent stays real, as in Python.
    path = write_model(tmp_path, "base = 4 - Time\n ~ Dmnl\n ~ |\nsquare = base ^ 2\n ~ Dmnl\n ~ |\n")
    assert compile_spec(load_spec(path)).run().values["square"][0][-1] == 36.0
