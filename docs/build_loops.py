"""Build docs/loops.md and its figures: Tokenworld's feedback loops, named, and which dominate when.

    python docs/build_loops.py            (about three minutes: two passes over every loop)
    python docs/build_loops.py --render   (the template again, with the numbers of the last build)

Every number in the page comes from the analyses made here: the reference models' loops, the
Loops That Matter checks on the logistic and Bass models, and the baseline's loop families with
their summed relative loop scores over 2024-2100.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sdlib.engine import compile_spec  # noqa: E402
from sdlib.graph import causal_graph  # noqa: E402
from sdlib.loop_plots import causal_loop_diagram, dominance_figure, family_dominance_figure  # noqa: E402
from sdlib.loops import iter_loops  # noqa: E402
from sdlib.loops_cli import analyse, family_classifier, loop_families  # noqa: E402
from sdlib.ltm import dominance, run_for_ltm  # noqa: E402
from sdlib.modelspec import load_spec  # noqa: E402
from sdlib.paths import PROJECT_ROOT  # noqa: E402
from sdlib.polarity import value_signs_from_run  # noqa: E402

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "figures"
SAMPLES = PROJECT_ROOT.parent / "shared" / "reference-models" / "samples"
TEST_MODELS = PROJECT_ROOT / "tests" / "models"
REFERENCE = ["teacup/teacup.mdl", "SIR/SIR.mdl", "Lotka_Volterra/Lotka_Volterra.mdl", "Workforce/workforce.mdl",
             "simple_harmonic_oscillator/simple_harmonic_oscillator.mdl"]
DIAGRAMS = ["Token-compute investment", "Grid price (Jevons brake)", "Efficiency engine", "Grid gate"]


def reference_table() -> str:
    lines = ["| model | loops | reinforcing | balancing | undetermined |", "|---|---|---|---|---|"]
    for model in REFERENCE:
        result = analyse(str(SAMPLES / model))
        p = result["by_polarity"]
        lines.append(f"| {Path(model).stem} | {result['count']} | {p['reinforcing']} | {p['balancing']} | "
                     f"{p['undetermined']} |")
    return "\n".join(lines)


def ltm_checks() -> dict:
    """Where dominance switches in the logistic and Bass models, against theory."""
    found = {}
    for name in ("logistic", "bass"):
        spec = load_spec(TEST_MODELS / f"{name}.mdl")
        compiled = compile_spec(spec)
        graph = causal_graph(spec, value_signs_from_run(compiled.run(n=1).to_frame(0)))
        result = dominance(graph, compiled)
        time, values = run_for_ltm(compiled)
        r = next(result.scores[loop.id] for loop in result.loops if loop.polarity == "reinforcing")
        b = sum(result.scores[loop.id] for loop in result.loops if loop.polarity == "balancing")
        switch = int(np.argmax(np.abs(b) > r))
        found[name] = {"switch_time": float(result.time[switch]), "dt": float(time[1] - time[0])}
        if name == "logistic":
            found[name]["population_at_switch"] = float(values["Population"][switch + 1])
            found[name]["half_time"] = float(time[np.argmax(values["Population"] >= 500)])
        else:
            found[name]["peak_time"] = float(time[np.argmax(values["adoption rate"])])
    return found


def dominant_periods(time, shares: dict) -> list[tuple[int, int, str]]:
    """Year by year, the family with the largest mean share of loop activity; equal years merged."""
    years = np.floor(time).astype(int)
    names = [n for n in shares if n != "other loops"]
    periods: list = []
    for year in range(int(years.min()), int(years.max()) + 1):
        mask = years == year
        if not mask.any():
            continue
        strength = [float(np.mean(shares[n][mask])) for n in names]
        leader = names[int(np.argmax(strength))] if max(strength) > 0 else "none"
        if periods and periods[-1][2] == leader:
            periods[-1] = (periods[-1][0], year, leader)
        else:
            periods.append((year, year, leader))
    return periods


def family_table(result: dict, dom) -> str:
    lines = ["| family | loops | mean share 2024-2100 | largest share (year) | net sign then | what it does |",
             "|---|---|---|---|---|---|"]
    for entry in result["families"]:
        name = entry["name"]
        share = dom.group_shares.get(name, np.zeros_like(dom.time))
        net = dom.groups.get(name, np.zeros_like(dom.time))
        peak = int(np.argmax(share))
        sign = "reinforcing" if net[peak] > 0 else ("balancing" if net[peak] < 0 else "-")
        lines.append(f"| {name} | {entry['loops']:,} | {np.mean(share):.3f} | {share[peak]:.2f} ({dom.time[peak]:.0f}) "
                     f"| {sign} | {entry['description']} |")
    return "\n".join(lines)


def representative_loops(graph, spec) -> dict:
    """The shortest loop of each family, for its causal loop diagram."""
    group_of = family_classifier(loop_families(spec))
    shortest: dict = {}
    for loop in iter_loops(graph):
        family = group_of(loop)
        if family not in shortest or len(loop.variables) < len(shortest[family].variables):
            shortest[family] = loop
    return shortest


def render(values: dict) -> None:
    text = (DOCS / "loops.template.md").read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    missing = re.findall(r"\{\{[A-Z_]+\}\}", text)
    if missing:
        raise SystemExit(f"loops.template.md: no value for {missing}")
    (DOCS / "loops.md").write_text(text, encoding="utf-8")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def main() -> None:
    if sys.argv[1:] == ["--render"]:  # the template again, from the numbers of the last build
        render(json.loads((DOCS / "loops.json").read_text(encoding="utf-8"))["page"])
        print(f"wrote {DOCS / 'loops.md'}")
        return
    warnings.simplefilter("ignore")
    FIGURES.mkdir(exist_ok=True)
    result = analyse("baseline", max_loops=12, dominance=True, final_time=2100, progress=True)
    objects = result.pop("_objects")
    dom, graph = objects["dominance"], objects["graph"]
    spec = load_spec(PROJECT_ROOT / "models" / "tokenworld.mdl")

    fig = family_dominance_figure(dom.time, dom.group_shares, dom.groups,
                                  "Which loops dominate the baseline (Loops That Matter)")
    fig.savefig(FIGURES / "loops-families.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    fig = dominance_figure(dom, title="The most important single loops of the baseline", top=6)
    fig.savefig(FIGURES / "loops-top.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    shortest = representative_loops(graph, spec)
    diagrams = []
    for family in DIAGRAMS:
        loop = shortest[family]
        fig = causal_loop_diagram(graph, [loop], f"{family}: its shortest loop ({loop.polarity})", {loop.id: family})
        fig.savefig(FIGURES / f"loop-{slug(family)}.png", dpi=90, bbox_inches="tight")
        plt.close(fig)
        diagrams.append(f"![{family}](figures/loop-{slug(family)}.png)")

    periods = dominant_periods(dom.time, dom.group_shares)
    checks = ltm_checks()
    top = dom.loops[0]
    p = result["by_polarity"]
    values = {
        "COUNT": f"{result['count']:,}",
        "REINFORCING": f"{p['reinforcing']:,}",
        "BALANCING": f"{p['balancing']:,}",
        "UNDETERMINED": f"{p['undetermined']:,}",
        "VARIABLES": str(result["variables"]),
        "LINKS": str(result["links"]),
        "SECONDS": f"{result['seconds']:.0f}",
        "REFERENCE_TABLE": reference_table(),
        "LOGISTIC_SWITCH": f"{checks['logistic']['switch_time']:.3f}",
        "LOGISTIC_HALF": f"{checks['logistic']['half_time']:.3f}",
        "LOGISTIC_P": f"{checks['logistic']['population_at_switch']:.0f}",
        "BASS_SWITCH": f"{checks['bass']['switch_time']:.3f}",
        "BASS_PEAK": f"{checks['bass']['peak_time']:.3f}",
        "DT": f"{checks['logistic']['dt']:g}",
        "FAMILY_TABLE": family_table(result, dom),
        "PERIODS": "\n".join(f"- {a}-{b}: {name}" if a != b else f"- {a}: {name}" for a, b, name in periods),
        "TOP_LOOP": " -> ".join(top.variables),
        "TOP_LOOP_POLARITY": top.polarity,
        "TOP_LOOP_IMPORTANCE": f"{dom.importance[top.id]:.3f}",
        "DIAGRAMS": "\n\n".join(diagrams),
        "SHORTEST": "\n".join(f"- **{family}** ({len(loop.variables)} variables, {loop.polarity}): "
                              f"{' -> '.join(loop.variables)}" for family, loop in shortest.items()),
    }
    summary = {"count": result["count"], "by_polarity": p, "families": result["families"],
               "periods": periods, "checks": checks, "page": values}
    (DOCS / "loops.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    render(values)
    print(f"wrote {DOCS / 'loops.md'}")


if __name__ == "__main__":
    main()
