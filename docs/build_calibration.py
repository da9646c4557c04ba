"""Build docs/calibration.md and its figures: the baseline fitted to the anchor registry, and set beside the data.

    python docs/build_calibration.py [--samples 192000] [--burn STEPS] [--keep DIR]   # screen, fit, check, write the page
    python docs/build_calibration.py --fit DIR                          # the page again from a kept fit
    python docs/build_calibration.py --before old/tokenworld.mdl        # also re-measure the "before issue 12" column

1. Screening: Morris elementary effects (`sdlib.screen`) of the candidate parameters below on every anchor's
   z-score (models/tokenworld-anchors.csv), over their plausible ranges, with the parameters at their values
   before the calibration (BEFORE).
2. Calibration: the candidates that move the anchors by at least one sigma on average (mean mu* >= 1), fitted by
   MCMC (`sdlib.calibrate`: emcee on the batch engine) with uniform priors on those ranges, started from BEFORE,
   so that the fit does not depend on the model's current defaults. Out of sample: the same fit on the anchors up
   to HOLDOUT only, scored on the later ones.
3. The check: `sdlib.check(["baseline"])`, the anchors before (BEFORE) and after (the model as it is), with the
   documented reason of each miss (models/tokenworld-checks.toml [[anchor_miss]]).
4. Beside the data: the calibrated baseline saved every time step (1/16 year) against the wider calibration data
   (../shared/data/calibration.csv, ../shared/data/anchors.csv, DESIGN.md section 3; a year's value is the mean
   over the calendar year where the data are annual totals), and the five figures issue 12 named, before issue 12
   (commit f953ced), in the closed economy before the calibration, and calibrated.

The fitted values are written into models/tokenworld.mdl by hand, each with a comment naming this fit and
its anchors. `--keep DIR` keeps the fit (DIR/mcmc, DIR/holdout, DIR/screening.nc) and `--fit DIR` rebuilds the
page from it after the values are in the model. The "before issue 12" column: `mkdir old && git show
f953ced:models/tokenworld.mdl > old/tokenworld.mdl` and `--before old/tokenworld.mdl` measures it again (keep
the file's name: the translation cache is keyed by content, and a copy of an already translated model under
another name is refused).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

import sdlib

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "figures"
REGISTRY = DOCS.parent / "models" / "tokenworld-anchors.csv"
FINAL_TIME = 2100
HOLDOUT = 2026  # out of sample: fit the anchors up to this year, forecast the later ones

# Candidates for the fit, with their plausible ranges: the key uncertainties the model declares
# (models/tokenworld-display.toml, ranges from their sources) and parameters of the anchored sectors that are
# judgement rather than measurement, ranges from their sources (each parameter's comment in the model): PUE
# 1.1-1.6 (Uptime), fleet power from an H100 server's 1275 W to an A100-era fleet's, global AI compute growth
# up to Epoch's 3.3x a year (ln 3.3 = 1.19).
ANCHORED_SECTORS = [
    "maximum expected demand growth=0.5:1.2", "data centre copper intensity=20:66", "training share of AI revenue=0.3:1",
    "power planning time=0.5:3", "markup scarcity sensitivity=0.5:5", "normal markup=1.3:2.5",
    "initial human intensity ratio=0.005:0.03", "power usage effectiveness=1.1:1.6",
    "initial conventional data centre electricity=330:400", "initial AI power pipeline=20:60",
    "copper income elasticity=0.5:1.2", "other AI compute load=0.5:1", "initial fleet power per H100e=1275:2600",
    "idle power fraction=0.2:0.5", "agent autonomy midpoint year=2026:2030",
]
THRESHOLD = 0.6  # fit what moves the anchors by at least 0.6 sigma on average over its range (the ranking's widest gap)
# Candidates the screening ranks above the threshold that are not fitted, and why.
NOT_FITTED: dict[str, str] = {}
# The parameters fitted, and their values before the calibration (the model's defaults before issue 13).
BEFORE = {"hardware energy efficiency growth rate": 0.35, "data centre copper intensity": 40, "compute useful life": 6,
          "maximum expected demand growth": 0.83}
FIT_FIGURES = ["Data centre electricity", "AI electricity use", "Token use", "Data centre copper demand",
               "Compute capacity", "Lab gross margin", "Copper demand"]


def candidates() -> list[str]:
    declared = [f"{u.name}={u.low:g}:{u.high:g}" for u in sdlib.Model.load().display.uncertainties]
    names = {c.split("=")[0] for c in declared}
    return declared + [c for c in ANCHORED_SECTORS if c.split("=")[0] not in names]


def slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def short(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:,.4g}" if 1e-3 <= abs(x) < 1e6 else f"{x:.3g}"


# --- the calibrated baseline beside the data (a run saved every time step) --------------------------
def fine_run(scenario="baseline", set=None):
    """A scenario (or a .mdl file with its own defaults) to 2100, saved every time step."""
    resolved = sdlib.resolve(scenario, set=set, final_time=FINAL_TIME)
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
BEFORE_ISSUE_12 = [36.16, 662.1, 3.637e6, 3.232e13, 0.3614, 45.08, 36.73]


def distance(value, low, high):
    """Log-distance from the data range (0 inside it)."""
    if value < low:
        return math.log(low / value)
    if value > high:
        return math.log(value / high)
    return 0.0


def five_table(frame, closed, before):
    """The five figures before issue 12, in the closed economy before the calibration and now (calibrated), and a
    sentence on which moved toward the data with issue 12."""
    lines = ["| quantity | data | source | before issue 12 | closed economy | calibrated | issue 12 moved it |",
             "|---|---|---|---|---|---|---|"]
    away = []
    for old, (quantity, measure, low, high, data, source, shown) in zip(before, FIVE, strict=False):
        new = measure(closed)
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
        lines.append(f"| {quantity} | {data} | {source} | {shown(old)} | {shown(new)} | {shown(measure(frame))} | "
                     f"{verdict} |")
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


def measurements(frame, closed, before) -> dict:
    """The numbers the page's text quotes: the calibrated baseline (`frame`), the closed economy before the
    calibration (`closed`) and the model before issue 12 (`before`, FIVE and EXTRA)."""
    conventional = frame["Conventional data centre electricity"]
    return {
        "AIE24_BEFORE": f"{before[0]:.1f}", "AIE24_NOW": f"{FIVE[0][1](closed):.1f}",
        "AIE_END_BEFORE": f"{before[5]:.1f}", "AIE_END_NOW": f"{EXTRA[0](closed):.1f}",
        "AIE_ENDS_BEFORE": f"{before[6]:.1f}", "AIE_ENDS_NOW": f"{EXTRA[1](closed):.1f}",
        "AIE24": f"{annual(frame, 'AI electricity use', 2024):.0f}",
        "FULL_LOAD24": f"{annual(frame, 'Installed compute power', 2024) * 8.766:.0f}",
        "AIE28": f"{annual(frame, 'AI electricity use', 2028):.0f}",
        "DCE30": f"{annual(frame, 'Data centre electricity', 2030):.0f}",
        "DCE35": f"{annual(frame, 'Data centre electricity', 2035):.0f}",
        "MARGIN25": f"{100 * margin(frame, 2025.5):.0f}",
        "MARGIN_EARLY25": f"{100 * margin(frame, 2025.0):.0f}",
        "MARGIN_MONTH70": month_of(frame.index[(frame["Lab gross margin"] > 0.7).to_numpy()][0]),
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
        "SHORT_MIN": f"{100 * frame['Lab gross margin'].loc[2028:2035].min():.0f}",
        "SHORT_MAX": f"{100 * frame['Lab gross margin'].loc[2028:2035].max():.0f}",
        "QUEUE_PEAK": f"{frame['AI power under construction'].loc[2024:2050].max():.0f}",
        "QUEUE_YEAR": f"{frame['AI power under construction'].loc[2024:2050].idxmax():.0f}",
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
        "CALM_YEAR": f"{last_outside(frame['Lab gross margin'], 0.30, 0.42):.0f}",
        "CEILING_YEAR": f"{within_factor_two(frame):.0f}",
        "GY2430": f"{100 * math.log(growth(frame, 'World GDP', 2024, 2030)):.1f}%",
        "GY3040": f"{100 * math.log(growth(frame, 'World GDP', 2030, 2040)):.1f}%",
        "GY2440": f"{100 * math.log(growth(frame, 'World GDP', 2024, 2040)):.1f}%",
        "CU_OTHER40": f"{annual(frame, 'Other copper demand', 2040) / 1e6:.0f}",
        "CU_DC40": f"{annual(frame, 'Data centre copper demand', 2040) / 1e6:.1f}",
    }


# --- the calibration ---------------------------------------------------------------------------
def anchors_of(check) -> list[dict]:
    return [r for r in check.to_dataframe().to_dict("records") if r["kind"] == "anchor"]


def fit(work: Path, samples: int, holdout_samples: int, burn: int | None) -> None:
    """Screen the candidates, fit what the anchors move, and fit again on the anchors up to HOLDOUT."""
    screening = sdlib.screen("baseline", data=REGISTRY, vary=candidates(), trajectories=200, seed=0, set=BEFORE,
                             progress=True)
    screening.to_netcdf(work / "screening.nc")
    vary = fitted_ranges(screening)
    sdlib.calibrate("baseline", data=REGISTRY, vary=vary, method="mcmc", samples=samples, burn=burn, seed=13,
                    set=BEFORE, out=work / "mcmc", progress=True)
    sdlib.calibrate("baseline", data=REGISTRY, vary=vary, method="mcmc", samples=holdout_samples, burn=burn, seed=13,
                    set=BEFORE, holdout=HOLDOUT, out=work / "holdout", plots=False, progress=True)


def fitted_ranges(screening) -> list[str]:
    """The candidates the screening puts at or above THRESHOLD (less NOT_FITTED), as NAME=LO:HI."""
    ranked = screening["mean_mu_star"].to_series().sort_values(ascending=False)
    chosen = [name for name, v in ranked.items() if v >= THRESHOLD and name not in NOT_FITTED]
    if sorted(chosen) != sorted(BEFORE):
        raise SystemExit(f"the screening now picks {chosen}; BEFORE lists {list(BEFORE)}: update BEFORE or NOT_FITTED")
    return [f"{n}={float(screening['low'].sel(parameter=n))!r}:{float(screening['high'].sel(parameter=n))!r}"
            for n in chosen]


def screen_table(screening, report) -> str:
    ranked = screening["mean_mu_star"].to_series().sort_values(ascending=False)
    most = screening["mu_star"].idxmax("point")
    lines = ["| parameter | range | mean mu* (sigmas) | anchors moved > 1 sigma | moves most | |", "|---|---|---|---|---|---|"]
    for name, value in ranked.items():
        moved = int((screening["mu_star"].sel(parameter=name) > 1).sum())
        verdict = ("fitted" if name in report["parameters"] else
                   f"not fitted: {NOT_FITTED[name]}" if name in NOT_FITTED else "")
        lines.append(f"| {name} | {float(screening['low'].sel(parameter=name)):g}-"
                     f"{float(screening['high'].sel(parameter=name)):g} | {value:.2f} | {moved} | "
                     f"{str(most.sel(parameter=name).item())} ({float(screening['mu_star'].sel(parameter=name).max()):.1f}) "
                     f"| {verdict} |")
    return "\n".join(lines)


def fitted_table(report) -> str:
    current = sdlib.Model.load().parameters
    lines = ["| parameter | prior (uniform) | before | fitted (best) | median | 90% interval | interval / prior | "
             "R-hat | ESS bulk / tail | in the model |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, p in report["parameters"].items():
        ratio = (p["high"] - p["low"]) / (p["prior"][1] - p["prior"][0])
        lines.append(f"| {name} | {short(p['prior'][0])}-{short(p['prior'][1])} {p['units']} | {short(BEFORE[name])} | "
                     f"{short(p['value'])} | {short(p['median'])} | {short(p['low'])}-{short(p['high'])} | {ratio:.2f} | "
                     f"{p['r_hat']:.3f} | {p['ess_bulk']:.0f} / {p['ess_tail']:.0f} | {short(current[name.lower()].value)} |")
    return "\n".join(lines)


def correlations(posterior, report, limit=0.5) -> str:
    """The pairs of fitted parameters whose posterior correlation is at least `limit` in size."""
    names = [v for v in posterior.data_vars if "vensim_name" in posterior[v].attrs]
    draws = np.stack([posterior[v].to_numpy().reshape(-1) for v in names], axis=1)
    r = np.corrcoef(draws, rowvar=False)
    pairs = [(r[i, j], posterior[names[i]].attrs["vensim_name"], posterior[names[j]].attrs["vensim_name"])
             for i in range(len(names)) for j in range(i + 1, len(names)) if abs(r[i, j]) >= limit]
    pairs.sort(key=lambda p: -abs(p[0]))
    return "; ".join(f"{a} and {b} ({c:+.2f})" for c, a, b in pairs) or "none"


def anchor_table(before, after, points) -> str:
    was = {r["id"]: r for r in before}
    rows = ["| anchor | variable | year | data: low - high (central) | before | calibrated | 90% band | pass | distance "
            "| source |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in after:
        p = points[r["id"]]
        rows.append(f"| {r['id']} | {r['variable']} | {r['year']:g} | {short(r['low'])} - {short(r['high'])} "
                    f"({short(p['value'])}) | {short(was[r['id']]['value'])} | {short(r['value'])} | {short(p['low'])} - "
                    f"{short(p['high'])} | {'yes' if r['pass'] else '**no**'} | {r['distance']:+.2f} | {r['source']} |")
    return "\n".join(rows)


def holdout_table(holdout) -> str:
    rows = ["| anchor | year | data: low - high (central) | forecast (median) | 90% band | band covers the central "
            "figure | forecast in the range |", "|---|---|---|---|---|---|---|"]
    for e in holdout["errors"]:
        rows.append(f"| {e['id']} | {e['time']:g} | {short(e['low'])} - {short(e['high'])} ({short(e['value'])}) | "
                    f"{short(e['forecast'])} | {short(e['band'][0])} - {short(e['band'][1])} | "
                    f"{'yes' if e['covered'] else 'no'} | {'yes' if e['in_range'] else 'no'} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=192000, help="MCMC draws kept (default 192000)")
    parser.add_argument("--holdout-samples", type=int, default=48000, help="MCMC draws of the out-of-sample fit")
    parser.add_argument("--burn", type=int, default=None, help="MCMC burn-in steps (default: as many as kept)")
    parser.add_argument("--keep", metavar="DIR", help="keep the fit in DIR (a new folder)")
    parser.add_argument("--fit", metavar="DIR", help="rebuild the page from a fit kept with --keep")
    parser.add_argument("--before", help="a model file to measure the 'before issue 12' column from")
    args = parser.parse_args()
    FIGURES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.fit or args.keep or Path(tmp) / "fit")
        if not args.fit:
            work.mkdir(parents=True)
            fit(work, args.samples, args.holdout_samples, args.burn)
        screening = xr.load_dataset(work / "screening.nc")
        fitted_ranges(screening)  # the screening still picks what BEFORE lists
        posterior = xr.load_dataset(work / "mcmc" / "posterior.nc")
        report = json.loads((work / "mcmc" / "calibration.json").read_text(encoding="utf-8"))
        held = json.loads((work / "holdout" / "calibration.json").read_text(encoding="utf-8"))
        for variable in FIT_FIGURES:
            shutil.copy(work / "mcmc" / "plots" / f"fit-{slug(variable)}.png", FIGURES / f"calibration-{slug(variable)}.png")
        for name in ("corner", "trace"):
            shutil.copy(work / "mcmc" / "plots" / f"{name}.png", FIGURES / f"calibration-{name}.png")
        old = Path(tmp) / "before-calibration.toml"
        old.write_text('extends = "baseline"\n[set]\n' + "".join(f'"{k}" = {v!r}\n' for k, v in BEFORE.items()),
                       encoding="utf-8")
        before = anchors_of(sdlib.check([str(old)], anchors=True, engine="batch", progress=False))
    check = sdlib.check(["baseline"], engine="batch", progress=False)
    after = anchors_of(check)
    others = [r for r in check.to_dataframe().to_dict("records") if r["kind"] != "anchor"]
    points = {p["id"]: p for p in report["points"]}
    holdout = held["holdout"]
    for e in holdout["errors"]:
        e["low"], e["high"] = points[e["id"]]["range"]

    frame, closed = fine_run(), fine_run(set=BEFORE)
    previous = BEFORE_ISSUE_12
    if args.before:
        prior_model = fine_run(args.before)
        previous = [measure(prior_model) for _, measure, *_ in FIVE] + [measure(prior_model) for measure in EXTRA]
        print("before issue 12:", ", ".join(f"{v:.4g}" for v in previous))
    for draw in (figure_compute, figure_tokens, figure_electricity, figure_copper, figure_price):
        draw(frame)
    table = ["| sector | quantity | model | data | | source | note |", "|---|---|---|---|---|---|---|"]
    for row in rows():
        value = row.measure(frame)
        table.append(f"| {row.sector} | {row.quantity} | {row.shown(value)} | {row.data} | {row.verdict(value)} | "
                     f"{row.source} | {row.note} |")
    five, toward = five_table(frame, closed, previous)

    fit_ = report["fit"]
    ranked = screening["mean_mu_star"].to_series().sort_values(ascending=False)
    unidentified = [n for n, v in ranked.items() if v < THRESHOLD]
    declared = {u.name for u in sdlib.Model.load().display.uncertainties}
    widths = {n: (p["high"] - p["low"]) / (p["prior"][1] - p["prior"][0]) for n, p in report["parameters"].items()}
    values = {
        "N_ANCHORS": str(len(after)), "PASS_AFTER": str(sum(r["pass"] for r in after)),
        "PASS_BEFORE": str(sum(r["pass"] for r in before)),
        "OTHERS_PASS": str(sum(r["pass"] for r in others)), "OTHERS": str(len(others)),
        "N_CANDIDATES": str(len(ranked)), "N_DECLARED": str(len(declared & set(ranked.index))),
        "SCREEN_RUNS": str(screening.attrs["runs"]), "SCREEN_TABLE": screen_table(screening, report),
        "N_FITTED": str(len(report["parameters"])), "THRESHOLD": f"{THRESHOLD:g}",
        "FITTED_TABLE": fitted_table(report), "CORRELATIONS": correlations(posterior, report),
        "UNIDENTIFIED_DECLARED": ", ".join(n for n in unidentified if n in declared) or "none",
        "UNIDENTIFIED_OTHER": ", ".join(n for n in unidentified if n not in declared) or "none",
        "WIDE": ", ".join(f"{n} ({w:.2f})" for n, w in widths.items() if w > 0.5) or "none",
        "SAMPLES": f"{fit_['samples']:,}", "WALKERS": str(fit_["walkers"]), "BURN": str(fit_["burn"]),
        "CHI2": f"{fit_['chi2']:.1f}", "N_DATA": str(fit_["n_data"]), "DOF": str(fit_["dof"]),
        "MAX_RHAT": f"{fit_['max_r_hat']:.3f}", "MIN_ESS": f"{fit_['min_ess_bulk']:.0f}",
        "ACCEPTANCE": f"{fit_['acceptance']:.2f}", "CONVERGED": "converged" if fit_["converged"] else "**not converged**",
        "EVALUATIONS": f"{fit_['evaluations']:,}", "SECONDS": f"{fit_['seconds']:.0f}",
        "ANCHOR_TABLE": anchor_table(before, after, points),
        "MISSES": "\n".join(f"- **{r['id']}** ({r['variable']} {r['year']:g}: model {short(r['value'])}, data "
                            f"{short(r['low'])}-{short(r['high'])}): {r['detail'].removeprefix('documented miss: ')}"
                            for r in after if not r["pass"]) or "- none",
        "HOLDOUT": f"{HOLDOUT:g}", "HOLD_POINTS": str(holdout["points"]), "HOLD_COVERED": str(holdout["covered"]),
        "HOLD_IN_RANGE": str(holdout["in_range"]), "HOLD_RMS": f"{holdout['rms_z']:.2f}",
        "HOLD_RHAT": f"{held['fit']['max_r_hat']:.3f}", "HOLD_SAMPLES": f"{held['fit']['samples']:,}",
        "HOLD_CONVERGED": ("converged by the same rule" if held["fit"]["converged"] else
                           f"**not converged** by the same rule, bulk ESS at least {held['fit']['min_ess_bulk']:.0f}; "
                           "its intervals are indicative"),
        "HOLDOUT_TABLE": holdout_table(holdout),
        "TABLE": "\n".join(table), "FIVE": five, "TOWARD": toward,
        **measurements(frame, closed, previous),
    }
    text = (DOCS / "calibration.template.md").read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    missing = sorted({part.split("}}")[0] for part in text.split("{{")[1:]})
    if missing:
        raise SystemExit(f"calibration.template.md: no value for {', '.join(missing)}")
    (DOCS / "calibration.md").write_text(text, encoding="utf-8")
    print(f"anchors: {values['PASS_BEFORE']} -> {values['PASS_AFTER']} of {len(after)}; chi2 {values['CHI2']}; "
          f"R-hat <= {values['MAX_RHAT']}, ESS >= {values['MIN_ESS']}; holdout {holdout['covered']} of "
          f"{holdout['points']} covered, {holdout['in_range']} in range")


if __name__ == "__main__":
    main()
