"""The feedback loops of a resolved run as one Dataset: count, polarity, names, families, dominance.

Loops are named and grouped by `<model>-loops.toml` beside the model: `[[loop]]` entries name a
loop by its variables; `[[family]]` entries group the thousands of loops that share a mechanism
(a loop belongs to the first family whose `through` variables it all passes through).
"""

from __future__ import annotations

import heapq
import json
import time as clock
import tomllib

import numpy as np
import xarray as xr

from ..core.errors import BadInput, TokenworldError
from .discovery import ENUMERATION_LIMIT
from .elements import element_graph, has_arrays
from .graph import causal_graph
from .loops import POLARITIES, Loop, canonical, count_loops, iter_loops
from .polarity import value_signs_from_run
from .sketch import compare_with_sketch, read_sketch

OTHER = "other loops"


def loops_file(spec) -> dict:
    path = spec.path.with_name(spec.path.stem + "-loops.toml")
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path.name}: not valid TOML ({exc})") from None


def loop_names(spec) -> dict:
    """Canonical cycle -> (name, description), for the loops named beside the model."""
    return {canonical(list(entry["variables"])): (entry["name"], entry.get("description", ""))
            for entry in loops_file(spec).get("loop", [])}


def loop_families(spec) -> list[dict]:
    """Families of loops kept beside the model, each checked against the model's names."""
    families = loops_file(spec).get("family", [])
    known = {el.name for el in spec.elements.values()}
    for entry in families:
        unknown = [v for v in entry.get("through", []) if v not in known]
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
        return OTHER

    return group_of


def signed_graph(resolved, data=None):
    """The causal graph with link polarities: from the equations, with the signs of values taken
    from a run of the model, and where the equations leave a link's sign open, from the signs of
    its partial changes along that run (see `partials.run_polarity`). Each link says which
    (`polarity_from`: "equations" or "run"). `data`: that run, when the caller has it (with the
    constants as columns); else the model is run here."""
    from .ltm import loop_edges
    from .partials import Partials, run_polarity

    model = resolved.model
    engine = "batch" if model.supports_batch() else "pysd"
    if data is None:
        data = model.run(resolved.params, resolved.controls, columns=model.variables(constants=True), engine=engine,
                         progress=False)
    frame = data.isel(run=0).to_dataframe()[list(data.data_vars)]
    graph = causal_graph(model.spec, value_signs_from_run(frame))
    for a, b in graph.edges:
        graph.edges[a, b]["polarity_from"] = "equations"
    spec = model.spec
    open_links = [(a, b) for a, b in loop_edges(graph) if graph.edges[a, b]["polarity"] == "?"
                  and not spec[a].subscripted and not spec[b].subscripted]  # arrays: element by element
    if open_links and len(frame) > 1:
        values = {name: frame[name].to_numpy(dtype=float) for name in frame.columns}
        partials = Partials(model, frame.index.to_numpy(dtype=float), values, resolved.controls, resolved.params)
        for a, b in open_links:
            try:
                sign = run_polarity(partials, a, b)
            except TokenworldError:
                continue  # an equation this analysis cannot evaluate: its sign stays open
            if sign != "?":
                graph.edges[a, b].update(polarity=sign, polarity_from="run")
    return graph, engine


def loop_report(resolved, max_loops: int = 20, dominance: bool = False, progress: bool = False) -> xr.Dataset:
    """See `sdlib.loops`."""
    from .discovery import loop_census

    started = clock.perf_counter()
    model = resolved.model
    spec = model.spec
    engine = "batch" if model.supports_batch() else "pysd"
    controls = resolved.controls
    # loops that cannot all be enumerated are discovered along the run, which needs every step
    discovered = loop_census(causal_graph(spec), progress=progress) is None
    # one run serves the signs, the elements of arrays and the scores
    run = model.run(resolved.params, controls.every_step() if dominance or discovered else controls,
                    columns=model.variables(constants=True), engine=engine, progress=False)
    graph, engine = signed_graph(resolved, run)
    variable_graph = graph
    arrays = has_arrays(graph, spec)
    if arrays:
        if discovered:
            raise BadInput(f"{spec.path.name}: more than {ENUMERATION_LIMIT:,} feedback loops, too many to enumerate, "
                           f"and discovering loops over array elements is not supported yet")
        if dominance:
            raise BadInput(f"{spec.path.name}: loop dominance over array elements is not supported yet; "
                           f"`tokenworld loops` without --dominance counts and lists its loops element by element")
        graph = element_graph(resolved, variable_graph, run)
    families = loop_families(spec)
    group_of = family_classifier(families) if families else None
    names = loop_names(spec)
    dom = None
    unsigned: dict = {}
    stride = max(1, int(round(controls.n_steps / 400)))  # about 400 scored times: plenty to see
    found = None
    if discovered:
        found = discovered_loops(graph, model, run, stride, resolved.params)
    if dominance:
        from .ltm import dominance as compute_dominance

        data = run
        if data.attrs["status"] != "ok":
            raise BadInput(f"loops: the run diverged at {data.attrs['diverged_at']:g}; loop dominance needs a "
                           f"finite run")
        dom = compute_dominance(graph, model, data, keep=max_loops, progress=progress, group_of=group_of,
                                stride=stride, params=resolved.params,
                                **({"batches": found[0], "scores": found[1]} if found else {}))
        listed, count, by_polarity, sizes = dom.loops, dom.count, dom.by_polarity, dom.group_sizes
    else:
        unsigned = {(a, b): 0 for a, b, sign in graph.edges(data="polarity") if sign in ("?", "0")}
        listed, count, by_polarity, sizes = shortest_loops(graph, max_loops, group_of, unsigned,
                                                           loops=found[2] if found else None)
    views = read_sketch(spec.path)
    candidates = listed
    if views and (count <= 20000 or arrays) and not dominance and not discovered:
        candidates = [loop for loop, _ in zip(iter_loops(variable_graph), range(20001), strict=False)]
    sketch = (compare_with_sketch(variable_graph, candidates, views) if views
              else {"links": [], "loop_markers": [], "disagreements": []})
    dataset = xr.Dataset(coords={"loop": [loop.id for loop in listed]})
    dataset["polarity"] = ("loop", np.array([loop.polarity for loop in listed], dtype=str))
    dataset["length"] = ("loop", np.array([len(loop.variables) for loop in listed], dtype=np.int64))
    dataset["variables"] = ("loop", np.array([" -> ".join(loop.variables) for loop in listed], dtype=str))
    dataset["name"] = ("loop", np.array([names.get(loop.variables, ("", ""))[0] for loop in listed], dtype=str))
    dataset["family"] = ("loop", np.array([group_of(loop) if group_of else "" for loop in listed], dtype=str))
    if dom is not None:
        dataset["importance"] = ("loop", np.array([dom.importance[loop.id] for loop in listed], dtype=float),
                                 {"doc": "mean absolute relative loop score over the run"})
        dataset = dataset.assign_coords(time=("time", dom.time, {"units": spec["time step"].units}))
        scores = np.array([dom.scores[loop.id] for loop in listed]).reshape(len(listed), len(dom.time))
        dataset["score"] = (("loop", "time"), scores, {"doc": "relative loop score (Loops That Matter); "
                                                       "balancing loops negative, |scores| of all loops sum to 1"})
        if dom.groups:
            ranked = [*[f["name"] for f in families], OTHER]
            dataset = dataset.assign_coords(family_name=("family_name", ranked))
            dataset["family_share"] = (("family_name", "time"),
                                       np.array([dom.group_shares.get(f, np.zeros(len(dom.time))) for f in ranked]),
                                       {"doc": "summed |relative loop score| of the family's loops: shares sum to 1"})
            dataset["family_score"] = (("family_name", "time"),
                                       np.array([dom.groups.get(f, np.zeros(len(dom.time))) for f in ranked]),
                                       {"doc": "summed signed relative loop score (balancing < 0)"})
    dataset.attrs.update({
        "model": spec.path.name, "model_file": str(spec.path), "target": resolved.scenario.name,
        "count": int(count), "by_polarity": json.dumps(by_polarity),
        # a subscripted model's loops run through array elements; count is theirs, variable_loops the
        # loops of the variables (as one per variable cycle, whatever elements it runs over)
        "over_arrays": int(arrays),
        "variable_loops": int(count_loops(variable_graph)) if arrays else int(count),
        "variables_in_graph": graph.number_of_nodes(), "links": graph.number_of_edges(),
        "families": json.dumps([{"name": f["name"], "description": f.get("description", ""),
                                 "loops": int(sizes.get(f["name"], 0))} for f in families]
                               + ([{"name": OTHER, "description": "", "loops": int(sizes.get(OTHER, 0))}]
                                  if families else [])),
        "descriptions": json.dumps({loop.id: names[loop.variables][1] for loop in listed if loop.variables in names}),
        "order": "importance (Loops That Matter)" if dominance else "shortest first",
        # "enumeration": count is every loop; "discovery": the model has more than enumeration_limit
        # loops and count is how many the strongest-path search found along the run
        "found_by": "discovery" if discovered else "enumeration", "enumeration_limit": ENUMERATION_LIMIT,
        "unsigned_links": _most_loops(unsigned, graph, "?"),
        "inactive_links": _most_loops(unsigned, graph, "0"),
        "sketch": json.dumps(sketch), "engine": engine,
        # every link's polarity as found with the run's signs: the causal graph of this analysis
        "link_polarities": json.dumps({f"{a} -> {b}": sign for a, b, sign in graph.edges(data="polarity")}),
        "links_signed_by_run": json.dumps(sorted(f"{a} -> {b}" for a, b, how in graph.edges(data="polarity_from")
                                                 if how == "run")),
        "seconds": round(clock.perf_counter() - started, 2),
    })
    return dataset


def discovered_loops(graph, model, run, stride: int, params: dict | None = None):
    """(batches, link scores, loops) of the loops the strongest-path search finds along a run saved
    every time step, searched at the times dominance scores (every stride-th step)."""
    from .discovery import discover_loops
    from .ltm import held_batches, link_scores, loop_edges, run_values, scored_columns

    time, values = run_values(run)
    scores = link_scores(graph, model, time, values, loop_edges(graph), params=params)
    loops = discover_loops(graph, scores, scored_columns(len(time), stride))
    return held_batches(loops, graph), scores, loops


def shortest_loops(graph, keep: int, group_of=None, unsigned: dict | None = None, loops=None
                   ) -> tuple[list[Loop], int, dict, dict]:
    """Every loop counted (streamed), the `keep` shortest kept, and how many each family holds.
    `loops`: these loops instead of every loop of the graph (discovered ones, say).

    `unsigned`, when given, counts for each link without one sign ("?") the loops it leaves
    undetermined, and for each link that never acts ("0") the loops it leaves inactive."""
    heap: list = []
    count = 0
    by_polarity = dict.fromkeys(POLARITIES, 0)
    sizes: dict = {}
    for n, loop in enumerate(iter_loops(graph) if loops is None else loops):
        count += 1
        by_polarity[loop.polarity] += 1
        if unsigned is not None and loop.polarity in ("undetermined", "inactive"):
            for link in loop.links:
                if link in unsigned:
                    unsigned[link] += 1
        if group_of is not None:
            family = group_of(loop)
            sizes[family] = sizes.get(family, 0) + 1
        item = (-len(loop.variables), -n, loop)
        if len(heap) < keep:
            heapq.heappush(heap, item)
        elif item[:2] > heap[0][:2]:
            heapq.heapreplace(heap, item)
    listed = [loop for _, _, loop in sorted(heap, key=lambda item: (-item[0], -item[1]))]
    return listed, count, by_polarity, sizes


def _most_loops(counts: dict, graph, symbol: str) -> str:
    """The links of one polarity symbol through which most loops pass, as JSON (ten at most)."""
    ranked = sorted(((link, n) for link, n in counts.items() if graph.edges[link]["polarity"] == symbol and n),
                    key=lambda item: -item[1])
    return json.dumps([{"link": f"{a} -> {b}", "loops": n} for (a, b), n in ranked[:10]])


def loops_from(dataset: xr.Dataset) -> list[Loop]:
    """The listed loops of a loops Dataset as `Loop` objects (for diagrams)."""
    return [Loop(id=str(i), variables=tuple(str(v).split(" -> ")), polarity=str(p))
            for i, v, p in zip(dataset["loop"].to_numpy(), dataset["variables"].to_numpy(),
                               dataset["polarity"].to_numpy(), strict=False)]


__all__ = ["OTHER", "TokenworldError", "family_classifier", "loop_families", "loop_names", "loop_report",
           "loops_from", "shortest_loops"]


def as_json(dataset: xr.Dataset, points: int = 200) -> dict:
    """The loops Dataset as the JSON `tokenworld loops --json` writes (series cut to about `points`)."""
    attrs = dataset.attrs
    descriptions = json.loads(attrs["descriptions"])
    loops = []
    for i, loop_id in enumerate(dataset["loop"].to_numpy()):
        entry = {"id": str(loop_id), "polarity": str(dataset["polarity"][i].item()),
                 "variables": str(dataset["variables"][i].item()).split(" -> "),
                 "length": int(dataset["length"][i])}
        for key in ("name", "family"):
            if str(dataset[key][i].item()):
                entry[key] = str(dataset[key][i].item())
        if entry.get("name"):
            entry["description"] = descriptions.get(str(loop_id), "")
        if "importance" in dataset:
            entry["importance"] = float(dataset["importance"][i])
        loops.append(entry)
    result = {"model": attrs["model"], "target": attrs["target"], "count": attrs["count"],
              "by_polarity": json.loads(attrs["by_polarity"]), "variables": attrs["variables_in_graph"],
              "links": attrs["links"], "order": attrs["order"], "loops": loops, "listed": len(loops),
              "sketch": json.loads(attrs["sketch"]), "seconds": attrs["seconds"],
              "unsigned_links": json.loads(attrs["unsigned_links"]),
              "over_arrays": bool(attrs.get("over_arrays", 0)), "variable_loops": attrs.get("variable_loops"),
              "inactive_links": json.loads(attrs.get("inactive_links", "[]")),
              "found_by": attrs.get("found_by", "enumeration"), "enumeration_limit": attrs.get("enumeration_limit")}
    families = json.loads(attrs["families"])
    if families:
        result["families"] = families
    if "score" in dataset:
        time = dataset["time"].to_numpy()
        step = max(1, int(round(len(time) / points)))
        keep = slice(step - 1, None, step)
        result["dominance"] = {"time": [float(t) for t in time[keep]],
                               "scores": {str(k): [float(v) for v in dataset["score"].sel(loop=k).to_numpy()[keep]]
                                          for k in dataset["loop"].to_numpy()}}
        if "family_share" in dataset:
            names = [str(f) for f in dataset["family_name"].to_numpy()]
            result["dominance"]["families"] = {f: [float(v) for v in dataset["family_score"].sel(family_name=f)
                                                   .to_numpy()[keep]] for f in names}
            result["dominance"]["family_shares"] = {f: [float(v) for v in dataset["family_share"]
                                                        .sel(family_name=f).to_numpy()[keep]] for f in names}
    return result
