"""The explorer's web server (Flask): the page, its data, runs and downloads.

Every request is checked the same way `tokenworld run` checks its input (scenario, parameter
names and ranges, policy arguments); a bad one gets a 400 answer with the reason, never a crash.
Runs are cached by their settings, so returning to a slider position is instant.
"""

from __future__ import annotations

import io
import json
import shlex
import tempfile
import time
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
from flask import Flask, Response, jsonify, request, send_file, send_from_directory

from ..errors import BadInput, TokenworldError
from ..runner import RunRequest, execute, resolve
from ..scenario import load_scenario, scenario_files
from ..simulate import simulate
from .controls import CHARTS, meta
from .loops_view import LoopView

STATIC = Path(__file__).resolve().parent / "static"
VENDOR = Path(__file__).resolve().parent / "node_modules" / "uplot" / "dist"
VENDOR_FILES = {"uPlot.iife.min.js", "uPlot.min.css"}


def check_vendor() -> None:
    """The page draws with uPlot, installed by npm beside this module (see README)."""
    missing = [name for name in VENDOR_FILES if not (VENDOR / name).is_file()]
    if missing:
        raise BadInput(
            f"explorer: {', '.join(missing)} not installed; run `npm install --prefix sdlib/explorer` first"
        )


def default_engine() -> str:
    """The batch engine when it is installed (fast enough to redraw while dragging), else PySD."""
    try:
        import sdlib.engine  # noqa: F401
    except ImportError:
        return "pysd"
    return "batch"


def parse_settings(body) -> dict:
    """A request body checked for shape: {"scenario": str, "set": {name: number}, "policies": [...]}."""
    if not isinstance(body, dict):
        raise BadInput("request: expected a JSON object with scenario, set and policies")
    unknown = set(body) - {"scenario", "set", "policies", "final_time"}
    if unknown:
        raise BadInput(f"request: unknown key(s) {', '.join(sorted(unknown))}")
    scenario = body.get("scenario", "baseline")
    if not isinstance(scenario, str) or scenario not in scenario_files():
        raise BadInput(f"request: unknown scenario {scenario!r}")
    values = body.get("set", {})
    if not isinstance(values, dict):
        raise BadInput("request: 'set' must be an object of NAME: number")
    policies = body.get("policies", [])
    if not isinstance(policies, list) or not all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in policies):
        raise BadInput("request: 'policies' must be a list of objects with a name")
    final_time = body.get("final_time")
    if final_time is not None and (not isinstance(final_time, (int, float)) or isinstance(final_time, bool)):
        raise BadInput("request: 'final_time' must be a number")
    return {"scenario": scenario, "set": values, "policies": policies, "final_time": final_time}


def command_line(settings: dict) -> str:
    """The `tokenworld run` command that reproduces these settings."""
    parts = ["tokenworld", "run", settings["scenario"]]
    for name, value in settings["set"].items():
        parts += ["--set", f"{name}={value}"]
    for policy in settings["policies"]:
        args = ",".join(f"{k}={v}" for k, v in policy.items() if k != "name")
        parts += ["--policy", policy["name"] + (f":{args}" if args else "")]
    if settings["final_time"] is not None:
        parts += ["--final-time", str(settings["final_time"])]
    return " ".join(shlex.quote(p) for p in parts)


def _charts(model, resolved, engine: str):
    """The charted indicators of one run; on the batch engine only those are computed and kept."""
    names = [name for name, _ in CHARTS]
    c = resolved.controls
    if engine == "batch":
        from ..engine import compile_spec
        from ..modelspec import load_spec

        result = compile_spec(load_spec(model)).run(params=resolved.params, n=1, final_time=c.final_time,
                                                    time_step=c.time_step, saveper=c.saveper, return_columns=names)
        keep = np.isfinite(np.vstack([result.values[n][0] for n in names])).all(axis=0)
        series = {n: [float(v) for v in result.values[n][0][keep]] for n in names}
        diverged = result.status[0] != "ok"
        return ([float(t) for t in result.time[keep]], series, str(result.status[0]),
                float(result.diverged_at[0]) if diverged else None)
    result = simulate(model, resolved.params, c, engine=engine, progress=False)
    frame = result.frame
    series = {n: [float(v) for v in frame[n].to_numpy()] for n in names if n in frame}
    return [float(t) for t in frame.index], series, result.status, result.diverged_at


def create_app(engine: str | None = None) -> Flask:
    check_vendor()
    engine = engine or default_engine()
    app = Flask(__name__, static_folder=None)
    cache: OrderedDict[str, dict] = OrderedDict()
    loop_view = LoopView()

    def run_settings(settings: dict) -> dict:
        key = json.dumps(settings, sort_keys=True)
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        req = RunRequest(scenario=load_scenario(settings["scenario"]), set=settings["set"],
                         policies=settings["policies"], final_time=settings["final_time"], engine=engine)
        resolved = resolve(req)
        started = time.perf_counter()
        time_axis, series, status, diverged_at = _charts(req.scenario.model, resolved, engine)
        answer = {
            "time": time_axis,
            "series": series,
            "status": status,
            "diverged_at": diverged_at,
            "engine": engine,
            "seconds": round(time.perf_counter() - started, 4),
            "command": command_line(settings),
        }
        cache[key] = answer
        while len(cache) > 256:
            cache.popitem(last=False)
        return answer

    @app.errorhandler(TokenworldError)
    def bad_input(exc):
        return jsonify({"error": str(exc)}), 400

    @app.errorhandler(400)
    def malformed(exc):
        return jsonify({"error": f"malformed request: {getattr(exc, 'description', exc)}"}), 400

    @app.get("/")
    def index():
        return send_from_directory(STATIC, "index.html")

    @app.get("/static/<path:name>")
    def static_file(name):
        return send_from_directory(STATIC, name)

    @app.get("/vendor/<name>")
    def vendor(name):
        if name not in VENDOR_FILES:
            return jsonify({"error": f"no vendor file {name}"}), 404
        return send_from_directory(VENDOR, name)

    @app.get("/api/meta")
    def api_meta():
        return jsonify({**meta(), "engine": engine})

    @app.post("/api/run")
    def api_run():
        settings = parse_settings(request.get_json(silent=True))
        current = run_settings(settings)
        baseline = run_settings({"scenario": settings["scenario"], "set": {}, "policies": [],
                                 "final_time": settings["final_time"]})
        return jsonify({**current, "baseline": baseline["series"]})

    @app.post("/api/loops")
    def api_loops():
        settings = parse_settings(request.get_json(silent=True))
        if engine != "batch":
            return jsonify({"error": "the loop view needs the batch engine (tokenworld serve --engine batch)"}), 400
        req = RunRequest(scenario=load_scenario(settings["scenario"]), set=settings["set"],
                         policies=settings["policies"], final_time=settings["final_time"], engine=engine)
        return jsonify(loop_view.analyse(req.scenario.model, resolve(req)))

    @app.post("/api/download")
    def api_download():
        settings = parse_settings(request.get_json(silent=True))
        req = RunRequest(scenario=load_scenario(settings["scenario"]), set=settings["set"],
                         policies=settings["policies"], final_time=settings["final_time"], engine=engine,
                         plots=False, command=command_line(settings))
        with tempfile.TemporaryDirectory() as tmp:
            req.out = Path(tmp) / "run"
            outcome = execute(req)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name in ("timeseries.csv", "manifest.json"):
                    archive.write(outcome.folder / name, name)
        buffer.seek(0)
        return send_file(buffer, mimetype="application/zip", as_attachment=True,
                         download_name=f"tokenworld-{settings['scenario']}.zip")

    @app.get("/api/health")
    def health():
        return Response("ok", mimetype="text/plain")

    return app
