"""Build docs/sensitivity.md: what drives the integrated baseline, on the batch engine.

    python docs/build_sensitivity.py [--n 1024] [--trajectories 100]

Two analyses of the `baseline` scenario to 2100:

1. Sobol (SALib; first and total order, no second order) over the key uncertainties that
   models/tokenworld-display.toml declares with plausible ranges.
2. Morris screening of every parameter of the model: every constant with a value except switches,
   fixed constants (unit conversions, the Boltzmann constant) and the policy levers' own
   parameters at their no-policy defaults. Each is varied from half to one and a half times its
   default, clipped to the range the model declares for it; a year-valued parameter gets an
   absolute range, and a parameter whose default is zero a stated one. The outcomes are output
   per developer, world GDP, AI electricity use and the copper price in 2050 and 2100; the
   elementary effects are taken on the logarithm of each outcome, so that mu* is the change in
   log points a move across the parameter's range makes (the outcomes span orders of magnitude
   over the sample, and on their own scale a few runs would dominate). The check: none of the
   three strongest drivers of any outcome and year is an unsourced constant (its comment in the
   .mdl names no source).
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import sdlib
from sdlib.analysis import ensemble as ens
from sdlib.plots.ensemble import fan_chart

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "figures"
MODEL = sdlib.Model.load()
YEARS = [2050.0, 2100.0]

# --- Sobol: the key uncertainties --------------------------------------------------------------
UNCERTAINTIES = MODEL.display.uncertainties  # those with a plausible range
SOBOL_OUTCOMES = ["Output per developer", "World GDP", "AI electricity use", "Data centre copper demand", "Copper price"]

# --- Morris: every parameter -------------------------------------------------------------------
MORRIS_OUTCOMES = ["Output per developer", "World GDP", "AI electricity use", "Copper price"]

# Calendar years cannot be halved: their ranges are absolute.
YEAR_RANGES = {
    "adoption year": (2024, 2026, "adoption by 2024 (the default) or up to two years later"),
    "agent autonomy midpoint year": (2026, 2030, "seed 003's inflection 2026-2028, widened by a year each way"),
}
# Half and one and a half times zero is zero: a default of zero needs a stated range.
ZERO_RANGES = {
    "efficiency returns exponent": (-0.5, 0.5, "chi = 0 +- 0.5: from strongly diminishing returns to half of "
                                               "eq. 21's constant returns"),
}
SWITCH_LIKE = {"population override": "0 switches it off (the UN projection is used)"}
# What counts as naming a source: a seed paper, an author or organisation with a year, a named
# data source, a paper identifier.
NAMED_SOURCES = [
    "Epoch AI", "IEA", "USGS", "ILO", "IMF", "UN WPP", "World Bank", "Penn World Table", "Gartner", "LME", "ICSG",
    "AME", "S&P Global", "Wood Mackenzie", "LBNL", "EIA", "NVIDIA", "Eurostat", "Conference Board",
    "Uptime Institute", "BNEF", "Goldman Sachs", "Copper Development Association", "TSMC", "Lazard", "Evans Data",
    "BLS", "arXiv", "SWE-bench", "The Information", "10-Ks", "OpenAI", "data/calibration.csv", "Barroso",
]
NOT_NAMES = ("From", "In", "Since", "Until", "By", "Before", "After", "January", "February", "March", "April", "May",
             "June", "July", "August", "September", "October", "November", "December")
SOURCE_PATTERNS = [
    r"(?i)\bseed 00\d\b",  # a seed paper
    r"\b[A-Z][a-z]+ et al\.",  # authors
    rf"\b(?!(?:{'|'.join(NOT_NAMES)})\b)[A-Z][a-z]{{2,}},? \(?(?:19|20)\d\d\b",  # a name with a year: Jones 1995
    *[re.escape(s) for s in NAMED_SOURCES],
]


def names_a_source(comment: str) -> bool:
    return any(re.search(p, comment) for p in SOURCE_PATTERNS)


def screened_parameters():
    """(the Uncertainty list, what was left out and why, how each range was chosen)."""
    levers = {e.parameter for p in sdlib.policies().values() for e in p.effects}
    chosen, left_out, how = [], [], {}
    for p in MODEL.parameters.values():
        if p.is_switch or p.name in SWITCH_LIKE:
            left_out.append((p.name, "switch"))
        elif p.low is not None and p.low == p.high:
            left_out.append((p.name, "fixed constant"))
        elif p.name in levers and "(policy lever" in p.comment and p.value in (0, 1):
            left_out.append((p.name, "policy lever"))
        else:
            if p.name in YEAR_RANGES:
                low, high, how[p.name] = YEAR_RANGES[p.name]
            elif p.name in ZERO_RANGES:
                low, high, how[p.name] = ZERO_RANGES[p.name]
            else:
                low, high = sorted((0.5 * p.value, 1.5 * p.value))
                low = low if p.low is None else max(low, p.low)
                high = high if p.high is None else min(high, p.high)
            chosen.append(sdlib.Uncertainty(p.name, low, high))
    return chosen, left_out, how


def samples_of(data, uncertainties):
    return np.column_stack([data[ens.coordinate_name(u.name)].to_numpy() for u in uncertainties])


def morris_indices(data, uncertainties, outcomes, year, log):
    """mu*, sigma and mu* confidence of every parameter for each outcome at a year."""
    from SALib.analyze import morris

    prob, samples = ens.problem(uncertainties), samples_of(data, uncertainties)
    found = {}
    for outcome in outcomes:
        y = ens.at_year(data, outcome, year)
        y = np.log(y) if log else y
        if not np.isfinite(y).all():
            raise SystemExit(f"Morris: {outcome} at {year:g} is not finite in every run (or not positive)")
        res = morris.analyze(prob, samples, y, seed=0)
        found[outcome] = {name: {"mu_star": float(res["mu_star"][i]), "sigma": float(res["sigma"][i]),
                                 "mu_star_conf": float(res["mu_star_conf"][i])} for i, name in enumerate(prob["names"])}
    return found


def ranked(indices):
    return sorted(indices, key=lambda name: -indices[name]["mu_star"])


# --- pictures ----------------------------------------------------------------------------------
def sobol_figure(results):
    """ST of each uncertainty (rows) for each outcome (columns), one panel a year; S1 written in."""
    names = [u.name for u in UNCERTAINTIES]
    fig, axes = plt.subplots(1, 2, figsize=(14, 0.42 * len(names) + 2.2), sharey=True)
    for ax, year in zip(axes, YEARS, strict=False):
        st = np.array([[results[year][o][n]["ST"] for o in SOBOL_OUTCOMES] for n in names])
        s1 = np.array([[results[year][o][n]["S1"] for o in SOBOL_OUTCOMES] for n in names])
        image = ax.imshow(np.clip(st, 0, 1), cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for i in range(len(names)):
            for j in range(len(SOBOL_OUTCOMES)):
                ax.text(j, i, f"{st[i, j]:.2f}\n({s1[i, j]:.2f})", ha="center", va="center", fontsize=7,
                        color="white" if st[i, j] > 0.55 else "black")
        ax.set_xticks(range(len(SOBOL_OUTCOMES)))
        ax.set_xticklabels([textwrap.fill(o, 12) for o in SOBOL_OUTCOMES], fontsize=8)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names, fontsize=8)
        ax.set_title(f"{year:.0f}: total-order index ST (first order S1)", fontsize=10)
    fig.colorbar(image, ax=axes, shrink=0.6, label="ST")
    fig.savefig(FIGURES / "sensitivity-sobol.png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def morris_figure(morris, sourced, year, top=10):
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    for ax, outcome in zip(axes.flat, MORRIS_OUTCOMES, strict=False):
        indices = morris[year][outcome]
        names = ranked(indices)[:top]
        y = np.arange(len(names))
        colours = ["tab:blue" if sourced[n] else "tab:red" for n in names]
        ax.barh(y, [indices[n]["mu_star"] for n in names], xerr=[indices[n]["mu_star_conf"] for n in names],
                color=colours, capsize=2, error_kw={"lw": 0.8})
        ax.set_yticks(y)
        ax.set_yticklabels(names, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(outcome, fontsize=10)
        ax.set_xlabel("mu*: mean |change in ln(outcome)| across the range (bars: 95% CI)", fontsize=8)
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle(f"Morris screening of {len(next(iter(morris[year].values())))} parameters: the ten strongest "
                 f"drivers in {year:.0f} (red: no source in the model)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(FIGURES / f"sensitivity-morris-{int(year)}.png", dpi=100)
    plt.close(fig)


# --- tables ------------------------------------------------------------------------------------
def sobol_tables(results):
    lines = []
    for outcome in SOBOL_OUTCOMES:
        lines += [f"### {outcome}", "", "| parameter | range | S1 2050 | ST 2050 | S1 2100 | ST 2100 |",
                  "|---|---|---|---|---|---|"]
        for u in sorted(UNCERTAINTIES, key=lambda u: -results[2100.0][outcome][u.name]["ST"]):
            a, b = results[2050.0][outcome][u.name], results[2100.0][outcome][u.name]
            lines.append(f"| {u.name} | {u.low:g}-{u.high:g} | {a['S1']:.2f} | {a['ST']:.2f} | {b['S1']:.2f} | {b['ST']:.2f} |")
        lines.append("")
    return "\n".join(lines)


def morris_tables(morris, bounds, sourced, top=5):
    lines = []
    for outcome in MORRIS_OUTCOMES:
        rank = {year: {n: i + 1 for i, n in enumerate(ranked(morris[year][outcome]))} for year in YEARS}
        shown = sorted({n for year in YEARS for n, r in rank[year].items() if r <= top},
                       key=lambda n: (min(rank[y][n] for y in YEARS), rank[2100.0][n]))
        lines += [f"### {outcome}", "", "| parameter | varied over | mu* 2050 (rank) | mu* 2100 (rank) | sourced |",
                  "|---|---|---|---|---|"]
        for n in shown:
            cells = [f"{morris[y][outcome][n]['mu_star']:.2f} ({'**' if rank[y][n] <= 3 else ''}{rank[y][n]}"
                     f"{'**' if rank[y][n] <= 3 else ''})" for y in YEARS]
            lines.append(f"| {n} | {bounds[n][0]:g}-{bounds[n][1]:g} | {cells[0]} | {cells[1]} | "
                         f"{'yes' if sourced[n] else '**no**'} |")
        lines.append("")
    return "\n".join(lines)


def top3(morris):
    """{parameter: [(outcome, year, rank)]} over the three strongest drivers of every outcome and year."""
    found: dict = {}
    for year in YEARS:
        for outcome in MORRIS_OUTCOMES:
            for r, name in enumerate(ranked(morris[year][outcome])[:3], 1):
                found.setdefault(name, []).append((outcome, year, r))
    return found


def rounded(tree):
    """Floats to four significant digits, so that the JSON stays readable."""
    if isinstance(tree, dict):
        return {k: rounded(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [rounded(v) for v in tree]
    return float(f"{tree:.4g}") if isinstance(tree, float) else tree


def numbers_in_text(text, morris, sobol):
    """Fill {{MU|year|outcome|parameter}}, {{RANK|...}}, {{ST|...}}, {{S1|...}} and {{NMAX|theta|sigma}}."""
    def value(match):
        kind, *args = match.group(1).split("|")
        if kind == "NMAX":  # most the task aggregate can rise: (1 - theta)^(-sigma/(1 - sigma))
            theta, sigma = map(float, args)
            return f"{(1 - theta) ** (-sigma / (1 - sigma)):.3g}"
        year, outcome, name = float(args[0]), args[1], args[2]
        if kind == "MU":
            return f"{morris[year][outcome][name]['mu_star']:.2f}"
        if kind == "RANK":
            return str(ranked(morris[year][outcome]).index(name) + 1)
        return f"{sobol[year][outcome][name][kind]:.2f}"
    return re.sub(r"\{\{((?:MU|RANK|ST|S1|NMAX)\|[^}]+)\}\}", value, text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1024, help="Sobol base samples (a power of two)")
    parser.add_argument("--trajectories", type=int, default=100, help="Morris trajectories")
    args = parser.parse_args()
    FIGURES.mkdir(exist_ok=True)

    sobol = sdlib.ensemble("baseline", vary=UNCERTAINTIES, n=args.n, method="sobol", outcomes=SOBOL_OUTCOMES,
                           final_time=2100, at=2100, chunk=4096, seed=0)
    sobol_results = {year: ens.analyse(sobol, UNCERTAINTIES, "sobol", samples_of(sobol, UNCERTAINTIES),
                                       SOBOL_OUTCOMES, year) for year in YEARS}
    sobol_figure(sobol_results)
    for outcome in SOBOL_OUTCOMES:
        slug = outcome.lower().replace(" ", "-")
        fan_chart(sobol, outcome).savefig(FIGURES / f"sensitivity-fan-{slug}.png", dpi=100)

    screened, left_out, how = screened_parameters()
    # At the model's time step first; Morris needs every run, so if some diverge, at half the step
    # (which changes no headline indicator of the baseline by more than 0.3%, tests/test_timestep.py).
    step = MODEL.controls().time_step
    morris_data = sdlib.ensemble("baseline", vary=screened, n=args.trajectories, method="morris",
                                 outcomes=MORRIS_OUTCOMES, final_time=2100, at=2100, chunk=4000, seed=0)
    diverged_at_step = int((morris_data["status"] != "ok").sum())
    if diverged_at_step:
        step /= 2
        morris_data = sdlib.ensemble("baseline", vary=screened, n=args.trajectories, method="morris",
                                     outcomes=MORRIS_OUTCOMES, final_time=2100, time_step=step, at=2100,
                                     chunk=4000, seed=0)
    morris = {year: morris_indices(morris_data, screened, MORRIS_OUTCOMES, year, log=True) for year in YEARS}
    raw = {year: morris_indices(morris_data, screened, MORRIS_OUTCOMES, year, log=False) for year in YEARS}
    comments = {p.name: p.comment for p in MODEL.parameters.values()}
    values_of = {p.name: p.value for p in MODEL.parameters.values()}
    sourced = {u.name: names_a_source(comments[u.name]) for u in screened}
    bounds = {u.name: (u.low, u.high) for u in screened}
    for year in YEARS:
        morris_figure(morris, sourced, year)

    strongest, strongest_raw = top3(morris), top3(raw)
    unsourced = sorted(n for n in {*strongest, *strongest_raw} if not sourced[n])
    inert = [u.name for u in screened
             if all(morris[y][o][u.name]["mu_star"] < 1e-6 for y in YEARS for o in MORRIS_OUTCOMES)]
    drivers = []
    for name in sorted(strongest, key=lambda n: (-len(strongest[n]), n)):
        where = "; ".join(f"{o} {y:.0f} (#{r})" for o, y, r in strongest[name])
        value = values_of[name]
        drivers.append(f"- **{name}** = {value:g} (varied {bounds[name][0]:g}-{bounds[name][1]:g}; {where}): "
                       f"{comments[name]}{'' if sourced[name] else ' **No source.**'}")
    raw_lines = [f"- {o} {y:.0f}: " + ", ".join(ranked(raw[y][o])[:3]) for y in YEARS for o in MORRIS_OUTCOMES]
    raw_unsourced = sorted(n for n in strongest_raw if not sourced[n])
    check = ("**Passed**: every one of them names its source." if not unsourced else
             f"**Failed**: {', '.join(unsourced)} name(s) no source.")
    raw_sentence = ("All of them name their sources too." if not raw_unsourced else
                    f"Of these, {', '.join(raw_unsourced)} name(s) no source.")
    diverged = {"sobol": int((sobol["status"] != "ok").sum()), "morris": int((morris_data["status"] != "ok").sum())}

    high_reach = sdlib.frame(sdlib.run("baseline", set={"task substitution elasticity": 0.9,
                                                        "maximum automatable task share": 0.4}, progress=False))
    values = {
        "HIGH_REACH_SHARE": f"{100 * high_reach['AI share of generation'].loc[2050]:.0f}%",
        "N": str(args.n), "SOBOL_RUNS": str(sobol.sizes["run"]), "SOBOL_SECONDS": f"{sobol.attrs['seconds']:.0f}",
        "SOBOL_DIVERGED": str(diverged["sobol"]), "N_UNCERTAIN": str(len(UNCERTAINTIES)),
        "SOBOL_TABLES": sobol_tables(sobol_results),
        "TRAJECTORIES": str(args.trajectories), "N_SCREENED": str(len(screened)),
        "MORRIS_RUNS": str(morris_data.sizes["run"]), "MORRIS_SECONDS": f"{morris_data.attrs['seconds']:.0f}",
        "MORRIS_DIVERGED": str(diverged["morris"]), "MORRIS_STEP": f"1/{round(1 / step)}",
        "STEP_NOTE": "" if not diverged_at_step else (
            f"They run at half the model's time step: at 1/{round(1 / (2 * step))} year {diverged_at_step} of the "
            f"{morris_data.sizes['run']} runs diverged in their first steps. In each, `markup adjustment time` "
            "was at the low end of its range and `markup scarcity sensitivity` at the high end, and the markup, "
            "which the model integrates as markup times a rate, overshot below zero in one step. Halving the "
            "step changes no headline indicator of the baseline by more than 0.3% (`tests/test_timestep.py`)."),
        "RAW_SENTENCE": raw_sentence,
        "LEFT_OUT": "; ".join(f"{why}: " + ", ".join(f"`{n}`" for n, w in left_out if w == why)
                              for why in ("switch", "fixed constant", "policy lever")),
        "HOW": "\n".join(f"- `{n}`: {lo:g}-{hi:g} ({text})" for n, (lo, hi, text) in
                         {**YEAR_RANGES, **ZERO_RANGES}.items()),
        "MORRIS_TABLES": morris_tables(morris, bounds, sourced),
        "N_TOP3": str(len(strongest)), "DRIVERS": "\n".join(drivers), "CHECK": check,
        "RAW_TOP3": "\n".join(raw_lines), "N_INERT": str(len(inert)),
        "INERT": ", ".join(f"`{n}`" for n in inert),
        "N_UNSOURCED_ALL": str(sum(not s for s in sourced.values())),
    }
    text = (DOCS / "sensitivity.template.md").read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    text = numbers_in_text(text, morris, sobol_results)
    assert "{{" not in text, "a placeholder of sensitivity.template.md has no value"
    (DOCS / "sensitivity.md").write_text(text, encoding="utf-8")
    (DOCS / "sensitivity.json").write_text(json.dumps(rounded({
        "sobol": {str(y): r for y, r in sobol_results.items()},
        "morris_log": {str(y): r for y, r in morris.items()},
        "morris_raw_mu_star": {str(y): {o: {n: v["mu_star"] for n, v in r[o].items()} for o in r}
                               for y, r in raw.items()},
        "morris_ranges": {n: list(b) for n, b in bounds.items()},
    }), indent=1))
    print(f"Sobol: {sobol.sizes['run']} runs in {sobol.attrs['seconds']:.1f} s; Morris: {morris_data.sizes['run']} runs "
          f"in {morris_data.attrs['seconds']:.1f} s; diverged {diverged}")
    print("\n".join(drivers))
    print(check)
    return text


if __name__ == "__main__":
    main()
