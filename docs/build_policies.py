"""Build docs/policies.md and its figures: every lever and policy scenario, and what they do.

    python docs/build_policies.py

The lever and scenario tables are made from `policies/` and `runs/`, not typed twice; every number
in the findings comes from runs made here.
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


def growth(frame, column, t0, t1):
    return float(np.log(frame[column].loc[t1] / frame[column].loc[t0]) / (t1 - t0))


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


def figure_levers(findings):
    base = run_scenario("baseline", final_time=2200).frame
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    axes[1].plot(base.index[1:], np.diff(np.log(base["Token frontier"])), lw=2.5, color="k", label="baseline")
    for scenario in ("token-subsidy", "frontier-rd", "grid-first", "public-compute", "electricity-true-cost",
                     "copper-constrained", "copper-constrained-supply"):
        frame = run_scenario(scenario, final_time=2200).frame
        ratio = frame["Token frontier"] / base["Token frontier"]
        axes[0].plot(ratio.index, ratio, lw=2, label=scenario)
        axes[1].plot(frame.index[1:], np.diff(np.log(frame["Token frontier"])), lw=1.2, label=scenario)
        findings[scenario] = {
            "level 2050": float(ratio.loc[2050]), "level 2100": float(ratio.loc[2100]),
            "level 2200": float(ratio.loc[2200]),
            "growth 2030-2050": growth(frame, "Token frontier", 2030, 2050),
            "growth 2100-2200": growth(frame, "Token frontier", 2100, 2200),
        }
    findings["baseline"] = {"growth 2030-2050": growth(base, "Token frontier", 2030, 2050),
                            "growth 2100-2200": growth(base, "Token frontier", 2100, 2200)}
    axes[0].axhline(1, color="k", lw=1)
    axes[0].set(xlabel="Year", ylabel="token frontier / baseline", title="Levels: each lever against the baseline")
    axes[0].legend(fontsize=8)
    axes[1].set_yscale("log")
    axes[1].set(xlabel="Year", ylabel="growth of the token frontier (1/Year)",
                title="Growth: the same by 2100 whatever the lever")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(FIGURES / "policies-integrated.png", dpi=100)
    plt.close(fig)


def figure_subsidy_vs_rd(findings):
    base = run_scenario("baseline", final_time=2100).frame
    subsidy = run_scenario("token-subsidy", final_time=2100).frame
    rd = run_scenario("efficiency-rd-same-cost", final_time=2100).frame
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    for frame, label in ((subsidy, "token subsidy 30%"), (rd, "efficiency R&D, same average cost")):
        axes[0].plot(frame.index, frame["Output per developer"] / base["Output per developer"], lw=2, label=label)
        axes[1].plot(frame.index, frame["Token frontier"] / base["Token frontier"], lw=2, label=label)
    axes[0].set(xlabel="Year", ylabel="output per developer / baseline", title="Software productivity")
    axes[1].set(xlabel="Year", ylabel="token frontier / baseline", title="Token frontier")
    for ax in axes:
        ax.axhline(1, color="k", lw=1)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "policies-subsidy-vs-rd.png", dpi=100)
    plt.close(fig)
    cost = subsidy["Token subsidy fiscal cost"].loc[2026:2050]
    findings["subsidy vs rd"] = {
        "mean cost": float(cost.mean()),
        "subsidy s 2030": float(subsidy["Output per developer"].loc[2030] / base["Output per developer"].loc[2030]),
        "rd s 2030": float(rd["Output per developer"].loc[2030] / base["Output per developer"].loc[2030]),
        "subsidy s 2050": float(subsidy["Output per developer"].loc[2050] / base["Output per developer"].loc[2050]),
        "rd s 2050": float(rd["Output per developer"].loc[2050] / base["Output per developer"].loc[2050]),
        "subsidy s 2100": float(subsidy["Output per developer"].loc[2100] / base["Output per developer"].loc[2100]),
        "rd s 2100": float(rd["Output per developer"].loc[2100] / base["Output per developer"].loc[2100]),
        "subsidy F 2050": float(subsidy["Token frontier"].loc[2050] / base["Token frontier"].loc[2050]),
        "cost 2050 share of GDP": float(subsidy["Token subsidy fiscal cost"].loc[2050] / subsidy["World GDP"].loc[2050]),
    }


def figure_public(findings):
    frame = run_scenario("public-compute", final_time=2100).frame
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    ax.plot(frame.index, frame["Public questions per person per day"], lw=2, label="public questions per person per day")
    ax.plot(frame.index, frame["Questions per person per day"], lw=2, label="all questions per person per day")
    ax.set_yscale("log")
    ax.set(xlabel="Year", ylabel="questions per person per day (100 tokens each)", title="A public compute programme")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "policies-public.png", dpi=100)
    plt.close(fig)
    findings["public"] = {"share 2040": float(frame["Public token share"].loc[2040]),
                          "questions 2030": float(frame["Public questions per person per day"].loc[2030]),
                          "questions 2050": float(frame["Public questions per person per day"].loc[2050])}


def main():
    FIGURES.mkdir(exist_ok=True)
    findings: dict = {}
    figure_paper(findings)
    figure_levers(findings)
    figure_subsidy_vs_rd(findings)
    figure_public(findings)
    f, sv = findings, findings["subsidy vs rd"]
    numbers = {
        "GRID50": f"{f['grid-first']['level 2050']:.2f}", "GRID200": f"{f['grid-first']['level 2200']:.2f}",
        "RD50": f"{f['frontier-rd']['level 2050']:.2f}", "RD200": f"{f['frontier-rd']['level 2200']:.3f}",
        "SUB50": f"{f['token-subsidy']['level 2050']:.2f}", "SUB200": f"{f['token-subsidy']['level 2200']:.2f}",
        "PUB50": f"{f['public-compute']['level 2050']:.2f}", "ELEC50": f"{f['electricity-true-cost']['level 2050']:.2f}",
        "CU50": f"{f['copper-constrained']['level 2050']:.2f}", "CU200": f"{f['copper-constrained']['level 2200']:.2f}",
        "CUS200": f"{f['copper-constrained-supply']['level 2200']:.2f}",
        "G1": f"{f['baseline']['growth 2030-2050']:.2f}", "G2": f"{f['baseline']['growth 2100-2200']:.4f}",
        "GMIN": f"{min(v['growth 2100-2200'] for k, v in f.items() if isinstance(v, dict) and 'growth 2100-2200' in v):.4f}",
        "GMAX": f"{max(v['growth 2100-2200'] for k, v in f.items() if isinstance(v, dict) and 'growth 2100-2200' in v):.4f}",
        "COST": f"{sv['mean cost'] / 1e9:.0f}", "COSTGDP": f"{100 * sv['cost 2050 share of GDP']:.1f}",
        "S30": f"{sv['subsidy s 2030']:.2f}", "R30": f"{sv['rd s 2030']:.2f}",
        "S50": f"{sv['subsidy s 2050']:.2f}", "R50": f"{sv['rd s 2050']:.2f}",
        "S100": f"{sv['subsidy s 2100']:.2f}", "R100": f"{sv['rd s 2100']:.3f}", "SF50": f"{sv['subsidy F 2050']:.2f}",
        "PSHARE": f"{100 * f['public']['share 2040']:.0f}", "PQ30": f"{f['public']['questions 2030']:.3g}",
        "PQ50": f"{f['public']['questions 2050']:.3g}",
        "PAPERGAP": f"{f['paper-subsidy'].loc[2200]:.3f}",
    }
    text = (DOCS / "policies.template.md").read_text(encoding="utf-8")
    text = text.replace("{{LEVERS}}", lever_table()).replace("{{SCENARIOS}}", scenario_table())
    for key, value in numbers.items():
        text = text.replace("{{" + key + "}}", value)
    (DOCS / "policies.md").write_text(text, encoding="utf-8")
    print(numbers)


if __name__ == "__main__":
    main()
