"""The time grid of a run: initial and final time, Euler time step, save period.

One implementation serves every engine: PySD and the batch engine are both given these numbers,
and every result's time axis is `Controls.saved_times()`.

A model may write its controls as equations. Arithmetic on numbers, constants and the other
controls (`SAVEPER = 2 * TIME STEP`, `FINAL TIME = INITIAL TIME + 100`) is worked out here, with
any changed control in it (`--time-step 0.5` halves such a SAVEPER too). Anything else is taken as
PySD computes it at the start of the run, and a control that reads Time or a variable changes
during the run (`FINAL TIME = IF THEN ELSE(x > 50, Time, 100)`): it is `dynamic`, PySD follows it
step by step, and the saved times are the run's own.

A SAVEPER of the model's that is not a multiple of its TIME STEP is kept as PySD keeps it: values
are saved at the steps that fall on the SAVEPER grid (every 0.5 for SAVEPER 0.1 and TIME STEP
1/128). Given by a caller or a scenario, such a pair is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pysd.translators.structures import abstract_expressions as ax

from .errors import BadInput
from .registry import constant_value
from .spec import CONTROL_NAMES, ModelSpec, name_key

MAX_STEPS = 5e7


@dataclass(frozen=True)
class Controls:
    """A checked time grid (see `Controls.of`)."""

    initial_time: float
    final_time: float
    time_step: float
    saveper: float
    dynamic: tuple[str, ...] = ()  # controls (name keys) the model changes during the run: PySD follows them

    @property
    def n_steps(self) -> int:
        return int(round((self.final_time - self.initial_time) / self.time_step))

    @property
    def steps_per_save(self) -> int:
        return max(1, int(round(self.saveper / self.time_step)))

    @property
    def n_saved(self) -> int:
        return self.n_steps // self.steps_per_save + 1

    def saved_times(self) -> np.ndarray:
        """The times at which values are saved (rounded to 1e-10, so that years print as years)."""
        return np.round(self.initial_time + np.arange(self.n_saved) * self.steps_per_save * self.time_step, 10)

    def step_times(self) -> np.ndarray:
        """Every time step of the run."""
        return np.round(self.initial_time + np.arange(self.n_steps + 1) * self.time_step, 10)

    def every_step(self) -> Controls:
        """The same run, saving every time step (what the loop analysis needs)."""
        return Controls(self.initial_time, self.final_time, self.time_step, self.time_step, self.dynamic)

    def as_dict(self) -> dict:
        found: dict = {k: getattr(self, k) for k in ("initial_time", "final_time", "time_step", "saveper")}
        if self.dynamic:
            found["dynamic_controls"] = ", ".join(self.dynamic)
        return found

    @classmethod
    def of(cls, spec: ModelSpec, final_time=None, time_step=None, saveper=None,
           sources: dict[str, str] | None = None, values: Callable[[], dict] | None = None) -> Controls:
        """The model's own time grid with any changes, checked for sense.

        `sources` says where a changed value came from (a scenario file's name); a value without
        one is a caller's argument, and an error names that argument. `values()` gives the controls
        as PySD computes them at the start of a run, for those the model writes as equations
        beyond arithmetic (asked only then).
        """
        sources = sources or {}

        def origin(key: str) -> tuple[str, str | None]:
            """How an error names the value: "FILE: key" for a scenario file's, "key:" for an
            argument, "MODEL: KEY" for the model's own."""
            if key in sources:
                return f"{sources[key]}: {key}", None
            if key.replace("_", " ") in given:
                return f"{key}:", key
            return f"{spec.path.name}: {key.replace('_', ' ').upper()}", None

        def number(value, key: str) -> float:
            where, argument = (f"{sources[key]}: {key}", None) if key in sources else (f"{key}:", key)
            try:
                result = float(value)
            except (TypeError, ValueError):
                raise BadInput(f"{where} {value!r} is not a number", argument) from None
            if not math.isfinite(result):
                raise BadInput(f"{where} {value!r} is not finite (expected a real number)", argument)
            return result

        given: dict[str, float] = {}
        if final_time is not None:
            given["final time"] = number(final_time, "final_time")
        if time_step is not None:
            given["time step"] = number(time_step, "time_step")
        if saveper is not None:
            given["saveper"] = number(saveper, "saveper")
        found = dict(given)
        dynamic = []
        for key in ("initial time", "time step", "final time", "saveper"):
            if key in found:
                continue
            if key not in spec:
                if key == "saveper":
                    found[key] = found["time step"]
                    continue
                raise BadInput(f"{spec.path.name}: the model has no {key.upper()} (every Vensim model needs one)")
            value = _arithmetic(spec, spec[key].ast, found)
            if value is None:
                if values is None:
                    raise BadInput(f"{spec.path.name}: '{key}' must be a number in the model")
                value = values()[key]
                if _reads_the_run(spec, key):
                    dynamic.append(key)
            found[key] = value
        initial, final, dt, saveper = (found[k] for k in ("initial time", "final time", "time step", "saveper"))
        where, argument = origin("time_step")
        if not (math.isfinite(dt) and dt > 0):
            raise BadInput(f"{where} {dt:g} is not positive (expected a time step > 0, e.g. 0.0625)", argument)
        if final <= initial and "final time" not in dynamic:
            end, end_argument = origin("final_time")
            raise BadInput(f"{end} {final:g} is not after the initial time {initial:g}", end_argument)
        saveper = max(saveper, dt)
        ratio = saveper / dt
        if abs(ratio - round(ratio)) > 1e-9:
            if "time step" in given or "saveper" in given or "time_step" in sources or "saveper" in sources:
                raise BadInput(f"{where} {dt:g} does not divide SAVEPER {saveper:g} "
                               f"(expected e.g. {saveper:g}/16)", argument)
            saveper = _common_multiple(saveper, dt, final - initial)
        span = (final - initial) / dt
        if abs(span - round(span)) > 1e-6 and "final time" not in dynamic:
            raise BadInput(f"{where} {dt:g} does not divide the run {initial:g}-{final:g} into whole steps",
                           argument)
        if span > MAX_STEPS:
            end, end_argument = origin("final_time")
            raise BadInput(f"{end} {final:g} with {where.rstrip(':')} {dt:g} makes {span:.3g} steps (expected at most "
                           f"{MAX_STEPS:g}); shorten the run or lengthen the time step", end_argument or argument)
        return cls(initial, final, dt, saveper, tuple(dynamic))


def _common_multiple(saveper: float, dt: float, span: float) -> float:
    """The first multiple of the time step on the SAVEPER grid, as PySD saves (to 1e-5 of a step)."""
    steps = 1
    while steps * dt <= span + dt:
        remainder = math.fmod(steps * dt, saveper)
        if min(remainder, saveper - remainder) < dt * 1e-5:
            return steps * dt
        steps += 1
    return max(span, dt)  # no step falls on it: the first and, at most, the last time are saved


def _arithmetic(spec: ModelSpec, node, given: dict, depth: int = 0) -> float | None:
    """A control's number when its equation is arithmetic on numbers, constants and controls."""
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return float(node)
    if depth > 20:
        return None
    if isinstance(node, ax.ReferenceStructure) and not node.subscripts:
        key = name_key(node.reference)
        if key in given:
            return given[key]
        element = spec.elements.get(key)
        if element is None or element.kind not in ("constant", "control") or element.subscripted:
            return None
        return _arithmetic(spec, element.ast, given, depth + 1)
    if isinstance(node, ax.ArithmeticStructure):
        arguments = [_arithmetic(spec, a, given, depth + 1) for a in node.arguments]
        if any(a is None for a in arguments):
            return None
        return constant_value(ax.ArithmeticStructure(node.operators, tuple(arguments)))
    return None


def _reads_the_run(spec: ModelSpec, key: str, depth: int = 0) -> bool:
    """Whether a control's equation reads Time or a variable (directly or through other controls)."""
    element = spec.elements.get(key)
    if element is None or depth > 20:
        return key == "time"
    for dep in element.deps | element.initial_deps:
        if dep == "time":
            return True
        source = spec.elements.get(dep)
        if source is None:
            continue
        if dep in CONTROL_NAMES:
            if _reads_the_run(spec, dep, depth + 1):
                return True
        elif source.kind not in ("constant", "lookup"):
            return True
    return False
