"""Data from files in the batch engine: GET DIRECT DATA / CONSTANTS / LOOKUPS (subscripted too) and
DATA variables read from data files given at run time, by PySD's own readers, equal to PySD."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REFERENCE, requires_reference
from test_engine_evaluator import assert_equal_to_pysd, pysd_run, write_model

from sdlib.core.errors import ModelError
from sdlib.core.spec import load_spec
from sdlib.engine import compile_spec

SHARED = REFERENCE / "features" / "data_from_other_model"

SUBSCRIPTED = ("Kind: k1, k2\n ~ \n ~ |\n"
               "series[Kind]:HOLD BACKWARD::= GET DIRECT DATA('data.csv', ',', 'A', 'B2')\n ~ Dmnl\n ~ |\n"
               "limits[Kind] := GET DIRECT CONSTANTS('data.csv', ',', 'B3*')\n ~ Dmnl\n ~ |\n"
               "curve[Kind]( GET DIRECT LOOKUPS('data.csv', ',', 'A', 'B2') )\n ~ Dmnl\n ~ |\n"
               "use[Kind] = MIN(series[Kind], limits[Kind]) + curve[Kind](Time)\n ~ Dmnl\n ~ |\n")


def test_subscripted_data_constants_and_lookups_equal_pysd(tmp_path):
    path = write_model(tmp_path, SUBSCRIPTED, data=True)
    batch = compile_spec(load_spec(path)).run().to_frame(0)
    assert_equal_to_pysd(batch, pysd_run(path, tmp_path))
    assert batch.loc[5.0, "series[k2]"] == 20 and batch.loc[5.0, "limits[k1]"] == 3


def test_data_variables_from_data_files(tmp_path):
    # A DATA variable without GET is read from the files given to the run, as PySD's data_files.
    import pysd

    (tmp_path / "given.tab").write_text("Time\tsupply\n0\t1\n5\t6\n10\t2\n", encoding="utf-8")
    path = write_model(tmp_path, "supply:INTERPOLATE:\n ~ Dmnl\n ~ |\nuse = supply * 2\n ~ Dmnl\n ~ |\n")
    batch = compile_spec(load_spec(path), data_files=[tmp_path / "given.tab"]).run().to_frame(0)
    with np.errstate(all="ignore"):
        reference = pysd.read_vensim(str(path), data_files=[str(tmp_path / "given.tab")]).run()
    assert_equal_to_pysd(batch, reference)
    assert batch.loc[3.0, "supply"] == 4.0
    with pytest.raises(ModelError, match="'supply' is a DATA variable read from data files given at run time"):
        compile_spec(load_spec(path)).run()


@requires_reference
def test_a_model_pysd_cannot_run_against_vensims_own_output():
    # model_to_generate_data.mdl: PySD fails on it ("could not broadcast"); Vensim wrote its run in
    # data.tab. The batch engine gives Vensim's numbers on every column, to Vensim's printed precision.
    from pysd.py_backend.utils import load_outputs

    batch = compile_spec(load_spec(SHARED / "model_to_generate_data.mdl")).run().to_frame(0)
    vensim = load_outputs(SHARED / "data.tab")
    columns = [c for c in vensim.columns if c in batch.columns]
    assert len(columns) >= 30
    for column in columns:
        theirs = np.asarray(vensim[column], float)
        if np.isnan(theirs[1:]).all():  # Vensim writes constants on the first row only
            theirs = np.full_like(theirs, theirs[0])
        ours = np.asarray(batch.loc[vensim.index.astype(float), column], float)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5, equal_nan=True, err_msg=column)
