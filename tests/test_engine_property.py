"""Property: on any expression over the engine's functions and operators, the batch engine gives
PySD's number to the last bit, or refuses; it never answers differently.

Hypothesis writes random expressions (precedence, unary minus, powers, MIN/MAX/IF THEN ELSE,
logical operators, lookups, nested calls, functions of time); each example is a model of several
of them, run by PySD and by the batch engine in its exact mode (numpy's own loops for EXP, LN,
..., as PySD calls them). An expression PySD cannot evaluate (a division by zero, a complex
number) is left out, and so is one PySD evaluates to an infinity (the engine stops such a run as
diverged); one the engine refuses names its variable and is left out; every other one must be
equal in every bit at every saved time.

TOKENWORLD_PROPERTY_EXAMPLES sets how many models are tried (default 12, the same ones each run).
"""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st

from sdlib.core.errors import BadInput, ModelError
from sdlib.core.spec import load_spec
from sdlib.engine import compile_spec

EXPRESSIONS_PER_MODEL = 12
NAMES = ["a", "b", "c", "x", "Time"]
FUNCTIONS = {"MIN": 2, "MAX": 2, "ABS": 1, "EXP": 1, "LN": 1, "SQRT": 1, "SIN": 1, "COS": 1, "TAN": 1,
             "ARCTAN": 1, "ARCSIN": 1, "TANH": 1, "INTEGER": 1, "MODULO": 2, "QUANTUM": 2, "XIDZ": 3, "ZIDZ": 2,
             "POWER": 2, "LOG": 2, "STEP": 2, "RAMP": 3, "PULSE": 2, "lk": 1}
MODEL = """{UTF-8}
a = 1.5
 ~ Dmnl ~ |
b = -2.25
 ~ Dmnl ~ |
c = 3
 ~ Dmnl ~ |
x = Time * 0.7 - 1
 ~ Dmnl ~ |
lk(
 [(-2,-1)-(4,3)],(-2,-1),(0,0.5),(1,2),(4,3))
 ~ Dmnl ~ |
%s
FINAL TIME = 2
 ~ Year ~ |
INITIAL TIME = 0
 ~ Year ~ |
SAVEPER = 0.5
 ~ Year ~ |
TIME STEP = 0.25
 ~ Year ~ |
"""

numbers = st.one_of(st.integers(-4, 9).map(str), st.sampled_from(["0.5", "2.25", "0.001", "7.5", "1e-07", "0", "-3",
                                                                 "-0.5", "100"]))
leaves = st.one_of(numbers, st.sampled_from(NAMES))


def _extend(inner):
    binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^"]), inner).map(lambda t: " ".join(t))
    chain = st.tuples(inner, st.sampled_from(["^", "-", "/"]), inner, st.sampled_from(["^", "-", "*"]), inner).map(
        lambda t: " ".join(t))
    negative = inner.map(lambda e: f"-{e}" if not e.startswith("-") else f"-({e})")
    parens = inner.map(lambda e: f"({e})")
    calls = st.sampled_from(sorted(FUNCTIONS)).flatmap(
        lambda name: st.lists(inner, min_size=FUNCTIONS[name], max_size=FUNCTIONS[name]).map(
            lambda args: f"{name}({', '.join(args)})"))
    comparison = st.tuples(inner, st.sampled_from(["<", ">", "=", "<>", "<=", ">="]), inner).map(lambda t: " ".join(t))
    condition = st.one_of(comparison, st.tuples(comparison, st.sampled_from([":AND:", ":OR:"]), comparison).map(
        lambda t: " ".join(t)), comparison.map(lambda c: f":NOT: ({c})"))
    choice = st.tuples(condition, inner, inner).map(lambda t: f"IF THEN ELSE({t[0]}, {t[1]}, {t[2]})")
    inline = inner.map(lambda e: f"WITH LOOKUP({e}, ([(0,0)-(10,10)],(0,1),(2,4),(5,2),(10,3)))")
    return st.one_of(binary, chain, negative, parens, calls, choice, inline, condition.map(lambda c: f"({c}) * 2"))


expressions = st.recursive(leaves, _extend, max_leaves=7)


def _equations(texts: list[str]) -> str:
    return "\n".join(f"y{i} = {text}\n ~ Dmnl ~ |" for i, text in enumerate(texts))


def pysd_columns(folder, texts: list[str]) -> dict:
    """Each y column PySD computes as a real number (NaN and infinities included); the others are left
    out. PySD evaluates the model's constants together, so one that fails (a division by zero) fails
    every column: those are then run again one expression per model."""
    out = _pysd_columns(folder / "all.mdl", texts, range(len(texts)))
    for i in range(len(texts)):
        if i not in out:
            out.update(_pysd_columns(folder / f"y{i}.mdl", ["0"] * i + [texts[i]], [i]))
    return out


def _pysd_columns(path, texts: list[str], wanted) -> dict:
    import pysd

    path.write_text(MODEL % _equations(texts), encoding="utf-8")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            model = pysd.read_vensim(str(path))
        except Exception:  # a text PySD cannot translate is no example
            return {}
        out = {}
        for i in wanted:
            try:
                column = model.run(return_columns=[f"y{i}"])[f"y{i}"]
                values = [complex(v) for v in column]
            except Exception:  # PySD fails on this expression (division by zero, ...)
                continue
            if all(v.imag == 0 for v in values):
                out[i] = np.array([v.real for v in values])
        return out


def engine_columns(path, texts: list[str]) -> tuple[dict, set]:
    """Each y column from the batch engine (exact mode), and the ones it refused (named in its error)."""
    refused: set = set()
    while True:
        equations = [("0" if i in refused else t) for i, t in enumerate(texts)]
        path.write_text(MODEL % _equations(equations), encoding="utf-8")
        try:
            spec = load_spec(path)
        except ModelError:  # PySD's parser does not read this text: no example
            reject()
        try:
            frame = compile_spec(spec, exact=True).run().to_frame(0)
            return {i: frame[f"y{i}"].to_numpy() for i in range(len(texts)) if i not in refused}, refused
        except BadInput as exc:
            named = re.search(r"'y(\d+)'", str(exc))
            assert named, f"a refusal must name the variable: {exc}"
            refused.add(int(named.group(1)))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")  # the strategy's long repr
@settings(max_examples=int(os.environ.get("TOKENWORLD_PROPERTY_EXAMPLES", "12")), deadline=None,
          derandomize="TOKENWORLD_PROPERTY_EXAMPLES" not in os.environ, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(expressions, min_size=EXPRESSIONS_PER_MODEL, max_size=EXPRESSIONS_PER_MODEL))
def test_batch_engine_equals_pysd_to_the_last_bit_or_refuses(tmp_path_factory, texts):
    folder = tmp_path_factory.mktemp("property")
    path = folder / "model.mdl"
    path.write_text(MODEL % _equations(texts), encoding="utf-8")
    pysd_folder = folder / "pysd"
    pysd_folder.mkdir()
    reference = pysd_columns(pysd_folder, texts)
    # What PySD cannot evaluate is no example; what it evaluates to an infinity the engine stops as a
    # diverged run (exit 3) instead of carrying it: both are left out of the engine's model.
    kept = [t if i in reference and np.isfinite(reference[i][~np.isnan(reference[i])]).all() else "0"
            for i, t in enumerate(texts)]
    reference = {i: v for i, v in reference.items() if kept[i] != "0" or texts[i] == "0"}
    ours, refused = engine_columns(path, kept)
    for i, theirs in reference.items():
        if i not in refused:
            np.testing.assert_array_equal(ours[i], theirs, err_msg=f"y{i} = {texts[i]}")
    event(f"compared: {len([i for i in reference if i not in refused])} of {len(texts)}")
    event(f"refused by the engine: {len(refused)}")
