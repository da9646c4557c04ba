"""Seed 004's balance sheet (the token-budget scenario): tokens and questions per person per day.

The integrated economy's identities and extreme conditions are in models/tokenworld-checks.toml and
tests/test_closed_economy.py.
"""

import pytest
from conftest import run

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
    assert frame["AI electricity use"].loc[2028] == pytest.approx(326, rel=1e-9)
    assert frame["Energy per token"].loc[2028] == pytest.approx(1.8, rel=1e-3)


@pytest.mark.parametrize("tokens_per_question", sorted(SEED_004_TABLE))
def test_token_budget_question_table(tokens_per_question):
    # Each column of seed 004's Table 2 (its capacity metric, Question capacity per person per day):
    # the 2028 electricity set to 65, 165, 326 and 650 TWh (3%).
    for twh, expected in zip(ELECTRICITY, SEED_004_TABLE[tokens_per_question], strict=True):
        frame = run("token-budget", set={"balance sheet electricity 2028": twh,
                                         "tokens per question": tokens_per_question}, final_time=2028).frame
        assert frame["Question capacity per person per day"].loc[2028] == pytest.approx(expected, rel=0.03), twh
