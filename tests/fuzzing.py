"""Inputs for property-based testing (Hypothesis) of the command line and the explorer server, and
the judge of an outcome. `tests/test_properties.py` runs them in the suite; `bench/fuzz.py` runs
many more and counts (docs/reliability.md).

An outcome is one of:
- "ran": exit 0 (or 3, diverged) and the run folder complete;
- "refused": exit 2, one line on stderr, nothing written (HTTP 400, 403 or 413 with a JSON reason);
- "crash": anything else: another exit code, a traceback, more than one line, a partial write, an
  exception out of `main`, an HTTP 500 or an HTML answer;
- "wrong": it ran, but not with what was asked (`check_set`, `check_policies`).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

from hypothesis import strategies as st

PARAMETERS = ["capital share", "token return parameter", "frontier mode", "adoption year", "developer growth rate",
              "efficiency investment share"]
# Values inside the declared ranges, so that a good share of the drawn inputs run.
PLAUSIBLE = {"capital share": st.floats(0.2, 0.5), "token return parameter": st.floats(0.1, 0.9),
             "frontier mode": st.sampled_from([0, 1, 0.5, 2]), "adoption year": st.integers(2020, 2110),
             "developer growth rate": st.floats(-0.05, 0.1), "efficiency investment share": st.floats(0, 0.1)}
POLICIES = ["token-price-subsidy", "frontier-rd", "efficiency-rd", "public-allocation", "grid-expansion"]
ARGUMENTS = ["start", "ramp", "size", "name", "unknown"]
RUN_FILES = {"results.nc", "timeseries.csv", "units.csv", "manifest.json"}

# Text that tends to break parsers: quotes, separators, escapes, control characters, huge numbers.
tricky_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "=", ":", ",", "==", "=:", "nan", "inf", "-inf", "1e999", "1" * 400, "0x10", "1_000",
                     "\x00", "\n", "'", '"', "\\", "--set", "é", "\u2028", "0.3 0.4", "[0,?]", "0:?", "?"]),
)
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6),
                    st.sampled_from([0, 0.3, 1, 2030, 2024, 2100, -1, 1e308]))
value_text = st.one_of(numbers.map(repr), numbers.map(str), tricky_text)
names = st.one_of(st.sampled_from(PARAMETERS), st.sampled_from(PARAMETERS).map(str.upper),
                  st.sampled_from(PARAMETERS).map(lambda n: "  " + n.replace(" ", "_") + " "), tricky_text)

plausible_set = st.sampled_from(sorted(PLAUSIBLE)).flatmap(
    lambda n: PLAUSIBLE[n].map(lambda v: f"{n}={v}"))
set_items = st.lists(st.one_of(plausible_set, plausible_set, st.builds(lambda n, v: f"{n}={v}", names, value_text),
                               tricky_text), max_size=4)
plausible_arguments = st.lists(st.one_of(st.tuples(st.just("start"), st.integers(2020, 2035)),
                                         st.tuples(st.just("size"), st.floats(0, 0.6)),
                                         st.tuples(st.just("ramp"), st.integers(0, 10))), max_size=3)
policy_items = st.lists(st.one_of(
    st.builds(lambda p, args: p + (":" + ",".join(f"{k}={v}" for k, v in args) if args else ""),
              st.sampled_from(POLICIES), plausible_arguments),
    st.builds(lambda p, args: p + (":" + ",".join(f"{k}={v}" for k, v in args) if args else ""),
              st.one_of(st.sampled_from(POLICIES), tricky_text),
              st.lists(st.tuples(st.one_of(st.sampled_from(ARGUMENTS), tricky_text), value_text), max_size=3)),
    tricky_text), max_size=3)

toml_scalars = st.one_of(st.text(max_size=20), st.booleans(), st.integers(-10**20, 10**20),
                         st.floats(allow_nan=True, allow_infinity=True))
toml_values = st.recursive(toml_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                 st.dictionaries(st.text(max_size=10), inner, max_size=3)),
                           max_leaves=8)
plausible_scenarios = st.fixed_dictionaries(
    {"extends": st.sampled_from(["paper", "baseline"]), "final_time": st.sampled_from([2026, 2030])},
    optional={"set": st.dictionaries(st.sampled_from(sorted(PLAUSIBLE)), st.floats(0.2, 0.5), max_size=2),
              "description": st.text(max_size=20), "time_step": st.sampled_from([0.0625, 0.03125, 0.1])})
scenario_tables = st.fixed_dictionaries({}, optional={
    "description": st.one_of(st.text(max_size=20), toml_values),
    "extends": st.one_of(st.sampled_from(["paper", "baseline", "nowhere", "self.toml"]), toml_values),
    "model": st.one_of(st.sampled_from(["models/tokenworld.mdl", "nowhere.mdl", "runs/paper.toml", ""]), toml_values),
    "final_time": st.one_of(st.sampled_from([2025, 2026, 2024, 2023, 2025.5, 1e9]), toml_values),
    "time_step": st.one_of(st.sampled_from([0.03125, 0.0625, 0, -1, 0.3]), toml_values),
    "set": st.one_of(st.dictionaries(names, st.one_of(numbers, toml_values), max_size=3), toml_values),
    "policy": st.one_of(st.lists(st.dictionaries(st.sampled_from(["name", "size", "start", "x"]),
                                                 st.one_of(st.sampled_from(POLICIES), numbers, toml_values),
                                                 max_size=3), max_size=2), toml_values),
    "colour": toml_values,
})
scenario_texts = st.one_of(plausible_scenarios.map(lambda t: toml_text(t)), scenario_tables.map(lambda t: toml_text(t)),
                           st.text(max_size=200),
                           st.binary(max_size=200).map(lambda b: b.decode("latin-1")))

json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False),
                                     st.integers(-10**40, 10**40), st.text(max_size=20)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=10), inner, max_size=3)),
                           max_leaves=10)
plausible_requests = st.fixed_dictionaries(
    {"scenario": st.sampled_from(["baseline", "paper"])},
    optional={"set": st.dictionaries(st.sampled_from(["capital share", "token return parameter"]), st.floats(0.2, 0.5),
                                     max_size=2),
              "policies": st.lists(st.fixed_dictionaries({"name": st.sampled_from(POLICIES)},
                                                         optional={"size": st.floats(0, 0.5),
                                                                   "start": st.integers(2024, 2040)}), max_size=2),
              "final_time": st.sampled_from([2030, 2050, 2100])})
request_bodies = st.one_of(
    plausible_requests.map(json.dumps),
    st.fixed_dictionaries({}, optional={
        "scenario": st.one_of(st.sampled_from(["baseline", "paper", "nowhere", ""]), json_values),
        "set": st.one_of(st.dictionaries(names, st.one_of(numbers.filter(lambda x: math.isfinite(x)), json_values),
                                         max_size=3), json_values),
        "policies": st.one_of(st.lists(st.dictionaries(st.sampled_from(["name", "size", "start", "ramp", "x"]),
                                                       st.one_of(st.sampled_from(POLICIES), numbers.filter(math.isfinite),
                                                                 json_values), max_size=3), max_size=3), json_values),
        "final_time": st.one_of(st.sampled_from([2030, 2024, 2023, 2030.5, 1e9, -5]), json_values),
        "extra": json_values,
    }).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=100),
)


def toml_text(table: dict) -> str:
    """A TOML rendering of what Hypothesis drew (keys quoted, values inline), or best effort."""
    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            return "nan" if v != v else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f"{json.dumps(str(k))} = {value(x)}" for k, x in v.items()) + "}"

    lines = []
    for key, v in table.items():
        if key == "set" and isinstance(v, dict):
            continue
        if key == "policy" and isinstance(v, list) and all(isinstance(p, dict) for p in v):
            continue
        lines.append(f"{json.dumps(key)} = {value(v)}")
    if isinstance(table.get("set"), dict):
        lines.append("[set]")
        lines += [f"{json.dumps(str(k))} = {value(x)}" for k, x in table["set"].items()]
    for policy in table.get("policy", []) if isinstance(table.get("policy"), list) else []:
        if isinstance(policy, dict):
            lines.append("[[policy]]")
            lines += [f"{json.dumps(str(k))} = {value(x)}" for k, x in policy.items()]
    return "\n".join(lines) + "\n"


def tree(folder: Path) -> set:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")} if folder.exists() else set()


def run_cli(args: list[str], workdir: Path) -> tuple[int | None, str, str]:
    """`tokenworld ARGS` in this process: (exit code, stdout, stderr); an exception out of main is a crash."""
    from sdlib.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(workdir):
        try:
            code = main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException as exc:
            err.write(f"Traceback (escaped main): {type(exc).__name__}: {exc}\n")
            code = None
    return code, out.getvalue(), err.getvalue()


def judge_cli(code, err: str, workdir: Path, before: set, out: Path) -> tuple[str, str]:
    """("ran" | "refused" | "crash", why) for one command line's outcome."""
    after = tree(workdir)
    temporaries = [p for p in after if ".tmp-" in p or ".tokenworld-claim" in p]
    if "Traceback" in err or code is None:
        return "crash", err.strip().splitlines()[-1] if err.strip() else "exception"
    if temporaries:
        return "crash", f"left {temporaries[0]}"
    if code == 2:
        if len(err.strip().splitlines()) != 1:
            return "crash", f"{len(err.strip().splitlines())} lines on stderr"
        if after != before:
            return "crash", f"exit 2 but wrote {sorted(after - before)[:3]}"
        return "refused", err.strip()
    if code in (0, 3):
        files = {p.name for p in out.iterdir()} if out.is_dir() else set()
        if not RUN_FILES <= files:
            return "crash", f"exit {code} but the folder holds {sorted(files)}"
        return "ran", ""
    return "crash", f"exit {code}: {err.strip()[:200]}"


def check_set(items: list[str], out: Path) -> str | None:
    """Why a run that ran did not use the values `--set` asked for (None when it did): the oracle
    that finds a silently wrong answer, such as a name given twice of which the last won."""
    import sdlib
    from sdlib.core.spec import name_key

    parameters = sdlib.Model.load().parameters
    overrides = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["overrides"]
    for item in items:
        name, _, value = item.partition("=")
        parameter = parameters.get(name_key(name))
        if parameter is not None and float(overrides.get(parameter.name, math.nan)) != float(value):
            return f"--set {item!r} ran with {parameter.name} = {overrides.get(parameter.name)}"
    return None


def check_policies(items: list[str], out: Path) -> str | None:
    """Why a run did not apply the levers `--policy` named, in order, with the arguments given
    (None when it did). An argument given twice must be refused: whichever value a run took, it
    was not the one the other half of the command line asked for."""
    ran = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["policies"]
    asked = [item.partition(":")[0].strip() for item in items]
    if [p["name"] for p in ran] != asked:
        return f"asked for {asked}, ran {[p['name'] for p in ran]}"
    for item, policy in zip(items, ran, strict=True):
        pairs = [pair.split("=", 1) for pair in item.partition(":")[2].split(",") if "=" in pair]
        keys = [k.strip() for k, _ in pairs]
        for key, value in pairs:
            if keys.count(key.strip()) > 1:
                return f"--policy {item!r}: {key.strip()!r} given twice, ran with {policy.get(key.strip())}"
            if float(policy[key.strip()]) != float(value):
                return f"--policy {item!r} ran with {key.strip()} = {policy[key.strip()]}"
    return None


def judge_response(response) -> tuple[str, str]:
    if response.status_code == 200:
        return "ran", ""
    if response.mimetype != "application/json":
        return "crash", f"HTTP {response.status_code} as {response.mimetype}"
    if response.status_code in (400, 403, 413):
        return "refused", response.get_json()["error"]
    return "crash", f"HTTP {response.status_code}: {response.get_json()}"
