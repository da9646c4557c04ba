"""Build docs/sensitivity.md: a Sobol analysis of the integrated baseline on the batch engine.

    python docs/build_sensitivity.py [--n 1024]

Which uncertain parameters drive output per developer, AI electricity use and data-centre
copper demand in 2050 and 2100? Saltelli sampling (SALib, first and total order, no second
order) over the plausible ranges declared in models/tokenworld-display.toml; every run is the
baseline with one parameter set.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import sdlib
from sdlib.analysis.ensemble import indices_of
from sdlib.plots.ensemble import fan_chart, indices_figure

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "figures"
# The model's key uncertainties with their plausible ranges (models/tokenworld-display.toml).
UNCERTAINTIES = sdlib.Model.load().display.uncertainties
OUTCOMES = ["Output per developer", "AI electricity use", "Data centre copper demand"]
YEARS = [2050.0, 2100.0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1024)
    args = parser.parse_args()
    FIGURES.mkdir(exist_ok=True)
    data = {year: sdlib.ensemble("baseline", vary=UNCERTAINTIES, n=args.n, method="sobol", outcomes=OUTCOMES,
                                 final_time=2100, at=year, chunk=4096, seed=0) for year in YEARS}
    results = {year: indices_of(data[year]) for year in YEARS}
    samples = data[YEARS[0]]["run"].to_numpy()
    seconds = data[YEARS[0]].attrs["seconds"]
    for year, indices in results.items():
        indices_figure(indices, "sobol", year).savefig(FIGURES / f"sensitivity-{int(year)}.png", dpi=100)
    for outcome in OUTCOMES:
        slug = outcome.lower().replace(" ", "-")
        fan_chart(data[YEARS[0]], outcome).savefig(FIGURES / f"sensitivity-fan-{slug}.png", dpi=100)
    data = data[YEARS[0]]
    lines = []
    for outcome in OUTCOMES:
        lines += [f"### {outcome}", "", "| parameter | range | S1 2050 | ST 2050 | S1 2100 | ST 2100 |",
                  "|---|---|---|---|---|---|"]
        ranked = sorted(UNCERTAINTIES, key=lambda u: -results[2100.0][outcome][u.name]["ST"])
        for u in ranked:
            a, b = results[2050.0][outcome][u.name], results[2100.0][outcome][u.name]
            lines.append(f"| {u.name} | {u.low:g}-{u.high:g} | {a['S1']:.2f} | {a['ST']:.2f} | {b['S1']:.2f} | {b['ST']:.2f} |")
        lines.append("")
    diverged = int((data["status"] != "ok").sum())
    text = (DOCS / "sensitivity.template.md").read_text(encoding="utf-8")
    text = (text.replace("{{TABLES}}", "\n".join(lines)).replace("{{RUNS}}", str(len(samples)))
            .replace("{{SECONDS}}", f"{seconds:.1f}").replace("{{N}}", str(args.n))
            .replace("{{DIVERGED}}", str(diverged)))
    st = lambda y, o, n: f"{results[y][o][n]['ST']:.2f}"  # noqa: E731
    for key, value in {
        "ST_phi_2100": st(2100.0, OUTCOMES[0], "token return parameter"),
        "ST_alg_2050": st(2050.0, OUTCOMES[0], "algorithmic efficiency growth rate"),
        "ST_ceil_2100": st(2100.0, OUTCOMES[0], "algorithmic efficiency ceiling"),
        "ST_el_2050": st(2050.0, OUTCOMES[1], "agent token price elasticity"),
        "ST_el_2100": st(2100.0, OUTCOMES[1], "agent token price elasticity"),
        "ST_train_2050": st(2050.0, OUTCOMES[1], "initial other AI compute growth"),
        "ST_cu_2100": st(2100.0, OUTCOMES[2], "data centre copper intensity"),
    }.items():
        text = text.replace("{{" + key + "}}", value)
    (DOCS / "sensitivity.md").write_text(text, encoding="utf-8")
    (DOCS / "sensitivity.json").write_text(json.dumps({str(k): v for k, v in results.items()}, indent=1))
    print(f"{len(samples)} runs in {seconds:.1f} s, {diverged} diverged")


if __name__ == "__main__":
    main()
