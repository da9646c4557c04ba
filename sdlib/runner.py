"""One run, start to finish: resolve the scenario, check every input, simulate, write the folder.

Everything that can be refused is checked before anything is written, so bad input leaves no
trace; the run folder appears whole or not at all (see `rundir`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import BadInput
from .modelspec import file_sha256, load_spec
from .paths import display_path
from .plots import HEADLINE, plot_run
from .registry import resolve_overrides
from .rundir import atomic_dir, check_target, new_run_dir, provenance, write_json, write_timeseries
from .scenario import Scenario
from .simulate import Controls, SimResult, model_controls, simulate


@dataclass
class RunRequest:
    """What the user asked for, before checking."""

    scenario: Scenario
    set: dict = field(default_factory=dict)  # NAME -> value from --set
    policies: list[dict] = field(default_factory=list)  # from --policy
    final_time: float | None = None
    time_step: float | None = None
    engine: str = "pysd"
    out: Path | None = None
    plots: bool = True
    progress: bool | None = None
    command: str | None = None  # the command line that reproduces the run, when not sys.argv


@dataclass
class ResolvedRun:
    """A request checked against the model: ready to simulate."""

    request: RunRequest
    controls: Controls
    overrides: dict  # model name -> number, from the scenario and --set
    policies: list[dict]  # policies with all arguments resolved
    policy_overrides: dict  # model name -> time series, what the policies add

    @property
    def params(self) -> dict:
        """What the engine receives: policies' time series win over plain numbers they combine with."""
        return {**self.overrides, **self.policy_overrides}


@dataclass
class RunOutcome:
    folder: Path
    result: SimResult


def parse_set(items: list[str]) -> dict:
    """`--set "NAME=VALUE"` strings into a dict; the value is checked later against the model."""
    found = {}
    for item in items or []:
        if "=" not in item:
            raise BadInput(f"--set {item!r}: expected NAME=VALUE, e.g. --set \"capital share=0.3\"")
        name, value = item.split("=", 1)
        if not name.strip():
            raise BadInput(f"--set {item!r}: the name before '=' is empty")
        found[name.strip()] = value.strip()
    return found


def resolve(request: RunRequest) -> ResolvedRun:
    """Check the scenario, overrides, policies and time grid against the model."""
    scenario = request.scenario
    spec = load_spec(scenario.model)
    controls = model_controls(
        scenario.model,
        final_time=request.final_time if request.final_time is not None else scenario.final_time,
        time_step=request.time_step if request.time_step is not None else scenario.time_step,
    )
    source = scenario.source.name if scenario.source else scenario.name
    overrides = resolve_overrides(spec, scenario.overrides, source=source)
    overrides.update(resolve_overrides(spec, request.set, source="--set"))
    policies, policy_overrides = _resolve_policies(spec, scenario.policies + request.policies, controls, overrides)
    return ResolvedRun(request, controls, overrides, policies, policy_overrides)


def _resolve_policies(spec, policies, controls, overrides):
    if not policies:
        return [], {}
    from .policy import apply_policies

    return apply_policies(spec, policies, controls, overrides)


def manifest(resolved: ResolvedRun, result: SimResult, seconds: float) -> dict:
    scenario = resolved.request.scenario
    model = Path(scenario.model)
    data = {
        "scenario": scenario.name,
        "description": scenario.description,
        "scenario_file": display_path(scenario.source) if scenario.source else None,
        "extends": scenario.chain,
        "status": result.status,
        "engine": result.engine,
        **resolved.controls.as_dict(),
        "saved_rows": int(len(result.frame)),
        "overrides": {k: _series_json(v) for k, v in resolved.overrides.items()},
        "policies": resolved.policies,
        "policy_overrides": {k: _series_json(v) for k, v in resolved.policy_overrides.items()},
        "model_file": display_path(model),
        "model_sha256": file_sha256(model),
        "seconds": round(seconds, 3),
        **provenance(),
    }
    if resolved.request.command:
        data["command"] = resolved.request.command
    if result.status == "diverged":
        data["diverged_at"] = result.diverged_at
        if result.culprit:
            data["diverged_variable"] = result.culprit
    return data


def _series_json(value):
    if isinstance(value, pd.Series):
        return {"time": [float(t) for t in value.index], "value": [float(v) for v in value.to_numpy()]}
    return value


def execute(request: RunRequest) -> RunOutcome:
    """Resolve, simulate, and write the run folder. Raises BadInput before writing anything."""
    resolved = resolve(request)
    target = check_target(request.out) if request.out else new_run_dir(request.scenario.name)
    started = time.perf_counter()
    result = simulate(
        request.scenario.model, resolved.params, resolved.controls, engine=request.engine, progress=request.progress
    )
    seconds = time.perf_counter() - started
    spec = load_spec(request.scenario.model)
    units = {el.name: el.units for el in spec.elements.values()}
    with atomic_dir(target) as tmp:
        write_timeseries(result.frame, tmp / "timeseries.csv")
        write_json(manifest(resolved, result, seconds), tmp / "manifest.json")
        if request.plots:
            names = HEADLINE if any(n in result.frame.columns for n in HEADLINE) else _stock_names(spec)
            plot_run(result.frame, units, tmp / "plots", request.scenario.name, names, result.diverged_at)
    return RunOutcome(folder=target, result=result)


def _stock_names(spec) -> list[str]:
    """For models other than Tokenworld: plot their stocks."""
    return [el.name for el in spec.of_kind("stock")][:24]


def run_scenario(scenario: str | Scenario, set: dict | None = None, policies: list[dict] | None = None,
                 final_time=None, time_step=None, engine: str = "pysd") -> SimResult:
    """Simulate a scenario in memory, with the same checks as `tokenworld run` but no folder.

    >>> run_scenario("paper", set={"token return parameter": 0.4}).frame["Output per developer"]  # doctest: +SKIP
    """
    from .scenario import load_scenario

    scenario = load_scenario(scenario) if isinstance(scenario, str) else scenario
    request = RunRequest(scenario=scenario, set=dict(set or {}), policies=list(policies or []),
                         final_time=final_time, time_step=time_step, engine=engine)
    resolved = resolve(request)
    return simulate(scenario.model, resolved.params, resolved.controls, engine=engine, progress=False)
