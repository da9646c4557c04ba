"""`tokenworld serve`: the policy explorer, a local web page with a slider for every lever."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("--port", type=port_number, default=8050, help="port to listen on, 1-65535 (default 8050)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--engine", default=None, choices=["pysd", "batch"],
                   help="simulation engine (default: batch when numba is installed, else pysd)")


def port_number(text: str) -> int:
    """A TCP port, 1-65535 (argparse turns the ValueError into a one-line usage error)."""
    import argparse

    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (expected 1-65535)") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (expected 1-65535)")
    return port


def main(args) -> int:
    from sdlib.core.errors import require

    require("flask", "explorer", "the explorer")
    from werkzeug.serving import make_server

    from sdlib.core.errors import BadInput
    from sdlib.explorer.app import create_app

    app = create_app(engine=args.engine, host=args.host)
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except (OSError, OverflowError, ValueError) as exc:
        raise BadInput(f"--port: cannot listen on {args.host}:{args.port} ({getattr(exc, 'strerror', None) or exc}); "
                       f"choose another --port or --host") from None
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Tokenworld explorer: open http://{host}:{server.server_port}/ in a browser (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
