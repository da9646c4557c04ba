"""Build docs/calibration.md and its figures: the integrated baseline against the calibration data.

    python docs/build_calibration.py
    python docs/build_calibration.py --before old/tokenworld.mdl   # also re-measure the "before" column

Every model number is read from a fresh `baseline` run saved every time step (1/16 year), so that
a mid-year value is the model's and not an interpolation between two years. A year's value is the
mean over that calendar year when the data are annual totals. Every data point cites its row of
../shared/data/calibration.csv or ../shared/data/anchors.csv (or DESIGN.md section 3).

The "before" column is the model as it was before issue 12 closed the economy (commit f953ced),
measured with the same functions: `mkdir old && git show f953ced:models/tokenworld.mdl >
old/tokenworld.mdl` and `--before old/tokenworld.mdl` measures it again (keep the file's name: the
translation cache is keyed by content, and a copy of an already translated model under another
name is refused).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import sdlib

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "figures"
FINAL_TIME = 2100


def fine_run(scenario="baseline"):
    """A scenario (or a .mdl file with its own defaults) to 2100, saved every time step."""
    resolved = sdlib.resolve(scenario, final_time=FINAL_TIME)
    controls = resolved.model.controls(FINAL_TIME, saveper=resolved.controls.time_step)
    return sdlib.frame(resolved.model.run(resolved.params, controls))


def at(frame, column, time):
    return float(np.interp(time, frame.index.to_numpy(), frame[column].to_numpy()))


def annual(frame, column, year):
    """Mean over a calendar year (trapezoid over every saved time step)."""
    part = frame[column].loc[year:year + 1]
    return float(np.trapezoid(part.to_numpy(), part.index.to_numpy()))


def growth(frame, column, t0, t1):
    """Growth factor a year between two times."""
    return (at(frame, column, t1) / at(frame, column, t0)) ** (1 / (t1 - t0))


def sci(x, digits=1):
    """1.0e14 rather than 1e+14."""
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def fmt(x):
    return f"{x:,.3g}" if abs(x) < 1e6 else f"{x:.3g}"


@dataclass
class Row:
    sector: str
    quantity: str
    measure: object  # frame -> float
    shown: object  # float -> str
    data: str
    low: float | None
    high: float | None
    source: str
    note: str = ""

    def verdict(self, value: float) -> str:
        if self.low is None and self.high is None:
            return ""
        if self.low is not None and value < self.low:
            return "low"
        if self.high is not None and value > self.high:
            return "high"
        return "within"


def tokens_a_day(frame, t):
    return at(frame, "Token use", t) / 365


def margin(frame, t):
    return 1 - 1 / at(frame, "Markup", t)  # Lab gross margin; the model before issue 12 had only Markup


# The five figures issue 12 named: (quantity, measure, data low, data high, data, source, format).
FIVE = [
    ("AI electricity, 2024 (TWh, annual mean)", lambda f: annual(f, "AI electricity use", 2024),
     53, 150, "53-150 (central 80)", "anchors.csv (seed 004: US alone 53-76; IEA accelerated servers)", "{:.1f}".format),
    ("Data-centre electricity, 2030 (TWh, annual mean)", lambda f: annual(f, "Data centre electricity", 2030),
     800, 1100, "800-1100 (central 945)", "IEA Energy and AI 2025, base case", "{:.0f}".format),
    ("Installed compute, early 2025 (H100e)", lambda f: at(f, "Compute capacity", 2025.0),
     3.2e6, 4.8e6, "3.2e6-4.8e6 (central 4.0e6)", "Epoch AI nvidia-chip-production", lambda x: sci(x, 2)),
    ("Tokens a day worldwide, October 2025", lambda f: tokens_a_day(f, 2025.79),
     4.3e13, 3.0e14, "4.3e13-3.0e14 (Google alone 4.3e13)", "Alphabet statements; anchors.csv", sci),
    ("Lab gross margin, mid-2025", lambda f: margin(f, 2025.5),
     0.55, 0.80, "0.55-0.80 (0.35 early 2025 -> 0.72+)", "seed 001", "{:.2f}".format),
]
# More on AI electricity in 2024: its rate at the end of the year, and the mean of the rates at the
# start and the end of the year (what a run saved once a year gives).
EXTRA = [lambda f: at(f, "AI electricity use", 2025.0),
         lambda f: (at(f, "AI electricity use", 2024.0) + at(f, "AI electricity use", 2025.0)) / 2]
# The model before issue 12 (commit f953ced) measured by FIVE and EXTRA (`--before` measures again).
BEFORE = [36.16, 662.1, 3.637e6, 3.232e13, 0.3614, 45.08, 36.73]


def distance(value, low, high):
    """Log-distance from the data range (0 inside it)."""
    if value < low:
        return math.log(low / value)
    if value > high:
        return math.log(value / high)
    return 0.0


def five_table(frame, before):
    """The five figures before and now, and a sentence on which moved toward the data."""
    lines = ["| quantity | data | source | before issue 12 | now | |", "|---|---|---|---|---|---|"]
    away = []
    for old, (quantity, measure, low, high, data, source, shown) in zip(before, FIVE, strict=False):
        new = measure(frame)
        d_old, d_new = distance(old, low, high), distance(new, low, high)
        if d_new == 0 and d_old == 0:
            verdict = "within the data, as before"
        elif d_new < d_old:
            verdict = "within the data" if d_new == 0 else "closer to the data"
        elif d_new == d_old:
            verdict = "unchanged"
        else:
            verdict = "**further from the data**"
        if d_new > d_old:
            away.append(quantity.split(" (")[0])
        lines.append(f"| {quantity} | {data} | {source} | {shown(old)} | {shown(new)} | {verdict} |")
    words = ["None", "One", "Two", "Three", "Four", "Five"]
    if not away:
        sentence = "All five moved toward the data or stayed within it."
    else:
        sentence = (f"{words[len(FIVE) - len(away)]} of the five moved toward the data or into its range; "
                    f"{words[len(away)].lower()} moved away: {', '.join(away)}.")
    return "\n".join(lines), sentence


def rows():
    per_person = "Tokens per person per day"
    return [
        Row("Economy", "World GDP, 2024 (trillion $)", lambda f: annual(f, "World GDP", 2024) / 1e12, "{:.1f}".format,
            "110 (105-115)", 105, 115, "IMF World Economic Outlook 2025", "reference world GDP"),
        Row("Economy", "World population, 2050 (billion)", lambda f: at(f, "World population", 2050) / 1e9,
            "{:.2f}".format, "9.66 (9.4-9.9)", 9.4, 9.9, "UN WPP 2024, medium variant", "population approach time fitted"),
        Row("Economy", "Labour force, 2024 (billion)", lambda f: at(f, "Labour force", 2024.5) / 1e9, "{:.2f}".format,
            "3.6", None, None, "ILO", "labour force share of population"),
        Row("Software", "Developers, 2024 (million)", lambda f: at(f, "Developers", 2024.5) / 1e6, "{:.1f}".format,
            "27-29 (Evans); 47 (SlashData)", 27, 47, "Evans Data 2024; SlashData 2025", "definitions differ"),
        Row("Software", "Software spending, 2025 ($bn)", lambda f: annual(f, "Software revenue", 2025) / 1e9,
            "{:,.0f}".format, "1,230 (1,100-1,400)", 1100, 1400, "Gartner", "0.99% of world GDP"),
        Row("Software", "Real software output, 2025 ($bn at 2024 prices)",
            lambda f: annual(f, "Software output", 2025) / 1e9, "{:,.0f}".format, "1,230 (spending)", None, None,
            "Gartner", "real output outgrows spending: its price index falls"),
        Row("Software", "AI productivity multiplier, 2024", lambda f: at(f, "Token augmentation factor", 2024) ** 0.67,
            "{:.3f}".format, "1.558", None, None, "Peng et al. 2023", "calibrated"),
        Row("Compute", "Installed compute, early 2025 (H100e)", lambda f: at(f, "Compute capacity", 2025.0), fmt,
            "4e6 (3.2e6-4.8e6)", 3.2e6, 4.8e6, "Epoch AI nvidia-chip-production", "4e6 / 2.3 at the start of 2024"),
        Row("Compute", "Growth of installed compute 2024-2025 (x/yr)", lambda f: growth(f, "Compute capacity", 2024, 2025),
            "{:.2f}".format, "2.3 (2.0-2.7)", 2.0, 2.7, "Epoch AI", ""),
        Row("Compute", "Growth of installed compute 2025-2027 (x/yr)", lambda f: growth(f, "Compute capacity", 2025, 2027),
            "{:.2f}".format, "2.3 (2022-25 trend)", None, None, "Epoch AI", "the supply chain grows 30% a year"),
        Row("Tokens", "Token price, 2024 ($ per million)", lambda f: at(f, "Token price", 2024), "{:.2f}".format,
            "0.50-3.00", 0.5, 3.0, "seed 000 stylised fact 2", "reference price 2 $"),
        Row("Tokens", "Price decline of the average token 2024-2028 (x/yr)",
            lambda f: 1 / growth(f, "Token price", 2024, 2028), "{:.1f}".format, "~10 at constant capability", None,
            None, "a16z LLMflation", "users move to more capable models"),
        Row("Tokens", "Tokens per person per day, start of 2024", lambda f: at(f, per_person, 2024.0), "{:.0f}".format,
            "~125 (mid-2024)", None, None, "seed 004 eq. 7", "calibrated at the start of 2024"),
        Row("Tokens", "Tokens a day worldwide, mid-2024", lambda f: tokens_a_day(f, 2024.5), fmt,
            "1e12 (5e11-3e12)", 5e11, 3e12, "seed 004 section 3.1", "use grew ~30x over 2024"),
        Row("Tokens", "Tokens a day worldwide, Oct 2025", lambda f: tokens_a_day(f, 2025.79), fmt,
            ">4.3e13 (Google alone)", 4.3e13, 3.0e14, "Alphabet statements", "the world is more than Google"),
        Row("Tokens", "Tokens a day worldwide, Mar 2026", lambda f: tokens_a_day(f, 2026.21), fmt,
            ">1.4e14 (China alone)", 1.4e14, 1.0e15, "seed 003 (National Data Administration)", ""),
        Row("Tokens", "Lab gross margin, mid-2025", lambda f: margin(f, 2025.5), "{:.2f}".format, "0.35 -> 0.72+",
            0.55, 0.80, "seed 001", "the model's shortage comes in 2026-2028"),
        Row("Tokens", "Highest lab gross margin, 2025-2030", lambda f: float(f["Lab gross margin"].loc[2025:2030].max()),
            "{:.2f}".format, "0.72+ while sold out", 0.55, 0.80, "seed 001", ""),
        Row("Energy", "Energy per token, 2024 (J)", lambda f: at(f, "Energy per token", 2024), "{:.2f}".format,
            "1.8 (0.36-3.6)", 0.36, 3.6, "seed 004", "older A100-era fleet; new hardware 1.8 J"),
        Row("Energy", "Landauer floor (J per token)", lambda f: at(f, "Landauer floor energy per token", 2024), "{:.3g}".format,
            "3.4e-20", None, None, "seed 004 eq. 1-2", "physics"),
        Row("Energy", "AI electricity, 2024 (TWh)", lambda f: annual(f, "AI electricity use", 2024), "{:.0f}".format,
            "53-150 (US alone 53-76)", 53, 150, "seed 004 (IEA); anchors.csv", "low: see below"),
        Row("Energy", "Inference share of AI electricity, 2024",
            lambda f: annual(f, "Inference share of AI electricity", 2024), "{:.2f}".format, "0.60-0.70", 0.5, 0.8,
            "seed 004 section 3", ""),
        Row("Energy", "Data-centre electricity, 2024 (TWh)", lambda f: annual(f, "Data centre electricity", 2024),
            "{:.0f}".format, "415", 395, 435, "IEA Energy and AI 2025", "conventional part set to 385"),
        Row("Energy", "AI electricity, 2028 (TWh)", lambda f: annual(f, "AI electricity use", 2028), "{:.0f}".format,
            "165-600 (US alone 165-326)", 165, 600, "seed 004 (IEA), LBNL 2024", "low: see below"),
        Row("Energy", "Data-centre electricity, 2030 (TWh)", lambda f: annual(f, "Data centre electricity", 2030),
            "{:.0f}".format, "~945 (800-1100)", 800, 1100, "IEA Energy and AI 2025", ""),
        Row("Energy", "Data-centre electricity, 2035 (TWh)", lambda f: annual(f, "Data centre electricity", 2035),
            "{:.0f}".format, "~1200", None, None, "IEA Energy and AI 2025", ""),
        Row("Energy", "AI power connected, 2030 (GW)", lambda f: at(f, "AI data centre power capacity", 2030), "{:.0f}".format,
            "", None, None, "", "what the installed compute draws: see below"),
        Row("Energy", "World electricity generation, 2024 (TWh)", lambda f: annual(f, "World electricity generation", 2024),
            "{:,.0f}".format, "30,500 (29,000-32,000)", 29000, 32000, "IEA Electricity 2025", ""),
        Row("Copper", "Data-centre copper demand, 2024 (Mt)", lambda f: annual(f, "Data centre copper demand", 2024) / 1e6,
            "{:.2f}".format, "~0.5 (0.4-0.6)", 0.4, 0.6, "Goldman Sachs via seed 004", "intensity 40 t/MW"),
        Row("Copper", "Data-centre copper demand, 2028 (Mt)", lambda f: annual(f, "Data centre copper demand", 2028) / 1e6,
            "{:.2f}".format, "0.572 (peak)", None, None, "BNEF", "high: see below"),
        Row("Copper", "Data-centre copper demand, 2030 (Mt)", lambda f: annual(f, "Data centre copper demand", 2030) / 1e6,
            "{:.2f}".format, "0.512 (IEA); 1.1 (Goldman)", 0.4, 1.1, "IEA; Goldman Sachs", "high: see below"),
        Row("Copper", "Data-centre copper demand, 2050 (Mt)", lambda f: annual(f, "Data centre copper demand", 2050) / 1e6,
            "{:.2f}".format, "3", None, None, "Goldman Sachs via seed 004", ""),
        Row("Copper", "Refined copper demand, 2024 (Mt)", lambda f: annual(f, "Copper demand", 2024) / 1e6, "{:.1f}".format,
            "27 (26-28.5)", 26, 28.5, "IEA", "calibrated"),
        Row("Copper", "Refined copper demand, 2040 (Mt)", lambda f: annual(f, "Copper demand", 2040) / 1e6, "{:.1f}".format,
            "34-42 (33-44)", 33, 44, "IEA STEPS; seed 004; S&P Global", ""),
        Row("Copper", "Mine production, 2024 (Mt)", lambda f: annual(f, "primary copper production", 2024) / 1e6,
            "{:.1f}".format, "23 (22-24)", 22, 24, "USGS MCS 2025", ""),
        Row("Copper", "Recycled copper, 2024 (Mt)", lambda f: annual(f, "Recycled copper supply", 2024) / 1e6,
            "{:.1f}".format, "~4.5 (2023)", 4.0, 5.0, "ICSG", "recycling rate 25% of end-of-life copper"),
        Row("Copper", "Ore grade, 2024 (%)", lambda f: 100 * at(f, "Copper ore grade", 2024.5), "{:.3f}".format,
            "0.52 (0.48-0.56)", 0.48, 0.56, "AME", ""),
        Row("Copper", "Ore grade decline 2024-2034 (%/yr)", lambda f: 100 * (1 - growth(f, "Copper ore grade", 2024, 2034)),
            "{:.1f}".format, "1.6 (2005-2022)", None, None, "AME", ""),
        Row("Copper", "Copper price, 2024 ($/t)", lambda f: annual(f, "Copper price", 2024), fmt, "9,150 (8,500-9,800)",
            8500, 9800, "LME", ""),
        Row("Copper", "Copper price, 2025 ($/t)", lambda f: annual(f, "Copper price", 2025), fmt, "~11,138 (Q4 2025)",
            None, None, "LME", "no speculation or disruption in the model"),
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
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    sub = frame.loc[2024:2030]
    ax.plot(sub.index, sub["Token use"] / 365, lw=2, color="k", label="model: tokens a day (world)")
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
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(FIGURES / "calibration-tokens.png", dpi=100)
    plt.close(fig)


def figure_electricity(frame):
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    sub = frame.loc[2024:2040]
    ax = axes[0]
    ax.plot(sub.index, sub["Data centre electricity"], lw=2, label="model: all data centres")
    ax.plot(sub.index, sub["AI electricity use"], lw=2, label="model: AI data centres")
    ax.plot([2024.5, 2030.5, 2035.5], [415, 945, 1200], "ks", label="IEA: all data centres")
    ax.vlines([2024.5, 2028.5], [53, 165], [150, 600], color="r", lw=3, label="AI: world at least the US (anchors)")
    ax.set(xlabel="Year", ylabel="TWh/Year", title="Electricity used")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.plot(sub.index, sub["AI data centre power capacity"], lw=2, label="AI power connected")
    ax.plot(sub.index, sub["AI power under construction"], lw=2, ls="--", label="AI power in the grid queue")
    ax.plot(sub.index, sub["Installed compute power"], lw=2, label="power the installed compute draws at full load")
    ax.set(xlabel="Year", ylabel="GW", title="Power connected for AI, and power used")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "calibration-electricity.png", dpi=100)
    plt.close(fig)


def figure_copper(frame):
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
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
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    sub = frame.loc[2024:2040]
    ax = axes[0]
    ax.plot(sub.index, sub["Token price"], lw=2, label="model: average token price")
    ax.plot(sub.index, sub["Token cost floor"], lw=1.5, ls="--", label="model: cost floor")
    ax.vlines([2024.9], [0.5], [3.0], color="k", lw=3, label="frontier API prices, late 2024")
    years = np.array([2024.0, 2025.0, 2026.0, 2027.0])
    ax.plot(years, 2 * 10.0 ** -(years - 2024), "r:", label="10x a year (LLMflation, constant capability)")
    ax.set_yscale("log")
    ax.set(xlabel="Year", ylabel="$ per million tokens", title="Token price")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.plot(sub.index, 100 * sub["Lab gross margin"], lw=2, label="model: gross margin")
    ax.plot([2025.1, 2025.6], [35, 72], "ks--", label="seed 001: 35% early 2025, 72%+ mid-2025")
    ax.axhline(100 * (1 - 1 / 1.55), color="0.5", lw=1, ls=":", label="normal margin (35%)")
    ax.set(xlabel="Year", ylabel="%", ylim=(0, 100), title="Gross margin of token sellers")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(FIGURES / "calibration-price.png", dpi=100)
    plt.close(fig)


def month_of(time):
    """2026.5 -> "July 2026"."""
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
    return f"{months[int((time % 1) * 12 + 1e-9)]} {int(time)}"


def period(series):
    """Mean time between the local minima of an oscillating series."""
    x = series.to_numpy()
    minima = [series.index[i] for i in range(1, len(x) - 1) if x[i] < x[i - 1] and x[i] < x[i + 1]]
    return float(np.mean(np.diff(minima)))


def last_outside(series, low, high):
    """The last time a series is outside [low, high]."""
    return float(series.index[((series < low) | (series > high)).to_numpy()].max())


def within_factor_two(frame):
    """When hardware energy efficiency and inference algorithms are both within 2x of their ceilings."""
    parameters, years = sdlib.Model().parameters, []
    for column, ceiling in (("Log hardware energy efficiency", "hardware efficiency ceiling"),
                            ("Log algorithmic efficiency", "algorithmic efficiency ceiling")):
        gap = math.log(parameters[ceiling].value) - frame[column]
        years.append(float(gap.index[(gap < math.log(2)).to_numpy()].min()))
    return max(years)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", help="a model file to measure the 'before issue 12' column from")
    args = parser.parse_args()
    FIGURES.mkdir(exist_ok=True)
    frame = fine_run()
    before = BEFORE
    if args.before:
        old = fine_run(args.before)
        before = [measure(old) for _, measure, *_ in FIVE] + [measure(old) for measure in EXTRA]
        print("before:", ", ".join(f"{v:.4g}" for v in before))
    for draw in (figure_compute, figure_tokens, figure_electricity, figure_copper, figure_price):
        draw(frame)
    table = ["| sector | quantity | model | data | | source | note |", "|---|---|---|---|---|---|---|"]
    for row in rows():
        value = row.measure(frame)
        table.append(f"| {row.sector} | {row.quantity} | {row.shown(value)} | {row.data} | {row.verdict(value)} | "
                     f"{row.source} | {row.note} |")
    five, toward = five_table(frame, before)
    conventional = frame["Conventional data centre electricity"]
    values = {
        "TABLE": "\n".join(table), "FIVE": five,
        "TOWARD": toward,
        "AIE24_BEFORE": f"{before[0]:.1f}", "AIE24_NOW": f"{FIVE[0][1](frame):.1f}",
        "AIE_END_BEFORE": f"{before[5]:.1f}", "AIE_END_NOW": f"{EXTRA[0](frame):.1f}",
        "AIE_ENDS_BEFORE": f"{before[6]:.1f}", "AIE_ENDS_NOW": f"{EXTRA[1](frame):.1f}",
        "AIE24": f"{annual(frame, 'AI electricity use', 2024):.0f}",
        "FULL_LOAD24": f"{annual(frame, 'Installed compute power', 2024) * 8.766:.0f}",
        "AIE28": f"{annual(frame, 'AI electricity use', 2028):.0f}",
        "DCE30": f"{annual(frame, 'Data centre electricity', 2030):.0f}",
        "DCE35": f"{annual(frame, 'Data centre electricity', 2035):.0f}",
        "MARGIN25": f"{100 * margin(frame, 2025.5):.0f}",
        "MARGIN_EARLY25": f"{100 * margin(frame, 2025.0):.0f}",
        "MARGIN_MONTH70": month_of(frame.index[(frame["Lab gross margin"] > 0.7).to_numpy()][0]),
        "DESIRED_RATIO": f"{(frame['Desired compute capacity'] / frame['Compute capacity']).loc[2026:2032].max():.0f}",
        "TOKENS_OCT25": sci(tokens_a_day(frame, 2025.79)),
        "TOKENS_MAR26": sci(tokens_a_day(frame, 2026.21)),
        "GOOGLE_TIMES": f"{tokens_a_day(frame, 2025.79) / 4.3e13:.1f}",
        "TOKENS_MID24": sci(tokens_a_day(frame, 2024.5)),
        "DCE24": f"{annual(frame, 'Data centre electricity', 2024):.0f}",
        "CONV_GROWTH24": f"{100 * (conventional.loc[2025] / conventional.loc[2024] - 1):.0f}",
        "PRICE_FALL": f"{1 / growth(frame, 'Token price', 2024, 2028):.1f}",
        "COST_FALL": f"{1 / growth(frame, 'Token cost floor', 2024, 2028):.1f}",
        "POWER30": f"{at(frame, 'AI data centre power capacity', 2030):.0f}",
        "DRAW30": f"{at(frame, 'Installed compute power', 2030):.0f}",
        "QUEUE27": f"{frame['AI power under construction'].loc[2026:2030].max():.0f}",
        "POWER50": f"{at(frame, 'AI data centre power capacity', 2050):.0f}",
        "DRAW50": f"{at(frame, 'Installed compute power', 2050):.0f}",
        "CU28": f"{annual(frame, 'Data centre copper demand', 2028) / 1e6:.1f}",
        "CU30": f"{annual(frame, 'Data centre copper demand', 2030) / 1e6:.1f}",
        "CU40": f"{annual(frame, 'Copper demand', 2040) / 1e6:.0f}",
        "CUAVAIL": f"{frame['Copper availability'].loc[2025:2060].min():.2f}",
        "CUPRICE25": f"{annual(frame, 'Copper price', 2025):,.0f}",
        "CUPRICE40": f"{annual(frame, 'Copper price', 2040):,.0f}",
        "DEV_RATIO24": f"{at(frame, 'Developer token return ratio', 2024):.0f}",
        "DEV_GROWTH24": f"{at(frame, 'Developer token intensity', 2025) / at(frame, 'Developer token intensity', 2024):.0f}",
        "FILL_MIN": f"{frame['Token fill rate'].min():.2f}",
        "FILL_MIN_YEAR": f"{frame['Token fill rate'].idxmin():.0f}",
        "GLUT_MARGIN": f"{100 * frame['Lab gross margin'].loc[2036:2060].min():.0f}",
        "GLUT_YEAR": f"{frame['Lab gross margin'].loc[2036:2060].idxmin():.0f}",
        "PERIOD": f"{period(frame['Lab gross margin'].loc[2045:2100]):.0f}",
        "CALM_YEAR": f"{last_outside(frame['Lab gross margin'], 0.30, 0.42):.0f}",
        "CEILING_YEAR": f"{within_factor_two(frame):.0f}",
        "GY2430": f"{100 * math.log(growth(frame, 'World GDP', 2024, 2030)):.1f}%",
        "GY3040": f"{100 * math.log(growth(frame, 'World GDP', 2030, 2040)):.1f}%",
        "GY2440": f"{100 * math.log(growth(frame, 'World GDP', 2024, 2040)):.1f}%",
        "CU_OTHER40": f"{annual(frame, 'Other copper demand', 2040) / 1e6:.0f}",
        "CU_DC40": f"{annual(frame, 'Data centre copper demand', 2040) / 1e6:.1f}",
    }
    text = (DOCS / "calibration.template.md").read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    assert "{{" not in text, "a placeholder of calibration.template.md has no value"
    (DOCS / "calibration.md").write_text(text, encoding="utf-8")
    print(five)
    print("\n".join(table))
    print({k: v for k, v in values.items() if k not in ("TABLE", "FIVE")})


if __name__ == "__main__":
    main()
