"""A few headline numbers printed after a run, so the terminal says what happened."""

from __future__ import annotations

import pandas as pd

SUMMARY = [
    "Output per developer",
    "Token use",
    "Token price",
    "Compute capacity",
    "AI electricity use",
    "Tokens per person per day",
    "Copper price",
    "Labor share",
]


def summary_lines(frame: pd.DataFrame) -> list[str]:
    names = [n for n in SUMMARY if n in frame.columns]
    if frame.empty or not names:
        return []
    first, last = frame.index[0], frame.index[-1]
    width = max(len(n) for n in names)
    lines = [f"{'indicator':<{width}}  {first:>12g}  {last:>12g}"]
    for name in names:
        lines.append(f"{name:<{width}}  {frame[name].iloc[0]:>12.4g}  {frame[name].iloc[-1]:>12.4g}")
    return lines
