"""Fuzz the command line and the explorer server with the suite's Hypothesis strategies, and count.

    python bench/fuzz.py [--examples N] [--seed S]        # prints JSON

For each target (`--set`, `--policy`, scenario files, `/api/run`) it draws N inputs (the same ones
for a given seed), runs each in this process and sorts the outcome (see tests/fuzzing.py): "ran",
"refused" (exit 2 with one line and nothing written; HTTP 400/403/413 with a JSON reason),
"wrong" (ran, but not with the values or levers asked for) or "crash" (anything else), with the
first few crashes and wrong answers of each target. docs/reliability.md quotes its numbers.
Run it from a checkout; PYTHONPATH=OTHER_CHECKOUT fuzzes another version of the code with the same
inputs (how the crashes on main before issue 16 were counted).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("MPLBACKEND", "Agg")

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
from hypothesis import HealthCheck, Phase, given, seed, settings


def cli_outcome(args: list[str], files: dict | None = None, check=None):
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


def drawn(strategy, examples: int, rng_seed: int) -> list:
    """The inputs a seed gives. Drawn before Tokenworld (or numpy) is imported and before anything
    runs: Hypothesis's draws change with the interpreter's state, and the point is to give the same
    inputs to any version of the code."""
    values: list = []

    @seed(rng_seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(value=strategy)
    def draw(value):
        values.append(value)

    draw()
    return values


def campaign(name: str, values: list, outcome_of) -> dict:
    counts: Counter = Counter()
    failures: list[str] = []
    started = time.perf_counter()
    for value in values:
        try:
            kind, why = outcome_of(value)
        except BaseException as exc:
            kind, why = "crash", f"{type(exc).__name__}: {exc}"
        counts[kind] += 1
        if kind in ("crash", "wrong") and sum(f.startswith(kind) for f in failures) < 5:
            failures.append(f"{kind}: {value!r}"[:170] + f" -> {why[:200]}")
    digest = hashlib.sha256("\n".join(map(repr, values)).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return {"target": name, "inputs": sum(counts.values()), **{k: counts.get(k, 0) for k in ("ran", "refused", "crash", "wrong")},
            "seconds": round(time.perf_counter() - started, 1), "inputs_sha256": digest, "first_failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=250)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    inputs = {name: drawn(strategy, args.examples, args.seed) for name, strategy in
              (("--set", set_items), ("--policy", policy_items), ("scenario file", scenario_texts),
               ("/api/run", request_bodies))}
    import sdlib
    from sdlib.explorer.app import create_app

    client = create_app().test_client()
    outcome_of = {
        "--set": lambda items: cli_outcome(["run", "paper", "--final-time", "2026"] + [a for i in items for a in ("--set", i)],
                                           check=lambda out: check_set(items, out)),
        "--policy": lambda items: cli_outcome(
            ["run", "paper", "--final-time", "2030"] + [a for i in items for a in ("--policy", i)],
            check=lambda out: check_policies(items, out)),
        "scenario file": lambda text: cli_outcome(["run", "fuzzed.toml"], {"fuzzed.toml": text}),
        "/api/run": lambda body: judge_response(client.post("/api/run", data=body, content_type="application/json")),
    }
    results = [campaign(name, values, outcome_of[name]) for name, values in inputs.items()]
    total = {k: sum(r[k] for r in results) for k in ("inputs", "ran", "refused", "crash", "wrong")}
    print(json.dumps({"code": str(Path(sdlib.__file__).parent), "seed": args.seed, "total": total,
                      "targets": results}, indent=1))


if __name__ == "__main__":
    main()
