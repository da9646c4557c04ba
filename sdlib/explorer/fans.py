"""The explorer's uncertainty fans: the charts' percentile bands over an ensemble, for the levers as set.

A request to `/api/run` with `"ensemble": {"n": 1000, "seed": 0}` runs `sdlib.ensemble` (the batch
engine, Latin hypercube samples of the model's key uncertainties over the plausible ranges its
display file declares: the ranges `tokenworld ensemble --vary NAME` uses) and answers

    {"time": [...], "charts": {NAME: {"p5": [...], "p25": [...], "p50": [...], "p75": [...], "p95": [...]}},
     "n": 1000, "diverged": k, "drivers": {NAME: [{"name": ..., "rho": ...}, ...]}, "varied": [...], "fixed": [...]}

An uncertainty the scenario, the user (`set`) or a lever sets is held at that value rather than
varied (`fixed` says which and why). The same seed gives the same samples for every lever setting,
so a lever's move shifts the fan by its own effect only (common random numbers). Diverged runs are
counted and left out of the bands; `drivers` ranks the varied uncertainties by their rank
correlation with each chart's last saved value over the same runs.
"""

from __future__ import annotations

import json
import math
import threading
import time as clock
from collections import OrderedDict

import sdlib

from ..analysis.fan import percentile_bands, rank_correlations
from ..core.errors import BadInput
from .commands import ensemble_command

DEFAULT_RUNS = 1000
MAX_RUNS = 10_000  # about 4 s of the batch engine on two cores, 50 MB of bands' input
MAX_SEED = 2**32 - 1
DRIVERS = 3  # listed per chart
CACHED_FANS = 32


def split_request(body):
    """(the request without its "ensemble" key, the checked ensemble {"n", "seed"} or None)."""
    if not isinstance(body, dict) or "ensemble" not in body:
        return body, None
    rest = {k: v for k, v in body.items() if k != "ensemble"}
    return rest, parse_ensemble(body["ensemble"])


def parse_ensemble(value) -> dict:
    """{"n": runs, "seed": integer}, both optional, checked; BadInput naming the key otherwise."""
    if not isinstance(value, dict):
        raise BadInput("request: 'ensemble' must be an object such as {\"n\": 1000, \"seed\": 0}")
    unknown = set(value) - {"n", "seed"}
    if unknown:
        raise BadInput(f"request: 'ensemble': unknown key(s) {', '.join(sorted(str(k)[:40] for k in unknown))} "
                       f"(expected n and seed)")
    n = value.get("n", DEFAULT_RUNS)
    if not _whole(n) or not 2 <= n <= MAX_RUNS:
        raise BadInput(f"request: 'ensemble.n' must be a whole number of runs from 2 to {MAX_RUNS}, not {_shown(n)}")
    seed = value.get("seed", 0)
    if not _whole(seed) or not 0 <= seed <= MAX_SEED:
        raise BadInput(f"request: 'ensemble.seed' must be a whole number from 0 to {MAX_SEED}, not {_shown(seed)}")
    return {"n": int(n), "seed": int(seed)}


def _whole(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and float(value).is_integer()


def _shown(value) -> str:
    return json.dumps(value)[:40] if not isinstance(value, float) or math.isfinite(value) else str(value)


def varied_and_fixed(settings: dict) -> tuple[list[str], list[dict]]:
    """The key uncertainties to vary, and those held (with the reason) for these settings."""
    resolved = sdlib.resolve(settings["scenario"], set=settings["set"], policies=settings["policies"],
                             final_time=settings["final_time"])
    user = set(resolved.model.check(dict(settings["set"]), source="set"))
    varied, fixed = [], []
    for u in resolved.model.display.uncertainties:
        if u.name in resolved.policy_overrides:
            fixed.append({"name": u.name, "reason": "set by a lever"})
        elif u.name in user:
            fixed.append({"name": u.name, "reason": "set by you"})
        elif u.name in resolved.overrides:
            fixed.append({"name": u.name, "reason": f"set by the scenario {resolved.scenario.name}"})
        else:
            varied.append(u.name)
    return varied, fixed


def fan(settings: dict, charts: list[str], n: int, seed: int) -> dict:
    """The answer to an ensemble request (see the module's doc), computed through `sdlib.ensemble`."""
    started = clock.perf_counter()
    varied, fixed = varied_and_fixed(settings)
    if not varied:
        raise BadInput("ensemble: every key uncertainty is set by the scenario, a lever or you; nothing is left to "
                       "vary (reset a slider)")
    data = sdlib.ensemble(settings["scenario"], vary=varied, n=n, method="lhs", outcomes=charts, seed=seed,
                          set=settings["set"], policies=settings["policies"], final_time=settings["final_time"],
                          progress=False)
    model_seconds = float(data.attrs["seconds"])
    keep, bands = percentile_bands(data, charts)
    drivers = {}
    for name, rho in rank_correlations(data, varied, charts, keep).items():
        ranked = sorted(rho, key=lambda k: -abs(rho[k]))[:DRIVERS]
        drivers[name] = [{"name": k, "rho": round(rho[k], 3)} for k in ranked]
    return {
        "time": [float(t) for t in data["time"].to_numpy()],
        "charts": {name: {key: [_number(v) for v in row] for key, row in band.items()} for name, band in bands.items()},
        "n": n,
        "diverged": int((~keep).sum()),
        "seed": seed,
        "drivers": drivers,
        "year": float(data["time"].to_numpy()[-1]),
        "varied": [{"name": u["name"], "low": u["low"], "high": u["high"]} for u in json.loads(data.attrs["varied"])],
        "fixed": fixed,
        "engine": "batch",
        "command": ensemble_command(settings, varied, charts, n, seed),
        "seconds": round(model_seconds, 3),
        "total_seconds": round(clock.perf_counter() - started, 3),
    }


def _number(value: float) -> float | None:
    """A band value for JSON: 7 significant digits (far finer than a chart's pixel), None for NaN."""
    return float(f"{value:.7g}") if math.isfinite(value) else None


class Fans:
    """Fan answers cached by their settings, so returning to a lever position is instant."""

    def __init__(self, charts: list[str]):
        self.charts = charts
        self._cache: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def answer(self, settings: dict, n: int, seed: int) -> dict:
        key = json.dumps([settings, n, seed], sort_keys=True)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        found = fan(settings, self.charts, n, seed)
        with self._lock:
            self._cache[key] = found
            while len(self._cache) > CACHED_FANS:
                self._cache.popitem(last=False)
        return found
