"""What the overview costs a browser: the JS and CSS it loads, compressed as production serves
them (WhiteNoise's Brotli files), and how long after navigation its charts are drawn.

The weight is checked (it is a fixed number of bytes). The draw time is measured and written to
data/browser-timings.json for `make bench` and the README, never asserted: a timed assertion
would fail on a busy machine for no fault of the code.
"""

import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import pytest

from tests.helpers.browser import log_in, wait_for_charts

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
WEIGHT_LIMIT = 1_600_000  # bytes, issue 6
REPORT = ROOT / "data" / "browser-timings.json"


def test_the_overview_weighs_under_the_limit_and_its_draw_time_is_recorded(
    page, live_server, world
):
    log_in(page, live_server, "analyst")
    assets = {}

    def keep(response):
        path = urlsplit(response.url).path
        if path.endswith((".js", ".css")):
            assets[path] = response.body()

    page.on("response", keep)
    started = time.perf_counter()
    page.goto(f"{live_server.url}/?preset=30d")
    wait_for_charts(page)
    seconds = time.perf_counter() - started
    since_navigation_ms = page.evaluate("() => performance.now()")
    drawn = page.locator(".chart[data-state=drawn]").count()

    compressed = {path: len(brotli.compress(body, quality=11)) for path, body in assets.items()}
    total = sum(compressed.values())
    assert any("plotly" in path for path in assets), "plotly.js was not loaded"
    assert drawn == 6  # the overview's charts
    assert total < WEIGHT_LIMIT, compressed
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(
        json.dumps(
            {
                "overview_js_css_brotli_bytes": total,
                "assets": compressed,
                "charts_drawn": drawn,
                "charts_drawn_after_navigation_ms": round(since_navigation_ms),
                "goto_to_drawn_ms": round(seconds * 1000),
                "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            },
            indent=2,
        )
    )
    print(
        f"\noverview: JS+CSS {total:,} bytes brotli; "
        f"4 charts drawn {since_navigation_ms:.0f} ms after navigation"
    )
