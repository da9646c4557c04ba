"""The public API as a notebook uses it: `import sdlib`, one call, a labelled Dataset back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import MODELS

import sdlib
from sdlib.core.errors import BadInput, UnknownName


def test_run_returns_a_dataset_with_units_and_provenance():
    ds = sdlib.run("baseline", set={"capital share": 0.3}, final_time=2040, progress=False)
    assert dict(ds.sizes) == {"run": 1, "time": 17}
    assert ds["Output per developer"].attrs["units"] == "$/(Person*Year)"
    assert ds["Computing capital"].attrs["kind"] == "stock" and ds["Computing capital"].attrs["comment"]
    assert ds["time"].attrs["units"] == "Year"
    assert ds.attrs["status"] == "ok" and ds.attrs["scenario"] == "baseline" and ds.attrs["engine"] == "pysd"
    assert json.loads(ds.attrs["overrides"]) == {"capital share": 0.3}
    assert len(ds.attrs["model_sha256"]) == 64 and json.loads(ds.attrs["versions"])["pysd"]
    # the override reaches the model: a lower capital share moves output per developer in 2040
    base = sdlib.run("baseline", final_time=2040, progress=False)
    assert ds["Output per developer"].sel(run=0, time=2040) != base["Output per developer"].sel(run=0, time=2040)


def test_errors_name_the_library_argument_not_a_flag():
    with pytest.raises(UnknownName, match=r"^set: no parameter named 'capitl share'.*did you mean 'capital share'"):
        sdlib.run("paper", set={"capitl share": 0.3})
    with pytest.raises(BadInput, match=r"^time_step: -0.1 is not positive") as info:
        sdlib.run("paper", time_step=-0.1)
    assert info.value.argument == "time_step"


def test_loops_returns_a_dataset_with_every_loop_counted():
    lp = sdlib.loops(str(MODELS / "bass.mdl"), max_loops=2)
    assert lp.attrs["count"] == 3 and lp.sizes["loop"] == 2  # counted exactly, the two shortest listed
    assert set(lp["polarity"].to_numpy()) <= {"reinforcing", "balancing"}
    assert json.loads(lp.attrs["by_polarity"]) == {"reinforcing": 1, "balancing": 2, "undetermined": 0, "inactive": 0}


def test_loops_with_dominance_scores_sum_to_one():
    lp = sdlib.loops(str(MODELS / "logistic.mdl"), dominance=True)
    scores = np.abs(lp["score"].to_numpy()).sum(axis=0)
    np.testing.assert_allclose(scores[1:], 1.0, atol=1e-12)  # relative loop scores; the first step has none
    assert lp["importance"].to_numpy()[0] >= lp["importance"].to_numpy()[-1]


def test_model_runs_many_parameter_sets_on_either_engine():
    model = sdlib.Model(MODELS / "logistic.mdl")
    rates = np.array([0.2, 0.5])
    runs = {engine: model.run({"growth rate": rates}, engine=engine, columns=["Population"]) for engine in
            ("pysd", "batch")}
    np.testing.assert_allclose(runs["pysd"]["Population"], runs["batch"]["Population"], rtol=1e-12)
    population = runs["pysd"]["Population"].to_numpy()
    assert (population[1, 1:] > population[0, 1:]).all()  # faster growth, more people at every later time


def test_the_spec_is_cached_on_disk_beside_the_translation(tmp_path, monkeypatch):
    from sdlib.core import spec as spec_module
    from sdlib.engine.translate import translated_path

    monkeypatch.setenv("TOKENWORLD_CACHE", str(tmp_path))
    spec_module._load_spec_cached.cache_clear()
    model = MODELS / "decay.mdl"
    spec = spec_module.load_spec(model)
    cached = spec_module.spec_cache_file(spec.sha256)
    assert cached.is_file() and cached.parent == translated_path(model).parent.parent
    cached.write_bytes(b"damaged")  # a damaged cache is parsed again and replaced, never trusted
    spec_module._load_spec_cached.cache_clear()
    again = spec_module.load_spec(model)
    assert set(again.elements) == set(spec.elements) and cached.read_bytes() != b"damaged"
    spec_module._load_spec_cached.cache_clear()
