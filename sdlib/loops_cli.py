"""`tokenworld loops`: the feedback loops of a model or scenario, their polarity, dominance and pictures.

    tokenworld loops models/tokenworld.mdl --json loops.json --max-loops 50
    tokenworld loops baseline --dominance --plot loops/ --json loops.json

The JSON holds `count` (every elementary loop, exact), `loops` (the first `--max-loops`, or with
`--dominance` the most important ones), `by_polarity`, `sketch` (where the drawing disagrees with
the equations) and, with `--dominance`, `dominance: {time: [...], scores: {loop id: [...]}}`.
"""

from __future__ import annotations

import json
import re
import sys
import time
import tomllib
from pathlib import Path



from .errors import BadInput, TokenworldError
from .graph import causal_graph
from .loops import canonical, find_loops
from .modelspec import load_spec
from .polarity import value_signs_from_run
from .sketch import compare_with_sketch, read_sketch


def add_loops_parser(sub) -> None:
    p = sub.add_parser("loops", help="feedback loops: polarity, dominance (Loops That Matter), diagrams")
    p.add_argument("target", help="a Vensim .mdl file or a scenario name")
    p.add_argument("--json", metavar="FILE", help="write the loops as JSON")
    p.add_argument("--dominance", action="store_true", help="add loop dominance over time (Loops That Matter)")
    p.add_argument("--max-loops", type=int, default=50, metavar="N", help="loops to list (default 50); the count is exact")
    p.add_argument("--plot", metavar="DIR", help="write causal loop and stock-and-flow diagrams (and dominance)")
    p.add_argument("--final-time", type=float, default=None, help="end of the run used for signs and dominance")
    p.set_defaults(func=cmd_loops)


def resolve_target(target: str):
    """A model path with its parameters: a .mdl as it is, or a scenario's model with its overrides."""
    if target.lower().endswith(".mdl"):
        if not Path(target).is_file():
            raise BadInput(f"{target}: model file not found")
        return load_spec(target), {}, None
    from .runner import RunRequest, resolve
    from .scenario import load_scenario

    scenario = load_scenario(target)
    resolved = resolve(RunRequest(scenario=scenario))
    return load_spec(scenario.model), resolved.params, resolved.controls


def simulated_frame(spec, params, controls, final_time=None):
    """A run of the model (batch engine if it can, PySD otherwise) for the signs of values."""
    try:
        from .engine import compile_spec

        compiled = compile_spec(spec)
        kwargs = {}
        if controls is not None:
            kwargs = {"final_time": controls.final_time, "time_step": controls.time_step, "saveper": controls.saveper}
        if final_time is not None:
            kwargs["final_time"] = final_time
        result = compiled.run(params=params, n=1, **kwargs)
        return result.to_frame(0), compiled
    except TokenworldError:
        from .simulate import model_controls, simulate

        controls = controls or model_controls(spec.path, final_time=final_time)
        return simulate(spec.path, params, controls, progress=False).frame, None


def loop_names(spec) -> dict:
    """Names of loops kept beside the model: <model>-loops.toml, canonical cycle -> (name, text)."""
    data = _loops_file(spec)
    return {canonical(list(entry["variables"])): (entry["name"], entry.get("description", ""))
            for entry in data.get("loop", [])}


def loop_families(spec) -> list[dict]:
    """Families of loops kept beside the model: a loop belongs to the first family whose
    `through` variables it all passes through (thousands of loops share one mechanism)."""
    families = _loops_file(spec).get("family", [])
    for entry in families:
        unknown = [v for v in entry.get("through", []) if v not in {el.name for el in spec.elements.values()}]
        if unknown or not entry.get("through") or not entry.get("name"):
            raise BadInput(f"{spec.path.stem}-loops.toml: family '{entry.get('name', '?')}' needs a name and "
                           f"'through' variables of the model (unknown: {unknown})")
    return families


def family_classifier(families: list[dict]):
    """loop -> the name of its family, or 'other loops'."""
    required = [(entry["name"], frozenset(entry["through"])) for entry in families]

    def group_of(loop) -> str:
        members = set(loop.variables)
        for name, through in required:
            if through <= members:
                return name
        return "other loops"

    return group_of


def _loops_file(spec) -> dict:
    path = spec.path.with_name(spec.path.stem + "-loops.toml")
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path.name}: not valid TOML ({exc})") from None


def analyse(target: str, max_loops: int = 50, dominance: bool = False, final_time=None, progress: bool = False) -> dict:
    started = time.perf_counter()
    spec, params, controls = resolve_target(target)
    frame, compiled = simulated_frame(spec, params, controls, final_time)
    graph = causal_graph(spec, value_signs_from_run(frame))
    count, loops, by_polarity = find_loops(graph, max_loops) if not dominance else (None, [], None)
    names = loop_names(spec)
    families = loop_families(spec)
    result = {"model": spec.path.name, "target": target, "count": count, "by_polarity": by_polarity,
              "variables": graph.number_of_nodes(), "links": graph.number_of_edges()}
    dom = None
    if dominance:
        if compiled is None:
            raise BadInput(f"{spec.path.name}: loop dominance needs the batch engine, which cannot run this model")
        from .ltm import dominance as compute_dominance

        kwargs = {"params": params, "final_time": final_time or (controls.final_time if controls else None),
                  "time_step": controls.time_step if controls else None}
        t0, tf, dt, _ = compiled.controls(final_time=kwargs["final_time"], time_step=kwargs["time_step"])
        kwargs["stride"] = max(1, int(round((tf - t0) / dt / 400)))  # about 400 scored times: plenty to see
        group_of = family_classifier(families) if families else None
        dom = compute_dominance(graph, compiled, keep=max_loops, progress=progress, group_of=group_of, **kwargs)
        loops, count, by_polarity = dom.loops, dom.count, dom.by_polarity
        result.update(count=count, by_polarity=by_polarity)
    listed = []
    for loop in loops:
        entry = loop.as_dict()
        named = names.get(loop.variables)
        if named:
            entry["name"], entry["description"] = named
        if dom is not None:
            entry["importance"] = dom.importance[loop.id]
        listed.append(entry)
    result["loops"] = listed
    result["listed"] = len(listed)
    views = read_sketch(spec.path)
    candidates = loops
    if views and count <= 20000 and not dominance:
        candidates = find_loops(graph)[1]
    result["sketch"] = compare_with_sketch(graph, candidates, views) if views else {"links": [], "loop_markers": [],
                                                                                       "disagreements": []}
    if dom is not None:
        step = max(1, int(round(len(dom.time) / 200)))  # about 200 points a series in the JSON
        keep = slice(step - 1, None, step)
        result["dominance"] = {"time": [float(t) for t in dom.time[keep]],
                               "scores": {k: [float(v) for v in s[keep]] for k, s in dom.scores.items()}}
        if families:
            described = {entry["name"]: entry.get("description", "") for entry in families}
            result["families"] = [{"name": name, "description": described.get(name, ""),
                                   "loops": dom.group_sizes.get(name, 0)}
                                  for name in [*described, "other loops"]]
            result["dominance"]["families"] = {name: [float(v) for v in series[keep]]
                                               for name, series in dom.groups.items()}
            result["dominance"]["family_shares"] = {name: [float(v) for v in series[keep]]
                                                    for name, series in dom.group_shares.items()}
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["_objects"] = {"graph": graph, "loops": loops, "dominance": dom, "views": views, "names": names}
    return result


def cmd_loops(args) -> int:
    if args.max_loops < 1:
        raise BadInput(f"--max-loops {args.max_loops}: expected a positive number")
    result = analyse(args.target, args.max_loops, args.dominance, args.final_time, progress=sys.stderr.isatty())
    objects = result.pop("_objects")
    if args.plot:
        write_plots(Path(args.plot), result, objects)
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(result, indent=1), encoding="utf-8")
        tmp.replace(path)
    print(f"{result['model']}: {result['count']} feedback loops ({result['by_polarity']['reinforcing']} reinforcing, "
          f"{result['by_polarity']['balancing']} balancing, {result['by_polarity']['undetermined']} undetermined) "
          f"among {result['variables']} variables, in {result['seconds']} s")
    for entry in result["loops"][:20]:
        name = f" [{entry['name']}]" if "name" in entry else ""
        score = f" importance {entry['importance']:.3f}" if "importance" in entry else ""
        print(f"  {entry['id']}{name} {entry['polarity']}{score}: {' -> '.join(entry['variables'])}")
    disagreements = result["sketch"]["disagreements"]
    if disagreements:
        print(f"{len(disagreements)} places where the sketch disagrees with the equations:")
        for d in disagreements:
            where = f"{d['source']} -> {d['target']}" if "source" in d else f"loop marker at ({d['x']:g}, {d['y']:g})"
            print(f"  {where}: drawn {d['drawn']}, equations say {d['computed']}")
    return 0


def write_plots(folder: Path, result: dict, objects: dict) -> None:
    from .loop_plots import causal_loop_diagram, dominance_figure, family_dominance_figure, stock_and_flow_diagram

    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    graph, loops, names = objects["graph"], objects["loops"], objects["names"]
    labels = {loop.id: names[loop.variables][0] for loop in loops if loop.variables in names}
    for loop in loops[:6]:
        title = f"{labels.get(loop.id, loop.id)}: a {loop.polarity} loop of {len(loop.variables)} variables"
        fig = causal_loop_diagram(graph, [loop], title, labels)
        fig.savefig(folder / f"cld-{loop.id}.png", dpi=100, bbox_inches="tight")
        plt.close(fig)
    for view in objects["views"]:
        fig = stock_and_flow_diagram(view, graph)
        fig.savefig(folder / f"sfd-{_slug(view.name)}.png", dpi=90)
        plt.close(fig)
    if objects["dominance"] is not None:
        fig = dominance_figure(objects["dominance"], labels, f"Loop dominance — {result['target']}")
        fig.savefig(folder / "dominance.png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        if objects["dominance"].groups:
            dom = objects["dominance"]
            fig = family_dominance_figure(dom.time, dom.group_shares, dom.groups,
                                          f"Loop dominance by family — {result['target']}")
            fig.savefig(folder / "dominance-families.png", dpi=100, bbox_inches="tight")
            plt.close(fig)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "view"


__all__ = ["add_loops_parser", "analyse"]
