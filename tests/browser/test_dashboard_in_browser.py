"""The dashboard in a real browser: charts draw from our own static files, filters redraw
them, drill-downs land on the sessions, maps draw offline."""

import csv
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.helpers.browser import log_in, screenshot, wait_for_charts
from tests.helpers.queue import run_queued

pytestmark = pytest.mark.django_db(transaction=True)


def drawn(page, chart):
    return page.locator(f"#chart-{chart}[data-state=drawn]")


def test_the_overview_draws_its_charts_and_a_filter_redraws_them(page, live_server, world):
    log_in(page, live_server, "analyst")
    wait_for_charts(page)
    for chart in ("sessions-over-time", "outcomes", "durations", "heatmap"):
        assert drawn(page, chart).count() == 1, chart
    bars = page.locator("#chart-sessions-over-time g.point path")
    assert bars.count() > 0
    traces = page.locator("#chart-sessions-over-time g.barlayer g.trace").count()
    page.check("input[name=type][value=C]")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*type=C.*"))
    wait_for_charts(page)
    assert page.locator("#chart-sessions-over-time g.barlayer g.trace").count() == 1 < traces
    assert page.locator("#chart-sessions-over-time g.point path").count() > 0
    assert page.outside_requests == []


def test_clicking_a_bar_opens_its_sessions(page, live_server, world):
    log_in(page, live_server, "analyst")
    wait_for_charts(page)
    # plotly listens on the plot area above the bars: click where the tallest bar is drawn.
    page.locator("#chart-sessions-over-time").scroll_into_view_if_needed()
    bars = page.locator("#chart-sessions-over-time g.point path")
    boxes = [bars.nth(i).bounding_box() for i in range(bars.count())]
    box = max(boxes, key=lambda b: b["height"])
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r".*/sessions/\?.*preset=custom.*"))
    assert "type=" in page.url and "start=" in page.url
    assert page.locator("table.sessions tbody tr").count() > 0


def test_the_maps_draw_from_our_own_map_shapes(page, live_server, world):
    log_in(page, live_server, "analyst")
    page.goto(f"{live_server.url}/geography/")
    wait_for_charts(page, timeout=30000)
    assert drawn(page, "countries").count() == 1
    assert page.locator("#chart-countries path.choroplethlocation").count() > 0
    assert page.locator("#chart-us-states path.choroplethlocation").count() > 0
    assert page.outside_requests == []
    screenshot(page, "geography")


def test_the_agents_page_and_an_agent(page, live_server, world):
    log_in(page, live_server, "analyst")
    page.goto(f"{live_server.url}/agents/")
    assert page.locator("table.scorecard tbody tr").count() > 1
    page.locator("table.scorecard tbody tr a").first.click()
    # The agents page has no charts, so waiting for charts before the agent's page has loaded
    # would pass at once on the old page (it did, once, in CI).
    page.wait_for_url(re.compile(r".*/agents/\d+/.*"))
    wait_for_charts(page)
    assert drawn(page, "agent-trend").count() == 1


def test_a_session_page_draws_its_guest_timeline(page, live_server, world):
    log_in(page, live_server, "viewer")
    session = world.session_of(world.a)
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    wait_for_charts(page)
    assert drawn(page, "timeline").count() == 1
    assert page.locator("#chart-timeline g.point path").count() == session.guest_count


def test_a_custom_range_shows_its_dates_and_a_preset_hides_them(page, live_server, world):
    log_in(page, live_server, "viewer")
    assert page.locator(".custom-range").is_hidden()
    page.select_option("select[name=preset]", "custom")
    assert page.locator(".custom-range").is_visible()
    page.select_option("select[name=preset]", "7d")
    page.wait_for_url(re.compile(r".*preset=7d.*"))
    assert "Last 7 days" in page.locator("select[name=preset] option:checked").inner_text()


def test_the_policy_refuses_a_script_that_slipped_into_the_page(page, live_server, world):
    # As if escaping had failed once: markup with an inline handler lands in the page.
    log_in(page, live_server, "analyst")
    page.evaluate(
        """document.body.insertAdjacentHTML('beforeend',
             '<img src="/static/favicon.svg" onload="window.pwned = 1">' +
             '<img src="x" onerror="window.pwned = 2">')"""
    )
    page.wait_for_timeout(500)
    assert page.evaluate("window.pwned") is None
    assert page.csp_violations, "the browser reported no refused inline handler"
    page.csp_violations.clear()  # the ones this test caused on purpose


def test_a_view_is_saved_from_the_filter_bar_and_reopened_from_views(page, live_server, world):
    log_in(page, live_server, "analyst")
    page.goto(f"{live_server.url}/sessions/?preset=7d&type=G")
    page.click("details.save-view summary")
    page.fill("details.save-view input[name=name]", "Screen shares this week")
    page.click("details.save-view button[type=submit]")
    # expect() retries until the page after the POST shows it; wait_for_load_state() could
    # return at once on the page the form was on.
    expect(page.locator("body")).to_contain_text("Saved the view “Screen shares this week”")
    page.click("nav >> text=Views")
    page.click("text=Screen shares this week")
    page.wait_for_url(re.compile(r".*/sessions/\?preset=7d&type=G$"))
    assert page.locator("input[name=type][value=G]").is_checked()
    assert not page.locator("input[name=type][value=C]").is_checked()


def test_the_wallboard_fills_itself_under_the_policy(page, live_server, world):
    log_in(page, live_server, "analyst")
    page.goto(f"{live_server.url}/wallboard/")
    page.wait_for_selector("#board[data-state=live]", timeout=15000)
    assert page.inner_text('[data-field="live_note"]') == "Live counts: asking Glance…"
    run_queued("sessions_app.tasks.refresh_live_counts_task")  # the worker's turn
    page.reload()
    page.wait_for_selector("#board[data-state=live]", timeout=15000)
    assert page.inner_text('[data-field="today"]').isdigit()
    assert page.inner_text('[data-field="active"]').isdigit()
    assert page.inner_text('[data-field="live_note"]') == "Live from Glance"
    assert page.locator('[data-field="top_agents"] li').count() >= 1
    assert page.outside_requests == []


def test_the_partner_page_shows_a_connection_test_when_the_worker_has_answered(
    page, live_server, world
):
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/partners/{world.a.pk}/")
    page.click("button:has-text('Test connection')")
    expect(page.locator("#connection-test")).to_contain_text("Testing the connection")
    run_queued("sessions_app.tasks.connection_test_task")  # the worker's turn
    # The page's poller sees the answer and reloads: no click, no reload by the test.
    expect(page.locator("#connection-test")).to_contain_text(
        "Connected. Glance counts", timeout=15000
    )
    assert page.get_by_text("Today at Glance (UTC)").is_visible()


def listed_count(page) -> int:
    text = page.locator("main").inner_text()
    return int(re.search(r"([\d,]+) sessions\. Times in", text).group(1).replace(",", ""))


def test_a_state_says_what_a_click_opens_and_the_click_opens_it(page, live_server, world):
    log_in(page, live_server, "analyst")
    page.goto(f"{live_server.url}/geography/")
    wait_for_charts(page, timeout=30000)
    page.locator("#chart-us-states").scroll_into_view_if_needed()  # the mouse acts in view only
    states = page.locator("#chart-us-states path.choroplethlocation")
    boxes = sorted(
        (states.nth(i).bounding_box() for i in range(states.count())),
        key=lambda b: -b["width"] * b["height"],
    )
    assert boxes
    for box in boxes:  # the middle of a state's box is nearly always inside it
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        hover = page.locator("#chart-us-states g.hovertext")
        try:
            hover.first.wait_for(timeout=1000)
            break
        except PlaywrightTimeout:
            continue
    text = hover.first.text_content()
    said = re.search(r"([\d,]+) visitors? in ([\d,]+) sessions?", text)
    assert said, text
    visitors, sessions = (int(n.replace(",", "")) for n in said.groups())
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r".*/sessions/\?.*region=.*"))
    assert listed_count(page) == sessions <= visitors
    assert "country=US" in page.url


def test_an_agents_page_downloads_that_agents_sessions_only(page, live_server, world):
    log_in(page, live_server, "analyst")
    agent = world.session_of(world.a).agent
    page.goto(f"{live_server.url}/agents/{agent.pk}/")
    page.click("details.download summary")
    link = page.locator("details.download a", has_text="CSV, a row per session")
    href = link.get_attribute("href")
    assert f"agent={agent.pk}" in href
    text = page.request.get(f"{live_server.url}{href}").text().lstrip("\ufeff")
    rows = list(csv.DictReader(text.splitlines()))
    page.goto(f"{live_server.url}/sessions/?agent={agent.pk}")
    assert len(rows) == listed_count(page) > 0
    assert {row["agent"] for row in rows} == {agent.user_name}


def test_a_partner_whose_data_starts_late_shows_no_change_but_says_why(page, live_server, world):
    log_in(page, live_server, "analyst")
    wait_for_charts(page)
    gap = page.locator(".comparison-gap").inner_text()
    assert gap.startswith(f"No comparison with the previous period: {world.a.name}'s data starts")
    notes = page.locator(".kpi-note").all_inner_texts()
    assert len(notes) == page.locator(".kpi").count() == 11 and set(notes) == {"no comparison"}
    assert page.locator(".kpi-change").count() == 0
