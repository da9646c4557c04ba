"""Build docs/loops.md and its figures: Tokenworld's feedback loops, named, and which dominate when.

    python docs/build_loops.py            (about a minute: the closed economy's loops are discovered)
    python docs/build_loops.py --render   (the template again, with the numbers of the last build)

Every number in the page comes from the analyses made here: the reference models' loops, the
Loops That Matter checks on the logistic and Bass models, discovery against full enumeration on six
competing species, and the baseline's loops, discovered along its run, with their families' summed
relative loop scores over 2025-2100.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np

import sdlib
from sdlib.analysis.graph import causal_graph
from sdlib.analysis.loops_report import OTHER, discovered_loops, loops_from, signed_graph
from sdlib.analysis.ltm import dominance
from sdlib.plots.loops import causal_loop_diagram, dominance_figure, family_dominance_figure

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
FIGURES = DOCS / "figures"
SAMPLES = ROOT.parent / "shared" / "reference-models" / "samples"
TEST_MODELS = ROOT / "tests" / "models"
REFERENCE = ["teacup/teacup.mdl", "SIR/SIR.mdl", "Lotka_Volterra/Lotka_Volterra.mdl", "Workforce/workforce.mdl",
             "simple_harmonic_oscillator/simple_harmonic_oscillator.mdl"]
DIAGRAMS = 4  # causal loop diagrams: the most important loop of each of the leading families
DRAWN = 25  # variables a readable diagram holds


def reference_table() -> str:
    lines = ["| model | loops | reinforcing | balancing | undetermined |", "|---|---|---|---|---|"]
    for model in REFERENCE:
        result = sdlib.loops(str(SAMPLES / model))
        p = json.loads(result.attrs["by_polarity"])
        lines.append(f"| {Path(model).stem} | {result.attrs['count']} | {p['reinforcing']} | {p['balancing']} | "
                     f"{p['undetermined']} |")
    return "\n".join(lines)


def ltm_checks() -> dict:
    """Where dominance switches in the logistic and Bass models, against theory."""
    found = {}
    for name in ("logistic", "bass"):
        path = TEST_MODELS / f"{name}.mdl"
        result = sdlib.loops(str(path), dominance=True)
        model = sdlib.Model(path)
        run = model.run(controls=model.controls().every_step(), engine="batch")
        time = run["time"].to_numpy()
        values = {n: run[n].to_numpy()[0] for n in run.data_vars}
        polarity = result["polarity"].to_numpy()
        r = result["score"].to_numpy()[polarity == "reinforcing"][0]
        b = result["score"].to_numpy()[polarity == "balancing"].sum(axis=0)
        switch = int(np.argmax(np.abs(b) > r))
        found[name] = {"switch_time": float(result["time"][switch]), "dt": float(time[1] - time[0])}
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


def family_table(data) -> str:
    lines = ["| family | loops | mean share 2024-2100 | largest share (year) | net sign then | what it does |",
             "|---|---|---|---|---|---|"]
    time = data["time"].to_numpy()
    for entry in json.loads(data.attrs["families"]):
        name = entry["name"]
        share = data["family_share"].sel(family_name=name).to_numpy()
        net = data["family_score"].sel(family_name=name).to_numpy()
        peak = int(np.argmax(share))
        sign = "reinforcing" if net[peak] > 0 else ("balancing" if net[peak] < 0 else "-")
        lines.append(f"| {name} | {entry['loops']:,} | {np.mean(share):.3f} | {share[peak]:.2f} ({time[peak]:.0f}) "
                     f"| {sign} | {entry['description']} |")
    return "\n".join(lines)


def representative_loops(data, longest: int | None = None) -> dict:
    """The most important loop of each family (the listed loops come most important first), of at
    most `longest` variables."""
    first: dict = {}
    for loop, family in zip(loops_from(data), data["family"].to_numpy(), strict=True):
        if longest is None or len(loop.variables) <= longest:
            first.setdefault(str(family), loop)
    return first


def discovery_check() -> dict:
    """Discovery against full enumeration on tests/models/competition.mdl (421 loops)."""
    path = TEST_MODELS / "competition.mdl"
    model = sdlib.Model(path)
    run = model.run(controls=model.controls().every_step(), columns=model.variables(constants=True), engine="batch")
    graph, _ = signed_graph(sdlib.resolve(str(path)), run)
    everything = dominance(graph, model, run, keep=1000)
    _, _, found = discovered_loops(graph, model, run, stride=1)
    cycles = {loop.variables for loop in found}
    importance = {loop.variables: everything.importance[loop.id] for loop in everything.loops}
    scores = np.abs(np.array([everything.scores[loop.id] for loop in everything.loops]))[:, 1:]
    strongest = [everything.loops[i].variables in cycles for i in scores.argmax(axis=0)]
    top = next(i for i, loop in enumerate(everything.loops) if loop.variables not in cycles)
    return {"loops": everything.count, "found": len(found), "strongest_share": float(np.mean(strongest)),
            "importance_share": sum(importance[v] for v in cycles) / sum(importance.values()), "top_found": top}


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
    data = sdlib.loops("baseline", max_loops=100_000, dominance=True, final_time=2100, progress=True)
    model = sdlib.Model.load()
    spec = model.spec
    graph = causal_graph(spec)
    for link, sign in json.loads(data.attrs["link_polarities"]).items():
        a, b = link.split(" -> ")
        graph.edges[a, b]["polarity"] = sign

    family_dominance_figure(data, "Which loops dominate the baseline (Loops That Matter)").savefig(
        FIGURES / "loops-families.png", dpi=110, bbox_inches="tight")
    dominance_figure(data, title="The most important single loops of the baseline", top=6).savefig(
        FIGURES / "loops-top.png", dpi=110, bbox_inches="tight")
    for old in FIGURES.glob("loop-*.png"):
        old.unlink()  # diagrams of families that no longer lead
    representative = representative_loops(data)
    mean_share = {str(f): float(data["family_share"].sel(family_name=f).mean()) for f in data["family_name"].to_numpy()}
    leading = sorted((f for f in representative if f != OTHER), key=lambda f: -mean_share[f])[:DIAGRAMS]
    drawn = representative_loops(data, longest=DRAWN)
    diagrams = []
    for family in (f for f in leading if f in drawn):
        loop = drawn[family]
        causal_loop_diagram(graph, [loop], f"{family}: its most important loop of at most {DRAWN} variables "
                            f"({loop.polarity})",
                            {loop.id: family}).savefig(FIGURES / f"loop-{slug(family)}.png", dpi=90, bbox_inches="tight")
        diagrams.append(f"![{family}](figures/loop-{slug(family)}.png)")

    shares = {str(f): data["family_share"].sel(family_name=f).to_numpy() for f in data["family_name"].to_numpy()}
    periods = dominant_periods(data["time"].to_numpy(), shares)
    checks = ltm_checks()
    checks["discovery"] = discovery_check()
    top = {"variables": str(data["variables"][0].item()), "polarity": str(data["polarity"][0].item()),
           "importance": float(data["importance"][0])}
    p = json.loads(data.attrs["by_polarity"])
    count = data.attrs["count"]
    found = checks["discovery"]
    values = {
        "COUNT": f"{count:,}",
        "LIMIT": f"{data.attrs['enumeration_limit']:,}",
        "SCORED_TIMES": str(data.sizes["time"]),
        "DISCOVERY_LOOPS": str(found["loops"]),
        "DISCOVERY_FOUND": str(found["found"]),
        "DISCOVERY_STRONGEST": f"{100 * found['strongest_share']:.0f}%",
        "DISCOVERY_IMPORTANCE": f"{100 * found['importance_share']:.0f}%",
        "DISCOVERY_TOP": str(found["top_found"]),
        "REINFORCING": f"{p['reinforcing']:,}",
        "BALANCING": f"{p['balancing']:,}",
        "UNDETERMINED": f"{p['undetermined']:,}",
        "VARIABLES": str(data.attrs["variables_in_graph"]),
        "LINKS": str(data.attrs["links"]),
        "SECONDS": f"{data.attrs['seconds']:.0f}",
        "REFERENCE_TABLE": reference_table(),
        "LOGISTIC_SWITCH": f"{checks['logistic']['switch_time']:.3f}",
        "LOGISTIC_HALF": f"{checks['logistic']['half_time']:.3f}",
        "LOGISTIC_P": f"{checks['logistic']['population_at_switch']:.0f}",
        "BASS_SWITCH": f"{checks['bass']['switch_time']:.3f}",
        "BASS_PEAK": f"{checks['bass']['peak_time']:.3f}",
        "DT": f"{checks['logistic']['dt']:g}",
        "FAMILY_TABLE": family_table(data),
        "PERIODS": "\n".join(f"- {a}-{b}: {name}" if a != b else f"- {a}: {name}" for a, b, name in periods),
        "TOP_LOOP": top["variables"],
        "TOP_LOOP_POLARITY": top["polarity"],
        "TOP_LOOP_IMPORTANCE": f"{top['importance']:.3f}",
        "DIAGRAMS": "\n\n".join(diagrams),
        "REPRESENTATIVE": "\n".join(f"- **{family}** ({len(loop.variables)} variables, {loop.polarity}): "
                                    f"{' -> '.join(loop.variables)}" for family, loop in representative.items()),
    }
    summary = {"count": count, "by_polarity": p, "families": json.loads(data.attrs["families"]),
               "periods": periods, "checks": checks, "page": values}
    (DOCS / "loops.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    render(values)
    print(f"wrote {DOCS / 'loops.md'}")


if __name__ == "__main__":
    main()
