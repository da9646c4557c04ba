"""Functions of whole vectors in the batch engine: VECTOR SELECT, SORT ORDER, RANK, REORDER,
INVERT MATRIX, ALLOCATE BY PRIORITY and ALLOCATE AVAILABLE, equal to PySD (`tests/models/vectors.mdl`).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MODELS
from test_engine_subscripts import _model, assert_equal_to_pysd, pysd_run

from sdlib.core.errors import UnsupportedConstruct
from sdlib.core.spec import load_spec
from sdlib.engine import compile_spec

MODEL = MODELS / "vectors.mdl"


@pytest.fixture(scope="module")
def batch():
    return compile_spec(load_spec(MODEL)).run().to_frame(0)


def test_vector_functions_equal_pysd(batch, tmp_path):
    assert_equal_to_pysd(batch, pysd_run(MODEL, tmp_path), rtol=1e-12)


def test_vector_functions_at_time_zero(batch):
    # Moving value at time 0 is Value = 3, 1, 4, 1.5.
    first = batch.iloc[0]
    assert first["Sum of selected"] == 3 + 4 + 1.5  # selection 1, 0, 1, 1
    assert first["Largest selected"] == 4
    assert [first[f"Order[s{i}]"] for i in range(1, 5)] == [1, 3, 0, 2]  # positions, smallest first
    assert [first[f"Rank[i{i}]"] for i in range(1, 5)] == [2, 4, 1, 3]  # direction 0: largest is 1
    assert [first[f"Sorted[s{i}]"] for i in range(1, 5)] == [1, 1.5, 3, 4]
    inverse = [[first[f"Inverse[r{i},c{j}]"] for j in (1, 2)] for i in (1, 2)]
    np.testing.assert_allclose(inverse, np.linalg.inv([[4, 7], [2, 6]]), rtol=1e-15)


def test_allocations_hand_out_what_there_is(batch):
    shares = batch[[f"Shares[i{i}]" for i in range(1, 5)]].sum(axis=1)
    np.testing.assert_allclose(shares, np.minimum(2 + batch.index, 16), rtol=1e-9)  # supply 2 + Time, demand 16
    available = batch[[f"Available share[i{i}]" for i in range(1, 5)]]
    assert (available >= -1e-12).all().all() and (available <= [8, 1, 3, 4]).all().all()


def test_vector_function_of_another_range_is_refused(tmp_path):
    path = _model(tmp_path, "x[A] = 1, 2, 3\n ~ \n ~ |\ny[B] = VECTOR RANK(x[A], 1)\n ~ \n ~ |\n")
    with pytest.raises(UnsupportedConstruct, match=r"range A of 'x'.* in 'y\[b1\]'"):
        compile_spec(load_spec(path))
