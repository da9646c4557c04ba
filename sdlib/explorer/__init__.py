"""`tokenworld serve`: a local web page with a slider for every lever, redrawn as you drag."""

from __future__ import annotations


def add_serve_parser(sub) -> None:
    p = sub.add_parser("serve", help="open the policy explorer in a browser (a local web server)")
    p.add_argument("--port", type=int, default=8050, help="port to listen on (default 8050)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--engine", default=None, choices=["pysd", "batch"],
                   help="simulation engine (default: batch when available, else pysd)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    from .app import create_app

    app = create_app(engine=args.engine)
    print(f"Tokenworld explorer: open http://{args.host}:{args.port}/ in a browser (Ctrl-C to stop)", flush=True)
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0
