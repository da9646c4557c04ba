"""Property-based tests (Hypothesis) of what users type and send (issue 16): `--set`, `--policy`,
scenario files and the explorer's `/api/run`. Whatever the input, the command either runs (its
folder complete, with the values and levers asked for) or exits 2 with one line and writes nothing; the server answers 200, or 400, 403
or 413 with a JSON reason; never a traceback, a partial write or an HTTP 500. The strategies are in
`tests/fuzzing.py`; `bench/fuzz.py` runs them at length and counts.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from fuzzing import (
    check_policies,
    check_set,
    judge_cli,
    judge_response,
    policy_items,
    request_bodies,
    run_cli,
    scenario_texts,
    set_items,
    tree,
)
from hypothesis import HealthCheck, given, settings

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


def outcome(args: list[str], files: dict | None = None, check=None) -> tuple[str, str]:
    work = Path(tempfile.mkdtemp(prefix="tokenworld-fuzz-"))
    try:
        for name, text in (files or {}).items():
            (work / name).write_text(text, encoding="utf-8", errors="surrogateescape")
        before = tree(work)
        code, _, err = run_cli([*args, "--no-plots", "--out", "out"], work)
        kind, why = judge_cli(code, err, work, before, work / "out")
        wrong = check(work / "out") if kind == "ran" and check else None
        return ("wrong", wrong) if wrong else (kind, why)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@SETTINGS
@given(items=set_items)
def test_any_set_runs_or_is_refused_in_one_line(items):
    args = ["run", "paper", "--final-time", "2026"] + [a for item in items for a in ("--set", item)]
    kind, why = outcome(args, check=lambda out: check_set(items, out))
    assert kind in ("ran", "refused"), f"{args}: {why}"


@SETTINGS
@given(items=policy_items)
def test_any_policy_runs_or_is_refused_in_one_line(items):
    args = ["run", "paper", "--final-time", "2030"] + [a for item in items for a in ("--policy", item)]
    kind, why = outcome(args, check=lambda out: check_policies(items, out))
    assert kind in ("ran", "refused"), f"{args}: {why}"


@SETTINGS
@given(text=scenario_texts)
def test_any_scenario_file_runs_or_is_refused_in_one_line(text):
    kind, why = outcome(["run", "fuzzed.toml"], {"fuzzed.toml": text})
    assert kind != "crash", f"{text!r}: {why}"


@pytest.fixture(scope="module")
def client():
    from sdlib.explorer.app import create_app

    return create_app().test_client()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=request_bodies)
def test_any_request_is_answered_with_json(client, body):
    response = client.post("/api/run", data=body, content_type="application/json")
    kind, why = judge_response(response)
    assert kind != "crash", f"{body[:200]!r}: {why}"
