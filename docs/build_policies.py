"""Build docs/policies.md and its figures: every lever and policy scenario, and what they do.

    python docs/build_policies.py

The lever and scenario tables are made from `policies/` and `runs/`, not typed twice; every number
in the findings comes from runs made here (the policy scenarios and the baseline to 2200, and the
baseline with the parameters that set the long run at the ends of their plausible ranges).

In the integrated economy a lever's effect in a year is the ratio of five-year means centred on
that year (scenario over baseline): until about 2040 the token market goes through a shortage
and the glut that follows (docs/economy.md), and a lever that shifts the swings a little would
otherwise show as a large effect in one year and the opposite in the next.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from docs_runs import run_scenario

from sdlib import load_scenario
from sdlib import policies as available_policies

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "figures"
POLICY_SCENARIOS = ["public-compute", "grid-first", "copper-constrained", "copper-constrained-supply",
                    "token-subsidy", "efficiency-rd-same-cost", "electricity-true-cost", "frontier-rd",
                    "paper-subsidy", "paper-frontier-rd", "token-divide-programme"]
INTEGRATED = ["token-subsidy", "frontier-rd", "efficiency-rd-same-cost", "public-compute", "grid-first",
              "electricity-true-cost", "copper-constrained", "copper-constrained-supply"]
INDICATORS = ["Token use", "World GDP", "Output per developer", "AI electricity use", "Copper price",
              "Data centre copper demand"]
YEARS = [2030, 2050, 2100, 2200]
# What sets the long run: named, sourced parameters at the ends of their plausible ranges
# (models/tokenworld-display.toml; population: the UN WPP 2024 range for 2100 of anchors.csv).
LONG_RUN = [
    ("world technology growth rate", 0.01, 0.02, "Conference Board: 1.5%"),
    ("peak world population", 9.0e9, 11.5e9, "UN WPP 2024: 10.3e9"),
    ("world savings rate", 0.20, 0.32, "World Bank: 26%"),
    ("maximum automatable task share", 0.1, 0.4, "Eloundou et al. 2024: 20%"),
    ("task substitution elasticity", 0.3, 0.9, "Knoblach et al. 2020: 0.45-0.87; 0.5"),
    ("token return parameter", 0.2, 0.4, "seed 000: 0.3"),
]


def growth(frame, column, t0, t1):
    return float(np.log(frame[column].loc[t1] / frame[column].loc[t0]) / (t1 - t0))


def smooth(series):
    """Five-year means centred on each year (shorter at the ends)."""
    return series.rolling(5, center=True, min_periods=3).mean()


def effect(frame, base, column, year):
    return float(smooth(frame[column]).loc[year] / smooth(base[column]).loc[year])


def lever_table() -> str:
    lines = ["| lever | what it represents | seed | size means | parameters (rule) |", "|---|---|---|---|---|"]
    for name, policy in sorted(available_policies().items()):
        size = next(a for a in policy.arguments if a.name == "size")
        extra = [a for a in policy.arguments if a.name not in ("start", "ramp", "size")]
        size_text = f"{size.doc} [{size.low:g}, {size.high:g}] {size.units}"
        if extra:
            size_text += "; " + "; ".join(f"`{a.name}`: {a.doc} [{a.low:g}, {a.high:g}] {a.units}" for a in extra)
        params = ", ".join(f"`{e.parameter}` ({e.rule})" for e in policy.effects)
        lines.append(f"| `{name}` | {policy.summary} | {policy.seed} | {size_text} | {params} |")
    return "\n".join(lines)


def scenario_table() -> str:
    lines = ["| scenario | what it asks |", "|---|---|"]
    for name in POLICY_SCENARIOS:
        lines.append(f"| `{name}` | {load_scenario(name).description} |")
    return "\n".join(lines)


def figure_paper(findings):
    base = run_scenario("paper", final_time=2200).frame
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    for scenario, label in (("paper-subsidy", "50% token price subsidy from 2030 (level effect)"),
                            ("paper-frontier-rd", "frontier R&D +0.1/yr from 2030 (growth effect)")):
        frame = run_scenario(scenario, final_time=2200).frame
        gap = np.log(frame["Output per developer"] / base["Output per developer"])
        ax.plot(gap.index, gap, lw=2, label=label)
        findings[scenario] = gap
    ax.axhline(0.3 * np.log(2), color="k", ls=":", lw=1, label="phi ln 2 = 0.208")
    ax.set(xlabel="Year", ylabel="log gap to paper", title="Paper mode: level effect vs growth effect", ylim=(-0.05, 1.5))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "policies-paper.png", dpi=100)
    plt.close(fig)
    early = base["Output per developer"]
    for scenario in ("token-divide", "token-divide-programme"):
        late = run_scenario(scenario, final_time=2200).frame["Output per developer"]
        findings[scenario] = float(np.log(early / late).loc[2200])


def integrated_runs(findings):
    base = run_scenario("baseline", final_time=2200).frame
    frames = {name: run_scenario(name, final_time=2200).frame for name in INTEGRATED}
    findings["base"], findings["frames"] = base, frames
    findings["effects"] = {name: {c: {y: effect(f, base, c, y) for y in YEARS} for c in INDICATORS}
                           for name, f in frames.items()}
    findings["growth"] = {name: {c: growth(f, c, 2150, 2200) for c in ("World GDP", "Token use")}
                          for name, f in {"baseline": base, **frames}.items()}


def figure_levers(findings):
    base, frames = findings["base"], findings["frames"]
    panels = [("Token use", "Tokens used"), ("World GDP", "World GDP"), ("Output per developer", "Output per developer"),
              ("Copper price", "Copper price")]
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.4))
    for ax, (column, label) in zip(axes.flat, panels, strict=False):
        for name, frame in frames.items():
            ratio = smooth(frame[column]) / smooth(base[column])
            ax.plot(ratio.index, ratio, lw=1.8, label=name)
        ax.axhline(1, color="k", lw=1)
        ax.set(xlabel="Year", ylabel=f"{label} / baseline", title=label)
        ax.grid(alpha=0.25)
    axes[0, 0].legend(fontsize=8, ncol=2)
    fig.suptitle("Levels: ratios of five-year means, scenario over baseline", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(FIGURES / "policies-integrated.png", dpi=100)
    plt.close(fig)


def long_run_runs(findings):
    rows = []
    for name, low, high, source in LONG_RUN:
        for value in (low, high):
            frame = run_scenario("baseline", set={name: value}, final_time=2200).frame
            rows.append((name, value, source, frame))
    findings["long run"] = rows
    # Outside the evidence: automated and other tasks as substitutes (sigma >= 1).
    findings["substitutes"] = {sigma: run_scenario("baseline", set={"task substitution elasticity": sigma},
                                                   final_time=2200) for sigma in (1.0, 1.5)}


def figure_long_run(findings):
    base = findings["base"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    decade = lambda f, c: np.log(f[c] / f[c].shift(10)) / 10  # noqa: E731
    for ax, (column, title, top) in zip(axes, (("World GDP", "World GDP", 4.5), ("Token use", "Tokens used", 8)),
                                        strict=False):
        for frame in findings["frames"].values():
            ax.plot(frame.index, 100 * decade(frame, column), lw=0.8, color="0.65")
        for name, value, _, frame in findings["long run"]:
            if name == "world technology growth rate":
                ax.plot(frame.index, 100 * decade(frame, column), lw=1.8, ls="--",
                        label=f"world technology growth {100 * value:g}%")
        ax.plot(base.index, 100 * decade(base, column), lw=2.5, color="k", label="baseline (1.5%)")
        ax.plot([], [], lw=0.8, color="0.65", label="the eight policy scenarios")
        ax.set(xlabel="Year", ylabel="% a year (over the past ten years)", xlim=(2050, 2200), ylim=(0, top),
               title=f"Growth of {title.lower() if title != 'World GDP' else title}")
        ax.grid(alpha=0.25)
        ax.legend(fontsize=8)
    fig.suptitle("Growth: the levers' paths join the baseline's; world technology growth moves it", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(FIGURES / "policies-long-run.png", dpi=100)
    plt.close(fig)


def long_run_table(findings):
    base = findings["base"]
    lines = ["| run | world GDP growth 2150-2200 | token use growth 2150-2200 | world GDP 2100 / baseline |",
             "|---|---|---|---|"]
    gy, gt = growth(base, "World GDP", 2150, 2200), growth(base, "Token use", 2150, 2200)
    lines.append(f"| baseline | {100 * gy:.2f}% | {100 * gt:.2f}% | 1 |")
    for name, value, source, frame in findings["long run"]:
        lines.append(f"| `{name}` = {number(value)} ({source}) | {100 * growth(frame, 'World GDP', 2150, 2200):.2f}% | "
                     f"{100 * growth(frame, 'Token use', 2150, 2200):.2f}% | "
                     f"{frame['World GDP'].loc[2100] / base['World GDP'].loc[2100]:.2f} |")
    gs = findings["growth"]
    lines.append(f"| the eight policy scenarios | {spread([v['World GDP'] for k, v in gs.items() if k != 'baseline'])} | "
                 f"{spread([v['Token use'] for k, v in gs.items() if k != 'baseline'])} | |")
    return "\n".join(lines)


def figure_subsidy_vs_rd(findings):
    base = findings["base"].loc[:2100]
    subsidy = findings["frames"]["token-subsidy"].loc[:2100]
    rd = findings["frames"]["efficiency-rd-same-cost"].loc[:2100]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    for frame, label in ((subsidy, "token subsidy 30%"), (rd, "efficiency R&D, same average cost")):
        axes[0].plot(frame.index, smooth(frame["Output per developer"]) / smooth(base["Output per developer"]), lw=2,
                     label=label)
        axes[1].plot(frame.index, smooth(frame["Token use"]) / smooth(base["Token use"]), lw=2, label=label)
    axes[0].set(xlabel="Year", ylabel="output per developer / baseline", title="Software productivity")
    axes[1].set(xlabel="Year", ylabel="tokens used / baseline", title="Tokens used")
    for ax in axes:
        ax.axhline(1, color="k", lw=1)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "policies-subsidy-vs-rd.png", dpi=100)
    plt.close(fig)
    cost = subsidy["Token subsidy fiscal cost"].loc[2026:2050]
    scenario_size = next(p["size"] for p in load_scenario("efficiency-rd-same-cost").policies)
    assert abs(scenario_size / cost.mean() - 1) < 0.05, (
        f"runs/efficiency-rd-same-cost.toml spends {scenario_size:.3g} $/Year but the token subsidy costs "
        f"{cost.mean():.3g} on average over 2026-2050: set its size (and both descriptions) to the subsidy's cost")
    findings["subsidy vs rd"] = {"mean cost": float(cost.mean()),
                                 "cost 2050 share of GDP": float(subsidy["Token subsidy fiscal cost"].loc[2050]
                                                                 / subsidy["World GDP"].loc[2050])}


def figure_public(findings):
    frame = findings["frames"]["public-compute"].loc[:2100]
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    ax.plot(frame.index, frame["Public questions per person per day"], lw=2, label="public questions per person per day")
    ax.plot(frame.index, frame["Questions per person per day"], lw=2,
            label="people's own questions per person per day (bounded by attention)")
    ax.set_yscale("log")
    ax.set(xlabel="Year", ylabel="questions per person per day (100 tokens each)", title="A public compute programme")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "policies-public.png", dpi=100)
    plt.close(fig)
    findings["public"] = {"share 2040": float(frame["Public token share"].loc[2040]),
                          "questions 2030": float(frame["Public questions per person per day"].loc[2030]),
                          "questions 2050": float(frame["Public questions per person per day"].loc[2050]),
                          "own 2050": float(frame["Questions per person per day"].loc[2050])}


def spread(values):
    """"1.32-1.36%", or "1.51%" when all are the same to two decimals."""
    low, high = f"{100 * min(values):.2f}", f"{100 * max(values):.2f}"
    return f"{low}%" if low == high else f"{low}-{high}%"


def number(value):
    """A parameter value as people write it: 0.02, 1.15e10."""
    return f"{value:.3g}".replace("e+0", "e").replace("e+", "e")


def short_years(availability):
    """First and last year in which less than 99% of copper demand can be met."""
    years = availability.index[(availability < 0.99).to_numpy()]
    return years.min(), years.max()


def main():
    FIGURES.mkdir(exist_ok=True)
    findings: dict = {}
    figure_paper(findings)
    integrated_runs(findings)
    long_run_runs(findings)
    figure_levers(findings)
    figure_long_run(findings)
    figure_subsidy_vs_rd(findings)
    figure_public(findings)
    e, base, sv, lr = findings["effects"], findings["base"], findings["subsidy vs rd"], findings["long run"]

    def x(scenario, column, year, digits=2):
        return f"{e[scenario][column][year]:.{digits}f}"

    def pct(scenario, column, year):
        return f"{100 * (e[scenario][column][year] - 1):+.1f}%"

    def by(scenario, column, year):
        """The size of a change, without its sign (for "falls by ...")."""
        return f"{100 * abs(e[scenario][column][year] - 1):.1f}%"

    def lr_growth(name, value, column="World GDP"):
        frame = next(f for n, v, _, f in lr if n == name and v == value)
        return f"{100 * growth(frame, column, 2150, 2200):.2f}%"

    def lr_level(name, value, year=2100):
        frame = next(f for n, v, _, f in lr if n == name and v == value)
        return f"{frame['World GDP'].loc[year] / base['World GDP'].loc[year]:.2f}"

    sub = findings["substitutes"]
    numbers = {
        "SUBST1": f"{100 * growth(sub[1.0].frame, 'World GDP', 2030, 2040):.0f}%",
        "SUBST15": f"{100 * growth(sub[1.5].frame, 'World GDP', 2030, 2040):.0f}%",
        "SUBST15_END": (f"diverges in {sub[1.5].diverged_at:.0f}" if sub[1.5].status != "ok" else
                        f"ends at {sub[1.5].frame['World GDP'].iloc[-1] / base['World GDP'].loc[2200]:.3g} times the "
                        f"baseline's output in 2200"),
        "PAPERGAP": f"{findings['paper-subsidy'].loc[2200]:.3f}",
        "DIVIDE": f"{findings['token-divide']:.3f}", "DIVIDE_HELPED": f"{findings['token-divide-programme']:.3f}",
        "GY": f"{100 * growth(base, 'World GDP', 2150, 2200):.2f}%",
        "GT": f"{100 * growth(base, 'Token use', 2150, 2200):.2f}%",
        "GY3050": f"{100 * growth(base, 'World GDP', 2030, 2050):.1f}%",
        "GT3050": f"{100 * growth(base, 'Token use', 2030, 2050):.0f}%",
        "LONG_RUN_TABLE": long_run_table(findings),
        "GA1": lr_growth("world technology growth rate", 0.01), "GA2": lr_growth("world technology growth rate", 0.02),
        "GA1T": lr_growth("world technology growth rate", 0.01, "Token use"),
        "GA2T": lr_growth("world technology growth rate", 0.02, "Token use"),
        "THETA1": lr_level("maximum automatable task share", 0.1), "THETA4": lr_level("maximum automatable task share", 0.4),
        "SIGMA3": lr_level("task substitution elasticity", 0.3), "SIGMA9": lr_level("task substitution elasticity", 0.9),
        "SIGMA9G": lr_growth("task substitution elasticity", 0.9),
        "POP9": lr_level("peak world population", 9.0e9), "POP115": lr_level("peak world population", 11.5e9),
        "S20": lr_level("world savings rate", 0.20), "S32": lr_level("world savings rate", 0.32),
        "SUB_T50": x("token-subsidy", "Token use", 2050), "SUB_T200": x("token-subsidy", "Token use", 2200),
        "SUB_S50": pct("token-subsidy", "Output per developer", 2050),
        "SUB_S200": pct("token-subsidy", "Output per developer", 2200),
        "SUB_Y30": pct("token-subsidy", "World GDP", 2030), "SUB_Y100": pct("token-subsidy", "World GDP", 2100),
        "SUB_E200": x("token-subsidy", "AI electricity use", 2200),
        "RD_T30": x("frontier-rd", "Token use", 2030), "RD_T50": x("frontier-rd", "Token use", 2050),
        "RD_T100": x("frontier-rd", "Token use", 2100), "RD_T200": x("frontier-rd", "Token use", 2200),
        "RD_S50": pct("frontier-rd", "Output per developer", 2050),
        "RD_S200": pct("frontier-rd", "Output per developer", 2200),
        "RD_Y30": pct("frontier-rd", "World GDP", 2030), "RD_Y50": pct("frontier-rd", "World GDP", 2050),
        "GRID_T50": pct("grid-first", "Token use", 2050), "GRID_T100": pct("grid-first", "Token use", 2100),
        "GRID_CU30": pct("grid-first", "Data centre copper demand", 2030),
        "GRID_CU50": pct("grid-first", "Data centre copper demand", 2050),
        "PUB_T50": pct("public-compute", "Token use", 2050), "PUB_T200": pct("public-compute", "Token use", 2200),
        "PUB_S50": pct("public-compute", "Output per developer", 2050),
        "ELEC_S50": pct("electricity-true-cost", "Output per developer", 2050),
        "ELEC_S200": pct("electricity-true-cost", "Output per developer", 2200),
        "ELEC_T50": pct("electricity-true-cost", "Token use", 2050),
        "ELEC_E50": pct("electricity-true-cost", "AI electricity use", 2050),
        "ELEC_Y200": by("electricity-true-cost", "World GDP", 2200),
        "CU_P50": x("copper-constrained", "Copper price", 2050), "CU_P200": x("copper-constrained", "Copper price", 2200),
        "CU_T100": by("copper-constrained", "Token use", 2100), "CU_T200": by("copper-constrained", "Token use", 2200),
        "CU_DC100": by("copper-constrained", "Data centre copper demand", 2100),
        "CUS_P50": x("copper-constrained-supply", "Copper price", 2050),
        "CUS_P200": x("copper-constrained-supply", "Copper price", 2200),
        "CUS_T200": by("copper-constrained-supply", "Token use", 2200),
        "GY_RANGE": spread([v["World GDP"] for k, v in findings["growth"].items() if k != "baseline"]),
        "GT_RANGE": spread([v["Token use"] for k, v in findings["growth"].items() if k != "baseline"]),
        "P_G": f"{100 * growth(base, 'Token price', 2150, 2200):.2f}%",
        "CU_G": f"{100 * growth(base, 'Copper price', 2150, 2200):.2f}%",
        "CU_SHORT": "{:.0f}-{:.0f}".format(*short_years(base["Copper availability"])),
        "YMAX": f"{100 * max(abs(e[s]['World GDP'][y] - 1) for s in INTEGRATED for y in (2050, 2100, 2200)):.1f}%",
        "COST": f"{sv['mean cost'] / 1e9:.0f}", "COSTGDP": f"{100 * sv['cost 2050 share of GDP']:.2f}",
        "RDS30": x("efficiency-rd-same-cost", "Output per developer", 2030),
        "RDS50": x("efficiency-rd-same-cost", "Output per developer", 2050),
        "RDS100": x("efficiency-rd-same-cost", "Output per developer", 2100, 3),
        "SS30": x("token-subsidy", "Output per developer", 2030), "SS50": x("token-subsidy", "Output per developer", 2050),
        "SS100": x("token-subsidy", "Output per developer", 2100),
        "RDT50": x("efficiency-rd-same-cost", "Token use", 2050),
        "PSHARE": f"{100 * findings['public']['share 2040']:.0f}", "PQ30": f"{findings['public']['questions 2030']:,.0f}",
        "PQ50": f"{findings['public']['questions 2050'] / 1e6:.1f} million", "OWN50": f"{findings['public']['own 2050']:.0f}",
    }
    text = (DOCS / "policies.template.md").read_text(encoding="utf-8")
    text = text.replace("{{LEVERS}}", lever_table()).replace("{{SCENARIOS}}", scenario_table())
    for key, value in numbers.items():
        text = text.replace("{{" + key + "}}", value)
    assert "{{" not in text, "a placeholder of policies.template.md has no value"
    (DOCS / "policies.md").write_text(text, encoding="utf-8")
    print({k: v for k, v in numbers.items() if k != "LONG_RUN_TABLE"})
    print(numbers["LONG_RUN_TABLE"])


if __name__ == "__main__":
    main()
