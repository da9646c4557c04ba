"""Time the explorer from slider move to redrawn charts, in a real headless Chromium.

    python bench/explorer.py [--moves 40]

Starts the explorer on a loopback port, drags the token-subsidy slider to new positions (each one
a new run: no cache hits) and reads the page's own timings (performance.now() at the input event
to the end of Plotly's redraw of all eight charts). Prints JSON with the median and 95th
percentile, and the model's own share of it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import threading

import numpy as np
from werkzeug.serving import make_server


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--engine", default=None, choices=["pysd", "batch"])
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from sdlib.explorer.app import create_app

    app = create_app(engine=args.engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_function("Number(document.body.dataset.runs) >= 1", timeout=300_000)
        model_seconds = []
        for i in range(args.moves):
            count = int(page.evaluate("document.body.dataset.runs"))
            value = round(0.02 + 0.9 * (i + 1) / (args.moves + 1), 4)
            page.evaluate(
                "v => { const s = document.getElementById('lever-token-price-subsidy-size');"
                " s.value = v; s.dispatchEvent(new Event('input')); }", str(value))
            page.wait_for_function(f"Number(document.body.dataset.runs) > {count}", timeout=300_000)
            status = page.inner_text("#status")
            model_seconds.append(float(status.split("model ")[1].split(" ms")[0]) / 1000)
        timings = page.evaluate("window.__tokenworld.timings")[1:]  # the first is the page load
        fetches = page.evaluate("window.__tokenworld.fetches")[1:]
        draws = page.evaluate("window.__tokenworld.draws")[1:]
        engine = page.inner_text("#status").split(" engine")[0]
        browser.close()
    server.shutdown()
    ms = np.array(timings)
    report = {
        "engine": engine,
        "moves": len(ms),
        "median_ms": round(float(np.median(ms)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "model_median_ms": round(1000 * float(np.median(model_seconds)), 1),
        "request_median_ms": round(float(np.median(fetches)), 1),
        "draw_median_ms": round(float(np.median(draws)), 1),
        "target_median_ms": 50,
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
