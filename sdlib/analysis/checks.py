"""Reality checks: the model's identities and extreme conditions, declared in a TOML file beside the model.

The file `<model>-checks.toml` (e.g. `models/tokenworld-checks.toml`) holds `[[identity]]` tables,
checked on every scenario in every saved year, `[[reality]]` tables (a scenario run with a few
parameters set, and the behaviour it must show), `[[divergence]]` tables (scenarios documented to
diverge) and `[[warning]]` tables (facts about a run worth a line in its manifest). This module reads
the file, checks every name against the model, and evaluates results it is given; `sdlib.check` runs
the scenarios.

A crashed or diverged run fails every check asked of it (unless its divergence is documented): a check
never passes on a run that did not finish.

>>> checks = load_checks("models/tokenworld-checks.toml", spec)          # doctest: +SKIP
>>> results = identity_results("baseline", frame, "ok", params, checks)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import BadInput
from ..core.spec import ModelSpec

RELATIONS = {"<=": np.less_equal, ">=": np.greater_equal, "<": np.less, ">": np.greater}
EXPECTATIONS = ("max", "min", "equals", "above_baseline", "below_baseline")


@dataclass
class Identity:
    id: str
    description: str
    left: str | None = None
    relation: str | None = None
    right: str | None = None
    rtol: float = 0.0
    variable: str | None = None
    min: float | None = None
    max: float | None = None
    nonnegative: list[str] = field(default_factory=list)
    when: dict = field(default_factory=dict)


@dataclass
class Expectation:
    what: str
    years: tuple[float, float] | None = None
    year: float | None = None
    growth: tuple[float, float] | None = None
    kind: str = "max"
    bound: float = 0.0
    rtol: float = 0.0


@dataclass
class Reality:
    id: str
    description: str
    scenario: str
    final_time: float | None
    set: dict
    expect: list[Expectation]
    status: str = "ok"


@dataclass
class Warning_:
    id: str
    left: str
    relation: str
    right: str
    message: str  # with {year}: the first saved year the relation holds


@dataclass
class Checks:
    path: Path
    identities: list[Identity]
    realities: list[Reality]
    final_time: float | None = None  # the year scenarios are run to for their identities
    divergences: dict = field(default_factory=dict)  # scenario -> documented reason it diverges
    warnings: list[Warning_] = field(default_factory=list)
    anchored: list[str] = field(default_factory=list)  # scenarios the anchors are checked on by default
    anchor_misses: dict = field(default_factory=dict)  # scenario -> {anchor id: documented reason it misses}


@dataclass
class CheckResult:
    id: str
    kind: str  # "identity" | "reality" | "anchor"
    scenario: str
    variable: str | None
    year: float | None
    value: float | None
    low: float | None
    high: float | None
    passed: bool
    description: str
    detail: str = ""
    distance: float | None = None  # anchors: how far outside the range, in range widths (0 inside)
    documented: bool = False  # a miss the checks file documents ([[anchor_miss]]): reported, not a failure

    def as_dict(self) -> dict:
        return {
            "id": self.id, "kind": self.kind, "scenario": self.scenario, "variable": self.variable,
            "year": self.year, "value": _json_number(self.value), "low": _json_number(self.low),
            "high": _json_number(self.high), "pass": self.passed, "source": self.description,
            "detail": self.detail, "distance": _json_number(self.distance), "documented": self.documented,
        }


def _json_number(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


# ---------------------------------------------------------------- reading

def checks_path(spec: ModelSpec) -> Path:
    """Where a model's checks live: `<model>-checks.toml` beside the `.mdl`."""
    return spec.path.with_name(spec.path.stem + "-checks.toml")


_READ: dict[tuple, Checks] = {}  # by (file name, its content's hash, the model's): read once, never changed


def load_checks(path: str | Path, spec: ModelSpec) -> Checks:
    """Read and validate a checks file: unknown keys or names are refused with the table's id."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path.name}: cannot read the checks file ({exc})") from None
    key = (path.name, hashlib.sha256(raw).hexdigest(), spec.sha256)
    if key not in _READ:
        _READ[key] = _parse_checks(path, text, spec)
    return _READ[key]


def _parse_checks(path: Path, text: str, spec: ModelSpec) -> Checks:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path.name}: not valid TOML ({exc})") from None
    keys = {"identity", "reality", "final_time", "divergence", "warning", "anchored", "anchor_miss"}
    unknown = set(data) - keys
    if unknown:
        raise BadInput(f"{path.name}: unknown key(s) {', '.join(sorted(unknown))} "
                       f"(expected some of {', '.join(sorted(keys))})")
    identities = [_identity(path, t, spec) for t in data.get("identity", [])]
    realities = [_reality(path, t, spec) for t in data.get("reality", [])]
    ids = [c.id for c in identities + realities]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise BadInput(f"{path.name}: check id(s) used twice: {', '.join(sorted(dup))}")
    final = _number(path, "final_time", "final_time", data["final_time"]) if "final_time" in data else None
    divergences = {}
    for t in data.get("divergence", []):
        _keys(path, "a [[divergence]]", t, {"scenario", "reason"})
        if not t.get("scenario") or not t.get("reason"):
            raise BadInput(f"{path.name}: each [[divergence]] needs a 'scenario' and the 'reason' it diverges")
        divergences[str(t["scenario"])] = str(t["reason"])
    warnings = [_warning(path, t, spec) for t in data.get("warning", [])]
    anchored = data.get("anchored", [])
    if not isinstance(anchored, list) or not all(isinstance(a, str) for a in anchored):
        raise BadInput(f"{path.name}: 'anchored' must be a list of scenario names")
    misses: dict = {}
    for t in data.get("anchor_miss", []):
        _keys(path, "an [[anchor_miss]]", t, {"scenario", "anchor", "reason"})
        if not all(isinstance(t.get(k), str) and t.get(k) for k in ("scenario", "anchor", "reason")):
            raise BadInput(f"{path.name}: each [[anchor_miss]] needs a 'scenario', the 'anchor' id and the 'reason' it misses")
        misses.setdefault(t["scenario"], {})[t["anchor"]] = t["reason"]
    return Checks(path, identities, realities, final, divergences, warnings, list(anchored), misses)


def _warning(path, t, spec) -> Warning_:
    where = f"warning '{t.get('id', '?')}'"
    _keys(path, where, t, {"id", "left", "relation", "right", "message"})
    if t.get("relation") not in RELATIONS or "id" not in t or "message" not in t:
        raise BadInput(f"{path.name}: {where}: needs 'id', 'left', 'relation' (one of {', '.join(RELATIONS)}), "
                       f"'right' and 'message'")
    return Warning_(str(t["id"]), _name(path, where, spec, t.get("left")), t["relation"],
                    _name(path, where, spec, t.get("right")), str(t["message"]))


def _name(path, where, spec, name) -> str:
    if not isinstance(name, str) or name not in spec:
        raise BadInput(f"{path.name}: {where}: no variable named {name!r} in {spec.path.name}")
    return spec[name].name


def _number(path, where, key, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadInput(f"{path.name}: {where}: '{key}' must be a finite number, got {value!r}")
    return float(value)


def _keys(path, where, table, allowed):
    extra = set(table) - set(allowed)
    if extra:
        raise BadInput(f"{path.name}: {where}: unknown key(s) {', '.join(sorted(extra))} "
                       f"(expected some of {', '.join(sorted(allowed))})")


def _identity(path, t, spec) -> Identity:
    where = f"identity '{t.get('id', '?')}'"
    _keys(path, where, t, {"id", "description", "left", "relation", "right", "rtol", "variable", "min", "max",
                           "nonnegative", "modes", "when"})
    if "id" not in t:
        raise BadInput(f"{path.name}: an [[identity]] has no 'id'")
    ident = Identity(id=str(t["id"]), description=str(t.get("description", "")))
    if "left" in t:
        if t.get("relation") not in RELATIONS:
            raise BadInput(f"{path.name}: {where}: 'relation' must be one of {', '.join(RELATIONS)}")
        ident.left = _name(path, where, spec, t["left"])
        ident.right = _name(path, where, spec, t.get("right"))
        ident.relation = t["relation"]
        ident.rtol = _number(path, where, "rtol", t.get("rtol", 0.0))
    elif "variable" in t:
        ident.variable = _name(path, where, spec, t["variable"])
        ident.min = _number(path, where, "min", t["min"]) if "min" in t else None
        ident.max = _number(path, where, "max", t["max"]) if "max" in t else None
    elif "nonnegative" in t:
        ident.nonnegative = [_name(path, where, spec, n) for n in t["nonnegative"]]
    else:
        raise BadInput(f"{path.name}: {where}: needs 'left'/'relation'/'right', 'variable' or 'nonnegative'")
    modes = t.get("modes")
    if modes is not None:
        if modes not in ("integrated", "paper"):
            raise BadInput(f"{path.name}: {where}: 'modes' must be integrated or paper")
        ident.when = {"frontier mode": 1.0 if modes == "integrated" else 0.0}
    return ident


def _reality(path, t, spec) -> Reality:
    where = f"reality '{t.get('id', '?')}'"
    _keys(path, where, t, {"id", "description", "scenario", "final_time", "set", "expect", "status"})
    for key in ("id", "scenario", "expect"):
        if key not in t:
            raise BadInput(f"{path.name}: {where}: missing '{key}'")
    sets = t.get("set", {})
    if not isinstance(sets, dict):
        raise BadInput(f"{path.name}: {where}: 'set' must be a table of NAME = VALUE")
    for name in sets:
        _name(path, where, spec, name)
    expects = [_expectation(path, where, spec, e) for e in t["expect"]]
    final = _number(path, where, "final_time", t["final_time"]) if "final_time" in t else None
    status = t.get("status", "ok")
    if status not in ("ok", "diverged"):
        raise BadInput(f"{path.name}: {where}: 'status' must be ok or diverged")
    return Reality(str(t["id"]), str(t.get("description", "")), str(t["scenario"]), final, dict(sets), expects,
                   status)


def _expectation(path, where, spec, e) -> Expectation:
    if not isinstance(e, dict):
        raise BadInput(f"{path.name}: {where}: each expectation must be a table")
    _keys(path, where, e, {"what", "years", "year", "growth", "rtol", *EXPECTATIONS})
    kinds = [k for k in EXPECTATIONS if k in e]
    if len(kinds) != 1:
        raise BadInput(f"{path.name}: {where}: an expectation needs exactly one of {', '.join(EXPECTATIONS)}")
    exp = Expectation(what=_name(path, where, spec, e.get("what")), kind=kinds[0],
                      bound=_number(path, where, kinds[0], e[kinds[0]]),
                      rtol=_number(path, where, "rtol", e.get("rtol", 0.0)))
    for key in ("years", "growth"):
        if key in e:
            span = e[key]
            if not (isinstance(span, list) and len(span) == 2):
                raise BadInput(f"{path.name}: {where}: '{key}' must be [from, to]")
            setattr(exp, key, tuple(_number(path, where, key, v) for v in span))
    if "year" in e:
        exp.year = _number(path, where, "year", e["year"])
    if exp.kind in ("above_baseline", "below_baseline") and exp.year is None:
        raise BadInput(f"{path.name}: {where}: '{exp.kind}' needs a 'year'")
    return exp


# ---------------------------------------------------------------- evaluating

def run_warnings(frame: pd.DataFrame, checks: Checks) -> list[str]:
    """The warnings whose relation holds in some saved year, each with the first such year."""
    found = []
    for w in checks.warnings:
        if w.left not in frame.columns or w.right not in frame.columns:
            continue
        holds = RELATIONS[w.relation](frame[w.left].to_numpy(dtype=float), frame[w.right].to_numpy(dtype=float))
        if holds.any():
            found.append(w.message.format(year=f"{frame.index[int(np.argmax(holds))]:g}"))
    return found


def status_result(scenario: str, status: str, diverged_at, checks: Checks) -> CheckResult:
    """A run completes (status ok), or diverges where the checks file documents that it must."""
    reason = checks.divergences.get(scenario)
    if reason:
        return CheckResult("documented-divergence", "reality", scenario, None, diverged_at, None, None, None,
                           status == "diverged", reason, f"status {status}")
    return CheckResult("run-completes", "reality", scenario, None, diverged_at, None, None, None, status == "ok",
                       "The run reaches its final time with every value finite", f"status {status}")

def _unfinished(check_id, kind, scenario, status, description, variable=None) -> CheckResult:
    return CheckResult(check_id, kind, scenario, variable, None, None, None, None, False, description,
                       f"the run did not finish (status {status})")


def identity_results(scenario: str, frame: pd.DataFrame, status: str, params: dict,
                     checks: Checks) -> list[CheckResult]:
    """Every identity on one run: one result each, naming the worst year."""
    results = []
    for ident in checks.identities:
        if any(float(params.get(k, v)) != v for k, v in ident.when.items()):
            continue
        if status != "ok":
            results.append(_unfinished(ident.id, "identity", scenario, status, ident.description,
                                       ident.left or ident.variable))
            continue
        results.append(_identity_result(scenario, frame, ident))
    return results


def _identity_result(scenario, frame, ident: Identity) -> CheckResult:
    times = frame.index.to_numpy(dtype=float)
    if ident.left:
        left = frame[ident.left].to_numpy(dtype=float)
        right = frame[ident.right].to_numpy(dtype=float)
        slack = np.abs(right) * ident.rtol
        bound = right + slack if ident.relation == "<=" else right - slack
        ok = RELATIONS[ident.relation](left, bound) & np.isfinite(left)
        # The year where the left side comes closest to (or furthest beyond) the right.
        ratio = np.where(right != 0, left / np.where(right == 0, 1, right), np.inf)
        i = int(np.argmax(ratio) if ident.relation == "<=" else np.argmin(ratio))
        i = int(np.argmin(ok)) if not ok.all() else i
        low, high = (None, bound[i]) if ident.relation == "<=" else (bound[i], None)
        return CheckResult(ident.id, "identity", scenario, ident.left, float(times[i]), float(left[i]), low, high,
                           bool(ok.all()), ident.description, f"{ident.left} {ident.relation} {ident.right}")
    if ident.variable:
        values = frame[ident.variable].to_numpy(dtype=float)
        lo = -np.inf if ident.min is None else ident.min
        hi = np.inf if ident.max is None else ident.max
        ok = (values >= lo) & (values <= hi)
        i = int(np.argmin(ok)) if not ok.all() else int(np.argmax(np.abs(values)))
        return CheckResult(ident.id, "identity", scenario, ident.variable, float(times[i]), float(values[i]),
                           ident.min, ident.max, bool(ok.all()), ident.description)
    worst_name, worst_value, worst_time = None, np.inf, None
    for name in ident.nonnegative:
        values = frame[name].to_numpy(dtype=float)
        j = int(np.argmin(values))
        if values[j] < worst_value:
            worst_name, worst_value, worst_time = name, values[j], times[j]
    return CheckResult(ident.id, "identity", scenario, worst_name, float(worst_time), float(worst_value), 0.0, None,
                       bool(worst_value >= 0), ident.description, "lowest of the listed stocks")


def reality_results(reality: Reality, frame: pd.DataFrame, status: str,
                    baseline: pd.DataFrame | None) -> list[CheckResult]:
    """The expectations of one extreme condition, on its run (and the base scenario's, for comparisons)."""
    if status != reality.status:
        return [_unfinished(reality.id, "reality", reality.scenario, status, reality.description, e.what)
                for e in reality.expect]
    return [_expectation_result(reality, e, frame, baseline) for e in reality.expect]


def _at(frame, name, year) -> float:
    times = frame.index.to_numpy(dtype=float)
    j = int(np.argmin(np.abs(times - year)))
    if abs(times[j] - year) > 1e-9:
        raise BadInput(f"reality check: year {year:g} is not a saved time of the run")
    return float(frame[name].to_numpy(dtype=float)[j])


def _expectation_result(reality, e: Expectation, frame, baseline) -> CheckResult:
    base = dict(id=reality.id, kind="reality", scenario=reality.scenario, variable=e.what,
                description=reality.description)
    if e.growth:
        a, b = e.growth
        value = math.log(_at(frame, e.what, b) / _at(frame, e.what, a)) / (b - a)
        ok = abs(value - e.bound) <= e.rtol * abs(e.bound)
        return CheckResult(**base, year=b, value=value, low=e.bound * (1 - e.rtol), high=e.bound * (1 + e.rtol),
                           passed=bool(ok), detail=f"growth over {a:g}-{b:g}")
    if e.kind in ("above_baseline", "below_baseline"):
        value = _at(frame, e.what, e.year)
        reference = _at(baseline, e.what, e.year) * e.bound
        ok = value > reference if e.kind == "above_baseline" else value < reference
        low, high = (reference, None) if e.kind == "above_baseline" else (None, reference)
        return CheckResult(**base, year=e.year, value=value, low=low, high=high, passed=bool(ok),
                           detail=f"{e.bound:g} x {reality.scenario}'s value")
    sub = frame[e.what]
    if e.year is not None:
        sub = sub.loc[[t for t in sub.index if abs(t - e.year) < 1e-9]]
    elif e.years is not None:
        sub = sub.loc[e.years[0]:e.years[1]]
    values = sub.to_numpy(dtype=float)
    if not len(values):
        raise BadInput(f"reality check '{reality.id}': no saved values of {e.what} in the years asked")
    if e.kind == "max":
        i = int(np.argmax(values))
        return CheckResult(**base, year=float(sub.index[i]), value=float(values[i]), low=None, high=e.bound,
                           passed=bool(values[i] <= e.bound))
    if e.kind == "min":
        i = int(np.argmin(values))
        return CheckResult(**base, year=float(sub.index[i]), value=float(values[i]), low=e.bound, high=None,
                           passed=bool(values[i] >= e.bound))
    i = int(np.argmax(np.abs(values - e.bound)))
    return CheckResult(**base, year=float(sub.index[i]), value=float(values[i]), low=e.bound * (1 - e.rtol),
                       high=e.bound * (1 + e.rtol), passed=bool(abs(values[i] - e.bound) <= e.rtol * abs(e.bound)))
