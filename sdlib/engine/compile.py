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
import shutil
import subprocess
import sys
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.controls import Controls
from ..core.errors import BadInput, UnknownName, UnsupportedConstruct
from ..core.expressions import Code, Context, Translator
from ..core.paths import cache_dir
from ..core.rundir import sweep, write_cache_file
from ..core.spec import ModelSpec, load_spec, name_key
from . import functions, ufuncs
from .codegen import Generated, Statics, generate
from .data import DataLoader
from .result import BatchResult
from .structure import Structure
from .untrusted import EXPRESSION, KERNEL, verify_python

KERNEL_FORMAT = 3  # bump when how kernels are cached changes
KERNEL_FILE = "tokenworld_kernel.py"
SEAL = "numba-cache.json"  # the checksums of numba's cache files, written after they are


@lru_cache(maxsize=1)
def _library_digest() -> str:
    """The kernel's own library: numba caches a kernel with these functions compiled into it, so a
    kernel is cached under their text too (a changed library must not leave stale machine code)."""
    here = Path(__file__).parent
    text = b"".join((here / name).read_bytes() for name in ("functions.py", "ufuncs.py", "vmath.py"))
    return hashlib.sha256(text).hexdigest()[:16]


def _kernel_key(source: str) -> str:
    """The kernel's cache folder name: its source (with its library's digest) and the versions that
    compile and run it."""
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
    source = f"# library {_library_digest()}\n" + source
    verify_python(source, "the batch engine's generated kernel", KERNEL)
    digest = _kernel_key(source)
    folder = cache_dir() / "engine" / digest
    path = folder / KERNEL_FILE
    name = f"tokenworld_kernel_{digest}"
    if name in sys.modules:
        return sys.modules[name], folder
    folder.mkdir(parents=True, exist_ok=True)
    sweep(folder)
    try:
        current = path.read_text(encoding="utf-8") if path.is_file() and not path.is_symlink() else None
    except (OSError, UnicodeDecodeError):
        current = None
    if current != source:  # missing, damaged or edited: write it again, and drop what numba built from it
        shutil.rmtree(folder / "__pycache__", ignore_errors=True)
        _remove_quietly(folder / SEAL)
        write_cache_file(path, source.encode())
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
    return module, folder


@lru_cache(maxsize=16)
def _abstract(path: Path, sha: str):
    """PySD's abstract model of a file (the parse modelspec also reads), cached on its content."""
    from pysd.translators.vensim.vensim_file import VensimFile

    vf = VensimFile(path)
    vf.parse()
    return vf.get_abstract_model()


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
            write_cache_file(folder / SEAL, json.dumps(files, indent=1, sort_keys=True).encode())
    except OSError:
        pass  # an unsealed cache is only compiled again next time


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


class CompiledModel:
    """A model compiled for the batch engine: `run` simulates N parameter sets in one call."""

    def __init__(self, spec: ModelSpec, method: str = "euler", data_files=None, exact: bool = False):
        self.spec = spec
        self.method = method
        self.exact = exact
        self.structure = Structure(_abstract(spec.path, spec.sha256), spec.path)
        self.loader = DataLoader(self.structure, data_files)
        self.generated: Generated = generate(self.structure, method, self.loader, exact)
        self._module, self.folder = _load_kernel(self.generated.source)
        self.lanes = self.generated.lanes  # runs side by side in the kernel for many runs (0: run-major)
        self.kernel = self._module.kernelL if self.lanes else self._module.kernel  # many runs, in parallel
        self.kernel1 = self._module.kernel1  # one run (compiles in about half the time)
        self._sealed: set = set()  # the kernels (one run, many runs) whose numba cache files are sealed here
        self._saved_index: dict[str, list[int]] = {}  # a column, or a subscripted variable's every column
        for i, cell in enumerate(self.generated.saved):
            self._saved_index.setdefault(name_key(cell.column), []).append(i)
            if cell.column != cell.var.name:
                self._saved_index.setdefault(cell.var.key, []).append(i)
        self._constant_index: dict[str, list[int]] = {}
        for j, cell in enumerate(self.generated.constants):
            self._constant_index.setdefault(cell.var.key, []).append(j)
        self.order = [cell.column for cell in self.generated.saved]
        # Random numbers come from the engine's own documented stream, not PySD's
        self.uses_random = any(site.startswith("RANDOM") for site in self.generated.sites)
        self._controls = self._static_controls()

    # --- time grid -------------------------------------------------------------------------------
    def _static_controls(self) -> dict:
        statics = Statics(self.structure, self.loader)
        values = {}
        for key in ("initial time", "final time", "time step", "saveper"):
            var = self.structure.vars.get(key)
            if var is None:
                continue
            if var.dims:
                raise UnsupportedConstruct(f"{self.spec.path.name}: a subscripted '{var.name}' is not supported")
            value = statics.value(var.cells[()])
            if value is None:
                raise UnsupportedConstruct(f"{self.spec.path.name}: a time-varying '{var.name}' is not supported "
                                           f"by the batch engine (use --engine pysd)")
            values[key] = value
        for key in ("initial time", "final time", "time step"):
            if key not in values:
                raise UnsupportedConstruct(f"{self.spec.path.name}: the model does not define {key.upper()}")
        return values

    def default_controls(self) -> Controls:
        """The model's own time grid, its control equations evaluated as the kernel evaluates equations."""
        c = self._controls
        values = {key: c.get(key, c["time step"]) for key in ("initial time", "final time", "time step", "saveper")}
        return Controls.of(self.spec, values=lambda: values)  # the model's own: a SAVEPER off the step grid as PySD

    @property
    def compiled_on_disk(self) -> bool:
        """Whether numba's cache holds the one-run kernel (else the first run compiles it). The kernel
        for many runs at once is compiled, and cached, on its own first use."""
        return self._on_disk("kernel1")

    def _on_disk(self, kernel: str) -> bool:
        """Whether numba's cache holds this kernel (kernel1: one run; kernelL: the lane kernel)."""
        return any((self.folder / "__pycache__").glob(f"*{kernel}*.nbi"))

    # --- running ---------------------------------------------------------------------------------
    def run(self, params: dict | None = None, n: int | None = None, controls: Controls | None = None,
            return_columns=None, seed: int = 0) -> BatchResult:
        """N runs on the time grid `controls` (default: the model's own). `params` maps constant names
        to a value, an array of n values, or a pandas Series over time; `seed` keys the random number
        stream (see `functions`)."""
        params = dict(params or {})
        c = controls or self.default_controls()
        t0, tf, dt, sp = c.initial_time, c.final_time, c.time_step, c.saveper
        n = n or max([np.size(v) for v in params.values() if isinstance(v, np.ndarray)] + [1])
        P = np.tile(np.asarray(self.generated.defaults, dtype=float), (n, 1))
        series = []
        for name, value in params.items():
            key = name_key(name)
            if key not in self._constant_index:
                if key in self.structure.vars and not self.structure.vars[key].hidden:
                    raise BadInput(f"batch engine: '{self.structure.vars[key].name}' is not a constant and "
                                   f"cannot be set")
                raise UnknownName(f"batch engine: no constant named '{name}' in {self.spec.path.name}")
            slots = self._constant_index[key]
            if isinstance(value, pd.Series):
                xs = np.asarray(value.index, dtype=float)
                ys = np.asarray(value.to_numpy(), dtype=float)
                for j in slots:
                    series.append((j, xs, ys))
                    P[:, j] = np.interp(t0, xs, ys)
            else:
                arr = np.asarray(value, dtype=float)
                if arr.ndim and arr.shape[0] != n:
                    raise BadInput(f"batch engine: '{name}' has {arr.shape[0]} values for {n} runs")
                for j in slots:
                    P[:, j] = arr
        width = max([len(x) for _, x, _ in series] + [1])
        SIDX = np.array([j for j, _, _ in series], dtype=np.int64)
        SX = np.zeros((len(series), width))
        SY = np.zeros((len(series), width))
        SL = np.array([len(x) for _, x, _ in series], dtype=np.int64)
        for q, (_, x, y) in enumerate(series):
            SX[q, : len(x)] = x
            SY[q, : len(y)] = y
        columns, outidx = self._columns(return_columns)
        n_steps = c.n_steps
        save = np.arange(n_steps + 1) % c.steps_per_save == 0
        many = n > 1
        if many and self.lanes:  # whole blocks of lanes: the last block filled with copies of the last run
            P = np.concatenate([P, np.repeat(P[-1:], -n % self.lanes, axis=0)])
        size = P.shape[0]
        OUT = np.full((size, len(columns), c.n_saved), np.nan)
        STATUS = np.zeros(size, dtype=np.int64)
        DIVAT = np.full(size, np.nan)
        ERR = np.zeros(size, dtype=np.int64)
        table = ufuncs.table()
        UFT = table if table is not None else np.zeros((1, 3), dtype=np.int64)
        # PySD's integer states (see `integers`): a constant the run sets is a float to PySD
        given = {name_key(name) for name in params}
        IINT = np.array([0 if given & constants else 1 for constants in self.generated.int_constants] or [0],
                        dtype=np.int64)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.filterwarnings("ignore", category=RuntimeWarning)  # a diverging run's overflows
            if many and self.lanes and not self._on_disk("kernelL"):
                self._compile_lanes_elsewhere()
            kernel = self.kernel if many else self.kernel1
            kernel(P, SIDX, SX, SY, SL, t0, dt, tf, sp, n_steps, save, np.asarray(outidx, dtype=np.int64),
                   OUT, STATUS, DIVAT, UFT, np.int64(seed), ERR, IINT)
        OUT, STATUS, DIVAT, ERR = OUT[:n], STATUS[:n], DIVAT[:n], ERR[:n]
        if min(n, 2) not in self._sealed:  # this kernel's first use here: numba may have written
            _seal(self.folder)  # its cache files, seal them (again)
            self._sealed.add(min(n, 2))
        refused = np.flatnonzero(STATUS == 2)
        if refused.size:
            r = refused[0]
            raise UnsupportedConstruct(f"{self.spec.path.name}: {self.generated.sites[ERR[r] - 1]} at time "
                                       f"{DIVAT[r]:g} (run {r}); the batch engine refuses rather than answer NaN")
        return BatchResult.build(c.saved_times(), columns, OUT, STATUS, DIVAT)

    def _compile_lanes_elsewhere(self) -> None:
        """Compile the lane kernel in a child process, which leaves it in numba's cache for this one.

        Measured: a process that compiled the lane kernel itself runs it 8x slower than any process that
        loads it from the cache (1.9 s against 0.18-0.24 s for 1,000 Tokenworld runs, also after
        re-importing it in the same process; not the heap, threads or the FPU's flush-to-zero), so the
        compilation happens elsewhere. If the child fails, numba compiles here on the first call."""
        if os.environ.get(COMPILING_HERE) or not self.spec.path.is_file():
            return
        sys.stderr.write(f"compiling the batch engine's kernel for many runs of {self.spec.path.name} "
                         f"(about two minutes, once; later runs load it from the cache)\n")
        arguments = [sys.executable, "-c", _CHILD, str(self.spec.path), self.method, "1" if self.exact else "0",
                     *[str(f) for f in self.loader.data_files]]
        subprocess.run(arguments, env={**os.environ, COMPILING_HERE: "1"}, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _columns(self, return_columns) -> tuple[list[str], list[int]]:
        saved = self.generated.saved
        if return_columns is None:
            return [c.column for c in saved], list(range(len(saved)))
        columns, index = [], []
        for name in return_columns:
            key = name_key(name)
            found = self._saved_index.get(key)
            if not found:
                raise UnknownName(f"batch engine: no variable named '{name}' in {self.spec.path.name}")
            for i in found:
                columns.append(saved[i].column)
                index.append(i)
        return columns, index

    # --- one equation, for the loop analysis -----------------------------------------------------
    def equation(self, name: str, controls: Controls | None = None):
        """A function (env, time, init=None) -> value of one element's equation (for a stock: its net flow).

        `env` maps Vensim names to arrays (or numbers); the function evaluates the element's own
        equation from them with numpy, so that one input can be changed while the others are held.
        INITIAL(x) takes x from the first entry of `init` (a run's series), or of env without it.
        """
        var = self.structure.vars.get(name_key(name))
        if var is None or var.hidden:
            raise UnknownName(f"batch engine: no variable named '{name}' in {self.spec.path.name}")
        if var.kind in ("lookup", "data", "control") or all(
                self.generated.codes.get(c.id, Code("")).constant for c in var.cells.values()):
            kind = "constant" if var.kind == "value" else var.kind
            raise BadInput(f"batch engine: '{var.name}' is a {kind}, it has no equation to evaluate")
        if var.dims:
            raise UnsupportedConstruct(f"batch engine: the subscripted '{var.name}' (for the loop analysis)")
        cell = var.cells[()]
        names = {c.id: c.var.name for c in self.structure.cells}
        translator = Translator(self.structure, "vector", cell_name=lambda c: f"env[{names[c.id]!r}]",
                                initial_name=lambda c: f"first(init[{names[c.id]!r}])")
        node = cell.component.ast
        if type(node).__name__ == "IntegStructure":
            node = node.flow
        code = Code("")
        text = translator.expr(node, Context(cell, {}, (), None), code).text
        c = controls or self.default_controls()
        t0, dt, sp = c.initial_time, c.time_step, c.saveper
        namespace = {"np": np, "dt": dt, "t0": t0, "saveper": sp, "first": _first,
                     **{f: getattr(functions, f) for f in dir(functions) if f.startswith("v")}}
        for table in translator.tables.tables:
            namespace[f"LX{table.id}"] = np.asarray(table.xs, dtype=float)
            namespace[f"LY{table.id}"] = np.asarray(table.ys, dtype=float)
        source = f"lambda env, t, init=None: (lambda init: {text})(env if init is None else init)"
        verify_python(source, f"the batch engine's equation of '{var.name}'", EXPRESSION)
        function = eval(source, namespace)  # generated from PySD's parse tree, and checked just above
        function.inputs = sorted({names[c.id] for c in code.refs})
        function.source = source
        return function


COMPILING_HERE = "TOKENWORLD_COMPILING_LANES"
_CHILD = """
import sys, warnings
warnings.simplefilter("ignore")
from sdlib.core.controls import Controls
from sdlib.core.spec import load_spec
from sdlib.engine.compile import compile_spec
compiled = compile_spec(load_spec(sys.argv[1]), sys.argv[2], sys.argv[4:], sys.argv[3] == "1")
c = compiled.default_controls()
compiled.run(n=2, controls=Controls(c.initial_time, c.initial_time + c.time_step, c.time_step, c.time_step))
"""


def _first(values):
    """The first entry of a series (a number stays as it is)."""
    values = np.asarray(values, dtype=float)
    return values.flat[0] if values.ndim else float(values)


def compile_spec(spec: ModelSpec, method: str = "euler", data_files=None, exact: bool = False) -> CompiledModel:
    """Compile (or load from the cache) the batch kernel of a model.

    `method` is "euler" (PySD's, the default) or "rk4" (classic fourth-order Runge-Kutta, as
    Vensim's RK4 Fixed; PySD has none). `data_files` are the files DATA variables are read from.
    `exact` computes EXP, LN, SIN, ... and powers of subscripted values with numpy's own loops,
    as PySD does, so that results equal PySD's to the last bit (at about twice the run time);
    by default the kernel uses the C library, which differs from numpy in the last bit of a few
    percent of such values (a relative difference near 1e-16 per call).
    """
    files = tuple(str(Path(f).resolve()) for f in (data_files or ()))
    return _compiled(spec.path, spec.sha256, method, files, bool(exact))


@lru_cache(maxsize=16)
def _compiled(path: Path, sha: str, method: str, files: tuple, exact: bool) -> CompiledModel:
    return CompiledModel(load_spec(path), method, files, exact)

__all__ = ["CompiledModel", "compile_spec"]
