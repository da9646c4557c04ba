"""Subscripts in the batch engine: ranges, subranges, mappings, transposition, SUM/PROD/VMIN/VMAX,
elements defined one by one, :EXCEPT:, subscripted stocks, delays, smooths and lookups.

`tests/models/subscripts.mdl` holds one of each; the batch engine must give PySD's numbers (PySD
runs a temporary copy: it writes its translation beside the model).
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
from conftest import MODELS

from sdlib.core.errors import BadInput, UnsupportedConstruct
from sdlib.core.spec import load_spec
from sdlib.engine import compile_spec

MODEL = MODELS / "subscripts.mdl"


def pysd_run(path, tmp_path, **kwargs):
    import pysd

    copy = tmp_path / path.name
    shutil.copy(path, copy)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return pysd.read_vensim(str(copy)).run(**kwargs)


def assert_equal_to_pysd(batch, reference, rtol=1e-12):
    assert len(batch) == len(reference)
    for column in reference.columns:
        if column in ("INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER"):
            continue
        np.testing.assert_allclose(np.asarray(batch[column], float), np.asarray(reference[column], float),
                                   rtol=rtol, atol=0, equal_nan=True, err_msg=column)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return pysd_run(MODEL, tmp_path_factory.mktemp("pysd"))


def test_every_element_equals_pysd(reference):
    # No exponentials here: the same operations in the same order give PySD's bits, not just 1e-12.
    batch = compile_spec(load_spec(MODEL)).run().to_frame(0)
    assert set(c for c in reference.columns if "TIME" not in c and c != "SAVEPER") <= set(batch.columns)
    assert_equal_to_pysd(batch, reference, rtol=0)
    # A few columns by hand, against numbers read off the model's equations.
    assert batch["Regions"].iloc[0] == 4
    assert batch["Product of weights"].iloc[0] == pytest.approx(1 * 2 * 4)  # Kind weight = 2 x Weight
    capacity = np.array([[10, 20, 30], [11, 21, 31], [12, 22, 32], [13, 23, 33]])
    weight = np.array([0.5, 1, 2])
    demand0 = capacity * weight * (1 + 0.1 * np.arange(1, 5)[:, None])  # at time 0
    assert batch["Total demand[south]"].iloc[0] == pytest.approx(demand0[1].sum(), rel=1e-15)
    assert batch["Largest demand[fuel]"].iloc[0] == pytest.approx(demand0[:, 1].max(), rel=1e-15)
    assert batch["Transposed[tools,west]"].iloc[0] == pytest.approx(demand0[3, 2], rel=1e-15)
    # :EXCEPT: keeps the coast's own definition and gives the others the general one.
    assert batch["Effective growth[east]"].iloc[0] == pytest.approx(0.04 + 0.01)
    assert batch["Effective growth[west]"].iloc[0] == pytest.approx(0.05)


def test_a_subscripted_constant_set_for_every_element(tmp_path):
    batch = compile_spec(load_spec(MODEL)).run(params={"Growth rate": 0.07}).to_frame(0)
    assert_equal_to_pysd(batch, pysd_run(MODEL, tmp_path, params={"Growth rate": 0.07}))
    assert (batch[[f"Growth rate[{r}]" for r in ("north", "south", "east", "west")]] == 0.07).all().all()


def test_runs_of_a_subscripted_model_are_independent():
    compiled = compile_spec(load_spec(MODEL))
    many = compiled.run(params={"Growth rate": np.array([0.02, 0.07, 0.1])}, n=3)
    for i, value in enumerate([0.02, 0.07, 0.1]):
        one = compiled.run(params={"Growth rate": value}).to_frame(0)
        np.testing.assert_array_equal(many.values["Stock of goods[west]"][i], one["Stock of goods[west]"])


def test_one_equation_is_one_loop_in_the_kernel():
    # The kernel's size follows the equations, not the elements: 4 x 3 demands are one loop.
    source = compile_spec(load_spec(MODEL)).generated.source
    assert source.count("for p in range(12):") >= 2  # Demand, Transposed
    assert "for p in range(4):" in source


def _model(tmp_path, equations: str) -> str:
    path = tmp_path / "model.mdl"
    path.write_text("{UTF-8}\nA: a1, a2, a3\n ~ \n ~ |\nB: b1, b2\n ~ \n ~ |\n" + equations +
                    "FINAL TIME = 1\n ~ Year\n ~ |\nINITIAL TIME = 0\n ~ Year\n ~ |\nSAVEPER = 1\n ~ Year\n ~ |\n"
                    "TIME STEP = 1\n ~ Year\n ~ |\n", encoding="utf-8")
    return path


def test_a_range_neither_defined_mapped_nor_summed_is_refused(tmp_path):
    path = _model(tmp_path, "x[A] = 1, 2, 3\n ~ \n ~ |\ny[B] = x[A]\n ~ \n ~ |\n")
    with pytest.raises(UnsupportedConstruct, match=r"range A of 'x'.* in 'y\[b1\]'"):
        compile_spec(load_spec(path))


def test_a_subscripted_variable_without_subscripts_is_refused(tmp_path):
    path = _model(tmp_path, "x[A] = 1, 2, 3\n ~ \n ~ |\ny = x * 2\n ~ \n ~ |\n")
    with pytest.raises(BadInput, match=r"'x' used without subscripts in 'y'"):
        compile_spec(load_spec(path))
