"""Seed 000's printed claims that its own equations contradict (docs/paper-errata.md, items 8-10), by simulation."""

import math

import numpy as np
import pytest
from conftest import run

BETA, GAMMA = 0.33, 0.85


def _wage_2024(sigma: float, price_index: float) -> float:
    # The CES economy of Propositions 3-4 with sigma held fixed (no autonomy or quality effect), at
    # the impact (2024), when computing capital has not yet responded.
    frame = run("vibe-coding", set={"initial elasticity of substitution": sigma, "autonomy effect on elasticity": 0,
                                    "quality effect on elasticity": 0, "exogenous token price index": price_index},
                final_time=2025).frame
    return float(frame["Wage"].loc[2024])


@pytest.mark.parametrize("sigma", [0.5, 1.5, 2.9, 3.2, 4.5])
def test_proposition_3_tokens_raise_the_wage_below_one_over_beta(sigma):
    # With S = K^beta X^(1-beta), d ln w / d ln T = s_T (1/sigma - beta): doubling tokens (price index 0.5)
    # raises the wage for every sigma < 1/beta = 3.03 and lowers it above, not only for sigma < 1. The
    # simulated change equals the exact finite change (1/sigma - beta) (1/rho) ln(gamma + (1-gamma) 2^rho)
    # to 1e-9 (same equations, no approximation).
    change = math.log(_wage_2024(sigma, 0.5) / _wage_2024(sigma, 1.0))
    rho = (sigma - 1) / sigma
    exact = (1 / sigma - BETA) * math.log(GAMMA + (1 - GAMMA) * 2 ** rho) / rho
    assert change == pytest.approx(exact, rel=1e-9)
    assert (change > 0) == (sigma < 1 / BETA)


def test_calibrated_augmentation_is_0938_not_133():
    # Section 4.4: a 55.8% gain needs [1 + alpha tau^phi]^(1-beta) = 1.558, so alpha tau^phi = 1.558^(1/0.67) - 1
    # = 0.938; the printed 1.33 would give a 76% gain.
    frame = run("paper").frame
    assert frame["Token augmentation factor"].loc[2024] - 1 == pytest.approx(0.938, abs=5e-4)
    assert (1 + 1.33) ** (1 - BETA) == pytest.approx(1.763, abs=1e-3)


def test_eq21_diverges_double_exponentially_and_its_year_depends_on_the_time_step():
    # chi = 1: d ln E/dt grows with S, which grows with E: log-growth itself grows, so the values pass
    # any bound in finite simulated time and the step where Euler passes 1e300 moves with the step.
    coarse = run("efficiency-engine", final_time=2200, time_step=0.0625)
    fine = run("efficiency-engine", final_time=2200, time_step=0.03125)
    assert coarse.status == fine.status == "diverged"
    assert abs(coarse.diverged_at - fine.diverged_at) > 0.05
    g = np.diff(np.log(fine.frame["Efficiency knowledge"].to_numpy()))
    assert g[-1] > 4 * g[len(g) // 2]  # the growth rate itself keeps rising
