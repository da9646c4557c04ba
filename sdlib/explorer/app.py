"""The explorer's web server (Flask): the page, its data, runs and downloads.

Every request is checked the same way `tokenworld run` checks its input (scenario, parameter
names and ranges, policy arguments): it goes through the same public API (`sdlib.run`,
`sdlib.resolve`). A bad request gets a 400 answer with the reason, never a crash. Runs are
cached by their settings, so returning to a slider position is instant.
"""

from __future__ import annotations

import io
import ipaddress
import json
import shlex
import socket
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
from flask import Flask, Response, jsonify, request, send_file, send_from_directory
from werkzeug.exceptions import HTTPException

import sdlib

from ..core.errors import BadInput, TokenworldError
from .controls import meta
from .loops_view import LoopView

STATIC = Path(__file__).resolve().parent / "static"
CACHED_RUNS = 256


def default_engine() -> str:
    """The batch engine when numba is installed (fast enough to redraw while dragging), else PySD."""
    return "batch" if sdlib.Model.load().supports_batch() else "pysd"


# Limits of one request: its size, its JSON's nesting and numbers, and the work it may ask for.
MAX_BODY = 64 * 1024  # bytes (a request with every lever and parameter set is about 10 KB)
MAX_DEPTH = 6  # {"policies": [{"name": ...}]} is 3 deep
MAX_DIGITS = 30  # in one JSON number
MAX_POLICIES = 16
MAX_NAME = 200  # characters of a name or key
MAX_ERROR = 300  # characters of an error message (a value quoted from the request is cut)
MAX_YEARS = 1000  # a run's length: at most a few seconds of work and a few MB of answer


def read_body(data: bytes):
    """A request body as JSON, within the limits above, or BadInput saying which is broken."""
    def number(text: str):
        if len(text.lstrip("-").replace(".", "").split("e")[0].split("E")[0]) > MAX_DIGITS:
            raise BadInput(f"request: a number with more than {MAX_DIGITS} digits")
        return float(text) if any(c in text for c in ".eE") else int(text)

    def constant(text: str):
        raise BadInput(f"request: {text} is not a number JSON allows")

    def unique(pairs):
        keys = [k for k, _ in pairs]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise BadInput(f"request: the key {twice[0][:MAX_NAME]!r} is given twice; give it once")
        return dict(pairs)

    try:
        text = data.decode("utf-8")
        body = json.loads(text, parse_int=number, parse_float=number, parse_constant=constant,
                          object_pairs_hook=unique)
    except (UnicodeDecodeError, ValueError):
        raise BadInput("request: expected a JSON object with scenario, set and policies") from None
    except RecursionError:
        raise BadInput(f"request: JSON nested more than {MAX_DEPTH} levels deep") from None
    if _depth(body) > MAX_DEPTH:
        raise BadInput(f"request: JSON nested more than {MAX_DEPTH} levels deep")
    return body


def _depth(value, level: int = 1) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()] + [level])
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value] + [level])
    return level


def parse_settings(body) -> dict:
    """A request body checked for shape: {"scenario": str, "set": {name: number}, "policies": [...]}."""
    if not isinstance(body, dict):
        raise BadInput("request: expected a JSON object with scenario, set and policies")
    unknown = set(body) - {"scenario", "set", "policies", "final_time"}
    if unknown:
        raise BadInput(f"request: unknown key(s) {', '.join(sorted(k[:MAX_NAME] for k in unknown)[:5])}")
    scenario = body.get("scenario", "baseline")
    if not isinstance(scenario, str) or scenario not in sdlib.scenarios():
        raise BadInput(f"request: unknown scenario {str(scenario)[:MAX_NAME]!r}")
    values = body.get("set", {})
    if not isinstance(values, dict):
        raise BadInput("request: 'set' must be an object of NAME: number")
    limit = len(sdlib.Model.load().parameters)
    if len(values) > limit:
        raise BadInput(f"request: 'set' holds {len(values)} names; the model has {limit} parameters")
    for name, value in values.items():
        if len(name) > MAX_NAME:
            raise BadInput(f"request: 'set': a name of {len(name)} characters (no parameter's name is that long)")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadInput(f"request: 'set': the value of {name!r} must be a number")
    policies = body.get("policies", [])
    if not isinstance(policies, list) or not all(isinstance(p, dict) and isinstance(p.get("name"), str)
                                                 for p in policies):
        raise BadInput("request: 'policies' must be a list of objects with a name")
    if len(policies) > MAX_POLICIES:
        raise BadInput(f"request: {len(policies)} policies (at most {MAX_POLICIES})")
    for policy in policies:
        if len(policy) > 16 or any(len(k) > MAX_NAME for k in policy):
            raise BadInput(f"request: policy {policy['name'][:MAX_NAME]!r} has too many or too long arguments")
        for key, value in policy.items():
            if key != "name" and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise BadInput(f"request: policy {policy['name'][:MAX_NAME]!r}: argument {key!r} must be a number")
    final_time = body.get("final_time")
    if final_time is not None and (not isinstance(final_time, (int, float)) or isinstance(final_time, bool)):
        raise BadInput("request: 'final_time' must be a number")
    start = sdlib.Model.load().controls().initial_time
    if final_time is not None and final_time > start + MAX_YEARS:
        raise BadInput(f"request: 'final_time' = {final_time:g} is more than {MAX_YEARS} years after {start:g}; "
                       f"run longer horizons from the command line (tokenworld run --final-time)")
    return {"scenario": scenario, "set": values, "policies": policies, "final_time": final_time}


def command_line(settings: dict, engine: str) -> str:
    """The `tokenworld run` command that reproduces these settings (on the same engine)."""
    parts = ["tokenworld", "run", settings["scenario"]]
    for name, value in settings["set"].items():
        parts += ["--set", f"{name}={value!r}"]
    for policy in settings["policies"]:
        args = ",".join(f"{k}={v!r}" for k, v in policy.items() if k != "name")
        parts += ["--policy", policy["name"] + (f":{args}" if args else "")]
    if settings["final_time"] is not None:
        parts += ["--final-time", repr(settings["final_time"])]
    parts += ["--engine", engine]
    return shlex.join(parts)


def allowed_hosts(bound: str) -> set[str]:
    """Host names a request may carry: this machine's loopback names and the address it listens on
    (an IP address written as such is always accepted: DNS rebinding needs a name)."""
    names = {"localhost", "127.0.0.1", "::1"}
    if bound and bound not in ("0.0.0.0", "::"):
        names.add(bound.strip("[]").lower())
    else:
        names.update({socket.gethostname().lower(), socket.getfqdn().lower()})
    return names


def _host_name(header: str) -> str:
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def create_app(engine: str | None = None, host: str = "127.0.0.1") -> Flask:
    engine = engine or default_engine()
    charts = [name for name, _ in sdlib.Model.load().display.charts]
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    hosts = allowed_hosts(host)
    cache: OrderedDict[str, dict] = OrderedDict()
    loop_view = LoopView()

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

    def error(message: str, status: int):
        text = " ".join(str(message).split())
        return jsonify({"error": text if len(text) <= MAX_ERROR else text[:MAX_ERROR - 3] + "..."}), status

    @app.before_request
    def check_host():
        name = _host_name(request.host or "")
        if name not in hosts and not _is_address(name):
            return error(f"host {name[:80]!r} is not served here (expected {', '.join(sorted(hosts))}); "
                         f"open the address `tokenworld serve` printed", 403)
        return None

    @app.errorhandler(TokenworldError)
    def bad_input(exc):
        return error(str(exc), 400)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code == 413:
            return error(f"request too large (at most {MAX_BODY // 1024} KB)", 413)
        return error(f"{exc.name}: {exc.description}" if exc.code != 400 else f"malformed request: {exc.description}",
                     exc.code or 500)

    @app.errorhandler(Exception)
    def internal_error(exc):
        app.logger.exception("internal error")
        return error(f"internal error ({type(exc).__name__}); the server's log has the details", 500)

    def settings_of_request() -> dict:
        return parse_settings(read_body(request.get_data(cache=False)))

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
        settings = settings_of_request()
        current = run_settings(settings)
        baseline = run_settings({"scenario": settings["scenario"], "set": {}, "policies": [],
                                 "final_time": settings["final_time"]})
        return jsonify({**current, "baseline": baseline["series"]})

    @app.post("/api/loops")
    def api_loops():
        settings = settings_of_request()
        if engine != "batch":
            return jsonify({"error": "the loop view needs the batch engine (tokenworld serve --engine batch)"}), 400
        resolved = sdlib.resolve(settings["scenario"], set=settings["set"], policies=settings["policies"],
                                 final_time=settings["final_time"])
        return jsonify(loop_view.analyse(resolved))

    @app.post("/api/download")
    def api_download():
        settings = settings_of_request()
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
