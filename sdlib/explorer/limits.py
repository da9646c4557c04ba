"""The explorer server's limits (issue 16.9), kept apart from its routes.

`guard(app, host)` makes a Flask app refuse, before any route runs:
- a request whose `Host` is not one of the server's names (403): localhost, 127.0.0.1, ::1, the
  address it listens on, or an IP address written as such, so a page on another site that
  rebinds its name to this machine cannot drive it;
- a body over `MAX_BODY` (413); JSON nested more than `MAX_DEPTH` levels, a number of more than
  `MAX_DIGITS` digits, NaN or Infinity, or a key given twice (400), as `request.get_json()` reads it;
and answers every error as JSON with a reason of at most `MAX_ERROR` characters, never an HTML page.
`check_settings` bounds the work one request may ask for.
"""

from __future__ import annotations

import ipaddress
import json
import socket

from flask import Flask, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

import sdlib

from ..core.errors import BadInput, TokenworldError

MAX_BODY = 64 * 1024  # bytes (a request with every lever and parameter set is about 10 KB)
MAX_DEPTH = 6  # {"policies": [{"name": ...}]} is 3 deep
MAX_DIGITS = 30  # in one JSON number
MAX_POLICIES = 16
MAX_NAME = 200  # characters of a name or key
MAX_ERROR = 300  # characters of an error message (a value quoted from the request is cut)
MAX_YEARS = 1000  # a run's length: at most a few seconds of work and a few MB of answer


def read_body(data: bytes | str):
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
        text = data.decode("utf-8") if isinstance(data, bytes) else data
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


class LimitedJSON(DefaultJSONProvider):
    """Flask's JSON, reading request bodies with `read_body` (its BadInput is not a ValueError, so
    `request.get_json(silent=True)` passes it on to the 400 handler with its reason)."""

    def loads(self, s, **kwargs):
        return read_body(s)


def check_settings(values: dict, policies: list, final_time) -> None:
    """The work one request may ask for: names and values of `set`, levers and their arguments, and
    the run's length."""
    limit = len(sdlib.Model.load().parameters)
    if len(values) > limit:
        raise BadInput(f"request: 'set' holds {len(values)} names; the model has {limit} parameters")
    for name, value in values.items():
        if len(name) > MAX_NAME:
            raise BadInput(f"request: 'set': a name of {len(name)} characters (no parameter's name is that long)")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadInput(f"request: 'set': the value of {name!r} must be a number")
    if len(policies) > MAX_POLICIES:
        raise BadInput(f"request: {len(policies)} policies (at most {MAX_POLICIES})")
    for policy in policies:
        if len(policy) > 16 or any(len(k) > MAX_NAME for k in policy):
            raise BadInput(f"request: policy {policy['name'][:MAX_NAME]!r} has too many or too long arguments")
        for key, value in policy.items():
            if key != "name" and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise BadInput(f"request: policy {policy['name'][:MAX_NAME]!r}: argument {key!r} must be a number")
    start = sdlib.Model.load().controls().initial_time
    if final_time is not None and final_time > start + MAX_YEARS:
        raise BadInput(f"request: 'final_time' = {final_time:g} is more than {MAX_YEARS} years after {start:g}; "
                       f"run longer horizons from the command line (tokenworld run --final-time)")


def error_response(message: str, status: int):
    """An error as JSON: one line of at most MAX_ERROR characters."""
    text = " ".join(str(message).split())
    return jsonify({"error": text if len(text) <= MAX_ERROR else text[:MAX_ERROR - 3] + "..."}), status


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


def guard(app: Flask, host: str) -> None:
    """Install the limits on `app` (see the module's docstring); `host` is the address it listens on."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json = LimitedJSON(app)
    hosts = allowed_hosts(host)

    @app.before_request
    def check_host():
        name = _host_name(request.host or "")
        if name not in hosts and not _is_address(name):
            return error_response(f"host {name[:80]!r} is not served here (expected {', '.join(sorted(hosts))}); "
                                  f"open the address `tokenworld serve` printed", 403)
        return None

    @app.errorhandler(TokenworldError)
    def bad_input(exc):
        return error_response(str(exc), 400)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code == 413:
            return error_response(f"request too large (at most {MAX_BODY // 1024} KB)", 413)
        return error_response(f"{exc.name}: {exc.description}" if exc.code != 400
                              else f"malformed request: {exc.description}", exc.code or 500)

    @app.errorhandler(Exception)
    def internal_error(exc):
        app.logger.exception("internal error")
        return error_response(f"internal error ({type(exc).__name__}); the server's log has the details", 500)
