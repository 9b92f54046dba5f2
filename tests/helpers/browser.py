"""What the browser tests do on a page: log in, wait for the charts, take a picture."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# An ignored folder, so a test run leaves the tree clean; `make screenshots` points this at
# docs/screenshots to refresh the README's pictures.
SCREENSHOTS = ROOT / os.environ.get("GLANCEDASH_SCREENSHOTS", "screenshots-tmp")


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-Xy9!")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def wait_for_charts(page, count=None, timeout=15000):
    """Waits until every chart on the page has finished (drawn, empty or failed)."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart[data-src]')]"
        ".every(c => ['drawn', 'empty', 'error'].includes(c.dataset.state))",
        timeout=timeout,
    )


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
