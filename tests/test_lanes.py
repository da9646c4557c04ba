"""The lane kernel (issue 17): many runs side by side, vectorised, with its own exp, log and pow.

Its numbers differ from PySD's (and from the one-run kernel, which calls the C library as numpy does)
only by the rounding of those functions: within one unit in the last place for exp and log, and
about |b ln a| units for a ** b. The tests hold the functions to that, and whole runs to a stated
tolerance against the one-run kernel on every scenario.
"""

import numpy as np
import pytest
from numba import njit

import sdlib
from sdlib.core.errors import UnsupportedConstruct
from sdlib.core.spec import load_spec
from sdlib.engine import compile_spec
from sdlib.engine.lanes import LANES
from sdlib.engine.vmath import vexp, vlog, vpow

ULP = 2.220446049250313e-16


@njit(error_model="numpy")
def _apply(kind, a, b):
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        out[i] = vexp(a[i]) if kind == 0 else (vlog(a[i]) if kind == 1 else vpow(a[i], b[i]))
    return out


def test_exp_and_log_are_within_one_unit_in_the_last_place():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-708, 709, 200_000), rng.uniform(-1, 1, 100_000)])  # normal results
    exp = _apply(0, x, x)
    assert np.max(np.abs(exp - np.exp(x)) / np.exp(x)) <= ULP  # relative: within 1 ulp of numpy's
    tiny = rng.uniform(-745, -708, 10_000)  # subnormal results: within one unit of the smallest one
    assert np.max(np.abs(_apply(0, tiny, tiny) - np.exp(tiny))) <= 5e-324
    y = np.exp(rng.uniform(-700, 700, 200_000))
    log = _apply(1, y, y)
    assert np.max(np.abs(log - np.log(y)) / np.abs(np.log(y))) <= ULP


def test_special_values_are_those_of_the_c_library():
    values = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 1e-310, np.inf, -np.inf, np.nan, 709.8, -746.0])
    for kind, reference in ((0, np.exp), (1, np.log)):
        with np.errstate(all="ignore"):
            expected = reference(values)
            got = _apply(kind, values, values)
            # zeros, infinities and NaN exactly; ordinary values (e**1 ...) within one ulp
            assert ((got == expected) | (np.isnan(got) & np.isnan(expected))
                    | (np.abs(got - expected) <= ULP * np.abs(expected))).all()
    bases = np.repeat(values, values.size)
    exponents = np.tile(values, values.size)
    with np.errstate(all="ignore"):
        expected = np.power(bases, exponents)  # the C library's pow, as PySD computes a ** b
    got = _apply(2, bases, exponents)
    same = (got == expected) | (np.isnan(got) & np.isnan(expected))
    with np.errstate(all="ignore"):
        rel = np.abs(got - expected) / np.abs(expected)
        bound = (np.abs(exponents * np.log(np.abs(bases))) + 2) * ULP
    # special cases exact; an ordinary power (2 ** 0.5, 2 ** 709.8 ...) within the stated error
    bad = ~(same | (rel <= bound))
    assert not bad.any(), list(zip(bases[bad], exponents[bad], got[bad], expected[bad], strict=True))


def test_powers_are_within_their_stated_error():
    rng = np.random.default_rng(2)
    a = np.exp(rng.uniform(-5, 5, 200_000))
    b = rng.uniform(-3, 3, a.size)
    rel = np.abs(_apply(2, a, b) - a ** b) / a ** b
    bound = (np.abs(b * np.log(a)) + 2) * ULP  # the error of ln a, multiplied by b, plus exp's own
    assert (rel <= bound).all()
    assert np.median(rel) <= ULP


def test_tokenworld_runs_on_the_lane_kernel():
    compiled = compile_spec(sdlib.Model.load().spec)
    assert compiled.lanes == LANES, compiled.generated.lanes_obstacle


@pytest.mark.parametrize("scenario", sorted(sdlib.scenarios()))
def test_lane_kernel_equals_the_one_run_kernel_on_every_scenario(scenario):
    # The same scenario (overrides, policies' time series) in a batch of 3 runs and alone: the lane
    # kernel differs from the one-run kernel (numpy's libm) only by its exp/log/pow rounding, which
    # the model's feedback carries to at most ~1e-13 relative by 2100 (measured 7.6e-15 on the baseline).
    resolved = sdlib.resolve(scenario)
    compiled = resolved.model.compiled()
    one = compiled.run(resolved.params, n=1, controls=resolved.controls)
    lanes = compiled.run(resolved.params, n=3, controls=resolved.controls)
    assert list(lanes.status) == [one.status[0]] * 3
    for name, values in one.values.items():
        reference = values[0]
        for i in range(3):
            np.testing.assert_allclose(lanes.values[name][i], reference, rtol=1e-9, atol=1e-12, err_msg=name)


MODEL = """{UTF-8}
Stock = INTEG(inflow, 1)
 ~ Dmnl
 ~ |
inflow = IF THEN ELSE(Time > switch time, base ^ exponent, Stock * rate)
 ~ 1/Year
 ~ |
base = -2
 ~ Dmnl
 ~ |
rate = 0.1
 ~ 1/Year
 ~ |
exponent = 0.5
 ~ Dmnl
 ~ |
switch time = 100
 ~ Year
 ~ |
FINAL TIME = 20
 ~ Year
 ~ |
INITIAL TIME = 0
 ~ Year
 ~ |
SAVEPER = 1
 ~ Year
 ~ |
TIME STEP = 0.125
 ~ Year
 ~ |
"""


def compiled_from(folder, text: str):
    """The batch engine's kernels for a model written out from `text`."""
    path = folder / "model.mdl"
    path.write_text(text, encoding="utf-8")
    return compile_spec(load_spec(path))


def test_a_complex_power_on_the_branch_not_taken_is_no_error(tmp_path):
    # The lane kernel computes both arms of IF THEN ELSE; the complex base ^ exponent = (-2) ^ 0.5 sits on the arm no run
    # takes before year 100, so no run is refused, and the stock grows as exp(0.1 t) under Euler.
    compiled = compiled_from(tmp_path, MODEL)
    assert compiled.lanes == LANES, compiled.generated.lanes_obstacle
    result = compiled.run(params={"rate": np.array([0.1, 0.2, 0.0])}, n=3)
    assert list(result.status) == ["ok", "ok", "ok"]
    stock = result.values["Stock"]
    assert stock[0][-1] == pytest.approx((1 + 0.1 / 8) ** 160, rel=1e-12)
    assert stock[2][-1] == 1.0


def test_a_complex_power_on_the_branch_taken_refuses_the_run(tmp_path):
    compiled = compiled_from(tmp_path, MODEL)
    with pytest.raises(UnsupportedConstruct, match=r"at time 5\.125 \(run 1\)"):
        compiled.run(params={"switch time": np.array([100.0, 5.0, 100.0])}, n=3)


FLOW_POWER = """{UTF-8}
Stock = INTEG((offset - Time) ^ exponent, 0)
 ~ Dmnl
 ~ |
offset = 4.5
 ~ Year
 ~ |
exponent = 0.5
 ~ Dmnl
 ~ |
FINAL TIME = 4
 ~ Year
 ~ |
INITIAL TIME = 0
 ~ Year
 ~ |
SAVEPER = 0.5
 ~ Year
 ~ |
TIME STEP = 0.25
 ~ Year
 ~ |
"""


@pytest.mark.parametrize("offset, refused_at", [(3.75, None), (3.25, "3.5"), (3.4, "3.5"), (3.6, "3.75")])
def test_a_complex_power_in_a_derivative_refuses_where_the_one_run_kernel_does(tmp_path, offset, refused_at):
    # The power sits in the stock's derivative, which the lane kernel computes in the same fused loop
    # as every equation at a saving step, and (discarded) at the last step, which takes no step: the
    # base turns negative at time 4 (the last step: no error), at a saving step (3.5), or between
    # saving steps (3.75); the lanes (3 runs) refuse exactly where the one-run kernel does.
    compiled = compiled_from(tmp_path, FLOW_POWER)
    assert compiled.lanes == LANES, compiled.generated.lanes_obstacle
    assert "el_last = el" in compiled.generated.source  # the last step's error slot is kept apart
    params = {"offset": np.array([4.5, offset, 4.5])}
    if refused_at is None:
        one = compiled.run(params={"offset": offset}, n=1)
        many = compiled.run(params=params, n=3)
        assert list(many.status) == ["ok", "ok", "ok"]
        np.testing.assert_allclose(many.values["Stock"][1], one.values["Stock"][0], rtol=1e-13)
        return
    with pytest.raises(UnsupportedConstruct, match=rf"at time {refused_at} \(run 0\)"):
        compiled.run(params={"offset": offset}, n=1)
    with pytest.raises(UnsupportedConstruct, match=rf"at time {refused_at} \(run 1\)"):
        compiled.run(params=params, n=3)


def test_each_exp_log_and_power_of_a_fused_loop_is_computed_once():
    from sdlib.engine.lanes import _shared

    lines = _shared(["a = vexp(x) + vexp(x) * vlog(y)", "b = vexp(x) / vlog(y)", "x = x + dt * b", "c = vexp(x)"])
    assert lines == ["cse0 = vexp(x)", "cse1 = vlog(y)", "a = cse0 + cse0 * cse1", "b = cse0 / cse1", "x = x + dt * b",
                     "cse2 = vexp(x)", "c = cse2"]  # x assigned anew: its exp computed again


def test_a_subscripted_model_runs_on_the_run_major_kernel():
    from conftest import MODELS

    compiled = compile_spec(load_spec(MODELS / "regions.mdl"))
    assert compiled.lanes == 0 and "subscripted" in compiled.generated.lanes_obstacle


def _scalar_reference_models():
    from conftest import REFERENCE, requires_reference

    if not REFERENCE.is_dir():
        return [pytest.param(None, marks=requires_reference, id="reference-models")]
    return [pytest.param(path, marks=pytest.mark.slow, id=f"{path.parent.name}/{path.stem}")
            for path in sorted(REFERENCE.glob("*/*/*.mdl")) if path.parent.name in SCALAR_REFERENCE]


# The reference models the lane kernel takes that exercise what it rewrites (IF THEN ELSE, MIN/MAX,
# XIDZ/ZIDZ, EXP/LN/SQRT, powers, lookups, TREND, :NA:, macros) and the classic dynamics; all 46 it
# takes were checked once when it was written (equal to 1e-9), each compile costs seconds in CI.
SCALAR_REFERENCE = {"abs", "builtin_max", "builtin_min", "exp", "if_stmt", "ln", "lookups", "na",
                    "macro_stock", "sqrt", "trend", "xidz_zidz", "Lotka_Volterra", "SIR", "teacup"}


@pytest.mark.parametrize("path", _scalar_reference_models())
def test_lane_kernel_equals_the_one_run_kernel_on_reference_models(path, monkeypatch):
    # Reference models the lane kernel takes: a batch of 3 equals the one-run kernel
    # (itself equal to PySD, test_engine) to 1e-9 relative. Compiled here, not in a child process:
    # the child only buys speed.
    from sdlib.engine.compile import COMPILING_HERE

    monkeypatch.setenv(COMPILING_HERE, "1")
    try:
        compiled = compile_spec(load_spec(path))
        one = compiled.run(n=1)
    except (UnsupportedConstruct, sdlib.ModelError) as refused:
        pytest.skip(f"the batch engine refuses it: {refused}")
    if not compiled.lanes:
        pytest.skip(f"on the run-major kernel: {compiled.generated.lanes_obstacle}")
    lanes = compiled.run(n=3)
    assert list(lanes.status) == [one.status[0]] * 3
    for name, values in one.values.items():
        for i in range(3):
            np.testing.assert_allclose(lanes.values[name][i], values[0], rtol=1e-9, atol=1e-12, err_msg=name)
