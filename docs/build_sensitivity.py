"""Build docs/sensitivity.md: a Sobol analysis of the integrated baseline on the batch engine.

    python docs/build_sensitivity.py [--n 1024]

Which uncertain parameters drive output per developer, AI electricity use and data-centre
copper demand in 2050 and 2100? Saltelli sampling (SALib, first and total order, no second
order) over the ranges below; every run is the baseline with one parameter set.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from sdlib.ensemble import Uncertainty, analyse, assemble, sample  # noqa: E402
from sdlib.ensemble_cli import run_all  # noqa: E402
from sdlib.ensemble_plots import fan_chart, indices_figure  # noqa: E402
from sdlib.modelspec import load_spec  # noqa: E402
from sdlib.paths import DEFAULT_MODEL  # noqa: E402
from sdlib.runner import RunRequest, resolve  # noqa: E402
from sdlib.scenario import load_scenario  # noqa: E402

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "figures"
UNCERTAINTIES = [
    Uncertainty("token return parameter", 0.2, 0.4),
    Uncertainty("algorithmic efficiency growth rate", 0.3, 0.8),
    Uncertainty("algorithmic efficiency ceiling", 100, 10000),
    Uncertainty("hardware energy efficiency growth rate", 0.2, 0.5),
    Uncertainty("hardware efficiency ceiling", 50, 1000),
    Uncertainty("agent token price elasticity", 1.2, 2.0),
    Uncertainty("agent spending ceiling share", 0.01, 0.06),
    Uncertainty("grid connection lead time", 2, 6),
    Uncertainty("maximum AI share of generation", 0.05, 0.3),
    Uncertainty("maximum AI capex share", 0.005, 0.03),
    Uncertainty("compute useful life", 4, 8),
    Uncertainty("data centre copper intensity", 20, 66),
    Uncertainty("mine lead time", 12, 20),
    Uncertainty("initial other AI compute growth", 0.5, 1.0),
]
OUTCOMES = ["Output per developer", "AI electricity use", "Data centre copper demand"]
YEARS = [2050.0, 2100.0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1024)
    args = parser.parse_args()
    FIGURES.mkdir(exist_ok=True)
    resolved = resolve(RunRequest(scenario=load_scenario("baseline"), final_time=2100))
    samples = sample(UNCERTAINTIES, "sobol", args.n, seed=0)
    names = [u.name for u in UNCERTAINTIES]
    started = time.perf_counter()
    parts = run_all(str(DEFAULT_MODEL), resolved.params, names, samples, OUTCOMES, resolved.controls.as_dict(),
                    4096, "local", None)
    seconds = time.perf_counter() - started
    units = {el.name: el.units for el in load_spec(DEFAULT_MODEL).elements.values()}
    data = assemble(parts, samples, names, OUTCOMES, units)
    results = {year: analyse(data, UNCERTAINTIES, "sobol", samples, OUTCOMES, year) for year in YEARS}
    for year, indices in results.items():
        indices_figure(indices, "sobol", year).savefig(FIGURES / f"sensitivity-{int(year)}.png", dpi=100)
    for outcome in OUTCOMES:
        slug = outcome.lower().replace(" ", "-")
        fan_chart(data, outcome, units.get(outcome, ""), "baseline, Sobol sample").savefig(
            FIGURES / f"sensitivity-fan-{slug}.png", dpi=100)
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
