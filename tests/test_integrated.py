"""The integrated economy (issue 4): physical sanity to 2200, seed 004's balance sheet, extreme conditions."""

import numpy as np
import pytest
from conftest import run

pytestmark = pytest.mark.slow  # runs to 2200, many of them

# Stocks that measure physical or economic quantities and can never be negative.
NONNEGATIVE_STOCKS = [
    "Developers", "Computing capital", "Efficiency knowledge", "Compute capacity", "Compute under construction",
    "Fleet power rating", "AI data centre power capacity", "AI power under construction", "Copper reserves",
    "Copper resources", "Copper mining capacity", "Copper mines under development", "Copper in use",
    "Data centre copper in use", "Copper price", "Aware population", "Markup", "Perceived token demand",
    "Developer token budget", "Grid pressure effect",
]


def assert_physically_sane(frame):
    values = frame.to_numpy(dtype=float)
    assert np.isfinite(values).all()
    for stock in NONNEGATIVE_STOCKS:
        assert (frame[stock] >= 0).all(), stock
    # Tokens used never exceed what the installed compute can serve (relative 1e-12: rounding).
    assert (frame["Token use"] <= frame["Token supply capacity"] * (1 + 1e-12)).all()
    assert (frame["Energy per token"] >= frame["Landauer floor energy per token"]).all()


def test_baseline_runs_to_2200():
    result = run("baseline", final_time=2200)
    assert result.status == "ok"
    assert result.frame.index[-1] == 2200
    assert_physically_sane(result.frame)


def test_baseline_2024_matches_its_calibration():
    frame = run("baseline", final_time=2200).frame.loc[2024]
    assert frame["Token price"] == pytest.approx(2.0, rel=0.05)  # 2 $ per million (seed 000 stylised fact 2)
    assert frame["Tokens per person per day"] == pytest.approx(125, rel=0.05)  # seed 004 eq. 7
    assert frame["Energy per token"] == pytest.approx(2.54, rel=0.01)  # 1800 W fleet / 708 tokens a second
    assert frame["Landauer floor energy per token"] == pytest.approx(3.44e-20, rel=0.01)  # seed 004 eq. 2
    assert frame["Data centre copper demand"] == pytest.approx(0.5e6, rel=0.2)  # ~0.5 Mt (Goldman Sachs)


def test_frontier_growth_is_an_outcome_in_integrated_mode():
    # The token frontier is the token supply capacity, and its growth slows as power binds.
    frame = run("baseline", final_time=2200).frame
    early = np.log(frame["Token frontier"].loc[2030] / frame["Token frontier"].loc[2025]) / 5
    late = np.log(frame["Token frontier"].loc[2100] / frame["Token frontier"].loc[2075]) / 25
    assert early > 1.0 and late < 0.1


SEED_004_TABLE = {  # questions per person per day (seed 004 Table 2)
    100: [450, 1130, 2200, 4500],
    250: [180, 450, 900, 1800],
    500: [90, 225, 450, 900],
    1000: [45, 113, 225, 450],
}
ELECTRICITY = [65, 165, 326, 650]  # TWh


def test_token_budget_tokens_per_person_per_day():
    # 65 TWh in 2024 and 326 TWh in 2028 at 5e-4 Wh a token: 44,500 and 225,000 (seed 004, 3%).
    frame = run("token-budget").frame
    assert frame["Tokens per person per day"].loc[2024] == pytest.approx(44_500, rel=0.03)
    assert frame["Tokens per person per day"].loc[2028] == pytest.approx(225_000, rel=0.03)
    assert frame["Energy per token"].loc[2028] == pytest.approx(1.8, rel=1e-3)


@pytest.mark.parametrize("tokens_per_question", sorted(SEED_004_TABLE))
def test_token_budget_question_table(tokens_per_question):
    # Each column of seed 004's Table 2: the 2028 electricity set to 65, 165, 326 and 650 TWh (3%).
    for twh, expected in zip(ELECTRICITY, SEED_004_TABLE[tokens_per_question], strict=False):
        frame = run("token-budget", set={"balance sheet electricity 2028": twh,
                                         "tokens per question": tokens_per_question}, final_time=2028).frame
        assert frame["Questions per person per day"].loc[2028] == pytest.approx(expected, rel=0.03), twh


# Extreme conditions, in the spirit of Vensim's reality checks: each must behave as a user expects
# and none may break the run.

def test_no_power_growth():
    # No grid connections beyond 2024's: power stays at 10 GW; compute grows only as hardware gets
    # more efficient per H100e; the token market is sold out and prices stay above the baseline's.
    frame = run("baseline", set={"initial AI power pipeline": 0, "maximum AI share of generation": 0},
                final_time=2200).frame
    base = run("baseline", final_time=2200).frame
    assert_physically_sane(frame)
    assert frame["AI data centre power capacity"].loc[2100] == pytest.approx(10, rel=1e-9)
    assert (frame["Installed compute power"] <= 10 * 0.9 * (1 + 1e-6)).all()
    assert frame["Token price"].loc[2050] > 3 * base["Token price"].loc[2050]
    assert frame["Token fill rate"].loc[2050] < base["Token fill rate"].loc[2050]


def test_no_copper():
    # No reserves, no conversion of resources, no recycling: no copper at all, so no data centre can
    # be built; installed compute retires away and the copper price climbs, with no NaN.
    frame = run("baseline", set={"initial copper reserves": 0, "reserve conversion rate": 0,
                                 "copper recycling rate": 0}, final_time=2200).frame
    assert_physically_sane(frame)
    assert (frame["Copper availability"].loc[2025:] < 1e-9).all()
    peak = frame["Compute capacity"].max()
    assert frame["Compute capacity"].loc[2100] < 1e-3 * peak
    assert frame["Copper price"].loc[2030] > 10 * frame["Copper price"].loc[2024]


def test_zero_demand():
    # Nobody wants tokens: none are used, every compute goes to other AI work, prices stay finite.
    frame = run("baseline", set={"initial aware population": 0, "awareness from outreach": 0,
                                 "agent spending scale": 0, "developer token budget share": 0},
                final_time=2200).frame
    assert_physically_sane(frame)
    assert (frame["Token use"] == 0).all() and (frame["Tokens per person per day"] == 0).all()
    assert (frame["Token price"] > 0).all()


def test_price_war():
    # Compute built far beyond need (17x 2024's): spare compute is sold as tokens, the markup falls to
    # near its floor (0.3 of cost) within two years, then cheap tokens draw demand (Jevons) and it
    # recovers; the price never falls below the energy a token takes.
    frame = run("baseline", set={"initial compute capacity": 3e7}, final_time=2100).frame
    base = run("baseline", final_time=2100).frame
    assert_physically_sane(frame)
    assert frame["Markup"].loc[2024:2030].min() == pytest.approx(0.3, rel=0.15)
    assert frame["Markup"].loc[2032] > 1.3
    assert (frame["Token price"] >= frame["Energy cost per Mtoken"] * (1 - 1e-12)).all()
    assert frame["Token use"].loc[2026] > 2 * base["Token use"].loc[2026]  # Jevons: cheap tokens are used


def test_demand_outruns_compute():
    # Agents want 100 times more and capital for compute is scarce: the market rations (fill rate well
    # below 1), never serves more than capacity, and prices rise far above cost.
    frame = run("baseline", set={"agent spending scale": 9.25e11, "maximum AI capex share": 0.0005},
                final_time=2200).frame
    assert_physically_sane(frame)
    assert frame["Token fill rate"].loc[2050] < 0.5
    assert frame["Markup"].loc[2050] > 5
