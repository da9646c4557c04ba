"""What an engine returns: saved values for N runs, with each run's status (the engines' raw form;
`sdlib.Model.run` labels it as an xarray Dataset)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DIVERGENCE_BOUND = 1e300


@dataclass
class BatchResult:
    time: np.ndarray  # (T,) saved times
    values: dict  # column name (Vensim name, with [subscripts] for an element of an array) -> (N, T) array
    status: np.ndarray  # (N,) "ok" | "diverged"
    diverged_at: np.ndarray  # (N,) first time a value left the finite range, nan if ok
    culprits: list = field(default_factory=list)  # (N,) the variable whose equation failed, when one did
    reasons: list = field(default_factory=list)  # (N,) what went wrong there, when known ("" otherwise)

    @classmethod
    def build(cls, time, columns, out, status, divat) -> BatchResult:
        """Mark a run diverged where its states left the finite range (the kernel stopped it) or a saved
        value became infinite or passed the bound; blank what follows. NaN alone is a value (:NA:)."""
        with np.errstate(invalid="ignore"):
            bad = np.isinf(out) | (np.abs(out) > DIVERGENCE_BOUND)
        bad_rows = bad.any(axis=1)  # (N, T)
        first = np.where(bad_rows.any(axis=1), bad_rows.argmax(axis=1), -1)
        divat = divat.copy()
        for r in np.flatnonzero(first >= 0):
            t_bad = time[first[r]]
            out[r, :, first[r]:] = np.nan
            if not np.isfinite(divat[r]) or t_bad < divat[r]:
                divat[r] = t_bad
        diverged = (status != 0) | (first >= 0)
        return cls(
            time=time,
            values={name: out[:, j, :] for j, name in enumerate(columns)},
            status=np.where(diverged, "diverged", "ok"),
            diverged_at=np.where(diverged, divat, np.nan),
        )

    def to_frame(self, i: int = 0) -> pd.DataFrame:
        """Run i as a DataFrame like PySD's: index time, one column per variable."""
        frame = pd.DataFrame({name: v[i] for name, v in self.values.items()}, index=pd.Index(self.time, name="time"))
        return frame
