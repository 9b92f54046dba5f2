"""What a contact-centre lead reads, in a real browser at a desktop's 1440 px and a phone's
390 px: the waiting cards and charts, the teams, the agent and team picker, countries by name,
charts a colour-blind reader can tell apart, a drag that sets the dates, and a phone layout
that never scrolls sideways."""

import re

import pytest

from sessions_app.models import Agent, Team
from tests.helpers.browser import log_in, screenshot, wait_for_charts

pytestmark = pytest.mark.django_db(transaction=True)
WIDTHS = [1440, 390]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def drawn(page, chart):
    return page.locator(f"#chart-{chart}[data-state=drawn]")


def chart_data(page, chart):
    return page.evaluate(f"() => document.getElementById('chart-{chart}').data")


@pytest.mark.parametrize("page", WIDTHS, indirect=True)
def test_the_overview_leads_with_waiting_and_fits_the_screen(page, live_server, world):
    log_in(page, live_server, "analyst")
    wait_for_charts(page, timeout=30000)
    labels = page.locator(".kpi-label").all_inner_texts()
    assert labels[:4] == [
        "Service level", "Median time to join", "90th percentile time to join", "Abandoned",
    ]  # fmt: skip
    value = page.locator(".kpi-value").first.inner_text()
    assert re.fullmatch(r"\d+\.\d%", value), value
    assert re.fullmatch(r"(\d+ min )?\d+ s", page.locator(".kpi-value").nth(1).inner_text())
    for chart in ("service-level", "abandonment"):
        assert drawn(page, chart).count() == 1, chart
    names = [trace["name"] for trace in chart_data(page, "service-level")]
    assert names == ["Service level", "Target: 80% in 30 s"]
    width = page.viewport_size["width"]
    assert no_sideways_scroll(page)
    screenshot(page, f"overview-{width}")


@pytest.mark.parametrize("page", [390], indirect=True)
def test_on_a_phone_the_navigation_folds_behind_a_menu(page, live_server, world):
    log_in(page, live_server, "analyst")
    agents = page.locator("header nav a", has_text="Agents")
    assert not agents.is_visible()
    page.click("label.nav-toggle-label")
    assert agents.is_visible()
    agents.click()
    page.wait_for_url(re.compile(r".*/agents/"))
    assert no_sideways_scroll(page)


@pytest.mark.parametrize("page", WIDTHS, indirect=True)
def test_teams_are_picked_by_name_and_compared(page, live_server, world):
    team = Team.objects.create(partner=world.a, name="Tier 1")
    first = Agent.objects.filter(partner=world.a).order_by("user_name").first()
    Agent.objects.filter(pk=first.pk).update(team=team, display_name="Grace Nelson")
    log_in(page, live_server, "analyst")
    page.goto(f"{live_server.url}/agents/")
    teams = page.locator("table.teams tbody tr")
    assert teams.first.locator("td").first.inner_text() == "Tier 1"
    assert page.locator("table.scorecard:not(.teams)", has_text="Grace Nelson").count() == 1
    width = page.viewport_size["width"]
    assert no_sideways_scroll(page)
    screenshot(page, f"agents-{width}")
    # Type-ahead: the team's name, chosen from the suggestions, filters every figure.
    page.locator("details.more-filters").evaluate("d => d.open = true")
    picker = page.locator("[data-picker-input]")
    picker.fill("Team: Tier 1")
    picker.press("Enter")
    page.wait_for_url(re.compile(rf".*team={team.pk}.*"))
    assert page.locator(".chip", has_text="Tier 1").is_visible()
    assert page.locator("table.teams tbody tr").count() == 1
    page.locator(".chip", has_text="Tier 1").locator("a.chip-remove").click()
    page.wait_for_url(lambda url: "team=" not in url)
    assert page.locator(".chip", has_text="Tier 1").count() == 0


@pytest.mark.parametrize("page", WIDTHS, indirect=True)
def test_a_country_is_typed_by_name(page, live_server, world):
    log_in(page, live_server, "analyst")
    page.fill("input[name=country]", "USA")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*country=USA.*"))
    assert page.locator("input[name=country]").input_value() == "United States"
    assert page.locator(".filter-errors").count() == 0


@pytest.mark.parametrize("page", WIDTHS, indirect=True)
def test_the_charts_read_without_colour_and_a_drag_sets_the_dates(page, live_server, world):
    log_in(page, live_server, "analyst")
    # The last week, whose week before is within the partner's data: a fair comparison.
    page.goto(f"{live_server.url}/?preset=7d")
    wait_for_charts(page, timeout=30000)
    colours = {trace["name"]: trace["marker"]["color"] for trace in chart_data(page, "outcomes")}
    assert colours["Connected"] == "#0072b2" and colours["Not connected"] == "#e69f00"
    overlay = chart_data(page, "sessions-over-time")[-1]
    assert overlay["name"].startswith("Previous period") and overlay["visible"] == "legendonly"
    # Drag across the middle of the sessions chart: the page reopens on those days.
    chart = page.locator("#chart-sessions-over-time")
    chart.scroll_into_view_if_needed()
    box = page.locator("#chart-sessions-over-time .nsewdrag").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=8)
    page.mouse.up()
    page.wait_for_url(re.compile(r".*preset=custom.*"))
    start = re.search(r"start=(\d{4}-\d\d-\d\d)", page.url).group(1)
    end = re.search(r"end=(\d{4}-\d\d-\d\d)", page.url).group(1)
    assert start < end
    assert page.locator("input[name=start]").input_value() == start


@pytest.mark.parametrize("page", WIDTHS, indirect=True)
def test_the_world_map_colours_by_a_log_scale(page, live_server, world):
    log_in(page, live_server, "analyst")
    page.goto(f"{live_server.url}/geography/")
    wait_for_charts(page, timeout=30000)
    (trace,) = chart_data(page, "countries")
    assert trace["colorbar"]["ticktext"][:2] == ["1", "10"]
    assert trace["zmin"] == 0


@pytest.mark.parametrize("page", [1920], indirect=True)
def test_the_wallboard_fills_a_1080p_screen_and_says_of_how_many(page, live_server, world):
    log_in(page, live_server, "analyst")
    page.goto(f"{live_server.url}/wallboard/")
    page.wait_for_selector("#board[data-state=live]", timeout=15000)
    for field in ("connected_of", "service_of", "abandoned_of"):
        assert re.match(
            r"(of [\d,]+|too few known waits)", page.inner_text(f'[data-field="{field}"]')
        )
    assert "target 80% in 30 s" in page.inner_text('[data-field="service_of"]')
    board = page.locator("#board").bounding_box()
    assert board["height"] >= 1080 - 1 and board["width"] >= 1920 - 1
    # Fills it, without scrolling: the last tile and the agents end inside the screen.
    assert page.evaluate("() => document.documentElement.scrollHeight") <= 1080 + 1
    change = page.locator('[data-field="change"]')
    if change.inner_text() in ("(+0%)", ""):
        assert change.get_attribute("class") in ("", None)  # no change is not green
    screenshot(page, "wallboard-1080p")


@pytest.mark.parametrize("page", WIDTHS, indirect=True)
def test_the_alert_and_report_forms_read_without_codes(page, live_server, world):
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/partners/{world.a.pk}/#alerts")
    page.locator("#alerts details").evaluate("d => d.open = true")
    form = page.locator("form.alert-form")
    assert "---------" not in form.inner_text()
    assert form.locator("input[name=business_days]:checked").count() == 5
    assert form.locator("label", has_text="Sat").is_visible()
    assert no_sideways_scroll(page)
    screenshot(page, f"partner-{page.viewport_size['width']}")
    page.goto(f"{live_server.url}/views/")
    assert no_sideways_scroll(page)


@pytest.mark.parametrize("page", [390], indirect=True)
def test_no_page_scrolls_sideways_on_a_phone(page, live_server, world):
    """Wide tables scroll inside themselves; everything else fits the screen."""
    log_in(page, live_server, "admin")
    pages = ["/", "/geography/", "/agents/", "/sessions/", "/views/", "/account/", "/sync/",
             "/audit/", f"/partners/{world.a.pk}/", f"/partners/{world.a.pk}/edit/",
             f"/partners/{world.a.pk}/agents/", "/partners/"]  # fmt: skip
    for path in pages:
        page.goto(f"{live_server.url}{path}")
        page.locator("details").evaluate_all("all => all.forEach(d => d.open = true)")
        assert no_sideways_scroll(page), path
