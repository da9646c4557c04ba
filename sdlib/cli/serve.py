"""`tokenworld serve`: the policy explorer, a local web page with a slider for every lever."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("--port", type=int, default=8050, help="port to listen on (default 8050)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--engine", default=None, choices=["pysd", "batch"],
                   help="simulation engine (default: batch when numba is installed, else pysd)")


def main(args) -> int:
    from sdlib.core.errors import require

    require("flask", "explorer", "the explorer")
    from sdlib.explorer.app import create_app

    app = create_app(engine=args.engine)
    print(f"Tokenworld explorer: open http://{args.host}:{args.port}/ in a browser (Ctrl-C to stop)", flush=True)
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0
