"""The PySD engine: run a translated model step by step, stopping cleanly if it diverges.

PySD itself would carry `inf` and `NaN` on to the final time. Here the run advances one SAVEPER
at a time; as soon as a state (a stock, or the inside of a SMOOTH or DELAY, scalar or array) is
infinite or beyond the divergence bound (1e300) it stops: the status is then "diverged" and
`diverged_at` says when. NaN is a value of its own (`:NA:`, an element a model leaves undefined,
a gap in its data) and travels on as in PySD and Vensim; it is divergence only where an equation
makes it out of inputs none of which is NaN (0/0, inf - inf, the logarithm of a negative number).
A step that raises (a division by zero) stops the run there, naming the equation. A complex
number (a negative number to a fractional power, which Python's floats allow) is refused with
the variable that became one. A progress bar shows long runs.

Runs come back as a `BatchResult` (one row of arrays per run), the same raw form as the batch
engine's; `sdlib.Model.run` turns either into the labelled Dataset every caller sees. An array
variable's elements are columns named as PySD and Vensim name them, `name[a,b]`.

`PySDEquations` evaluates one element's equation, as PySD computes it, on values from a run (the
loop analysis's way into models the batch engine does not compile).
"""

from __future__ import annotations

import itertools
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.controls import Controls
from ..core.errors import BadInput
from ..core.spec import ModelSpec, load_spec, name_key
from .result import DIVERGENCE_BOUND, BatchResult
from .translate import load_model

PYSD_CONTROLS = {"initial time": "initial_time", "final time": "final_time", "time step": "time_step",
                 "saveper": "saveper"}


def run_pysd(model_path: Path, params: list[dict], controls: Controls, columns: list[str] | None = None,
             progress: bool | None = None) -> BatchResult:
    """Simulate each parameter set in turn; `params` must already be checked (see `registry`)."""
    model_path = Path(model_path)
    runs = [_one_run(model_path, p, controls, columns, progress) for p in params]
    time = np.asarray(runs[0][0].index, dtype=float) if controls.dynamic else controls.saved_times()
    if controls.dynamic and any(len(f.index) != len(time) or not np.allclose(f.index, time) for f, *_ in runs):
        raise BadInput(f"{model_path.name}: the runs end at different times (the model's "
                       f"{', '.join(controls.dynamic).upper()} changes with the parameters); run them one at a time")
    names = list(runs[0][0].columns)
    out = np.full((len(runs), len(names), len(time)), np.nan)
    status = np.zeros(len(runs), dtype=np.int64)
    diverged_at = np.full(len(runs), np.nan)
    culprits, reasons = [], []
    for i, (frame, stopped_at, culprit, reason) in enumerate(runs):
        rows = min(len(frame), len(time))
        out[i, :, :rows] = frame[names].to_numpy(dtype=float)[:rows].T
        if stopped_at is not None:
            status[i], diverged_at[i] = 1, stopped_at
            out[i, :, np.searchsorted(time, stopped_at + 1e-9 * max(1.0, abs(stopped_at))):] = np.nan
        culprits.append(culprit)
        reasons.append(reason)
    result = BatchResult.build(time, names, out, status, diverged_at)
    result.culprits, result.reasons = culprits, reasons
    return result


@contextmanager
def _quiet():
    """PySD's notes that are no news to the user of a run: numpy's warnings on a diverging run
    (divergence is reported), extrapolated lookups and data (as Vensim does), a time series
    override starting after the initial time, PySD's own deprecations."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        warnings.filterwarnings("ignore", message=r"(?s).*extrapolat")
        warnings.filterwarnings("ignore", message="Replacing a constant value with a time-dependent value")
        warnings.filterwarnings("ignore", message=r"(?s).*seems to not be a multiple of the time step")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pysd")
        warnings.filterwarnings("ignore", category=FutureWarning, module="pysd")
        yield


# Raised by PySD's functions when a value leaves what they can compute: a division by zero, a
# complex number compared, a lookup of NaN, a function PySD does not implement for these arguments.
STEP_ERRORS = (ArithmeticError, ValueError, TypeError, IndexError, KeyError, NotImplementedError)


def _one_run(model_path: Path, params: dict, controls: Controls, columns, progress):
    from pysd.py_backend.output import ModelOutput
    from tqdm import tqdm

    spec = load_spec(model_path)
    output = ModelOutput()
    stopped_at = culprit = problem = None
    reason = ""
    fixed = {PYSD_CONTROLS[k]: getattr(controls, PYSD_CONTROLS[k]) for k in ("final time", "time step", "saveper")
             if k not in controls.dynamic}
    with _quiet():
        try:
            model = load_model(model_path)
            model.set_stepper(output, params=params, return_columns=columns, **fixed)
        except STEP_ERRORS as exc:
            raise BadInput(_initial_failure(model_path, exc)) from None
        if controls.dynamic:  # the model's own controls decide when to save and stop, step by step
            sizes = iter(lambda: 1, 0)
            total = None
        else:
            chunks, remainder = divmod(controls.n_steps, controls.steps_per_save)
            sizes = iter([controls.steps_per_save] * chunks + ([remainder] if remainder else []))
            total = chunks + bool(remainder)
        bar = tqdm(sizes, total=total, desc=model_path.stem, unit="save", disable=True if progress is False else None,
                   leave=False)
        for size in bar:
            if controls.dynamic and not model.time.in_bounds():
                break
            try:
                model.step(size)
            except STEP_ERRORS as exc:
                stopped_at, culprit, reason = float(model.time()), _culprit(exc, model), _what(exc)
                if culprit is None:  # PySD itself failed, not an equation of the model
                    raise BadInput(f"{model_path.name}: PySD could not compute the step after {stopped_at:g} "
                                   f"({_what(exc)})") from None
                break
            problem = _state_problem(model)
            if problem:
                stopped_at, reason = float(model.time()), "a stock became infinite or passed 1e300"
                break  # (a complex one is refused below, once the rows saved so far are read)
        bar.close()
        _complete_rows(output)
        frame = output.collect(model)
    frame = _numeric_frame(frame, spec, model_path)
    if isinstance(problem, tuple):  # a state became complex between two saved rows
        _refuse_complex(model_path, problem[1], float(model.time()), problem[2])
    origin = _nan_origin(frame, spec)
    if origin is not None and (stopped_at is None or origin[0] < stopped_at):
        stopped_at, culprit = origin
        reason = "NaN out of numbers, e.g. the logarithm or square root of a negative number, or 0/0"
    return frame, stopped_at, culprit, reason


def _complete_rows(output) -> None:
    """Drop a saved row that a failing step left half written (PySD appends column by column)."""
    handler = output.handler
    data = getattr(handler, "ds", None)
    if not isinstance(data, dict) or not data:
        return
    rows = min(len(v) for v in data.values())
    for values in data.values():
        del values[rows:]
    handler._DataFrameHandler__step = rows  # the count PySD replicates constants to (name-mangled)


def _state_problem(model):
    """None, 'bound' (a state infinite or beyond the bound) or ('complex', variable, value), over
    every state, scalar or array."""
    for component in model._dynamicstateful_elements:
        values = np.asarray(getattr(component.state, "values", component.state))
        if values.dtype == object:
            try:
                values = np.array([complex(v) for v in values.ravel()])
            except (TypeError, ValueError):
                continue  # a state PySD keeps as something else (a macro's): not a number to check
        if values.dtype.kind == "c":
            imaginary = values.imag != 0
            if np.any(imaginary):
                return "complex", _stateful_name(model, component), values[imaginary].ravel()[0]
            values = values.real
        if values.dtype.kind not in "fiub":
            continue
        with np.errstate(invalid="ignore"):
            if np.any(np.isinf(values) | (np.abs(values) > DIVERGENCE_BOUND)):
                return "bound"
    return None


def _stateful_name(model, component) -> str:
    """The Vensim variable a PySD stateful object (a stock's `_integ_x`, a smooth's) belongs to."""
    py_name = getattr(component, "py_name", "")
    for name, depends in getattr(model, "_dependencies", {}).items():
        if isinstance(depends, dict) and py_name in depends and not name.startswith("_"):
            real = dict(zip(model.doc["Py Name"], model.doc["Real Name"], strict=False)).get(name)
            if real:
                return real
    return py_name


def _numeric_frame(frame: pd.DataFrame, spec: ModelSpec, model_path: Path) -> pd.DataFrame:
    """The saved values as floats; a complex value is refused, naming where it first appeared."""
    onsets = {}
    for column in frame.columns:
        values = frame[column].to_numpy()
        if values.dtype == object:
            imaginary = np.array([isinstance(v, complex) and v.imag != 0 for v in values])
        elif values.dtype.kind == "c":
            imaginary = values.imag != 0
        else:
            continue
        if imaginary.any():
            onsets[column] = int(np.argmax(imaginary))
    if onsets:
        row = min(onsets.values())
        culprit = _origin_among([c for c, r in onsets.items() if r == row], spec)
        _refuse_complex(model_path, culprit, float(frame.index[row]), frame[culprit].iloc[row])
    return frame.apply(pd.to_numeric, errors="coerce").astype(float)


def _refuse_complex(model_path: Path, name: str, time: float, value) -> None:
    raise BadInput(f"{model_path.name}: '{name}' became a complex number at {time:g} ({complex(value):.4g}): a "
                   f"negative number raised to a fractional power, which Vensim leaves undefined; check the values "
                   f"it depends on (or try a smaller time step, if an overshoot took one below zero)")


def _origin_among(columns: list[str], spec: ModelSpec) -> str:
    """Of variables that went wrong at the same time, one none of whose inputs is among them."""
    keys = {_column_key(c) for c in columns}
    for column in columns:
        element = spec.elements.get(_column_key(column))
        if element is not None and not (element.deps & (keys - {element.key})):
            return column
    return columns[0]


def _base(column: str) -> str:
    """The variable of a column: `name[a,b]` is an element of `name`."""
    return column.split("[", 1)[0] if column.endswith("]") else column


def _column_key(column: str) -> str:
    return name_key(_base(column))


def _nan_origin(frame: pd.DataFrame, spec: ModelSpec) -> tuple[float, str] | None:
    """The first time an equation made NaN out of inputs none of which was NaN, and its variable.

    NaN that a model means (`:NA:` in an equation, an element left undefined, a gap in data)
    and NaN carried on from such a value are not divergence."""
    values = frame.to_numpy(dtype=float)
    isnan = np.isnan(values)
    if not isnan.any():
        return None
    columns_of: dict[str, list[int]] = {}
    for j, column in enumerate(frame.columns):
        columns_of.setdefault(_column_key(column), []).append(j)
    found = None
    for j in map(int, np.flatnonzero(isnan.any(axis=0))):
        column = frame.columns[j]
        element = spec.elements.get(_column_key(column))
        if element is None or element.kind in ("data", "lookup", "constant") or _means_nan(element):
            continue
        if isnan[:, j].all() and element.subscripted:
            continue  # an element the model leaves undefined (defined over a smaller range)
        row = int(np.argmax(isnan[:, j]))
        rows = slice(max(row - 1, 0), row + 1)  # a stock's NaN comes from its flows a step before
        inputs = [i for dep in element.deps for i in columns_of.get(dep, [])]
        if any(isnan[rows, i].any() for i in inputs) or any(_nan_constant(spec, dep) for dep in element.deps):
            continue
        if found is None or row < found[0]:
            found = (row, str(column))
    if found is None:
        return None
    return float(frame.index[found[0]]), found[1]


def _means_nan(element) -> bool:
    """Whether an equation writes NaN itself (`:NA:`)."""
    return _has_nan(element.asts or element.ast)


def _has_nan(node, depth: int = 0) -> bool:
    if isinstance(node, float):
        return node != node
    if isinstance(node, np.ndarray):
        return bool(node.dtype.kind == "f" and np.isnan(node).any())
    if depth > 50 or node is None or isinstance(node, (str, int, bool)):
        return False
    if isinstance(node, (list, tuple)):
        return any(_has_nan(n, depth + 1) for n in node)
    if hasattr(node, "__dict__"):
        return any(_has_nan(v, depth + 1) for v in vars(node).values())
    return False


def _nan_constant(spec: ModelSpec, key: str) -> bool:
    element = spec.elements.get(key)
    return element is not None and element.kind in ("constant", "data", "lookup") and _has_nan(element.ast)


def _initial_failure(model_path: Path, exc: BaseException) -> str:
    """What to say when PySD cannot start a run: which equation, if one of the model's failed."""
    name = _culprit(exc, None)
    if isinstance(exc, NotImplementedError):
        where = f" in '{name}'" if name else ""
        return f"{model_path.name}: PySD does not implement what the model asks{where} ({_what(exc)})"
    if name is None:
        return f"{model_path.name}: PySD could not start the model ({_what(exc)})"
    return (f"{model_path.name}: with these values '{name}' cannot be computed at the initial time ({_what(exc)}); "
            f"check the parameters it depends on")


def _what(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _culprit(exc: BaseException, model) -> str | None:
    """The Vensim name of the deepest model equation in the traceback of a failed step (read from
    the `@component.add(name=...)` of the translated module's functions)."""
    tb, found = exc.__traceback__, None
    module_file = str(getattr(model, "py_model_file", "")) if model is not None else ""
    while tb is not None:
        frame = tb.tb_frame
        function = frame.f_globals.get(frame.f_code.co_name)
        name = getattr(function, "name", None) if callable(function) else None
        in_model = frame.f_code.co_filename == module_file if module_file else "__pysd_version__" in frame.f_globals
        if isinstance(name, str) and in_model:
            found = name.strip('"')
        tb = tb.tb_next
    return found


def control_values(model_path: Path) -> dict[str, float]:
    """The model's own INITIAL TIME, FINAL TIME, TIME STEP and SAVEPER as PySD computes them at the
    start of a run (for controls written as equations), by Vensim name key."""
    model = load_model(Path(model_path))
    values = {}
    with _quiet():
        for key, attribute in PYSD_CONTROLS.items():
            try:
                values[key] = float(getattr(model.time, attribute)())
            except (*STEP_ERRORS, AttributeError) as exc:
                raise BadInput(f"{Path(model_path).name}: '{key.upper()}' cannot be computed at the start of the "
                               f"run ({_what(exc)})") from None
    return values


class PySDEquations:
    """Elements' equations as PySD computes them, evaluated on values from a run.

    `equation(name)` has the contract of the batch engine's `CompiledModel.equation`: a function
    `(env, t, init=None) -> array` giving the element's value (for a stock: its net flow) at each
    time `t`, its inputs read from `env` (Vensim name -> a series on `t`, or a number). PySD's
    own function for the element runs once per time, with its inputs replaced by those values:
    slower than the batch engine's numpy, but every model PySD runs can be evaluated.
    `params` (checked constants) set the model as the run had it (INITIAL values read them).
    """

    def __init__(self, model_path: Path, params: dict | None = None, controls: Controls | None = None):
        self.path = Path(model_path)
        self.spec = load_spec(self.path)
        with _quiet():
            self.model = load_model(self.path)
            if params:
                self.model.set_components({k: v for k, v in params.items()})
            if controls is not None:
                self.model.time.set_control_vars(time_step=controls.time_step)
            self.model.initialize()
        self.module = self.model.components._components
        for attribute, value in list(vars(self.module).items()):
            if _is_plain_lookup(value):
                setattr(self.module, attribute, _FastLookup(value))
        self.module_names = {name_key(real): py for real, py in self.model.namespace.items()}
        self.model.time.stage = "Run"

    def equation(self, name: str, controls: Controls | None = None):
        element = self.spec[name]
        key = element.key
        if element.subscripted:
            from ..core.errors import UnsupportedConstruct

            raise UnsupportedConstruct(f"{self.path.name}: '{element.name}' is an array; its equation is evaluated "
                                       f"element by element only by the batch engine")
        if element.kind in ("constant", "lookup", "data", "control"):
            raise BadInput(f"{self.path.name}: '{element.name}' is a {element.kind}, it has no equation to evaluate")
        py_name = self.module_names[key]
        function = _unwrapped(getattr(self.module, py_name))
        if element.kind == "stock":
            integ = next(getattr(self.module, d) for d in self.model._dependencies[py_name] if d.startswith("_integ"))
            compute = integ.ddt
        else:
            compute = function
        inputs = [(dep, self.module_names[dep]) for dep in sorted(element.deps) if dep in self.module_names
                  and self.spec.elements.get(dep) is not None and self.spec.elements[dep].kind not in ("lookup",)]
        module, model = self.module, self.model

        def evaluate(env, t, init=None):
            t = np.atleast_1d(np.asarray(t, dtype=float))
            names = {name_key(n): n for n in env}
            series = [(py, np.broadcast_to(np.asarray(env[names[dep]], dtype=float), t.shape))
                      for dep, py in inputs if dep in names]
            saved = {py: getattr(module, py) for py, _ in series}
            out = np.empty(t.shape)
            try:
                with _quiet():
                    for i in range(len(t)):
                        for py, values in series:
                            setattr(module, py, _constant(float(values[i])))
                        model.time._time = float(t[i])
                        model.clean_caches()
                        try:
                            out[i] = float(np.real_if_close(compute()))
                        except STEP_ERRORS:
                            out[i] = np.nan
            finally:
                for py, original in saved.items():
                    setattr(module, py, original)
            return out

        evaluate.inputs = [self.spec.elements[dep].name for dep, _ in inputs]  # type: ignore[attr-defined]
        return evaluate


    # --- arrays, element by element (for the loops over array elements) -------------------------
    def cells(self, name: str) -> list[str]:
        """The columns of a variable's elements as PySD names them (`x[a,b]`; `x` for a scalar)."""
        element = self.spec[name]
        dims = self._dims(element.key)
        if not dims:
            return [element.name]
        labels = [self.model.subscripts[d] for d in dims]
        return [f"{element.name}[{','.join(point)}]" for point in itertools.product(*labels)]

    def _dims(self, key: str) -> list[str]:
        function = getattr(self.module, self.module_names[key], None)
        return list(getattr(function, "subscripts", None) or [])

    def array_equation(self, name: str):
        """A function `(env, t) -> array (len(t), cells)`: each of the variable's elements at each time,
        its inputs' elements read from `env` (column name -> series on `t`). For a stock, its net
        flows; for a SMOOTH or DELAY, its input (what it follows, element by element)."""
        import xarray as xr

        element = self.spec[name]
        if element.kind in ("constant", "lookup", "data", "control"):
            raise BadInput(f"{self.path.name}: '{element.name}' is a {element.kind}, it has no equation to evaluate")
        py_name = self.module_names[element.key]
        statefuls = [getattr(self.module, d) for d in self.model._dependencies.get(py_name, {})
                     if d.startswith("_") and hasattr(getattr(self.module, d, None), "ddt")]
        if element.kind == "stock" and statefuls:
            compute = statefuls[0].ddt
        elif element.kind == "delay" and statefuls and hasattr(statefuls[0], "input_func"):
            compute = statefuls[0].input_func
        else:
            compute = _unwrapped(getattr(self.module, py_name))
        cells = self.cells(name)
        dims = self._dims(element.key)
        inputs = []
        for dep in sorted(element.deps):
            if dep not in self.module_names or self.spec.elements[dep].kind == "lookup":
                continue
            dep_dims = self._dims(dep)
            template = (xr.DataArray(np.zeros([len(self.model.subscripts[d]) for d in dep_dims]),
                                     {d: self.model.subscripts[d] for d in dep_dims}, dep_dims) if dep_dims else None)
            inputs.append((self.module_names[dep], self.cells(self.spec.elements[dep].name), template))
        module, model = self.module, self.model

        def evaluate(env, t):
            t = np.atleast_1d(np.asarray(t, dtype=float))
            series = []
            for py, columns, template in inputs:
                if not all(c in env for c in columns):
                    continue
                stacked = np.stack([np.broadcast_to(np.asarray(env[c], dtype=float), t.shape) for c in columns], axis=1)
                series.append((py, stacked, template))
            saved = {py: getattr(module, py) for py, _, _ in series}
            out = np.full((len(t), len(cells)), np.nan)
            try:
                with _quiet():
                    for i in range(len(t)):
                        for py, stacked, template in series:
                            value = (float(stacked[i, 0]) if template is None else
                                     template.copy(data=stacked[i].reshape(template.shape)))
                            setattr(module, py, _constant(value))
                        model.time._time = float(t[i])
                        model.clean_caches()
                        try:
                            result = compute()
                        except STEP_ERRORS:
                            continue
                        if dims and hasattr(result, "transpose"):
                            result = result.transpose(*dims).values
                        result = np.asarray(result)
                        result = (result.real if np.iscomplexobj(result) else result).astype(float).ravel()
                        out[i] = result if result.size == len(cells) else np.broadcast_to(result[:1], (len(cells),))
            finally:
                for py, original in saved.items():
                    setattr(module, py, original)
            return out

        return evaluate


def _is_plain_lookup(value) -> bool:
    """A lookup table of numbers, one value per x, interpolated as Vensim does (clamped at the ends)."""
    from pysd.py_backend.lookups import HardcodedLookups

    data = getattr(value, "data", None)
    return (isinstance(value, HardcodedLookups) and value.interp == "interpolate" and data is not None
            and tuple(data.dims) == ("lookup_dim",))


class _FastLookup:
    """A plain lookup table evaluated with numpy's interpolation, as PySD's xarray one gives it (a
    thousand times faster on a number: the loop analysis calls tables hundreds of thousands of times)."""

    def __init__(self, lookup):
        self.lookup = lookup
        self.xs = np.asarray(lookup.data["lookup_dim"].values, dtype=float)
        self.ys = np.asarray(lookup.data.values, dtype=float)

    def __call__(self, x, final_subs=None):
        if isinstance(x, (int, float, np.floating)) and not final_subs:
            return float(np.interp(float(x), self.xs, self.ys))
        return self.lookup(x, final_subs)


def _unwrapped(function):
    while hasattr(function, "__wrapped__"):
        function = function.__wrapped__
    return function


def _constant(value: float):
    return lambda: value


__all__ = ["PYSD_CONTROLS", "PySDEquations", "control_values", "run_pysd"]
