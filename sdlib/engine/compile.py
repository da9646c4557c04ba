"""Compile a model into a batch kernel, load it from the cache, and run N parameter sets at once.

The generated source is checked (see `untrusted`), written to the cache in a folder named by its
hash and the versions of numba, numpy, PySD and Tokenworld, and imported from there, so numba's
on-disk cache survives between processes: only the first run of a new model pays for
compilation. Before each import the file is compared with the generated source (an edited or
damaged one is written again) and numba's cache files with the checksums sealed after numba wrote
them (damaged ones are dropped and compiled again).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import sys
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.controls import Controls
from ..core.errors import BadInput, UnknownName
from ..core.paths import cache_dir
from ..core.rundir import sweep, temporary_file
from ..core.spec import ModelSpec, load_spec, name_key
from . import functions
from .codegen import generate
from .expressions import Code, Translator
from .result import BatchResult
from .untrusted import EXPRESSION, KERNEL, verify_python

KERNEL_FORMAT = 2  # bump when how kernels are cached changes
KERNEL_FILE = "tokenworld_kernel.py"
SEAL = "numba-cache.json"  # the checksums of numba's cache files, written after they are


def _kernel_key(source: str) -> str:
    """The kernel's cache folder name: its source and the versions that compile and run it."""
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    versions = []
    for package in ("numba", "numpy", "pysd"):
        try:
            versions.append(f"{package}={version(package)}")
        except PackageNotFoundError:
            versions.append(f"{package}=none")
    text = "\n".join([source, *versions, f"tokenworld={__version__}", f"format={KERNEL_FORMAT}",
                      f"python={sys.version_info[0]}.{sys.version_info[1]}"])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _load_kernel(source: str):
    """Import the kernel from its cache folder, checked first: the source must be the generated one
    (else it is written again) and numba's cache files must match their seal (else numba compiles
    again). Nothing in the folder is ever run unverified."""
    verify_python(source, "the batch engine's generated kernel", KERNEL)
    digest = _kernel_key(source)
    folder = cache_dir() / "engine" / digest
    path = folder / KERNEL_FILE
    name = f"tokenworld_kernel_{digest}"
    if name in sys.modules:
        return sys.modules[name].kernel, folder
    folder.mkdir(parents=True, exist_ok=True)
    sweep(folder)
    try:
        current = path.read_text(encoding="utf-8") if path.is_file() and not path.is_symlink() else None
    except (OSError, UnicodeDecodeError):
        current = None
    if current != source:  # missing, damaged or edited: write it again, and drop what numba built from it
        shutil.rmtree(folder / "__pycache__", ignore_errors=True)
        _remove_quietly(folder / SEAL)
        _write_atomic(path, source.encode())
    elif not _seal_holds(folder):
        shutil.rmtree(folder / "__pycache__", ignore_errors=True)
        _remove_quietly(folder / SEAL)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    writing = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # numba keeps its own cache; no bytecode beside the checked source
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        sys.dont_write_bytecode = writing
    return module.kernel, folder


def _numba_files(folder: Path) -> dict[str, str]:
    cache = folder / "__pycache__"
    if not cache.is_dir():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(cache.iterdir()) if p.is_file()}


def _seal_holds(folder: Path) -> bool:
    """Whether numba's cache files are those sealed after they were written (no cache at all holds too)."""
    try:
        files = _numba_files(folder)
        if not files:
            return True
        sealed = json.loads((folder / SEAL).read_text(encoding="utf-8"))
        return isinstance(sealed, dict) and sealed == files
    except (OSError, ValueError):
        return False


def _seal(folder: Path) -> None:
    """Record the checksums of numba's cache files, once they exist (after the first run)."""
    try:
        files = _numba_files(folder)
        if files and any(name.endswith(".nbc") for name in files):
            _write_atomic(folder / SEAL, json.dumps(files, indent=1, sort_keys=True).encode())
    except OSError:
        pass  # an unsealed cache is only compiled again next time


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = temporary_file(path)
    try:
        with open(tmp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        _remove_quietly(tmp)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


class CompiledModel:
    """A model compiled for the batch engine: `run` simulates N parameter sets in one call."""

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self.generated = generate(spec)
        self.kernel, self.folder = _load_kernel(self.generated.source)
        self._sealed = (self.folder / SEAL).is_file()
        self._constant_index = {name_key(n): i for i, n in enumerate(self.generated.constants)}
        self._saved_index = {name_key(n): i for i, n in enumerate(self.generated.saved)}
        self.order = [spec.elements[k].name for k in self.generated.element_code]

    @property
    def compiled_on_disk(self) -> bool:
        """Whether numba's cache already holds the machine code (else the first run compiles it)."""
        return any((self.folder / "__pycache__").glob("*.nbi"))

    # --- running ---------------------------------------------------------------------------------
    def run(self, params: dict | None = None, n: int | None = None, controls: Controls | None = None,
            return_columns=None) -> BatchResult:
        """N runs on the time grid `controls` (default: the model's own)."""
        params = dict(params or {})
        c = controls or Controls.of(self.spec)
        t0, tf, dt, sp = c.initial_time, c.final_time, c.time_step, c.saveper
        n = n or max([np.size(v) for v in params.values() if isinstance(v, np.ndarray)] + [1])
        P = np.tile(np.asarray(self.generated.defaults, dtype=float), (n, 1))
        series = []
        for name, value in params.items():
            key = name_key(name)
            if key not in self._constant_index:
                if key in self.spec.elements:
                    raise BadInput(f"batch engine: '{self.spec.elements[key].name}' is not a constant and cannot be set")
                raise UnknownName(f"batch engine: no constant named '{name}' in {self.spec.path.name}")
            j = self._constant_index[key]
            if isinstance(value, pd.Series):
                series.append((j, np.asarray(value.index, dtype=float), np.asarray(value.to_numpy(), dtype=float)))
                P[:, j] = np.interp(t0, series[-1][1], series[-1][2])
            else:
                arr = np.asarray(value, dtype=float)
                if arr.ndim and arr.shape[0] != n:
                    raise BadInput(f"batch engine: '{name}' has {arr.shape[0]} values for {n} runs")
                P[:, j] = arr
        width = max([len(x) for _, x, _ in series] + [1])
        SIDX = np.array([j for j, _, _ in series], dtype=np.int64)
        SX = np.zeros((len(series), width))
        SY = np.zeros((len(series), width))
        SL = np.array([len(x) for _, x, _ in series], dtype=np.int64)
        for q, (_, x, y) in enumerate(series):
            SX[q, : len(x)] = x
            SY[q, : len(y)] = y
        columns = self._columns(return_columns)
        OUTIDX = np.array([self._saved_index[name_key(c)] for c in columns], dtype=np.int64)
        n_steps, save_every = c.n_steps, c.steps_per_save
        OUT = np.full((n, len(columns), c.n_saved), np.nan)
        STATUS = np.zeros(n, dtype=np.int64)
        DIVAT = np.full(n, np.nan)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.filterwarnings("ignore", category=RuntimeWarning)  # a diverging run's overflows
            self.kernel(P, SIDX, SX, SY, SL, t0, dt, tf, sp, n_steps, save_every, OUTIDX, OUT, STATUS, DIVAT)
        if not self._sealed:
            _seal(self.folder)
            self._sealed = True
        return BatchResult.build(c.saved_times(), columns, OUT, STATUS, DIVAT)

    def _columns(self, return_columns) -> list[str]:
        if return_columns is None:
            return list(self.generated.saved)
        found = []
        for name in return_columns:
            key = name_key(name)
            if key not in self._saved_index:
                raise UnknownName(f"batch engine: no variable named '{name}' in {self.spec.path.name}")
            found.append(self.generated.saved[self._saved_index[key]])
        return found

    # --- one equation, for the loop analysis -----------------------------------------------------
    def equation(self, name: str, controls: Controls | None = None):
        """A function (env, time, init=None) -> value of one element's equation (for a stock: its net flow).

        `env` maps Vensim names to arrays (or numbers); the function evaluates the element's own
        equation from them with numpy, so that one input can be changed while the others are held.
        INITIAL(x) takes x from the first entry of `init` (a run's series), or of env without it.
        """
        key = name_key(name)
        element = self.spec[name]
        if element.kind in ("constant", "lookup", "data", "control"):
            raise BadInput(f"batch engine: '{element.name}' is a {element.kind}, it has no equation to evaluate")
        names = {k: el.name for k, el in self.spec.elements.items()}
        translator = Translator(self.spec, local_name=lambda k: f"env[{names[k]!r}]",
                                constant_name=lambda k: f"env[{names[k]!r}]")
        code = Code("")
        node = element.ast.flow if element.kind == "stock" else element.ast
        code.text = translator.expr(node, key, code, "vector")
        for stateful in translator.statefuls:
            # INITIAL(x) holds x's value at the start: x's expression on the first entry of
            # `init` (the whole run, by default env).
            if stateful.kind != "initial":
                translator.refuse("a stateful function inside the equation (for the loop analysis)", key)
            first = Translator(self.spec, local_name=lambda k: f"first(init[{names[k]!r}])",
                               constant_name=lambda k: f"env[{names[k]!r}]")
            initial = first.expr(stateful.node.initial, key, Code(""), "vector")
            if first.statefuls or first.lookups:
                first.refuse("a stateful function inside INITIAL (for the loop analysis)", key)
            code.text = re.sub(rf"\b{stateful.out}\b", f"({initial})", code.text)
        c = controls or Controls.of(self.spec)
        t0, dt, sp = c.initial_time, c.time_step, c.saveper
        namespace = {"np": np, "dt": dt, "t0": t0, "saveper": sp, "first": _first,
                     **{f: getattr(functions, f) for f in dir(functions) if f.startswith("v")}}
        for table in translator.lookups:
            namespace[f"LX{table.id}"] = np.asarray(table.xs, dtype=float)
            namespace[f"LY{table.id}"] = np.asarray(table.ys, dtype=float)
        source = f"lambda env, t, init=None: (lambda init: {code.text})(env if init is None else init)"
        verify_python(source, f"the batch engine's equation of '{element.name}'", EXPRESSION)
        function = eval(source, namespace)  # generated from PySD's parse tree, and checked just above
        function.inputs = sorted(names[k] for k in code.elements)
        function.source = source
        return function


def _first(values):
    """The first entry of a series (a number stays as it is)."""
    values = np.asarray(values, dtype=float)
    return values.flat[0] if values.ndim else float(values)


def compile_spec(spec: ModelSpec) -> CompiledModel:
    """Compile (or load from the cache) the batch kernel of a model."""
    return _compiled(spec.path, spec.sha256)


@lru_cache(maxsize=8)
def _compiled(path: Path, sha: str) -> CompiledModel:
    return CompiledModel(load_spec(path))


__all__ = ["CompiledModel", "compile_spec"]
