"""`tokenworld loops MODEL.mdl|SCENARIO`: the feedback loops, their polarity, families and dominance.

    tokenworld loops models/tokenworld.mdl --json loops.json --max-loops 50
    tokenworld loops baseline --dominance --plot loops/ --json loops.json

The JSON holds `count` (every elementary loop, exact; or, with `found_by: "discovery"`, the loops
that the strongest-path search found along the run of a model with more than `enumeration_limit`
loops, too many to enumerate), `loops` (the `--max-loops` shortest, or with
`--dominance` the most important ones), `by_polarity`, `families` (how many loops each family of
`<model>-loops.toml` holds), `sketch` (where the drawing disagrees with the equations) and, with
`--dominance`, `dominance: {time, scores: {loop id: [...]}, family_shares: {...}}`.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("target", help="a Vensim .mdl file or a scenario name")
    p.add_argument("--json", metavar="FILE", help="write the loops as JSON")
    p.add_argument("--dominance", action="store_true",
                   help="rank loops by their dominance over time (Loops That Matter; needs the batch engine)")
    p.add_argument("--max-loops", type=int, default=20, metavar="N",
                   help="loops to list: the N shortest, or with --dominance the N most important (default 20); "
                        "the count is exact unless the model has too many loops to enumerate, when they are "
                        "discovered along the run and counted as found")
    p.add_argument("--plot", metavar="DIR", help="write causal loop and stock-and-flow diagrams (and dominance)")
    p.add_argument("--final-time", type=float, default=None, help="end of the run used for signs and dominance")


def main(args) -> int:
    import sdlib
    from sdlib.analysis.loops_report import as_json
    from sdlib.core.rundir import check_output_dir, check_output_file, write_file_atomic

    # Where the results go is checked before the analysis, which can take minutes.
    json_path = check_output_file(args.json, "--json") if args.json is not None else None
    plot_dir = check_output_dir(args.plot, "--plot") if args.plot is not None else None
    data = sdlib.loops(args.target, max_loops=args.max_loops, dominance=args.dominance, final_time=args.final_time,
                       progress=sys.stderr.isatty())
    result = as_json(data)
    if plot_dir is not None:
        write_plot_folder(plot_dir, data)
    if json_path is not None:
        write_file_atomic(json_path, json.dumps(result, indent=1), "--json")
    polarity = result["by_polarity"]
    inactive = (f", {polarity['inactive']} inactive: through a link that never acts in this run"
                if polarity.get("inactive") else "")
    if result.get("over_arrays"):
        what = (f"{result['count']} feedback loops over array elements ({result['variable_loops']} loops of variables, "
                f"each counted once for every element it runs through)")
        among = f"{result['variables']} variables and array elements"
    elif result["found_by"] == "discovery":
        what = (f"more than {result['enumeration_limit']:,} feedback loops, too many to enumerate; {result['count']} "
                f"discovered along the run by the strongest-path search")
        among = f"{result['variables']} variables"
    else:
        what, among = f"{result['count']} feedback loops", f"{result['variables']} variables"
    print(f"{result['model']}: {what} ({polarity['reinforcing']} reinforcing, "
          f"{polarity['balancing']} balancing, {polarity['undetermined']} undetermined: a link's sign changes "
          f"with the values{inactive}) among {among}, in {result['seconds']} s")
    unsigned = json.loads(data.attrs["unsigned_links"])
    if unsigned:
        print("  undetermined loops pass through links whose sign changes during the run, most often: "
              + "; ".join(f"{u['link']} ({u['loops']} loops)" for u in unsigned[:3]))
    inert = json.loads(data.attrs.get("inactive_links", "[]"))
    if inert:
        print("  inactive loops pass through links that never act in this run, most often: "
              + "; ".join(f"{u['link']} ({u['loops']} loops)" for u in inert[:3]))
    for family in result.get("families", []):
        print(f"  family {family['name']}: {family['loops']} loops")
    print(f"{result['listed']} loops, {result['order']}:")
    for entry in result["loops"]:
        label = " ".join(f"[{entry[k]}]" for k in ("name", "family") if k in entry)
        score = f" importance {entry['importance']:.3f}" if "importance" in entry else ""
        head = " ".join(part for part in (entry["id"], label, entry["polarity"] + score) if part)
        print(f"  {head}: {' -> '.join(entry['variables'])}")
    disagreements = result["sketch"]["disagreements"]
    if disagreements:
        print(f"{len(disagreements)} places where the sketch disagrees with the equations:")
        for d in disagreements:
            where = f"{d['source']} -> {d['target']}" if "source" in d else f"loop marker at ({d['x']:g}, {d['y']:g})"
            print(f"  {where}: drawn {d['drawn']}, equations say {d['computed']}")
    return 0


def write_plot_folder(folder: Path, data) -> None:
    """The figures, drawn in a temporary folder beside `folder` and moved in one by one when all are
    drawn: an interrupted run adds none, and only regular files are ever replaced."""
    from sdlib.core.errors import BadInput
    from sdlib.core.rundir import temporary_dir

    folder.mkdir(parents=True, exist_ok=True)
    with temporary_dir(folder.parent if folder.parent != folder else folder, folder.name or "plots") as tmp:
        write_plots(tmp, data)
        for path in sorted(tmp.iterdir()):
            target = folder / path.name
            if target.exists() and (target.is_symlink() or not target.is_file()):
                raise BadInput(f"--plot: {target} is not a regular file; it is left as it is and nothing was written",
                               "--plot")
        for path in sorted(tmp.iterdir()):
            path.replace(folder / path.name)


def write_plots(folder: Path, data) -> None:
    from sdlib.analysis.graph import causal_graph
    from sdlib.analysis.loops_report import loops_from
    from sdlib.analysis.sketch import read_sketch
    from sdlib.core.spec import load_spec
    from sdlib.plots.loops import causal_loop_diagram, dominance_figure, family_dominance_figure, stock_and_flow_diagram

    folder.mkdir(parents=True, exist_ok=True)
    spec = load_spec(data.attrs["model_file"])
    graph = causal_graph(spec)
    loops = loops_from(data)
    polarities = {loop.id: loop.polarity for loop in loops}
    for link, sign in json.loads(data.attrs["link_polarities"]).items():  # as found with the run's signs
        a, b = link.split(" -> ")
        graph.edges[a, b]["polarity"] = sign
    labels = {str(i): str(n) for i, n in zip(data["loop"].to_numpy(), data["name"].to_numpy(), strict=False) if str(n)}
    for loop in loops[:6]:
        title = f"{labels.get(loop.id, loop.id)}: a {polarities[loop.id]} loop of {len(loop.variables)} variables"
        causal_loop_diagram(graph, [loop], title, labels).savefig(folder / f"cld-{loop.id}.png", dpi=100,
                                                                  bbox_inches="tight")
    for view in read_sketch(spec.path):
        stock_and_flow_diagram(view, graph).savefig(folder / f"sfd-{_slug(view.name)}.png", dpi=90)
    if "score" in data:
        dominance_figure(data, labels, f"Loop dominance — {data.attrs['target']}").savefig(
            folder / "dominance.png", dpi=100, bbox_inches="tight")
        if "family_share" in data:
            family_dominance_figure(data, f"Loop dominance by family — {data.attrs['target']}").savefig(
                folder / "dominance-families.png", dpi=100, bbox_inches="tight")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "view"
