"""Data, constants and lookups from files, read by PySD's own readers.

`GET XLS/DIRECT DATA`, `GET XLS/DIRECT CONSTANTS` and `GET XLS/DIRECT LOOKUPS` are read with
PySD's `ExtData`, `ExtConstant` and `ExtLookup` (the same spreadsheet and CSV readers, the same
handling of missing values), and `DATA` variables without a GET with PySD's `TabData` from the
data files given to the engine (as `pysd.read_vensim(..., data_files=...)` takes them). The
engine then holds each cell's numbers: a constant's value, or a series of (x, y) points that the
kernel interpolates as PySD does (`functions.data` and `functions.lookup`).

A file that is missing or unreadable is refused with a one-line error naming the variable and
the file, never read as NaN.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from pysd.translators.structures import abstract_expressions as ax

from ..core.errors import ModelError

DATA_MODES = {None: 0, "interpolate": 0, "raw": 1, "look_forward": 2, "hold_backward": 3}


class DataLoader:
    """Reads, once per component, what a model's GET functions and DATA variables point to."""

    def __init__(self, structure, data_files=None):
        self.s = structure
        self.data_files = [Path(f) for f in (data_files or [])]
        self._read: dict = {}

    # --- what the translator asks for -----------------------------------------------------------
    def constant(self, cell) -> float:
        data = self._component(cell, "constant")
        return float(self._at(data, cell)) if hasattr(data, "dims") else float(data)

    def lookup(self, cell) -> tuple[np.ndarray, np.ndarray]:
        data = self._component(cell, "lookup")
        xs = np.asarray(data["lookup_dim"].values, dtype=float)
        return xs, np.asarray(self._series(data, cell, "lookup_dim"), dtype=float)

    def series(self, cell) -> tuple[np.ndarray, np.ndarray, int]:
        data, mode = self._component(cell, "data")
        xs = np.asarray(data["time"].values, dtype=float)
        return xs, np.asarray(self._series(data, cell, "time"), dtype=float), mode

    # --- reading ----------------------------------------------------------------------------------
    def _component(self, cell, what: str):
        component = cell.component
        key = (id(component), what)
        if key not in self._read:
            self._read[key] = self._load(cell, what)
        return self._read[key]

    def _load(self, cell, what: str):
        from pysd.py_backend.data import TabData
        from pysd.py_backend.external import ExtConstant, ExtData, ExtLookup

        var, component = cell.var, cell.component
        # PySD names the component's coordinates after the element's own ranges
        coords = dict(zip(var.dims, component.subs.values(), strict=True))
        node, final = component.ast, var.coords
        name = var.name
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if isinstance(node, ax.GetConstantsStructure):
                    obj = ExtConstant(node.file, node.tab, node.cell, coords, self.s.root, final, name)
                elif isinstance(node, ax.GetLookupsStructure):
                    obj = ExtLookup(node.file, node.tab, node.x_row_or_col, node.cell, coords, self.s.root,
                                    final, name)
                elif isinstance(node, ax.GetDataStructure):
                    keyword = _keyword(component)
                    obj = ExtData(node.file, node.tab, node.time_row_or_col, node.cell, keyword, coords,
                                  self.s.root, final, name)
                elif isinstance(node, ax.DataStructure):
                    if not self.data_files:
                        raise ModelError(f"{self.s.path.name}: '{name}' is a DATA variable read from data files "
                                         f"given at run time; none were given")
                    obj = TabData(name, name.lower().replace(" ", "_"), final, _keyword(component))
                    obj.load_data([str(f) for f in self.data_files])
                    return obj.data, DATA_MODES[obj.interp]
                else:
                    raise ModelError(f"{self.s.path.name}: '{name}' is not read from a file")
                obj.initialize()
        except ModelError:
            raise
        except FileNotFoundError as exc:
            raise ModelError(f"{self.s.path.name}: '{name}' reads a file that is not there "
                             f"({_last_line(exc)})") from None
        except Exception as exc:  # PySD's readers raise many kinds
            raise ModelError(f"{self.s.path.name}: '{name}' could not be read from its file "
                             f"({_last_line(exc)})") from None
        if what == "data":
            return obj.data, DATA_MODES[obj.interp]
        return obj.data

    def _at(self, data, cell):
        if not cell.labels:
            return data
        return data.loc[dict(zip(cell.var.dims, cell.labels, strict=True))]

    def _series(self, data, cell, axis: str):
        values = self._at(data, cell)
        if hasattr(values, "dims") and set(values.dims) - {axis}:
            raise ModelError(f"{self.s.path.name}: '{cell.describe()}' read from its file has unexpected "
                             f"dimensions {list(values.dims)}")
        return np.asarray(values, dtype=float).reshape(-1)


def _keyword(component):
    keyword = getattr(component.abstract, "keyword", None)
    return keyword.replace(" ", "_") if keyword else None


def _last_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
