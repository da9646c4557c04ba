"""The explorer's web server (Flask): the page, its data, runs and downloads.

Every request is checked the same way `tokenworld run` checks its input (scenario, parameter
names and ranges, policy arguments): it goes through the same public API (`sdlib.run`,
`sdlib.resolve`). A bad request gets a 400 answer with the reason, never a crash. Runs are
cached by their settings, so returning to a slider position is instant.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
from flask import Flask, Response, jsonify, request, send_file, send_from_directory

import sdlib

from ..core.errors import BadInput
from ..core.scenario import scenario_files
from .commands import command_line
from .controls import meta
from .fans import Fans, split_request
from .limits import check_settings, guard
from .loops_view import LoopView

STATIC = Path(__file__).resolve().parent / "static"
CACHED_RUNS = 256


def default_engine() -> str:
    """The batch engine when numba is installed (fast enough to redraw while dragging), else PySD."""
    return "batch" if sdlib.Model.load().supports_batch() else "pysd"


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
    if not isinstance(policies, list) or not all(isinstance(p, dict) and isinstance(p.get("name"), str)
                                                 for p in policies):
        raise BadInput("request: 'policies' must be a list of objects with a name")
    final_time = body.get("final_time")
    if final_time is not None and (not isinstance(final_time, (int, float)) or isinstance(final_time, bool)):
        raise BadInput("request: 'final_time' must be a number")
    check_settings(values, policies, final_time)
    return {"scenario": scenario, "set": values, "policies": policies, "final_time": final_time}


def create_app(engine: str | None = None, host: str = "127.0.0.1") -> Flask:
    engine = engine or default_engine()
    charts = [name for name, _ in sdlib.Model.load().display.charts]
    app = Flask(__name__, static_folder=None)
    guard(app, host)  # Host allow-list, request limits, errors as short JSON (limits.py)
    cache: OrderedDict[str, dict] = OrderedDict()
    loop_view = LoopView()
    fans = Fans(charts)

    def run_settings(settings: dict) -> dict:
        key = json.dumps(settings, sort_keys=True)
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        data = sdlib.run(settings["scenario"], set=settings["set"], policies=settings["policies"],
                         final_time=settings["final_time"], engine=engine, columns=charts, progress=False)
        values = np.vstack([data[n].isel(run=0).to_numpy() for n in charts])
        keep = np.isfinite(values).all(axis=0)
        answer = {
            "time": [float(t) for t in data["time"].to_numpy()[keep]],
            "series": {n: [float(v) for v in row[keep]] for n, row in zip(charts, values, strict=False)},
            "status": data.attrs["status"],
            "diverged_at": data.attrs.get("diverged_at"),
            "engine": engine,
            "seconds": data.attrs["seconds"],
            "command": command_line(settings, engine),
        }
        cache[key] = answer
        while len(cache) > CACHED_RUNS:
            cache.popitem(last=False)
        return answer

    @app.get("/")
    def index():
        return send_from_directory(STATIC, "index.html")

    @app.get("/static/<path:name>")
    def static_file(name):
        return send_from_directory(STATIC, name)

    @app.get("/api/meta")
    def api_meta():
        return jsonify({**meta(), "engine": engine})

    @app.post("/api/run")
    def api_run():
        body, ensemble = split_request(request.get_json(silent=True))
        settings = parse_settings(body)
        if ensemble is not None:  # the uncertainty fans (fans.py)
            return jsonify(fans.answer(settings, **ensemble))
        current = run_settings(settings)
        baseline = run_settings({"scenario": settings["scenario"], "set": {}, "policies": [],
                                 "final_time": settings["final_time"]})
        return jsonify({**current, "baseline": baseline["series"]})

    @app.post("/api/loops")
    def api_loops():
        settings = parse_settings(request.get_json(silent=True))
        if engine != "batch":
            return jsonify({"error": "the loop view needs the batch engine (tokenworld serve --engine batch)"}), 400
        resolved = sdlib.resolve(settings["scenario"], set=settings["set"], policies=settings["policies"],
                                 final_time=settings["final_time"])
        return jsonify(loop_view.analyse(resolved))

    @app.post("/api/download")
    def api_download():
        settings = parse_settings(request.get_json(silent=True))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "run"
            sdlib.run(settings["scenario"], set=settings["set"], policies=settings["policies"],
                      final_time=settings["final_time"], engine=engine, out=folder, plots=False, progress=False,
                      command=command_line(settings, engine))
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(folder.iterdir()):
                    archive.write(path, path.name)
        buffer.seek(0)
        return send_file(buffer, mimetype="application/zip", as_attachment=True,
                         download_name=f"tokenworld-{settings['scenario']}.zip")

    @app.get("/api/health")
    def health():
        return Response("ok", mimetype="text/plain")

    return app
