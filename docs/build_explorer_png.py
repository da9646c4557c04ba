"""Rebuild docs/explorer.png: the explorer with the uncertainty fans on, in headless Chromium.

    python docs/build_explorer_png.py

Opens the explorer on a loopback port at an address holding a 25% token price subsidy from 2026 with
the fans on (1,000 runs), waits for the bands, moves the subsidy to 30% and saves the screenshot.
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

from werkzeug.serving import make_server

OUT = Path(__file__).resolve().parent / "explorer.png"
ADDRESS = "?scenario=baseline&fans=1&token-price-subsidy.size=0.25"


def main() -> None:
    from playwright.sync_api import sync_playwright

    from sdlib.explorer.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or shutil.which("chromium-browser"),
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1500, "height": 1180})
        page.goto(f"http://127.0.0.1:{server.server_port}/{ADDRESS}")
        page.wait_for_function("Number(document.body.dataset.fans) >= 1", timeout=300_000)
        page.evaluate("document.querySelector('[data-lever=token-price-subsidy] details').open = true")
        page.evaluate("""() => { const aside = document.querySelector('aside');
            const lever = document.querySelector('[data-lever=token-price-subsidy]');
            aside.scrollTop += lever.getBoundingClientRect().top - aside.getBoundingClientRect().top - 8; }""")
        # A move of the lever (25% -> 30%) as a user makes it, so that the status line shows a warm redraw.
        page.evaluate("""() => { const s = document.getElementById('lever-token-price-subsidy-size');
            s.value = 0.3; s.dispatchEvent(new Event('input')); }""")
        page.wait_for_function("Number(document.body.dataset.fans) >= 2", timeout=300_000)
        page.screenshot(path=str(OUT))
        browser.close()
    server.shutdown()
    print(OUT)


if __name__ == "__main__":
    main()
