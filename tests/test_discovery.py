"""Loop discovery (Eberlein and Schoenberg 2020): the strongest-path search for models whose loops
are too many to enumerate, against its published example and against full enumeration (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import sdlib
from sdlib.analysis import discovery
from sdlib.analysis.discovery import discover_loops, loop_census
from sdlib.analysis.graph import causal_graph
from sdlib.analysis.loops import count_loops
from sdlib.analysis.loops_report import discovered_loops, signed_graph
from sdlib.analysis.ltm import dominance
from sdlib.core.spec import load_spec

MODELS = Path(__file__).parent / "models"


def graph_of(links: dict) -> nx.DiGraph:
    """A graph of stocks with one link score each (a series of one time)."""
    graph = nx.DiGraph()
    for a, b in links:
        graph.add_node(a, type="stock")
        graph.add_node(b, type="stock")
        graph.add_edge(a, b, polarity="+")
    return graph


def test_the_search_finds_what_the_papers_figure_7_says_it_finds():
    # Eberlein and Schoenberg (2020), figure 7: from a, the strongest links lead a -> d -> b -> c ->
    # a (path score 10^6); the paths a -> b (10) and d -> c (10) reach b and c more weakly than
    # that path did, so go no further, and the searches from b, c and d start weaker (1) than the
    # strongest paths that reached them: one loop is found, not the three of the graph.
    links = {("a", "b"): 10.0, ("a", "d"): 100.0, ("b", "c"): 10.0, ("c", "a"): 10.0, ("d", "c"): 0.1,
             ("d", "b"): 100.0}
    graph = graph_of(links)
    found = discover_loops(graph, {e: np.array([s]) for e, s in links.items()}, [0])
    assert [loop.variables for loop in found] == [("a", "d", "b", "c")]
    assert len(list(nx.simple_cycles(graph))) == 3


def test_the_search_follows_the_link_scores_of_each_time_and_skips_links_that_do_not_act():
    # Two loops of S through m: at time 0 the path through x reaches m more strongly, and the one
    # through y goes no further; at time 1 the other way round. A third loop, through a link
    # scored 0 at both times, is never found.
    links = {("S", "x"): [2.0, 0.5], ("S", "y"): [0.5, 3.0], ("x", "m"): [1.0, 1.0], ("y", "m"): [1.0, 1.0],
             ("m", "S"): [1.0, 1.0], ("S", "z"): [5.0, 5.0], ("z", "S"): [0.0, 0.0]}
    graph = graph_of(links)
    scores = {e: np.array(s) for e, s in links.items()}
    assert [loop.variables for loop in discover_loops(graph, scores, [0])] == [("S", "x", "m")]
    assert [loop.variables for loop in discover_loops(graph, scores, [1])] == [("S", "y", "m")]
    assert [loop.variables for loop in discover_loops(graph, scores, [0, 1])] == [("S", "x", "m"), ("S", "y", "m")]
    assert [loop.id for loop in discover_loops(graph, scores, [0, 1])] == ["D1", "D2"]


@pytest.mark.parametrize("model", ["competition.mdl", "logistic.mdl", "bass_2020.mdl", "polarity_run.mdl",
                                   "regions.mdl", "constructs.mdl"])
def test_the_census_counts_every_loop_as_enumeration_does(model, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENWORLD_CACHE", str(tmp_path))
    graph = causal_graph(load_spec(MODELS / model))
    assert loop_census(graph) == count_loops(graph)


def test_the_census_counts_up_to_its_limit_once_per_structure(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENWORLD_CACHE", str(tmp_path))
    graph = causal_graph(load_spec(MODELS / "competition.mdl"))  # six competing species: 421 loops
    assert loop_census(graph, limit=1000) == 421
    assert loop_census(graph, limit=420) is None  # more than the limit: not counted to the end
    monkeypatch.setattr(discovery, "_cycle_multiplicities", lambda graph: pytest.fail("counted again"))
    assert loop_census(graph, limit=1000) == 421 and loop_census(graph, limit=420) is None  # from the cache


@pytest.fixture(scope="module")
def competition():
    """Six species competing for one resource (tests/models/competition.mdl, 421 loops): every loop
    scored (enumeration), and the loops discovered along the same run, scored alike."""
    model = sdlib.Model(MODELS / "competition.mdl")
    resolved = sdlib.resolve(str(MODELS / "competition.mdl"))
    run = model.run(controls=model.controls().every_step(), columns=model.variables(constants=True), engine="batch")
    graph, _ = signed_graph(resolved, run)
    everything = dominance(graph, model, run, keep=1000)
    batches, scores, found = discovered_loops(graph, model, run, stride=1)
    return everything, dominance(graph, model, run, keep=1000, batches=batches, scores=scores), found


def test_discovery_finds_the_loops_that_matter_as_full_enumeration_ranks_them(competition):
    # Measured: the search finds 86 of the 421 loops; the strongest loop of 97% of the times, the
    # eight most important loops of the run and 81% of all loop importance are among them.
    everything, _, found = competition
    assert everything.count == 421 and 50 <= len(found) <= 150
    found_cycles = {loop.variables for loop in found}
    assert all(loop.variables in found_cycles for loop in everything.loops[:8])
    importance = {loop.variables: everything.importance[loop.id] for loop in everything.loops}
    held = sum(importance[v] for v in found_cycles) / sum(importance.values())
    assert held > 0.75
    scores = np.array([everything.scores[loop.id] for loop in everything.loops])
    strongest = [everything.loops[i].variables in found_cycles for i in np.abs(scores[:, 1:]).argmax(axis=0)]
    assert np.mean(strongest) > 0.9


def test_discovered_loops_are_scored_relative_to_the_loops_found(competition):
    everything, discovered, found = competition
    assert discovered.count == len(found) and sum(discovered.by_polarity.values()) == len(found)
    total = np.sum([np.abs(discovered.scores[loop.id]) for loop in discovered.loops], axis=0)
    np.testing.assert_allclose(total[1:], 1.0, atol=1e-9)  # the first step has no change to score
    # the same loop's absolute score, over two normalisers, is in the same ratio at every time
    top = discovered.loops[0]
    same = next(loop for loop in everything.loops if loop.variables == top.variables)
    ratio = np.abs(discovered.scores[top.id][1:]) / np.abs(everything.scores[same.id][1:])
    moving = np.abs(everything.scores[same.id][1:]) > 1e-6
    assert (ratio[moving] >= 1 - 1e-9).all()  # fewer loops share the whole


def test_a_model_with_too_many_loops_has_them_discovered_by_the_loops_command(cli, tmp_path, monkeypatch):
    # As if six competing species had more loops than the limit: `tokenworld loops` discovers them
    # along the run (the 86 found above), says so, and scores them relative to each other.
    monkeypatch.setattr(discovery, "loop_census", lambda graph, progress=False: None)
    out = tmp_path / "loops.json"
    code, stdout, _ = cli("loops", MODELS / "competition.mdl", "--dominance", "--max-loops", 3, "--json", out)
    assert code == 0
    data = json.loads(out.read_text())
    assert data["found_by"] == "discovery" and data["count"] == 86 and sum(data["by_polarity"].values()) == 86
    assert "more than 2,000,000 feedback loops, too many to enumerate; 86 discovered along the run" in stdout
    assert [loop["id"][0] for loop in data["loops"]] == ["D", "D", "D"]
    total = np.sum(np.abs([data["dominance"]["scores"][loop["id"]] for loop in data["loops"]]), axis=0)
    assert (total <= 1 + 1e-9).all()  # three of the 86 loops: at most the whole
    listed = sdlib.loops(str(MODELS / "competition.mdl"), max_loops=3)
    assert listed.attrs["found_by"] == "discovery" and listed.attrs["count"] == 86
    assert list(listed["length"].to_numpy()) == [2, 2, 2]  # shortest first: a species and its own growth
