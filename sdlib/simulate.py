"""Run a model with PySD, stopping cleanly if it diverges.

PySD itself would carry `inf` and `NaN` on to the final time. Here the run advances one SAVEPER
at a time; as soon as a stock is non-finite or beyond the divergence bound (1e300) it stops,
and the result keeps only the saved rows in which every value is finite: the status is then
"diverged" and `diverged_at` says when. A progress bar shows long runs.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import BadInput
from .modelspec import load_spec
from .registry import constant_value
from .translate import load_model

DIVERGENCE_BOUND = 1e300


@dataclass
class Controls:
    """The time grid of a run."""

    initial_time: float
    final_time: float
    time_step: float
    saveper: float

    @property
    def n_steps(self) -> int:
        return int(round((self.final_time - self.initial_time) / self.time_step))

    @property
    def steps_per_save(self) -> int:
        return int(round(self.saveper / self.time_step))

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("initial_time", "final_time", "time_step", "saveper")}


@dataclass
class SimResult:
    frame: pd.DataFrame  # index: time; columns: Vensim names
    status: str  # "ok" | "diverged"
    diverged_at: float | None
    controls: Controls
    engine: str
    culprit: str | None = None  # the variable whose equation failed, when one did


def model_controls(model_path: Path, final_time=None, time_step=None, saveper=None) -> Controls:
    """The model's own time grid with any user changes, checked for sense."""
    spec = load_spec(model_path)

    def default(name):
        value = constant_value(spec[name].ast) if name in spec else None
        if value is None:
            raise BadInput(f"{spec.path.name}: '{name}' must be a number in the model")
        return value

    initial = default("initial time")
    final = default("final time") if final_time is None else _number(final_time, "--final-time")
    dt = default("time step") if time_step is None else _number(time_step, "--time-step")
    if saveper is None:
        saveper = default("saveper") if "saveper" in spec and constant_value(spec["saveper"].ast) else dt
    saveper = _number(saveper, "SAVEPER")
    if dt <= 0:
        raise BadInput(f"--time-step: {dt:g} is not positive (expected a time step > 0, e.g. 0.03125)")
    if final <= initial:
        raise BadInput(f"--final-time: {final:g} is not after the initial time {initial:g}")
    if saveper < dt:
        saveper = dt
    ratio = saveper / dt
    if abs(ratio - round(ratio)) > 1e-9:
        raise BadInput(f"--time-step: {dt:g} does not divide SAVEPER {saveper:g} (expected e.g. {saveper:g}/32)")
    span = (final - initial) / dt
    if abs(span - round(span)) > 1e-6:
        raise BadInput(f"--time-step: {dt:g} does not divide the run {initial:g}-{final:g} into whole steps")
    if span > 5e7:
        raise BadInput(f"--time-step: {dt:g} makes {span:.3g} steps (expected at most 5e7)")
    return Controls(initial, final, dt, saveper)


def _number(value, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{what}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise BadInput(f"{what}: {value!r} is not finite (expected a real number)")
    return number


def simulate(
    model_path: Path,
    params: dict | None = None,
    controls: Controls | None = None,
    engine: str = "pysd",
    progress: bool | None = None,
) -> SimResult:
    """Simulate with the chosen engine; `params` must already be checked (see `registry`)."""
    controls = controls or model_controls(model_path)
    if engine == "pysd":
        return _simulate_pysd(Path(model_path), params or {}, controls, progress)
    if engine == "batch":
        from .engine_bridge import simulate_batch

        return simulate_batch(Path(model_path), params or {}, controls)
    raise BadInput(f"--engine: unknown engine '{engine}' (expected pysd or batch)")


def _simulate_pysd(model_path: Path, params: dict, controls: Controls, progress) -> SimResult:
    from pysd.py_backend.output import ModelOutput
    from tqdm import tqdm

    model = load_model(model_path)
    output = ModelOutput()
    stopped_at = culprit = None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            model.set_stepper(
                output,
                params=params,
                final_time=controls.final_time,
                time_step=controls.time_step,
                saveper=controls.saveper,
            )
        except (ArithmeticError, ValueError, TypeError) as exc:
            name = _culprit(exc, model) or "an equation"
            raise BadInput(
                f"{model_path.name}: with these values '{name}' cannot be computed at the initial time "
                f"({type(exc).__name__}: {exc}); check the parameters it depends on"
            ) from None
        chunks, remainder = divmod(controls.n_steps, controls.steps_per_save)
        sizes = [controls.steps_per_save] * chunks + ([remainder] if remainder else [])
        bar = tqdm(sizes, desc=model_path.stem, unit="save", disable=True if progress is False else None, leave=False)
        for size in bar:
            try:
                model.step(size)
            except (ArithmeticError, ValueError, TypeError) as exc:  # e.g. a power of a negative number
                stopped_at, culprit = float(model.time()), _culprit(exc, model)
                break
            if not _finite(model.state):
                stopped_at = float(model.time())
                break
        frame = output.collect(model)
    frame.index = frame.index.astype(float)
    frame.index.name = "time"
    frame = frame.astype(float, errors="ignore")
    result = _trim_divergence(frame, stopped_at, controls, "pysd")
    result.culprit = culprit
    return result


def _culprit(exc: BaseException, model) -> str | None:
    """The Vensim name of the deepest model equation in the traceback of a failed step."""
    module_file = getattr(model, "py_model_file", None)
    names = dict(zip(model.doc["Py Name"], model.doc["Real Name"]))
    tb, found = exc.__traceback__, None
    while tb is not None:
        code = tb.tb_frame.f_code
        if (module_file is None or str(module_file) == code.co_filename) and code.co_name in names:
            found = names[code.co_name]
        tb = tb.tb_next
    return found


def _finite(values) -> bool:
    values = np.asarray(values, dtype=float)
    return bool(np.all(np.isfinite(values)) and np.all(np.abs(values) <= DIVERGENCE_BOUND))


def _trim_divergence(frame: pd.DataFrame, stopped_at, controls: Controls, engine: str) -> SimResult:
    """Keep the rows before the first non-finite one; a run that stopped early is diverged."""
    numeric = frame.select_dtypes(include=[np.number]).to_numpy(dtype=float)
    bad = ~np.isfinite(numeric) | (np.abs(numeric) > DIVERGENCE_BOUND)
    bad_rows = np.flatnonzero(bad.any(axis=1))
    diverged_at = None
    if bad_rows.size:
        diverged_at = float(frame.index[bad_rows[0]])
        frame = frame.iloc[: bad_rows[0]]
    elif stopped_at is not None:
        diverged_at = stopped_at
    status = "diverged" if diverged_at is not None else "ok"
    return SimResult(frame=frame, status=status, diverged_at=diverged_at, controls=controls, engine=engine)
