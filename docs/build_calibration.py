"""Build docs/calibration.md and its figures: the integrated baseline against the calibration data.

    python docs/build_calibration.py

Every model number is read from a fresh `baseline` run; every data point cites its row of
../shared/data/calibration.csv (or DESIGN.md section 3). A year's value is the mean of the
model at the start and end of that year when the data are annual totals.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from docs_runs import run_scenario

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "figures"


def annual(frame, column, year):
    """Mean over a calendar year (trapezoid of its two saved ends)."""
    return float((frame[column].loc[year] + frame[column].loc[year + 1]) / 2)


def at(frame, column, time):
    return float(np.interp(time, frame.index.to_numpy(), frame[column].to_numpy()))


def growth(frame, column, t0, t1):
    return float(at(frame, column, t1) / at(frame, column, t0)) ** (1 / (t1 - t0))


def fmt(x):
    return f"{x:,.3g}" if abs(x) < 1e6 else f"{x:.3g}"


def rows(frame):
    per_day = lambda t: at(frame, "Token use", t) / 365  # noqa: E731
    return [
        ("Compute", "Installed compute, early 2025 (H100e)", fmt(at(frame, "Compute capacity", 2025.0)),
         "4e6", "Epoch AI nvidia-chip-production", "initial value set to 4e6 / 2.3 at the start of 2024"),
        ("Compute", "Growth of installed compute 2024-2025 (x/yr)", f"{growth(frame, 'Compute capacity', 2024, 2025):.2f}",
         "2.3", "Epoch AI", ""),
        ("Compute", "Growth of installed compute 2025-2027 (x/yr)", f"{growth(frame, 'Compute capacity', 2025, 2027):.2f}",
         "2.3 (2022-25 trend)", "Epoch AI", "slows as grid power binds"),
        ("Tokens", "Token price, 2024 ($ per million)", f"{at(frame, 'Token price', 2024):.2f}", "0.50-3.00",
         "seed 000 stylised fact 2", "reference price 2 $"),
        ("Tokens", "Price decline of the average token 2024-2028 (x/yr)",
         f"{1 / growth(frame, 'Token price', 2024, 2028):.1f}", "~10 at constant capability",
         "a16z LLMflation", "users move to more capable models, so the average token falls slower"),
        ("Tokens", "Tokens per person per day, start of 2024", f"{at(frame, 'Tokens per person per day', 2024.0):.0f}",
         "~125 (mid-2024)", "seed 004 eq. 7", "calibrated at the start of 2024"),
        ("Tokens", "Tokens per person per day, mid-2024", f"{at(frame, 'Tokens per person per day', 2024.5):.0f}",
         "~125", "seed 004 eq. 7", "Google's use grew ~3.6/yr then: 1e12 a day fits early 2024"),
        ("Tokens", "Tokens a day worldwide, Oct 2025", fmt(per_day(2025.8)),
         ">4.3e13 (Google alone)", "Alphabet statements", "Google alone; the world is several times more"),
        ("Tokens", "Tokens a day worldwide, Mar 2026", fmt(per_day(2026.2)),
         ">1.4e14 (China alone)", "seed 003 (National Data Administration)", "China alone: the model is low, see below"),
        ("Tokens", "Lab gross margin 2025 (1 - 1/markup)", f"{1 - 1 / at(frame, 'Markup', 2025.5):.2f}",
         "0.35 -> 0.72", "seed 001", "normal markup 1.55 is a 35% margin"),
        ("Energy", "Energy per token, 2024 (J)", f"{at(frame, 'Energy per token', 2024):.2f}", "1.8 (0.36-3.6)",
         "seed 004", "older A100-era fleet; new hardware 1.8 J"),
        ("Energy", "Landauer floor (J per token)", f"{at(frame, 'Landauer floor energy per token', 2024):.3g}",
         "3.4e-20", "seed 004 eq. 1-2", "physics"),
        ("Energy", "AI electricity, 2024 (TWh)", f"{annual(frame, 'AI electricity use', 2024):.0f}",
         "53-76 (US only)", "seed 004 (IEA)", "low: see below"),
        ("Energy", "Data-centre electricity, 2024 (TWh)", f"{annual(frame, 'Data centre electricity', 2024):.0f}",
         "415", "IEA Energy and AI 2025", "conventional part set to 385"),
        ("Energy", "Data-centre electricity, 2030 (TWh)", f"{annual(frame, 'Data centre electricity', 2030):.0f}",
         "~945 (base case)", "IEA Energy and AI 2025", "low: see below"),
        ("Energy", "Data-centre electricity, 2035 (TWh)", f"{annual(frame, 'Data centre electricity', 2035):.0f}",
         "~1200", "IEA Energy and AI 2025", ""),
        ("Energy", "AI electricity, 2028 (TWh)", f"{annual(frame, 'AI electricity use', 2028):.0f}",
         "165-326 (US only)", "seed 004 (IEA), LBNL 2024", ""),
        ("Copper", "Data-centre copper demand, 2024 (Mt)", f"{annual(frame, 'Data centre copper demand', 2024) / 1e6:.2f}",
         "~0.5", "Goldman Sachs via seed 004", "intensity 40 t/MW"),
        ("Copper", "Data-centre copper demand, 2028 (Mt)", f"{annual(frame, 'Data centre copper demand', 2028) / 1e6:.2f}",
         "0.572 (peak)", "BNEF", ""),
        ("Copper", "Data-centre copper demand, 2030 (Mt)", f"{annual(frame, 'Data centre copper demand', 2030) / 1e6:.2f}",
         "0.512 (IEA); 1.1 (Goldman)", "IEA; Goldman Sachs", ""),
        ("Copper", "Data-centre copper demand, 2050 (Mt)", f"{annual(frame, 'Data centre copper demand', 2050) / 1e6:.2f}",
         "3", "Goldman Sachs via seed 004", "low: AI power grows slower than Goldman assumes"),
        ("Copper", "Refined copper demand, 2024 (Mt)", f"{annual(frame, 'Copper demand', 2024) / 1e6:.1f}", "27",
         "IEA", "calibrated"),
        ("Copper", "Refined copper demand, 2040 (Mt)", f"{annual(frame, 'Copper demand', 2040) / 1e6:.1f}", "34-42",
         "IEA STEPS; seed 004", ""),
        ("Copper", "Mine production, 2024 (Mt)", f"{annual(frame, 'primary copper production', 2024) / 1e6:.1f}", "23",
         "USGS MCS 2025", ""),
        ("Copper", "Recycled copper, 2024 (Mt)", f"{annual(frame, 'Recycled copper supply', 2024) / 1e6:.1f}",
         "~4.5 (2023)", "ICSG", "recycling rate 25% of end-of-life copper"),
        ("Copper", "Ore grade decline 2024-2034 (%/yr)",
         f"{100 * (1 - growth(frame, 'Copper ore grade', 2024, 2034)):.1f}", "1.6 (2005-2022)", "AME", ""),
        ("Copper", "Copper price, 2025 ($/t)", fmt(annual(frame, "Copper price", 2025)), "~11,138 (Q4 2025)",
         "LME", "no short-term speculation in the model"),
        ("Software", "Software output, 2025 ($bn)", fmt(at(frame, "Software output", 2025) / 1e9), "1,230",
         "Gartner", "2024 calibrated to 1,090"),
        ("Software", "AI productivity multiplier, 2024", f"{at(frame, 'Token augmentation factor', 2024) ** 0.67:.3f}",
         "1.558", "Peng et al. 2023", "calibrated"),
    ]


def figure_compute(frame):
    fig, ax = plt.subplots(figsize=(7, 4.2))
    sub = frame.loc[2024:2040]
    ax.plot(sub.index, sub["Compute capacity"], lw=2, label="model: Compute capacity")
    years = np.array([2024.0, 2025.0, 2026.0, 2027.0])
    ax.plot(years, 4e6 * 2.3 ** (years - 2025), "k--", label="Epoch AI: 4e6 H100e early 2025, x2.3 a year")
    ax.plot([2025.0], [4e6], "ko")
    ax.set_yscale("log")
    ax.set(xlabel="Year", ylabel="H100e", title="Installed AI compute")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "calibration-compute.png", dpi=100)
    plt.close(fig)


def figure_tokens(frame):
    fig, ax = plt.subplots(figsize=(7, 4.2))
    sub = frame.loc[2024:2032]
    ax.plot(sub.index, sub["Token use"] / 365, lw=2, label="model: tokens a day (world)")
    points = [
        (2024.5, 1e12, "world, mid-2024 (seed 004)"), (2024.3, 9.7e12 / 30, "Google, Apr 2024"),
        (2025.4, 4.8e14 / 30, "Google, May 2025"), (2025.8, 1.3e15 / 30, "Google, Oct 2025"),
        (2025.8, 8.6e12, "OpenAI API, Oct 2025"), (2024.0, 1e11, "China, early 2024"),
        (2026.2, 1.4e14, "China, Mar 2026"),
    ]
    for t, v, label in points:
        ax.plot([t], [v], "o", label=label)
    ax.set_yscale("log")
    ax.set(xlabel="Year", ylabel="tokens a day", title="Token use (providers and countries are lower bounds)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(FIGURES / "calibration-tokens.png", dpi=100)
    plt.close(fig)


def figure_electricity(frame):
    fig, ax = plt.subplots(figsize=(7, 4.2))
    sub = frame.loc[2024:2040]
    ax.plot(sub.index, sub["Data centre electricity"], lw=2, label="model: all data centres")
    ax.plot(sub.index, sub["AI electricity use"], lw=2, label="model: AI data centres")
    ax.plot([2024.5, 2030.5, 2035.5], [415, 945, 1200], "ks", label="IEA: all data centres")
    ax.vlines([2024.5, 2028.5], [53, 165], [76, 326], color="r", lw=3, label="US AI-specific (seed 004)")
    ax.set(xlabel="Year", ylabel="TWh/Year", title="Electricity")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "calibration-electricity.png", dpi=100)
    plt.close(fig)


def figure_copper(frame):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    sub = frame.loc[2024:2060]
    axes[0].plot(sub.index, sub["Data centre copper demand"] / 1e6, lw=2, label="model")
    axes[0].plot([2024.5, 2030.5, 2050.5], [0.5, 1.1, 3.0], "ks", label="Goldman Sachs (seed 004)")
    axes[0].plot([2030.5], [0.512], "r^", label="IEA 2030")
    axes[0].plot([2028.5], [0.572], "gv", label="BNEF peak 2028")
    axes[0].set(xlabel="Year", ylabel="Mt/Year", title="Data-centre copper demand")
    axes[0].legend(fontsize=8)
    axes[1].plot(sub.index, sub["Copper demand"] / 1e6, lw=2, label="model: refined demand")
    axes[1].plot(sub.index, sub["primary copper production"] / 1e6, lw=2, label="model: mine production")
    axes[1].vlines([2040.5], [34], [42], color="k", lw=3, label="IEA/seed 004 2040: 34-42")
    axes[1].plot([2024.5], [27], "ks", label="2024 demand 27")
    axes[1].plot([2024.5], [23], "k^", label="2024 mine production 23")
    axes[1].set(xlabel="Year", ylabel="Mt/Year", title="Copper")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "calibration-copper.png", dpi=100)
    plt.close(fig)


def figure_price(frame):
    fig, ax = plt.subplots(figsize=(7, 4.2))
    sub = frame.loc[2024:2035]
    ax.plot(sub.index, sub["Token price"], lw=2, label="model: average token price")
    ax.plot(sub.index, sub["Token cost floor"], lw=1.5, ls="--", label="model: cost floor")
    ax.vlines([2024.9], [0.5], [3.0], color="k", lw=3, label="frontier API prices, late 2024")
    years = np.array([2024.0, 2025.0, 2026.0, 2027.0])
    ax.plot(years, 2 * 10.0 ** -(years - 2024), "r:", label="10x a year (LLMflation, constant capability)")
    ax.set_yscale("log")
    ax.set(xlabel="Year", ylabel="$ per million tokens", title="Token price")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "calibration-price.png", dpi=100)
    plt.close(fig)


def main():
    FIGURES.mkdir(exist_ok=True)
    frame = run_scenario("baseline").frame
    for draw in (figure_compute, figure_tokens, figure_electricity, figure_copper, figure_price):
        draw(frame)
    table = ["| sector | quantity | model | data | source | note |", "|---|---|---|---|---|---|"]
    table += ["| " + " | ".join(r) + " |" for r in rows(frame)]
    template = (DOCS / "calibration.template.md").read_text(encoding="utf-8")
    (DOCS / "calibration.md").write_text(template.replace("{{TABLE}}", "\n".join(table)), encoding="utf-8")
    print("\n".join(table))


if __name__ == "__main__":
    main()
