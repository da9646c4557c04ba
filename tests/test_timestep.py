"""Halving the time step changes no headline indicator at the final time by more than 0.5% (DESIGN.md 2)."""

import pytest
from conftest import run

import sdlib

HEADLINE = sdlib.Model.load().display.headline


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["baseline", "paper", "token-divide", "vibe-coding", "efficiency-engine-jones"])
@pytest.mark.parametrize("final_time", [2100, 2200])
def test_halving_time_step(scenario, final_time):
    coarse = run(scenario, final_time=final_time)
    step = coarse.time_step
    fine = run(scenario, final_time=final_time, time_step=step / 2)
    columns = [c for c in HEADLINE if c in coarse.frame.columns]
    last_coarse = coarse.frame[columns].iloc[-1]
    last_fine = fine.frame[columns].iloc[-1]
    change = ((last_coarse - last_fine).abs() / last_fine.abs().clip(lower=1e-300)).max()
    assert change < 0.005, (scenario, final_time, ((last_coarse / last_fine) - 1).abs().idxmax())
