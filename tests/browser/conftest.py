"""Browser tests: Playwright driving Debian's Chromium against a live server.

`playwright install` cannot download browsers here, so the tests launch the system Chromium
(CHROMIUM_PATH, default /usr/bin/chromium). Without it they are skipped with the reason printed,
unless REQUIRE_BROWSER=1 (as CI sets), where they fail instead.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API keeps an event loop running in this thread; Django would then refuse
# database access from the test itself ("SynchronousOnlyOperation"). The test thread is not
# async code, so allowing it is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def _unavailable(reason):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def browser(pytestconfig):
    if pytestconfig.getoption("--clock"):
        # Chromium keeps the machine's clock: cookies and caches that the server dates by the
        # moved one would be expired (or not yet valid) in the browser.
        pytest.skip("browser tests sit out a run with --clock: Chromium keeps the real clock")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


# Widths a test may ask for with @pytest.mark.parametrize("page", [...], indirect=True): a
# wall display (1080p), a desktop, and a phone (an iPhone's 390 px, at its height).
HEIGHTS = {1920: 1080, 1440: 900, 1280: 900, 390: 844}


@pytest.fixture
def page(browser, live_server, request):
    width = getattr(request, "param", 1280)
    context = browser.new_context(viewport={"width": width, "height": HEIGHTS[width]})
    page = context.new_page()
    page.outside_requests = []
    server = urlsplit(live_server.url).netloc

    def only_local(route):
        # Everything must come from our own server: no CDN, no map tiles, works offline.
        if urlsplit(route.request.url).netloc != server:
            page.outside_requests.append(route.request.url)
            return route.abort()
        return route.continue_()

    page.route("**/*", only_local)
    # Every page runs under our Content-Security-Policy; anything it blocks is a fault of ours.
    page.csp_violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.csp_violations.append(message.text)
        ),
    )
    yield page
    context.close()
    assert not page.csp_violations, page.csp_violations


@pytest.fixture
def world(world):
    """The world (each browser test builds its own: the live server reads committed rows), with
    a month of partner A's sessions so the charts have a shape."""
    from datetime import timedelta

    from django.utils import timezone

    from sessions_app.sync.run import sync_partner

    sync_partner(world.a, since=timezone.now() - timedelta(days=30))
    return world
