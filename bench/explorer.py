"""Time the explorer from slider move to redrawn charts, in a real headless Chromium.

    python bench/explorer.py [--moves 40] [--fan-moves 20] [--runs 1000]

Starts the explorer on a loopback port and moves the token-subsidy slider to new positions (each one
a new run: no cache hits), reading the page's own timings (performance.now() at the input event to
the browser's paint after the redraw of all eight charts):

- `single_run`: the lines alone (one run per move), as before the fans;
- `fans`: with "show uncertainty" on, a move sends the lines' run request and the ensemble request
  together and redraws every chart's bands from the fresh ensemble of `--runs` runs; timed from the
  input event to the painted bands. The parts: the run request for the lines, the ensemble request
  (of which the model: `sdlib.ensemble`'s own clock; the server's whole answer: bands and drivers
  too), and the drawing.

Then, in this process with the browser closed, the ensemble alone (`sdlib.ensemble`, the same
samples) and the batch kernel alone (`Model.run`, n runs): the floor the page cannot beat. The
machine's load average is printed beside them: on a shared machine the numbers move with it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import threading
import time

import numpy as np
from werkzeug.serving import make_server


def median(values) -> float:
    return round(float(np.median(values)), 1)


def p95(values) -> float:
    return round(float(np.percentile(values, 95)), 1)


def move(page, value: float, counter: str) -> None:
    """Set the subsidy slider as a drag would and wait for the page to count the redraw."""
    count = int(page.evaluate(f"document.body.dataset.{counter}"))
    page.evaluate("v => { const s = document.getElementById('lever-token-price-subsidy-size');"
                  " s.value = v; s.dispatchEvent(new Event('input')); }", str(value))
    # Polled every 100 ms, not every frame: the page's own clock times the redraw, and a browser
    # polling at 60 frames a second would take CPU from the runs it is timing.
    page.wait_for_function(f"Number(document.body.dataset.{counter}) > {count}", polling=100, timeout=300_000)


def in_process(runs: int, repeats: int = 7) -> dict:
    """The ensemble and the batch kernel alone, with the fans' samples, n = runs."""
    import sdlib
    from sdlib.explorer.fans import varied_and_fixed

    model = sdlib.Model.load()
    charts = [name for name, _ in model.display.charts]
    settings = {"scenario": "baseline", "set": {}, "policies": [], "final_time": None}
    varied, _ = varied_and_fixed(settings)
    ensemble, kernel = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        data = sdlib.ensemble("baseline", vary=varied, n=runs, method="lhs", outcomes=charts, seed=0, progress=False)
        ensemble.append(1000 * (time.perf_counter() - started))
        params = {name: data[name.replace(" ", "_")].to_numpy() for name in varied}
        started = time.perf_counter()
        model.run(params, model.controls(), n=runs, columns=charts, engine="batch", progress=False)
        kernel.append(1000 * (time.perf_counter() - started))
    one = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.run({}, model.controls(), n=1, columns=charts, engine="batch", progress=False)
        one.append(1000 * (time.perf_counter() - started))
    return {"ensemble_median_ms": median(ensemble), "model_run_median_ms": median(kernel),
            "model_run_n1_median_ms": median(one), "per_run_us": round(1000 * median(kernel) / runs, 1)}


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--moves", type=int, default=40, help="moves with the lines alone")
    parser.add_argument("--fan-moves", type=int, default=20, help="moves with the fans on")
    parser.add_argument("--runs", type=int, default=1000, help="runs behind each fan")
    parser.add_argument("--engine", default=None, choices=["pysd", "batch"])
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from sdlib.explorer.app import create_app

    app = create_app(engine=args.engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    load_before = os.getloadavg()[0]
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
            move(page, round(0.02 + 0.9 * (i + 1) / (args.moves + 1), 4), "runs")
            status = page.inner_text("#status")
            model_seconds.append(float(status.split("model ")[1].split(" ms")[0]) / 1000)
        tw = "window.__tokenworld."
        timings, fetches, draws = (page.evaluate(tw + k)[1:] for k in ("timings", "fetches", "draws"))  # 0: page load
        engine = page.inner_text("#status").split(" engine")[0]

        # The fans: the page opened with them on (its address says so), then the lever moved to new positions.
        page.goto(f"{url}?fans=1&runs={args.runs}")
        page.wait_for_function("Number(document.body.dataset.fans) >= 1", timeout=300_000)
        fan_models, fan_servers, single_ms = [], [], []
        for i in range(args.fan_moves):
            before = len(page.evaluate(tw + "fetches"))
            move(page, round(0.01 + 0.9 * (i + 0.5) / (args.fan_moves + 1), 4), "fans")
            single_ms.append(page.evaluate(tw + "fetches")[before])
            fan = page.evaluate(tw + "fan")
            assert fan["n"] == args.runs, fan["n"]
            fan_models.append(1000 * fan["seconds"])
            fan_servers.append(1000 * fan["total_seconds"])
        fan_timings, fan_fetches, fan_draws = (page.evaluate(tw + k)[1:] for k in ("fanTimings", "fanFetches", "fanDraws"))
        browser.close()
    server.shutdown()
    load_browser = os.getloadavg()[0]
    alone = in_process(args.runs)
    report = {
        "single_run": {
            "engine": engine,
            "moves": len(timings),
            "median_ms": median(timings),
            "p95_ms": p95(timings),
            "model_median_ms": round(1000 * float(np.median(model_seconds)), 1),
            "request_median_ms": median(fetches),
            "draw_median_ms": median(draws),
            "target_median_ms": 50,
        },
        "fans": {
            "runs": args.runs,
            "moves": len(fan_timings),
            "median_ms": median(fan_timings),
            "p95_ms": p95(fan_timings),
            "lines_request_median_ms": median(single_ms),
            "fan_request_median_ms": median(fan_fetches),
            "fan_server_median_ms": median(fan_servers),
            "fan_model_median_ms": median(fan_models),
            "draw_median_ms": median(fan_draws),
            "target_median_ms": 250,
        },
        "alone": {"runs": args.runs, **alone},
        "load_average_1min": {"start": round(load_before, 2), "after_browser": round(load_browser, 2),
                              "end": round(os.getloadavg()[0], 2)},
        "cores": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
