"""Policy levers (issue 5): level and growth effects, composition rules, bad input, comparison."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import growth, read_manifest, run

import sdlib
from sdlib.core.errors import BadInput, OutOfRange
from sdlib.core.policy import Effect, Policy, apply_policies, available_policies, standard_arguments


def run_scenario(scenario, final_time=None):
    return run(scenario, final_time=final_time)

NAMES = ["token-price-subsidy", "frontier-rd", "efficiency-rd", "public-allocation", "adoption-programme",
         "grid-expansion", "copper-supply", "electricity-pricing"]
BETA, PHI = 0.33, 0.30


def test_every_lever_exists_with_its_arguments():
    policies = available_policies()
    assert sorted(policies) == sorted(NAMES)
    for policy in policies.values():
        names = [a.name for a in policy.arguments]
        assert names[:3] == ["start", "ramp", "size"], policy.name
        assert "seed" in policy.doc.lower() or "Seed" in policy.doc, policy.name
        assert all(a.units and (a.low is None or a.low <= a.default <= a.high) for a in policy.arguments), policy.name


@pytest.fixture(scope="module")
def paper_pair():
    return run("paper", final_time=2200).frame, run_scenario("paper-subsidy", final_time=2200).frame


def test_subsidy_is_a_level_effect_in_paper_mode(paper_pair):
    # Corollary 1: a permanent 50% subsidy doubles token intensity; long-run growth is unchanged
    # (1e-5) and the level gap tends to phi ln 2 = 0.208 (0.1%).
    base, subsidy = paper_pair
    assert growth(subsidy, "Output per developer", 2199, 2200) == pytest.approx(
        growth(base, "Output per developer", 2199, 2200), abs=1e-5)
    gap = np.log(subsidy["Output per developer"] / base["Output per developer"])
    assert gap.loc[2029] == 0  # nothing before the lever starts
    assert gap.loc[2200] == pytest.approx(PHI * np.log(2), rel=1e-3)


def test_subsidy_gap_moves_from_impact_to_long_run_at_the_convergence_speed(paper_pair):
    # On impact (2030) capital has not moved: the gap is (1-beta) ln(A'/A). It then closes on its
    # long-run value as capital adjusts, at the convergence speed of eq. 12,
    # lambda = (1-beta)(delta_K + n + phi (g_T - n)) = 0.1763. The decay rate of what remains rises
    # toward lambda (slower at first: the "+1" of eq. 4 fades with the opposite sign) and is within
    # 1.5% of it by the 2180s.
    base, subsidy = paper_pair
    gap = np.log(subsidy["Output per developer"] / base["Output per developer"])
    impact = (1 - BETA) * np.log(subsidy["Token augmentation factor"].loc[2030] / base["Token augmentation factor"].loc[2030])
    assert gap.loc[2030] == pytest.approx(impact, rel=1e-9)
    assert impact < gap.loc[2040] < gap.loc[2060] < PHI * np.log(2)
    residual = PHI * np.log(2) - gap
    rates = [-np.log(residual.loc[t + 10] / residual.loc[t]) / 10 for t in range(2050, 2190, 10)]
    assert all(a < b for a, b in zip(rates, rates[1:], strict=False))
    assert rates[-1] == pytest.approx((1 - BETA) * (0.05 + 0.025 + PHI * (0.65 - 0.025)), rel=0.015)


def test_frontier_rd_is_a_growth_effect_in_paper_mode():
    # Adding 0.1 to g_T raises long-run growth of output per developer by phi x 0.1 = 0.03 (1%).
    base = run("paper", final_time=2200).frame
    rd = run_scenario("paper-frontier-rd", final_time=2200).frame
    extra = growth(rd, "Output per developer", 2199, 2200) - growth(base, "Output per developer", 2199, 2200)
    assert extra == pytest.approx(PHI * 0.1, rel=0.01)


def test_public_allocation_shows_in_share_and_questions():
    frame = run_scenario("public-compute").frame
    assert (frame["Public token share"].loc[:2027] == 0).all()
    # The public tenth of capacity is at least a tenth of tokens used (the market does not fill all of its part).
    assert 0.1 <= frame["Public token share"].loc[2040] < 0.2
    assert frame["Public questions per person per day"].loc[2040] > 0


def test_adoption_programme_narrows_the_divide_under_experience_access():
    # Adoption in 2025 instead of 2027: the permanent gap phi g_T (t_j - t_i) falls from 0.585 to 0.195.
    early = run("paper", final_time=2200).frame["Output per developer"]
    late = run("token-divide", final_time=2200).frame["Output per developer"]
    helped = run_scenario("token-divide-programme", final_time=2200).frame["Output per developer"]
    assert np.log(early / late).loc[2200] == pytest.approx(0.585, rel=1e-3)
    assert np.log(early / helped).loc[2200] == pytest.approx(0.195, rel=1e-3)


def test_levers_move_levels_and_the_frontier_follows_the_economy():
    # The closed economy: the token frontier's long-run growth follows world output's (developers spend a
    # stable share of software revenue on tokens, agents' spending share falls as tokens get cheap), within
    # 0.2 points over 2100-2200. Levers that make tokens cheaper or more plentiful raise the frontier's
    # level in 2050 by a third or more, and move world output by less than 1% in 2100: agents have
    # automated what they can by then either way (docs/policies.md).
    base = run("baseline", final_time=2200).frame
    assert growth(base, "Token frontier", 2100, 2200) == pytest.approx(growth(base, "World GDP", 2100, 2200), abs=0.002)
    for scenario in ("grid-first", "token-subsidy"):
        frame = run(scenario, final_time=2200).frame
        assert growth(frame, "Token frontier", 2100, 2200) == pytest.approx(
            growth(base, "Token frontier", 2100, 2200), abs=0.002), scenario
    for scenario in ("frontier-rd", "token-subsidy"):
        frame = run(scenario, final_time=2200).frame
        assert frame["Token frontier"].loc[2050] > 1.3 * base["Token frontier"].loc[2050], scenario
        assert frame["World GDP"].loc[2100] == pytest.approx(base["World GDP"].loc[2100], rel=0.01), scenario


def test_two_subsidies_add_and_are_recorded(cli, tmp_path):
    out = tmp_path / "two"
    code, _, err = cli("run", "paper", "--no-plots", "--out", out, "--final-time", "2040",
                       "--policy", "token-price-subsidy:start=2030,size=0.2",
                       "--policy", "token-price-subsidy:start=2035,size=0.3")
    assert code == 0, err
    manifest = read_manifest(out)
    assert [p["size"] for p in manifest["policies"]] == [0.2, 0.3]
    series = manifest["policy_overrides"]["token price subsidy share"]
    values = dict(zip(series["time"], series["value"], strict=False))
    assert values[2029.0] == 0 and values[2031.0] == pytest.approx(0.2) and values[2036.0] == pytest.approx(0.5)
    frame = pd.read_csv(out / "timeseries.csv", index_col=0)  # a parameter a policy moves is a variable
    assert frame["token price subsidy share"].loc[2036] == pytest.approx(0.5)


POLICY_ERRORS = [
    (["--policy", "no-such-lever"], "unknown policy 'no-such-lever'"),
    (["--policy", "token-price-subsidy:speed=2"], "unknown argument(s) speed"),
    (["--policy", "token-price-subsidy:size=1.5"], "size=1.5 is out of its range [0, 0.95]"),
    (["--policy", "token-price-subsidy:start=2150"], "start=2150 is outside the run 2024-2100"),
    (["--policy", "token-price-subsidy:size=lots"], "is not a number"),
    (["--policy", "token-price-subsidy:size=0.6", "--policy", "token-price-subsidy:size=0.6"], "out of its range"),
]


@pytest.mark.parametrize("args, message", POLICY_ERRORS)
def test_bad_policy_input_exits_2_and_writes_nothing(cli, tmp_path, args, message):
    out = tmp_path / "never"
    code, _, err = cli("run", "baseline", *args, "--out", out)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_an_unknown_rule_is_refused_when_the_lever_is_defined():
    # A misspelled rule would otherwise drop the lever's effect silently.
    with pytest.raises(BadInput, match="unknown rule 'mutliply'"):
        Effect("public allocation share", "mutliply", lambda a, p, b: p)


def test_conflicting_rules_are_refused(monkeypatch):
    # Two levers that set one parameter by different rules cannot be combined silently.
    from sdlib.core import policy as policy_module

    adder = Policy("adder", "", "Seed test.", "test", standard_arguments("Dmnl", 0, 1, 0.1, ""),
                   [Effect("public allocation share", "add", lambda a, p, b: a["size"] * p)])
    setter = Policy("setter", "", "Seed test.", "test", standard_arguments("Dmnl", 0, 1, 0.1, ""),
                    [Effect("public allocation share", "refuse", lambda a, p, b: a["size"])])
    monkeypatch.setattr(policy_module, "available_policies", lambda: {"adder": adder, "setter": setter})
    model = sdlib.Model.load()
    spec, controls = model.spec, model.controls()
    with pytest.raises(BadInput, match="cannot be combined"):
        apply_policies(spec, [{"name": "adder"}, {"name": "setter"}], controls, {})
    with pytest.raises(BadInput, match="cannot be combined"):
        apply_policies(spec, [{"name": "setter"}, {"name": "setter"}], controls, {})
    with pytest.raises(OutOfRange):
        apply_policies(spec, [{"name": "adder", "start": 2030, "size": 0.95}], controls,
                       {"public allocation share": 0.5})


def test_list_json_shows_policies_with_arguments(cli):
    code, out, _ = cli("list", "--json")
    data = json.loads(out)
    subsidy = next(p for p in data["policies"] if p["name"] == "token-price-subsidy")
    size = next(a for a in subsidy["arguments"] if a["name"] == "size")
    assert (size["low"], size["high"]) == (0, 0.95) and subsidy["parameters"] == {"token price subsidy share": "add"}
    start = next(a for a in subsidy["arguments"] if a["name"] == "start")
    assert (start["low"], start["high"]) == (None, None)  # any year of the run


def test_compare_writes_table_and_marks_differences(cli, tmp_path):
    out = tmp_path / "cmp"
    code, stdout, err = cli("compare", "paper", "paper-subsidy", "--out", out, "--years", "2029,2050")
    assert code == 0, err
    table = pd.read_csv(out / "comparison.csv")
    row = table[(table.indicator == "Output per developer") & (table.year == 2050) & (table.run == "paper-subsidy")]
    assert bool(row.marked.iloc[0]) and row.relative_difference.iloc[0] > 0.15
    before = table[(table.indicator == "Output per developer") & (table.year == 2029) & (table.run == "paper-subsidy")]
    assert not bool(before.marked.iloc[0]) and before.relative_difference.iloc[0] == 0
    assert (out / "plots" / "output-per-developer.png").is_file() and (out / "comparison.md").is_file()
    assert "relative to **paper**" in (out / "comparison.md").read_text()


def test_compare_labels_a_folder_by_its_name(cli, tmp_path):
    assert cli("run", "paper", "--no-plots", "--final-time", "2040", "--out", tmp_path / "mine")[0] == 0
    data = sdlib.compare(["paper", str(tmp_path / "mine")], years=[2030], indicators=["Output per developer"])
    assert list(data["run"].to_numpy()) == ["paper", "mine"]
    np.testing.assert_allclose(data["relative_at"].sel(run="mine").to_numpy(), 0.0, atol=1e-12)


def test_a_policy_may_start_in_any_year_of_the_run():
    # Levers are not tied to 2024-2200: a run to 2300 takes a lever starting in 2250.
    result = run("paper", final_time=2300, policies=[{"name": "token-price-subsidy", "start": 2250, "size": 0.5}])
    assert result.frame["token price subsidy share"].loc[2251] == pytest.approx(0.5)
