"""The time grid of a run: initial and final time, Euler time step, save period.

One implementation serves every engine: PySD and the batch engine are both given these numbers,
and every result's time axis is `Controls.saved_times()`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import BadInput
from .registry import constant_value
from .spec import ModelSpec

MAX_STEPS = 5e7


@dataclass(frozen=True)
class Controls:
    """A checked time grid (see `Controls.of`)."""

    initial_time: float
    final_time: float
    time_step: float
    saveper: float

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
        return Controls(self.initial_time, self.final_time, self.time_step, self.time_step)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("initial_time", "final_time", "time_step", "saveper")}

    @classmethod
    def of(cls, spec: ModelSpec, final_time=None, time_step=None, saveper=None,
           sources: dict[str, str] | None = None) -> Controls:
        """The model's own time grid with any changes, checked for sense.

        `sources` says where a changed value came from (a scenario file's name); a value without
        one is a caller's argument, and an error names that argument.
        """
        sources = sources or {}

        def origin(key: str) -> tuple[str, str | None]:
            """How an error names the value: "FILE: key" for a file's, "key:" for an argument."""
            return (f"{sources[key]}: {key}", None) if key in sources else (f"{key}:", key)

        def default(name: str) -> float:
            value = constant_value(spec[name].ast) if name in spec else None
            if value is None:
                raise BadInput(f"{spec.path.name}: '{name}' must be a number in the model")
            return value

        def number(value, key: str) -> float:
            where, argument = origin(key)
            try:
                result = float(value)
            except (TypeError, ValueError):
                raise BadInput(f"{where} {value!r} is not a number", argument) from None
            if not math.isfinite(result):
                raise BadInput(f"{where} {value!r} is not finite (expected a real number)", argument)
            return result

        initial = default("initial time")
        final = default("final time") if final_time is None else number(final_time, "final_time")
        dt = default("time step") if time_step is None else number(time_step, "time_step")
        if saveper is None:
            saveper = default("saveper") if "saveper" in spec and constant_value(spec["saveper"].ast) else dt
        saveper = number(saveper, "saveper")
        where, argument = origin("time_step")
        if dt <= 0:
            raise BadInput(f"{where} {dt:g} is not positive (expected a time step > 0, e.g. 0.0625)", argument)
        if final <= initial:
            end, end_argument = origin("final_time")
            raise BadInput(f"{end} {final:g} is not after the initial time {initial:g}", end_argument)
        saveper = max(saveper, dt)
        ratio = saveper / dt
        if abs(ratio - round(ratio)) > 1e-9:
            raise BadInput(f"{where} {dt:g} does not divide SAVEPER {saveper:g} "
                           f"(expected e.g. {saveper:g}/16)", argument)
        span = (final - initial) / dt
        if abs(span - round(span)) > 1e-6:
            raise BadInput(f"{where} {dt:g} does not divide the run {initial:g}-{final:g} into whole steps",
                           argument)
        if span > MAX_STEPS:
            raise BadInput(f"{where} {dt:g} makes {span:.3g} steps (expected at most {MAX_STEPS:g})",
                           argument)
        return cls(initial, final, dt, saveper)
