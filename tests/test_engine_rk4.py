"""RK4 in the batch engine: classic fourth-order Runge-Kutta with a fixed step (Vensim's "RK4 Fixed";
PySD integrates with Euler only). Checked against what RK4 must give: the exact one-step factor on
linear equations, fourth-order convergence, and a tight reference solution of a nonlinear model.
"""

from __future__ import annotations

import numpy as np
import pytest

from sdlib.core.errors import BadInput, UnsupportedConstruct
from sdlib.core.spec import load_spec
from sdlib.engine import compile_spec


def write(tmp_path, equations: str, final: float = 10, step: float = 0.25, name: str = "model.mdl"):
    path = tmp_path / name
    path.write_text("{UTF-8}\n" + equations + f"FINAL TIME = {final}\n ~ Year\n ~ |\nINITIAL TIME = 0\n ~ Year\n ~ |\n"
                    f"SAVEPER = {step}\n ~ Year\n ~ |\nTIME STEP = {step}\n ~ Year\n ~ |\n", encoding="utf-8")
    return path


DECAY = ("Stock = INTEG(-rate * Stock, 100)\n ~ Widget\n ~ |\nrate = 0.7\n ~ 1/Year\n ~ |\n"
         "Smoothed = SMOOTHI(50, 2, 0)\n ~ Widget\n ~ |\n")


def factor(z: float) -> float:
    """RK4's growth per step on y' = lambda y, with z = lambda dt."""
    return 1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24


def test_linear_equations_follow_rk4s_one_step_factor(tmp_path):
    result = compile_spec(load_spec(write(tmp_path, DECAY)), method="rk4").run().to_frame(0)
    steps = np.arange(len(result))
    np.testing.assert_allclose(result["Stock"], 100 * factor(-0.7 * 0.25) ** steps, rtol=1e-13)
    # SMOOTHI(50, 2, 0): from 0 towards 50, 50 - 50 x factor(-dt / 2)^n
    np.testing.assert_allclose(result["Smoothed"], 50 - 50 * factor(-0.25 / 2) ** steps, rtol=1e-13)
    euler = compile_spec(load_spec(write(tmp_path, DECAY))).run().to_frame(0)
    np.testing.assert_allclose(euler["Stock"], 100 * (1 - 0.7 * 0.25) ** steps, rtol=1e-13)


def test_fourth_order_convergence(tmp_path):
    # y' = -0.7 y: halving a small step divides RK4's error at time 10 by about 2^4 = 16 (Euler's by 2).
    errors = {}
    for method in ("rk4", "euler"):
        for step in (0.125, 0.0625):
            path = write(tmp_path, DECAY, step=step, name=f"m{method}{step}.mdl")
            final = compile_spec(load_spec(path), method=method).run().to_frame(0)["Stock"].iloc[-1]
            errors[method, step] = abs(final - 100 * np.exp(-7))
    assert 15 < errors["rk4", 0.125] / errors["rk4", 0.0625] < 17
    assert 1.9 < errors["euler", 0.125] / errors["euler", 0.0625] < 2.1
    assert errors["rk4", 0.0625] < 1e-5 * errors["euler", 0.0625]


LOTKA_VOLTERRA = ("Prey = INTEG(births - predation, 10)\n ~ Animal\n ~ |\n"
                  "Predators = INTEG(predator growth - predator deaths, 5)\n ~ Animal\n ~ |\n"
                  "births = 1.1 * Prey\n ~ Animal/Year\n ~ |\n"
                  "predation = 0.4 * Prey * Predators\n ~ Animal/Year\n ~ |\n"
                  "predator growth = 0.1 * Prey * Predators\n ~ Animal/Year\n ~ |\n"
                  "predator deaths = 0.4 * Predators\n ~ Animal/Year\n ~ |\n"
                  "food = 10 + STEP(5, 4.1)\n ~ Dmnl\n ~ |\n")


def test_nonlinear_model_against_a_tight_reference_solution(tmp_path):
    from scipy.integrate import solve_ivp

    def f(t, y):
        prey, pred = y
        return [1.1 * prey - 0.4 * prey * pred, 0.1 * prey * pred - 0.4 * pred]

    exact = solve_ivp(f, (0, 10), [10, 5], rtol=1e-12, atol=1e-12, dense_output=True)
    path = write(tmp_path, LOTKA_VOLTERRA, step=0.015625)
    result = compile_spec(load_spec(path), method="rk4").run().to_frame(0)
    reference = exact.sol(result.index.to_numpy())
    np.testing.assert_allclose(result["Prey"], reference[0], rtol=1e-8)
    np.testing.assert_allclose(result["Predators"], reference[1], rtol=1e-8)
    euler = compile_spec(load_spec(path)).run().to_frame(0)
    assert np.max(np.abs(euler["Prey"] - reference[0])) > 1e3 * np.max(np.abs(result["Prey"] - reference[0]))


def test_time_inside_a_step_is_the_stage_time(tmp_path):
    # d Stock/dt = Time: RK4 integrates a polynomial of degree 1 exactly, Euler lags by t dt / 2.
    path = write(tmp_path, "Stock = INTEG(Time, 0)\n ~ Widget\n ~ |\n")
    result = compile_spec(load_spec(path), method="rk4").run().to_frame(0)
    np.testing.assert_allclose(result["Stock"], result.index ** 2 / 2, rtol=1e-14, atol=1e-14)


def test_unsupported_with_rk4_is_refused(tmp_path):
    path = write(tmp_path, "x = DELAY N(Time, 2, 0, 3)\n ~ Widget\n ~ |\n")
    with pytest.raises(UnsupportedConstruct, match=r"DELAY N with RK4 integration .* in 'x'"):
        compile_spec(load_spec(path), method="rk4")
    with pytest.raises(BadInput, match="integration method 'rk2' is not one of euler, rk4"):
        compile_spec(load_spec(path), method="rk2")


def test_subscripted_states_integrate_as_their_scalar_twins(tmp_path):
    # Arrays of stocks, smooths and delays (loops over arrays in the kernel) against the same
    # equations written once per element (scalars): the same numbers, to the last bit.
    arrays = ("A: a1, a2\n ~ \n ~ |\nrate[A] = 0.3, 0.9\n ~ 1/Year\n ~ |\n"
              "S[A] = INTEG(-rate[A] * S[A] + Time, 10)\n ~ Widget\n ~ |\n"
              "Sm[A] = SMOOTH3(S[A], 1.5)\n ~ Widget\n ~ |\nD[A] = DELAY3(S[A], 2)\n ~ Widget\n ~ |\n")
    scalars = "".join(
        f"rate {e} = {r}\n ~ 1/Year\n ~ |\nS {e} = INTEG(-rate {e} * S {e} + Time, 10)\n ~ Widget\n ~ |\n"
        f"Sm {e} = SMOOTH3(S {e}, 1.5)\n ~ Widget\n ~ |\nD {e} = DELAY3(S {e}, 2)\n ~ Widget\n ~ |\n"
        for e, r in (("a1", 0.3), ("a2", 0.9)))
    array_run = compile_spec(load_spec(write(tmp_path, arrays, name="arrays.mdl")), method="rk4").run().to_frame(0)
    scalar_run = compile_spec(load_spec(write(tmp_path, scalars, name="scalars.mdl")), method="rk4").run().to_frame(0)
    for e in ("a1", "a2"):
        for name in ("S", "Sm", "D"):
            np.testing.assert_array_equal(array_run[f"{name}[{e}]"], scalar_run[f"{name} {e}"], err_msg=f"{name} {e}")


def test_cli_method_rk4_on_the_batch_engine(cli, tmp_path):
    # `tokenworld simulate --engine batch --method rk4`: the run folder holds RK4's numbers and says so.
    import json

    import pandas as pd

    model = write(tmp_path, DECAY)
    code, _, err = cli("simulate", model, "--engine", "batch", "--method", "rk4", "--no-plots", "--out", tmp_path / "r")
    assert code == 0, err
    series = pd.read_csv(tmp_path / "r" / "timeseries.csv", index_col=0)["Stock"]
    np.testing.assert_allclose(series, 100 * factor(-0.7 * 0.25) ** np.arange(len(series)), rtol=1e-13)
    assert json.loads((tmp_path / "r" / "manifest.json").read_text())["integration_method"] == "rk4"


def test_cli_method_rk4_on_pysd_is_refused(cli, tmp_path):
    # PySD has no RK4: one line naming the option, exit 2, nothing written.
    code, _, err = cli("simulate", write(tmp_path, DECAY), "--method", "rk4", "--out", tmp_path / "p")
    assert code == 2 and "PySD integrates with Euler only" in err and "--engine batch" in err
    assert not (tmp_path / "p").exists()
