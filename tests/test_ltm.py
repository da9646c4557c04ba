"""Loop dominance (Loops That Matter) against what theory and hand derivation say (issue 6)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import sdlib
from sdlib.analysis.graph import causal_graph
from sdlib.analysis.loops import find_loops
from sdlib.analysis.ltm import dominance, link_scores, run_values
from sdlib.analysis.polarity import value_signs_from_run
from sdlib.analysis.sketch import compare_with_sketch, read_sketch

MODELS = Path(__file__).parent / "models"


def prepared(name: str):
    model = sdlib.Model(MODELS / name)
    graph = causal_graph(model.spec, value_signs_from_run(sdlib.frame(model.run(engine="batch"))))
    return graph, model


def every_step(model):
    """A run saved at every time step (what the link scores need)."""
    return model.run(controls=model.controls().every_step(), columns=model.variables(constants=True), engine="batch")


def run_for_ltm(model):
    return run_values(every_step(model))


def by_polarity(result, polarity):
    return [result.scores[loop.id] for loop in result.loops if loop.polarity == polarity]


@pytest.fixture(scope="module")
def logistic():
    graph, model = prepared("logistic.mdl")
    time, values = run_for_ltm(model)
    return graph, model, time, values, dominance(graph, model, every_step(model))


def test_logistic_link_scores_match_the_hand_derivation(logistic):
    graph, compiled, time, values, _ = logistic
    population = values["Population"]
    capacity = 1000.0
    scores = link_scores(graph, compiled, time, values, [("Population", "births"), ("Population", "crowding deaths"),
                                                         ("births", "Population"), ("crowding deaths", "Population")])
    # births = g P and deaths = g P^2 / K have P as their only changing input, so all of each
    # one's change is P's: link score exactly 1.
    assert np.allclose(scores[("Population", "births")], 1.0, atol=1e-12)
    assert np.allclose(scores[("Population", "crowding deaths")], 1.0, atol=1e-12)
    # A flow into P over the change of P's net flow n = g P (1 - P/K), both over the step that
    # ends at t: from P0 = P(t - dt) to P1 = P(t) births change by g (P1 - P0) and n by
    # g (P1 - P0) (1 - (P0 + P1)/K), exactly, so the score at t is 1/|1 - (P0 + P1)/K| (and
    # -((P0 + P1)/K)/|1 - (P0 + P1)/K| for the deaths).
    share = (population[:-1] + population[1:]) / capacity
    assert np.allclose(scores[("births", "Population")], 1 / np.abs(1 - share), rtol=1e-6)  # rounding only
    assert np.allclose(scores[("crowding deaths", "Population")], -share / np.abs(1 - share), rtol=1e-6)


def test_logistic_relative_scores_match_theory_and_sum_to_one(logistic):
    graph, _, time, values, result = logistic
    (reinforcing,), (balancing,) = by_polarity(result, "reinforcing"), by_polarity(result, "balancing")
    population = values["Population"]
    # From the link scores above: R / (|R| + |B|) = 1 / (1 + (P(t - dt) + P(t))/K) at t,
    # balancing negative; in continuous time 1 / (1 + 2P/K), one half at P = K/2.
    theory = 1 / (1 + (population[:-1] + population[1:]) / 1000.0)
    assert np.allclose(reinforcing, theory, rtol=1e-9)
    assert np.all(balancing <= 0) and np.all(reinforcing >= 0)
    assert np.allclose(np.abs(reinforcing) + np.abs(balancing), 1.0, atol=1e-12)
    assert result.count == 2


def test_logistic_reinforcing_loop_dominates_until_half_capacity(logistic):
    _, compiled, time, values, result = logistic
    (reinforcing,), (balancing,) = by_polarity(result, "reinforcing"), by_polarity(result, "balancing")
    dt = time[1] - time[0]
    half = time[np.argmax(values["Population"] >= 500.0)]
    switch = result.time[np.argmax(np.abs(balancing) > reinforcing)]
    # Theory: the switch is where P(t - dt) + P(t) = K, within a step of P = K/2.
    assert abs(switch - half) <= dt + 1e-9
    assert np.all(reinforcing[result.time < half - dt] > 0.5)
    assert np.all(np.abs(balancing)[result.time > half + dt] > 0.5)


# Simlin's published relative loop scores (percent) of its logistic growth model, at the times
# given: bpowers/simlin, test/logistic_growth_ltm/ltm_results.tsv (the Stella reference that
# Simlin's own tests compare with, commit b92f8d1a), loops r1 (population -> net birth rate) and
# b1 (through the fraction of carrying capacity used). Printed to three significant digits.
SIMLIN_LOGISTIC = {  # time: (r1, b1)
    1: (99.40, -0.56), 2: (99.40, -0.63), 3: (99.30, -0.70), 5: (99.10, -0.88), 10: (98.50, -1.54),
    20: (95.40, -4.64), 30: (86.70, -13.30), 40: (67.20, -32.80), 45: (53.10, -46.90), 46: (50.10, -49.90),
    47: (47.10, -52.90), 50: (38.30, -61.70), 60: (15.30, -84.70), 70: (4.85, -95.10), 80: (1.41, -98.60),
    90: (0.40, -99.60), 100: (0.11, -99.90),
}

# Schoenberg, Davidsen and Eberlein (2020), "Understanding model behavior using the Loops that
# Matter method", System Dynamics Review 36(2), table 3: the Bass model's relative loop scores
# (as summarised in bpowers/simlin, docs/reference/papers/schoenberg2020-loops-that-matter--summary.md).
PAPER_BASS = {1: (1.000, -0.000), 9.5: (0.535, -0.465), 9.5625: (0.512, -0.488), 9.625: (0.488, -0.512),
              15: (0.000, -1.000)}  # time: (R1, B1)


def published_pair(result, expected: dict, percent: float):
    """Our (reinforcing, balancing) relative scores at the published times, in the published unit."""
    (reinforcing,), (balancing,) = by_polarity(result, "reinforcing"), by_polarity(result, "balancing")
    ours, theirs = [], []
    for t, pair in expected.items():
        k = int(np.flatnonzero(np.isclose(result.time, t))[0])  # the same time, no shift
        ours.append((reinforcing[k] * percent, balancing[k] * percent))
        theirs.append(pair)
    return np.array(ours), np.array(theirs)


def test_logistic_scores_equal_simlins_published_ones_at_the_same_times():
    graph, model = prepared("logistic_simlin.mdl")
    ours, theirs = published_pair(dominance(graph, model, every_step(model)), SIMLIN_LOGISTIC, 100)
    # to 0.1 points: the published numbers are rounded to three significant digits (0.05 points)
    assert np.max(np.abs(ours - theirs)) <= 0.1, np.max(np.abs(ours - theirs))


def test_bass_scores_equal_the_papers_table_at_the_same_times():
    graph, model = prepared("bass_2020.mdl")
    ours, theirs = published_pair(dominance(graph, model, every_step(model)), PAPER_BASS, 1)
    # to 0.1 points (0.001): the table is rounded to three decimals
    assert np.max(np.abs(ours - theirs)) <= 0.001, np.max(np.abs(ours - theirs))


def test_bass_word_of_mouth_dominates_until_the_peak_of_adoption():
    graph, model = prepared("bass.mdl")
    result = dominance(graph, model, every_step(model))
    time, values = run_for_ltm(model)
    dt = time[1] - time[0]
    loops = {loop.polarity + ":" + ",".join(sorted(loop.variables)): result.scores[loop.id] for loop in result.loops}
    word_of_mouth = loops["reinforcing:Adopters,adoption from word of mouth,adoption rate"]
    saturation = loops["balancing:Potential Adopters,adoption from word of mouth,adoption rate"]
    peak = time[np.argmax(values["adoption rate"])]
    # Bass (1969): adoption peaks at ln(q/p)/(p+q) = 3.25 years for p = 0.011, q = 1.5.
    assert abs(peak - np.log(1.5 / 0.011) / 1.511) < 2 * dt
    switch = result.time[np.argmax(np.abs(saturation) > word_of_mouth)]
    assert abs(switch - peak) <= 2 * dt + 1e-9
    before, after = result.time < peak - 2 * dt, result.time > peak + 2 * dt
    assert np.all(word_of_mouth[before] > np.abs(saturation[before]))
    assert np.all(np.abs(saturation[after]) > word_of_mouth[after])
    total = sum(np.abs(s) for s in result.scores.values())
    assert np.allclose(total, 1.0, atol=1e-12)


def test_sketch_polarities_agree_on_the_drawn_models():
    for name in ("logistic.mdl", "bass.mdl"):
        graph, _ = prepared(name)
        _, loops, _ = find_loops(graph)
        report = compare_with_sketch(graph, loops, read_sketch(MODELS / name))
        assert len(report["links"]) >= 5 and len(report["loop_markers"]) == 2
        assert report["disagreements"] == []


def test_a_wrongly_drawn_polarity_is_reported(tmp_path, cli):
    text = (MODELS / "logistic.mdl").read_text(encoding="utf-8")
    # Draw carrying capacity -> crowding deaths as positive (code 43 = '+', 45 = '-'), and the
    # balancing loop's marker as reinforcing.
    text = text.replace("1,18,15,11,0,0,45,", "1,18,15,11,0,0,43,").replace("\nB\n", "\nR\n")
    path = tmp_path / "logistic-misdrawn.mdl"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "loops.json"
    code, stdout, _ = cli("loops", path, "--json", out)
    assert code == 0
    disagreements = json.loads(out.read_text())["sketch"]["disagreements"]
    links = [(d["source"], d["target"], d["drawn"], d["computed"]) for d in disagreements if "source" in d]
    markers = [(d["drawn"], d["computed"]) for d in disagreements if "source" not in d]
    assert links == [("carrying capacity", "crowding deaths", "+", "-")]
    assert markers == [("reinforcing", "balancing")]
    assert "2 places where the sketch disagrees" in stdout


def test_dominance_json_and_pictures(cli, tmp_path):
    out, plots = tmp_path / "loops.json", tmp_path / "plots"
    code, _, _ = cli("loops", MODELS / "bass.mdl", "--dominance", "--json", out, "--plot", plots)
    assert code == 0
    data = json.loads(out.read_text())
    assert set(data["dominance"]) == {"time", "scores"}
    assert set(data["dominance"]["scores"]) == {loop["id"] for loop in data["loops"]}
    n = len(data["dominance"]["time"])
    assert 100 <= n <= 240 and all(len(s) == n for s in data["dominance"]["scores"].values())
    names = sorted(p.name for p in plots.iterdir())
    assert "dominance.png" in names and "sfd-view-1.png" in names
    assert sum(name.startswith("cld-") for name in names) == 3
    assert all((plots / name).stat().st_size > 10_000 for name in names)


def test_holding_loops_stops_at_a_limit_before_memory_runs_out():
    # The explorer holds every loop of a model in memory; past its limit it says so instead.
    from sdlib.analysis.graph import causal_graph
    from sdlib.analysis.ltm import TooManyLoops, loop_batches
    from sdlib.core.spec import load_spec

    graph = causal_graph(load_spec(MODELS / "bass.mdl"))
    assert sum(len(b[0]) for b in loop_batches(graph, limit=10)("")) == 3
    with pytest.raises(TooManyLoops, match="more than 2 feedback loops"):
        loop_batches(graph, limit=2)


def test_a_smooth_scores_as_the_stock_it_is(tmp_path):
    # SMOOTH(S, 2) is the stock p' = (S - p)/2. Written both ways in one model, the link
    # S -> SMOOTH scores what the explicit stock's two links do together: S -> adjustment
    # (|D S / (D S - D p)|) times adjustment -> p (1, its only flow).
    path = tmp_path / "smooth.mdl"
    path.write_text("""{UTF-8}
S = INTEG(growth - loss, 10) ~~|
growth = 0.1 * S ~~|
loss = 0.05 * perceived a ~~|
perceived a = SMOOTH(S, 2) ~~|
perceived b = INTEG(adjustment b, 10) ~~|
adjustment b = (S - perceived b) / 2 ~~|
FINAL TIME = 20 ~~|
INITIAL TIME = 0 ~~|
SAVEPER = 0.25 ~~|
TIME STEP = 0.25 ~~|
""", encoding="utf-8")
    graph, model = prepared(path)
    time, values = run_for_ltm(model)
    np.testing.assert_allclose(values["perceived a"], values["perceived b"], rtol=1e-13)
    scores = link_scores(graph, model, time, values,
                         [("S", "perceived a"), ("S", "adjustment b"), ("adjustment b", "perceived b")])
    np.testing.assert_allclose(scores[("adjustment b", "perceived b")], 1.0, rtol=1e-9)
    np.testing.assert_allclose(scores[("S", "perceived a")],
                               scores[("S", "adjustment b")] * scores[("adjustment b", "perceived b")], rtol=1e-6)
    # the smooth lags S (from the second step on; at the first its net flow was 0 and moves by D S / 2)
    assert scores[("S", "perceived a")][0] == pytest.approx(1.0) and (scores[("S", "perceived a")][1:] > 1).all()
