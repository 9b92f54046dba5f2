"""Our static files in a real browser: plotly.js and the map shapes are served by the live server,
and charts.js draws, explains and drills down from figures whatever the chart endpoints answer.

The chart tests load a page that only the browser sees (Playwright answers it, on the live
server's address) with charts.js and plotly.js from the live server's static files, under the
Content-Security-Policy the product sends: no inline scripts."""

import json

import plotly.graph_objects as go
import pytest

from glancedash.content_security import POLICY
from tests.helpers.browser import log_in

pytestmark = pytest.mark.django_db(transaction=True)

CSP = POLICY
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="/static/vendor/plotly/plotly.min.js" defer></script>
<script src="/static/js/charts.js" defer></script></head>
<body><div class="chart" id="chart-demo" data-src="/charts/demo/?preset=7d"
  data-topojson="/static/vendor/plotly/topojson/" style="width: 800px; height: 420px"></div>
</body></html>"""


def chart_page(page, live_server, answer):
    """Opens the test page; `answer(route)` answers charts.js's fetch of /charts/demo/."""
    page.route(
        f"{live_server.url}/harness/",
        lambda route: route.fulfill(
            body=PAGE, content_type="text/html", headers={"Content-Security-Policy": CSP}
        ),
    )
    page.route(f"{live_server.url}/charts/demo/**", answer)
    page.goto(f"{live_server.url}/harness/")
    page.wait_for_selector("#chart-demo[data-state]:not([data-state=loading])", timeout=20000)
    return page.locator("#chart-demo")


def figure(fig):
    return {**json.loads(fig.to_json()), "empty": False, "message": ""}


def test_it_logs_in_through_the_form_and_lists_sessions(page, live_server, world):
    log_in(page, live_server, "analyst")
    page.goto(f"{live_server.url}/sessions/")
    rows = page.locator("table.sessions tbody tr")
    assert rows.count() > 0
    assert world.a.name in rows.first.inner_text()
    assert world.b.name not in page.locator("table.sessions").inner_text()


def test_it_serves_plotly_js_from_the_plotly_package(page, live_server):
    response = page.goto(f"{live_server.url}/static/vendor/plotly/plotly.min.js")
    assert response.status == 200
    assert "plotly.js v4.1.1" in response.text()[:200]


def test_it_serves_the_map_shapes(page, live_server):
    response = page.goto(f"{live_server.url}/static/vendor/plotly/topojson/world_50m.json")
    assert response.status == 200
    assert "countries" in response.json()["objects"]


def test_it_draws_a_bar_chart_and_a_click_opens_the_bars_sessions(page, live_server):
    bars = go.Bar(
        x=["C", "G", "V"], y=[5, 9, 3], customdata=[f"/sessions/?type={t}" for t in "CGV"]
    )
    chart = chart_page(page, live_server, lambda route: route.fulfill(json=figure(go.Figure(bars))))
    assert chart.get_attribute("data-state") == "drawn"
    assert chart.locator("g.point path").count() == 3
    assert page.evaluate("typeof window.Plotly") == "object"
    page.route(f"{live_server.url}/sessions/**", lambda route: route.fulfill(body="the list"))
    # plotly listens on the plot area laid over the bars: click where bar G is drawn.
    box = chart.locator("g.point path").nth(1).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(f"{live_server.url}/sessions/?type=G")


def test_it_says_when_no_sessions_match(page, live_server):
    empty = {"data": [], "layout": {}, "empty": True, "message": "No sessions match these filters."}
    chart = chart_page(page, live_server, lambda route: route.fulfill(json=empty))
    assert chart.get_attribute("data-state") == "empty"
    assert chart.inner_text() == "No sessions match these filters."
    assert chart.locator(".main-svg").count() == 0


def test_it_says_when_a_chart_fails(page, live_server):
    chart = chart_page(page, live_server, lambda route: route.fulfill(status=500, body="boom"))
    assert chart.get_attribute("data-state") == "error"
    assert chart.inner_text() == "This chart could not be loaded."


def test_it_draws_a_world_map_from_our_own_shapes_offline(page, live_server):
    shapes = []
    page.on("request", lambda request: "topojson" in request.url and shapes.append(request.url))
    countries = go.Choropleth(
        locations=["USA", "FRA", "IND"],
        z=[10, 4, 7],
        locationmode="ISO-3",
        customdata=["/sessions/?country=US", "/sessions/?country=FR", "/sessions/?country=IN"],
    )
    fig = go.Figure(countries).update_layout(geo={"scope": "world", "resolution": 50})
    chart = chart_page(page, live_server, lambda route: route.fulfill(json=figure(fig)))
    assert chart.get_attribute("data-state") == "drawn"
    assert chart.locator("path.choroplethlocation").count() == 3
    assert shapes == [f"{live_server.url}/static/vendor/plotly/topojson/world_50m.json"]
    assert page.outside_requests == []


def test_it_says_when_the_map_shapes_are_missing(page, live_server):
    page.route("**/topojson/*.json", lambda route: route.fulfill(status=404, body="gone"))
    countries = go.Choropleth(locations=["USA"], z=[1], locationmode="ISO-3")
    fig = go.Figure(countries).update_layout(geo={"resolution": 50})
    chart = chart_page(page, live_server, lambda route: route.fulfill(json=figure(fig)))
    assert chart.get_attribute("data-state") == "error"
    assert chart.inner_text() == "This chart could not be loaded."
