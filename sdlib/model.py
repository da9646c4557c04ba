"""`Model`: a Vensim model loaded once, with both engines behind one `run`.

>>> import sdlib
>>> model = sdlib.Model()                                     # doctest: +SKIP
>>> ds = model.run({"capital share": 0.3}, columns=["Output per developer"])   # doctest: +SKIP
>>> ds["Output per developer"].attrs["units"]                 # doctest: +SKIP
'$/(Person*Year)'

Every run, whichever engine computes it, comes back as an xarray Dataset with dimensions
`run` x `time`: one variable per model variable, with its `units`, `comment` and `kind` as
attributes, each run's `status` ("ok" or "diverged") and `diverged_at` as run coordinates, and
the time grid, engine and model file in `attrs`.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .core.controls import Controls
from .core.display import Display, display_of
from .core.errors import BadInput, require
from .core.paths import DEFAULT_MODEL, display_path
from .core.registry import Parameter, parameters, resolve_overrides
from .core.simultaneous import check_simultaneous
from .core.spec import CONTROL_NAMES, ModelSpec, load_spec, name_key

ENGINES = ("pysd", "batch")
METHODS = ("euler", "rk4")  # integration: Euler (PySD's, Vensim's default) or fourth-order Runge-Kutta (batch only)
CONSTANT_KINDS = ("constant", "control", "lookup", "data")


class Model:
    """A Vensim `.mdl` model: its spec (elements, units, ranges, comments), time grid and engines.

    Parameters
    ----------
    path : str or Path, optional
        The `.mdl` file; Tokenworld's own model by default.
    """

    def __init__(self, path: str | Path | None = None):
        self.spec: ModelSpec = load_spec(path or DEFAULT_MODEL)
        self.path: Path = self.spec.path
        check_simultaneous(self.spec)  # an algebraic loop is refused before anything runs

    @classmethod
    def load(cls, path: str | Path | None = None) -> Model:
        """The model at `path`, loaded once per process (per content: an edited file is loaded again)."""
        spec = load_spec(path or DEFAULT_MODEL)
        return _loaded(spec.path, spec.sha256)

    def __repr__(self) -> str:
        return f"Model({display_path(self.path)!r})"

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def parameters(self) -> dict[str, Parameter]:
        """Every settable constant, keyed by its name key (case-insensitive Vensim name)."""
        return parameters(self.spec)

    @property
    def display(self) -> Display:
        """What front-ends show of this model (`<model>-display.toml`)."""
        return display_of(self.spec)

    def variables(self, constants: bool = False) -> list[str]:
        """The names of the model's time-varying variables (not lookups or controls; constants too
        when asked: an equation evaluated on a run reads them, see `equation`)."""
        skip = ("control", "lookup", "data") if constants else CONSTANT_KINDS
        return [el.name for key, el in self.spec.elements.items() if el.kind not in skip and key not in CONTROL_NAMES]

    def units(self, name: str) -> str:
        return self.spec[name].units

    def controls(self, final_time=None, time_step=None, saveper=None, sources: dict | None = None) -> Controls:
        """The model's time grid with any changes, checked (see `Controls.of`)."""
        return Controls.of(self.spec, final_time, time_step, saveper, sources, values=self._control_values)

    def _control_values(self) -> dict:
        """The controls as PySD computes them at the start of a run (asked only for controls written
        as equations that are not arithmetic on numbers)."""
        if not hasattr(self, "_controls_at_start"):
            from .engine.pysd_engine import control_values

            self._controls_at_start = control_values(self.path)
        return self._controls_at_start

    def check(self, values: dict, source: str = "set") -> dict:
        """Parameter values checked against the model's names and declared ranges."""
        return resolve_overrides(self.spec, values, source)

    # --- engines -----------------------------------------------------------------------------------
    def compiled(self, progress: bool = False, method: str = "euler"):
        """The batch engine's compiled kernel (numba), compiled once and cached on disk."""
        require("numba", "batch", "the batch engine")
        from .engine import compile_spec

        compiled = compile_spec(self.spec, method=method)
        if not compiled.compiled_on_disk:
            # numba compiles on the first call: do it now, on a one-step run, so that it is said
            # and never counted as a run's time.
            if progress:
                sys.stderr.write(f"compiling the batch engine for {self.path.name} (a minute or two, once; "
                                 f"later runs load it from the cache)\n")
            c = self.controls()
            compiled.run(n=1, controls=Controls(c.initial_time, c.initial_time + c.time_step, c.time_step,
                                                c.time_step))
        return compiled

    def supports_batch(self) -> bool:
        """Whether the batch engine can run this model (numba installed, every construct supported)."""
        from importlib.util import find_spec

        from .core.errors import UnsupportedConstruct

        if find_spec("numba") is None:
            return False
        if not hasattr(self, "_supports_batch"):
            try:
                self.compiled()
                self._supports_batch = True
            except UnsupportedConstruct:
                self._supports_batch = False
            except Exception:  # the batch engine failing on a model it accepts is its bug (a run on it
                self._supports_batch = False  # says so); the analyses run the model on PySD instead
        return self._supports_batch

    def equation(self, name: str, controls: Controls | None = None, params: dict | None = None):
        """One element's equation as a function `(env, t, init=None) -> values` of its inputs (for the
        loop analysis): the batch engine's numpy when it compiles the model, else PySD's own function
        evaluated time by time (`params` then set the constants the run had)."""
        if self.supports_batch():
            return self.compiled().equation(name, controls)
        from .engine.pysd_engine import PySDEquations

        key = (tuple(sorted((k, repr(v)) for k, v in (params or {}).items())), controls)
        cached = getattr(self, "_pysd_equations", None)
        if cached is None or cached[0] != key:
            cached = (key, PySDEquations(self.path, params, controls))
            self._pysd_equations = cached
        return cached[1].equation(name, controls)

    def run(self, params: dict | None = None, controls: Controls | None = None, n: int | None = None,
            columns: list[str] | None = None, engine: str = "pysd", progress: bool | None = None,
            method: str = "euler") -> xr.Dataset:
        """Simulate `n` parameter sets on one engine; returns a `run` x `time` Dataset.

        Parameters
        ----------
        params : dict, optional
            Vensim name -> a number (every run), an array of `n` numbers (one per run) or a
            `pandas.Series` over time (every run). Checked by the caller (see `check`).
        controls : Controls, optional
            The time grid; the model's own by default.
        n : int, optional
            Number of runs; by default the length of the array-valued parameters, or 1.
        columns : list of str, optional
            The variables to keep; all time-varying variables by default.
        engine : {"pysd", "batch"}
            PySD, or the batch engine (the same numbers, compiled with numba).
        progress : bool, optional
            Show a progress bar (None: when attached to a terminal).
        method : {"euler", "rk4"}
            Integration: Euler (PySD's), or classic fourth-order Runge-Kutta with a fixed step (as
            Vensim's RK4 Fixed), which only the batch engine has.
        """
        if method not in METHODS:
            raise BadInput(f"method: unknown integration method '{method}' (expected one of {', '.join(METHODS)})",
                           "method")
        if method != "euler" and engine != "batch":
            raise BadInput(f"method: PySD integrates with Euler only; {method.upper()} runs on the batch engine "
                           f"(engine batch, --engine batch)", "method")
        params = dict(params or {})
        controls = controls or self.controls()
        n = n or max([np.size(v) for v in params.values() if isinstance(v, np.ndarray)] + [1])
        series = [k for k, v in params.items() if isinstance(v, pd.Series)]
        columns = self._columns(columns, series)
        if engine == "batch":
            if controls.dynamic:
                from .core.errors import UnsupportedConstruct

                raise UnsupportedConstruct(f"{self.path.name}: the batch engine needs a fixed time grid; the model's "
                                           f"{', '.join(c.upper() for c in controls.dynamic)} changes during the run "
                                           f"(run it on PySD, --engine pysd)")
            raw = self.compiled(progress=bool(progress), method=method).run(params=params, n=n, controls=controls,
                                                                            return_columns=columns)
        elif engine == "pysd":
            from .engine.pysd_engine import run_pysd

            per_run = [{k: (v[i] if isinstance(v, np.ndarray) and v.ndim else v) for k, v in params.items()}
                       for i in range(n)]
            raw = run_pysd(self.path, per_run, controls, columns, progress)
        else:
            raise BadInput(f"engine: unknown engine '{engine}' (expected one of {', '.join(ENGINES)})", "engine")
        dataset = self._dataset(raw, controls, engine)
        dataset.attrs["integration_method"] = method
        return dataset

    def _columns(self, columns, series) -> list[str]:
        if columns is None:
            keep = {name_key(s) for s in series}
            return [el.name for key, el in self.spec.elements.items()
                    if (el.kind not in CONSTANT_KINDS or key in keep) and key not in CONTROL_NAMES]
        found = []
        for name in columns:
            base, subscripts = split_column(name)
            element = self.spec[base]
            if name_key(element.name) in CONTROL_NAMES:
                raise BadInput(f"columns: '{element.name}' is a simulation control, not a variable", "columns")
            found.append(element.name + subscripts)
        return found

    def _dataset(self, raw, controls: Controls, engine: str) -> xr.Dataset:
        time = np.asarray(raw.time, dtype=float) if controls.dynamic else controls.saved_times()
        if len(raw.time) != len(time) or not np.allclose(raw.time, time, rtol=0, atol=1e-9 * max(1, abs(time[-1]))):
            raise BadInput(f"{self.path.name}: the {engine} engine saved other times than the time grid")
        status = np.asarray(raw.status).astype(str)
        rows = len(time)
        if (status != "ok").all():  # keep the rows in which some run is still finite
            first_bad = [int(np.searchsorted(time, t)) for t in raw.diverged_at]
            rows = max(first_bad) if first_bad else rows
        data = {}
        for name, values in raw.values.items():
            base, subscripts = split_column(name)
            element = self.spec[base]
            data[element.name + subscripts] = (("run", "time"), np.asarray(values, dtype=float)[:, :rows],
                                               {"units": element.units, "comment": element.comment,
                                                "kind": element.kind})
        coords = {
            "run": np.arange(len(status)),
            "time": ("time", time[:rows], {"units": _time_units(self.spec)}),
            "status": ("run", status),
            "diverged_at": ("run", np.asarray(raw.diverged_at, dtype=float)),
        }
        attrs = {"model_file": display_path(self.path), "model_sha256": self.spec.sha256, "engine": engine,
                 **controls.as_dict()}
        if len(status) == 1:
            attrs["status"] = str(status[0])
            if status[0] != "ok":
                attrs["diverged_at"] = float(raw.diverged_at[0])
                if raw.culprits and raw.culprits[0]:
                    attrs["diverged_variable"] = raw.culprits[0]
                if getattr(raw, "reasons", None) and raw.reasons[0]:
                    attrs["diverged_reason"] = raw.reasons[0]
        return xr.Dataset(data, coords=coords, attrs=attrs)


def split_column(column: str) -> tuple[str, str]:
    """A column's variable and subscripts: `name[a,b]` (an element of an array) -> ("name", "[a,b]")."""
    if column.endswith("]") and "[" in column:
        i = column.index("[")
        return column[:i], column[i:]
    return column, ""


def _time_units(spec: ModelSpec) -> str:
    return spec["time step"].units if "time step" in spec else ""


@lru_cache(maxsize=8)
def _loaded(path: Path, sha: str) -> Model:
    return Model(path)
