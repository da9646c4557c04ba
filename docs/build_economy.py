"""Build docs/economy.md and its figure: the closed economy of the integrated baseline.

    python docs/build_economy.py

Every number is read from fresh runs of `baseline` (to 2200), of `baseline` with no automatable
tasks (to isolate what agents add) and of `paper`.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from docs_runs import run_scenario

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "figures"


def growth(frame, column, t0, t1):
    return math.log(frame[column].loc[t1] / frame[column].loc[t0]) / (t1 - t0)


def pct(x, digits=1):
    return f"{100 * x:.{digits}f}%"


def first_year(frame, mask):
    years = frame.index[mask.to_numpy()]
    return f"{years[0]:.0f}" if len(years) else "never before 2200"


def figure(base, no_agents):
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.2))
    t = base.index

    ax = axes[0, 0]
    ax.plot(t, base["World GDP"] / 1e12, lw=2, label="baseline")
    ax.plot(t, no_agents["World GDP"] / 1e12, lw=1.5, ls="--", label="no automatable tasks")
    ax.set(yscale="log", ylabel="trillion $ a year (2024 prices)", title="World GDP")
    ax.legend(frameon=False)

    ax = axes[0, 1]
    ax.plot(t, base["Software output"] / 1e12, lw=2, label="real software output (2024 prices)")
    ax.plot(t, base["Software value added"] / 1e12, lw=2, label="software value added (market prices)")
    ax.plot(t, base["World GDP"] / 1e12, lw=1.5, color="0.4", ls=":", label="world GDP")
    ax.set(yscale="log", ylabel="trillion $ a year", title="Phantom GDP: real output vs measured value")
    ax.legend(frameon=False, fontsize=8)

    ax = axes[0, 2]
    ax.plot(t, 100 * base["AI economy share of GDP"], lw=2, label="spending on the AI economy")
    ax.plot(t, 100 * base["Software value added"] / base["World GDP"], lw=2, label="software value added")
    ax.plot(t, 100 * base["AI value added"] / base["World GDP"], lw=2, label="token sellers' value added")
    ax.set(ylabel="% of world GDP", title="Shares of world output (all far below 100%)")
    ax.legend(frameon=False, fontsize=8)

    ax = axes[1, 0]
    ax.plot(t, 100 * base["Lab gross margin"], lw=2, label="gross margin of token sellers")
    ax.plot(t, 100 * base["Token fill rate"], lw=2, label="fill rate (share of demand served)")
    ax.set(ylabel="%", ylim=(0, 105), title="A price that clears")
    ax.legend(frameon=False, fontsize=8, loc="lower right")

    ax = axes[1, 1]
    ax.plot(t, base["Developer token return ratio"], lw=2, label="developers: marginal revenue product / price")
    ax.plot(t, base["Agent return ratio"], lw=2, label="agents: value of a worker-year / its token cost")
    ax.axhline(1, color="0.4", lw=1, ls=":")
    ax.set(yscale="log", ylabel="ratio", title="Marginal return = marginal cost")
    ax.legend(frameon=False, fontsize=8)

    ax = axes[1, 2]
    ax.plot(t, base["AI electricity use"], lw=2, label="AI electricity use")
    ax.plot(t, base["AI power delivery limit"], lw=2, ls="--", label="what connected AI power can deliver")
    ax.set(yscale="log", ylabel="TWh a year", title="Energy within connected power")
    ax.legend(frameon=False, fontsize=8)

    for ax in axes.flat:
        ax.set_xlabel("year")
        ax.grid(alpha=0.25)
    fig.suptitle("The closed economy of the integrated baseline, 2024-2200", fontsize=14)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    FIGURES.mkdir(exist_ok=True)
    fig.savefig(FIGURES / "economy-overview.png", dpi=110)
    plt.close(fig)


def long_run(base, faster):
    g = growth(base, "World GDP", 2150, 2200)
    lift = growth(faster, "World GDP", 2150, 2200) - g
    pop = growth(base, "World population", 2150, 2200)
    tokens = growth(base, "Token use", 2150, 2200)
    price = growth(base, "Token price", 2150, 2200)
    copper = growth(base, "Copper price", 2150, 2200)
    return (
        f"World output grows at {pct(g, 2)} a year over 2150-2200. On a balanced path with capital "
        f"keeping pace, Y grows at (b (g_A + g_N) + c g_S)/(1 - a): labour-augmenting technology "
        f"(`world technology growth rate`, 1.5%, Conference Board) and people (`peak world population`, "
        f"UN WPP; population grows {pct(pop, 2)} a year then) set it, with software adding c g_S. One point "
        f"more of technology growth gives {pct(lift, 2)} more world growth (b/(1 - a) = 0.98 of it). "
        f"AI changes the *level* of the path, not its slope: the automatable share of tasks is bounded "
        f"(`maximum automatable task share`, 20%, Eloundou et al.) and, with sigma < 1 "
        f"(`task substitution elasticity`), what agents can add is bounded too, however cheap tokens get "
        f"(Baumol's cost disease, Aghion, Jones and Jones 2019). Tokens follow the economy: developers "
        f"spend a stable share of software revenue on tokens (marginal return = marginal cost), agents' "
        f"spending share falls as tokens get cheap, and compute is built for the demand that results. "
        f"Over 2150-2200 tokens grow at {pct(tokens, 2)} a year, a little slower than world output, "
        f"because a token's price rises {pct(price, 2)} a year as copper gets scarcer (`Copper price` "
        f"{pct(copper, 2)} a year). The two spending-ceiling shares that used to set "
        f"the long run are gone; `docs/sensitivity.md` screens every parameter."
    )


def main():
    base = run_scenario("baseline", final_time=2200).frame
    no_agents = run_scenario("baseline", set={"maximum automatable task share": 0}, final_time=2200).frame
    faster = run_scenario("baseline", set={"world technology growth rate": 0.025}, final_time=2200).frame
    paper = run_scenario("paper", final_time=2200).frame
    figure(base, no_agents)
    theta, sigma = 0.2, 0.5
    agent_cost = base["Agent work cost"].loc[2035] / base["Wage per effective worker"].loc[2035]
    values = {
        "GDP_2024": f"{base['World GDP'].loc[2024] / 1e12:.1f} trillion $ (IMF: 110)",
        "GROWTH_2024_2030": pct(growth(base, "World GDP", 2024, 2030)),
        "GROWTH_2030_2040": pct(growth(base, "World GDP", 2030, 2040)),
        "GROWTH_2050_2100": pct(growth(base, "World GDP", 2050, 2100)),
        "GROWTH_2150_2200": pct(growth(base, "World GDP", 2150, 2200)),
        "N_MAX": f"{(1 - theta) ** (-sigma / (1 - sigma)):.3f}",
        "AGENT_LIFT_2050": pct(base["World GDP"].loc[2050] / no_agents["World GDP"].loc[2050] - 1, 0),
        "AGENT_LIFT_2200": pct(base["World GDP"].loc[2200] / no_agents["World GDP"].loc[2200] - 1, 0),
        "AGENT_COST_2035": pct(agent_cost, 2),
        "S_PASSES_Y": first_year(base, base["Software output"] > base["World GDP"]),
        "VA_SHARE_MAX": pct((base["Software value added"] / base["World GDP"]).max(), 2),
        "MARGIN_2024": pct(base["Lab gross margin"].loc[2024], 0),
        "MARGIN_2026": pct(base["Lab gross margin"].loc[2026], 0),
        "FILL_MIN_LATE": f"{base['Token fill rate'].loc[2100:].min():.3f}",
        "LONG_RUN": long_run(base, faster),
        "PAPER_PASSES": first_year(paper, paper["Software output"] > paper["World GDP"]),
    }
    text = (DOCS / "economy.template.md").read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    assert "{{" not in text, "a placeholder of economy.template.md has no value"
    (DOCS / "economy.md").write_text(text, encoding="utf-8")
    print("wrote docs/economy.md and docs/figures/economy-overview.png")


if __name__ == "__main__":
    main()
