"""The dashboard pages as users see them: figures that agree with each other and with the list,
drill-down links that land on the sessions behind a mark, errors shown not thrown, and a fixed
number of queries per page whatever the data size."""

import csv
import re
from urllib.parse import urlsplit

import pytest

from sessions_app.models import Profile, Session
from tests.factories import guest, record, store


@pytest.fixture
def analyst(client, world):
    client.force_login(world.users["analyst"])
    return client


def chart(client, name, query=""):
    return client.get(f"/charts/{name}/?{query}").json()


def list_count(client, query):
    body = client.get(f"/sessions/?{query}").content.decode()
    match = re.search(r"([\d,]+) sessions\. Times in", body)
    return int(match.group(1).replace(",", "")) if match else 0


def test_the_overview_shows_kpis_and_chart_slots(analyst, world):
    body = analyst.get("/").content.decode()
    count = world.a.sessions.count()
    assert f'<div class="kpi-value">{count:,}</div>' in body
    for name in ("sessions-over-time", "outcomes", "durations", "heatmap"):
        assert f'data-src="/charts/{name}/?' in body
    assert world.b.name not in body


@pytest.mark.parametrize(
    "query",
    [
        "",
        "type=C",
        "type=G&type=V&outcome=connected",
        "country=US",
        "min_duration=120&max_duration=900",
        "has_error=false",
    ],
)
def test_charts_kpis_and_list_agree_for_the_same_filter(analyst, world, query):
    over_time = chart(analyst, "sessions-over-time", query)
    charted = _total(over_time)
    listed = list_count(analyst, query)
    kpi = re.search(
        r'Sessions(?:</a>)?</div>\s*<div class="kpi-value">([\d,—]+)<',
        analyst.get(f"/?{query}").content.decode(),
    )
    assert charted == listed == int(kpi.group(1).replace(",", "").replace("—", "0"))
    outcomes = chart(analyst, "outcomes", query)
    assert sum(sum(trace["x"]) for trace in outcomes["data"]) == listed


def test_every_bar_drills_down_to_exactly_its_sessions(analyst, world):
    figure = chart(analyst, "sessions-over-time", "preset=7d")
    trace = figure["data"][0]
    assert len(trace["y"]) >= 3
    for count, link in list(zip(trace["y"], trace["customdata"], strict=True))[:5]:
        assert link.startswith("/sessions/?") and list_count(analyst, urlsplit(link).query) == count


def test_heatmap_cells_drill_down_to_their_weekday_and_hour(analyst, world):
    figure = chart(analyst, "heatmap")
    heat = figure["data"][0]
    cells = [
        (z, link)
        for row_z, row_links in zip(heat["z"], heat["customdata"], strict=True)
        for z, link in zip(row_z, row_links, strict=True)
        if z
    ]
    assert len(cells) >= 4
    for z, link in cells[:4]:
        assert list_count(analyst, urlsplit(link).query) == z


def _place_points(figure) -> dict[str, tuple[int, int, str]]:
    """{place: (visitors, sessions, drill-down link)} as a map's hover text and click say."""
    trace = figure["data"][0]
    places = trace.get("locations") or trace["text"]
    points = {}
    for place, (link, hover) in zip(places, trace["customdata"], strict=True):
        found = re.fullmatch(r"([\d,]+) visitors? in ([\d,]+) sessions?", hover)
        visitors, sessions = (int(n.replace(",", "")) for n in found.groups())
        points[place] = (visitors, sessions, link)
    return points


def _truth_by_place(partner, level) -> dict[str, tuple[int, int]]:
    """{place: (visitors, sessions)} of the partner's sessions in the default 30 days, counted
    in Python from the guest rows: visitors only, never the agent's or host's seat."""
    from datetime import UTC, datetime, time, timedelta

    from django.utils import timezone

    today = timezone.now().astimezone(UTC).date()
    since = datetime.combine(today - timedelta(days=29), time.min, tzinfo=UTC)
    visitors, sessions = {}, {}
    for session in Session.objects.filter(partner=partner, start_time__gte=since):
        places = set()
        for g in session.guests.all():
            if g.guest_type in ("agent", "host") or not g.country_code:
                continue
            place = level(g)
            if place:
                visitors[place] = visitors.get(place, 0) + 1
                places.add(place)
        for place in places:
            sessions[place] = sessions.get(place, 0) + 1
    return {place: (n, sessions[place]) for place, n in visitors.items()}


def test_each_map_counts_visitors_and_opens_the_sessions_they_were_in(analyst, world):
    moment = world.session_of(world.a).start_time
    # Two visitors from Texas in one session, an agent in Texas beside a visitor from Boston.
    store(world.a, record(9101, moment, guests=[guest(region="TX"), guest(region="tx")]))
    store(world.a, record(9102, moment, guests=[guest("agent", region="TX"), guest()]))
    from sessions_app.figures.geo import ALPHA3

    countries = _place_points(chart(analyst, "countries"))
    truth = _truth_by_place(world.a, lambda g: ALPHA3.get(g.country_code.upper()))
    assert {place: point[:2] for place, point in countries.items()} == truth
    states = _place_points(chart(analyst, "us-states"))
    truth = _truth_by_place(
        world.a, lambda g: (g.country_code.upper() == "US" and (g.region or "").upper()) or None
    )
    assert {place: point[:2] for place, point in states.items()} == truth
    visitors, sessions, _ = states["TX"]
    assert visitors > sessions  # 9101's two Texans are one session; 9102's agent is neither
    for _, sessions, link in [*countries.values(), *states.values()]:
        assert list_count(analyst, urlsplit(link).query) == sessions


def test_a_place_filter_selects_sessions_with_a_visitor_from_there(analyst, world):
    moment = world.session_of(world.a).start_time
    day = f"start={moment:%Y-%m-%d}&end={moment:%Y-%m-%d}"
    store(world.a, record(9103, moment, guests=[guest("agent", region="TX"), guest(region="MA")]))
    store(world.a, record(9104, moment, guests=[guest("host", country="DE"), guest(country="FR")]))
    texas = analyst.get(f"/sessions/?{day}&country=US&region=TX").content.decode()
    germany = analyst.get(f"/sessions/?{day}&country=DE").content.decode()
    france = analyst.get(f"/sessions/?{day}&country=FR").content.decode()
    assert "9103" not in texas and "9104" not in germany and "9104" in france


def test_bad_parameters_show_a_form_error_on_every_page(analyst):
    for url in ("/", "/geography/", "/agents/", "/sessions/"):
        response = analyst.get(f"{url}?start=2026-13-45&country=<script>&min_duration=x")
        body = response.content.decode()
        assert response.status_code == 200 and "These filters could not be used" in body
        assert "<script>" not in body
    data = chart(analyst, "outcomes", "country=Narnia")
    assert data["empty"] and "Fix the filters first" in data["message"]


def test_an_unknown_chart_is_a_404(analyst):
    assert analyst.get("/charts/nothing-here/").status_code == 404


def test_an_empty_filter_says_so(analyst):
    data = chart(analyst, "sessions-over-time", "start=2001-01-01&end=2001-01-31")
    assert data == {
        "data": [],
        "layout": {},
        "empty": True,
        "message": "No sessions match these filters.",
    }
    assert (
        "No sessions match these filters."
        in analyst.get("/sessions/?start=2001-01-01&end=2001-01-31").content.decode()
    )


def test_hover_text_escapes_names_from_outside(client, world):
    store(
        world.a,
        record(
            9001,
            world.session_of(world.a).start_time,
            agent="<img src=x onerror=alert(1)>.x",
            guests=[guest(name="<script>alert(2)</script>", city="<b>Town</b>")],
        ),
    )
    client.force_login(world.users["analyst"])
    session = Session.objects.get(glance_id=9001)
    timeline = client.get(f"/charts/session-timeline/{session.pk}/").content.decode()
    assert "<script>" not in timeline and "&lt;script&gt;alert(2)&lt;/script&gt;" in timeline
    assert "<b>Town</b>" not in timeline
    agents_page = client.get("/agents/").content.decode()
    assert "<img src=x" not in agents_page and "&lt;img src=x" in agents_page


def test_the_timeline_masks_guest_details_for_viewers(client, world):
    store(
        world.a,
        record(9002, world.session_of(world.a).start_time, guests=[guest(name="Zoë Secret")]),
    )
    session = Session.objects.get(glance_id=9002)
    client.force_login(world.users["viewer"])
    timeline = client.get(f"/charts/session-timeline/{session.pk}/").content.decode()
    assert "Secret" not in timeline and "203.0.113.7" not in timeline and "•••" in timeline


def test_the_geography_page_counts_guests_without_a_location(analyst, world):
    store(
        world.a,
        record(9003, world.session_of(world.a).start_time, guests=[guest(country=None, city=None)]),
    )
    body = analyst.get("/geography/").content.decode()
    assert "had no location and are not on the maps" in body
    assert 'data-src="/charts/countries/?' in body and 'data-src="/charts/us-states/?' in body


def test_the_agent_scorecard_sorts_and_shows_the_team_median(analyst, world):
    page = analyst.get("/agents/?sort=-sessions").content.decode()
    body = page[page.index("<tbody>") :]
    counts = [
        int(n.replace(",", ""))
        for n in re.findall(r'title="List these sessions">([\d,]+)</a>', body)
    ]
    assert counts == sorted(counts, reverse=True) and len(counts) > 1
    assert "Median agent" in page
    link = re.search(
        r'href="(/sessions/\?[^"]*agent=\d+)" title="List these sessions">([\d,]+)<', body
    )
    assert list_count(analyst, link.group(1).split("?", 1)[1].replace("&amp;", "&")) == int(
        link.group(2)
    )


def test_an_agent_page_shows_their_trend_and_sessions(analyst, world):
    session = world.session_of(world.a)
    body = analyst.get(f"/agents/{session.agent_id}/").content.decode()
    assert f"<h1>{session.agent.name}</h1>" in body and f"agent={session.agent_id}" in body
    assert session.agent.user_name in body  # under the name, as Glance knows the agent
    assert str(session.glance_id) in body or session.agent.sessions.count() > 20


def test_the_sync_page_shows_coverage_per_partner(analyst, world, settings):
    first = world.a.sessions.order_by("start_time").first().start_time
    last = world.a.sessions.order_by("start_time").last().start_time
    for rollups in (True, False):  # the count from rollups, and from the sessions themselves
        settings.GLANCEDASH_ROLLUPS = rollups
        body = analyst.get("/sync/").content.decode()
        assert world.a.name in body and world.b.name not in body
        assert first.strftime("%Y-%m-%d %H:%M") in body and last.strftime("%Y-%m-%d %H:%M") in body
        assert f'<td class="num">{world.a.sessions.count():,}</td>' in body


def test_times_follow_the_users_time_zone(analyst, world):
    Profile.objects.create(user=world.users["analyst"], time_zone="Asia/Kolkata")
    figure = chart(analyst, "heatmap")
    assert figure["layout"]["xaxis"]["title"]["text"] == "Times in Asia/Kolkata"
    session = world.session_of(world.a)
    body = analyst.get(f"/sessions/{session.pk}/").content.decode()
    assert (
        session.start_time.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Kolkata")).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        in body
    )


def test_the_preferences_page_sets_the_time_zone(analyst, world, settings):
    Profile.objects.create(user=world.users["analyst"], time_zone="Asia/Kolkata")
    answer = analyst.post("/account/", {"time_zone": "Europe/Berlin"}, follow=True)
    assert "Times are now shown in Europe/Berlin." in answer.content.decode()
    assert Profile.objects.get(user=world.users["analyst"]).time_zone == "Europe/Berlin"
    back = analyst.post("/account/", {"time_zone": ""}, follow=True).content.decode()
    assert f"Times are now shown in {settings.TIME_ZONE}." in back
    analyst.post("/account/", {"time_zone": "Europe/Berlin"})
    assert "times in <a" in analyst.get("/").content.decode().lower()
    assert analyst.post("/account/", {"time_zone": "Mars/Olympus"}).status_code == 200
    assert Profile.objects.get(user=world.users["analyst"]).time_zone == "Europe/Berlin"


QUERIES = [  # page, queries: session, user, profile, nav, the user's partner ids and the partners
    # a view can be shared with included, and the filter bar's agent and team picker, the months
    # not summed since they changed (rollups.months; asked on any date, whole months inside or not)
    # the previous period is skipped: partner A's data starts inside it; the waiting cards read
    # the rollup rows and the two edge days once more
    ("/", 25),  # and whether the partners have teams
    ("/geography/", 18),
    ("/agents/", 22),  # the team scorecard: the rollups read by team, the agents' teams
    ("/sessions/", 18),
    # and whether the previous period is a fair comparison (here not: no line is drawn)
    ("/charts/sessions-over-time/", 12),
    ("/charts/outcomes/", 9),
    ("/charts/durations/", 9),
    ("/charts/heatmap/", 9),
    ("/charts/countries/", 10),
    ("/charts/us-states/", 10),
    ("/charts/canada/", 10),
]


@pytest.mark.parametrize("url, expected", QUERIES)
def test_each_page_makes_a_fixed_number_of_queries(
    analyst, world, django_assert_num_queries, url, expected
):
    with django_assert_num_queries(expected):
        assert analyst.get(url).status_code == 200
    store(
        world.a,
        *[
            record(70000 + i, world.session_of(world.a).start_time, type="CGV"[i % 3])
            for i in range(300)
        ],
    )
    with django_assert_num_queries(expected):  # three hundred more sessions, not one more query
        assert analyst.get(url).status_code == 200


def test_an_empty_list_says_whether_it_is_the_filter_or_no_data(analyst, world):
    assert (
        "No sessions match these filters."
        in analyst.get("/sessions/?preset=today&type=V&country=ZZ").content.decode()
    )
    world.a.sessions.all().delete()
    assert "No sessions stored yet" in analyst.get("/sessions/").content.decode()


# --- chart cache ------------------------------------------------------------------------------


def _total(payload) -> int:
    """Sessions in a chart's bars (not the previous period's line laid over them)."""
    return sum(sum(trace["y"]) for trace in payload["data"] if trace["type"] == "bar")


def test_a_chart_is_computed_once_until_the_data_changes(analyst, world, django_assert_num_queries):
    url = "/charts/sessions-over-time/?preset=7d"
    first = analyst.get(url).json()
    with django_assert_num_queries(4):  # session, user, profile, data scope: nothing computed
        assert analyst.get(url).json() == first
    moment = world.session_of(world.a).start_time
    store(world.a, *[record(80000 + i, moment, type="V") for i in range(5)])
    after = analyst.get(url).json()  # the write bumped partner A's generation
    assert _total(after) == _total(first) + 5


def test_each_role_gets_its_own_cached_chart(client, world):
    from sessions_app.accounts import access

    analyst, viewer = world.users["analyst"], world.users["viewer"]
    # One row per partner seen, whoever else is a member of it.
    assert [row[0] for row in access.data_scope(analyst)] == [world.a.pk]
    assert access.data_scope(analyst)[0][2] == "analyst"
    assert access.data_scope(viewer)[0][2] == "viewer"
    assert {row[0] for row in access.data_scope(world.users["superuser"])} == {
        world.a.pk,
        world.b.pk,
    }


def test_each_top_city_opens_as_many_sessions_as_it_says(analyst, world):
    moment = world.session_of(world.a).start_time
    # Two visitors from Boston in one session, and a Boston agent who is no visitor.
    store(world.a, record(9105, moment, guests=[guest(), guest(), guest("agent")]))
    body = analyst.get("/geography/").content.decode()
    rows = re.findall(
        r'<tr><td><a href="([^"]+)">([^<]+)</a></td>.*?<td class="num">([\d,]+)</td>'
        r'<td class="num"><a href="[^"]+" title="List these sessions">([\d,]+)</a></td></tr>',
        body,
    )
    assert len(rows) >= 5 and any(city == "Boston" for _, city, _, _ in rows)
    for link, _, visitors, sessions in rows:
        listed = list_count(analyst, urlsplit(link.replace("&amp;", "&")).query)
        assert listed == int(sessions.replace(",", "")) <= int(visitors.replace(",", ""))


def test_an_agents_page_downloads_that_agents_sessions_only(analyst, world):
    agent = world.session_of(world.a).agent
    page = analyst.get(f"/agents/{agent.pk}/").content.decode()
    links = re.findall(r'href="(/sessions/export\.csv\?[^"]*)">CSV, a row per session', page)
    assert len(links) == 1 and f"agent={agent.pk}" in links[0]
    response = analyst.get(links[0].replace("&amp;", "&"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(body.splitlines()))
    assert {row["agent"] for row in rows} == {agent.user_name}
    assert len(rows) == world.a.sessions.filter(agent=agent).count() > 0


def test_a_city_row_counts_what_its_link_opens_whatever_the_case_or_region(analyst, world):
    moment = world.session_of(world.a).start_time
    day = f"start={moment:%Y-%m-%d}&end={moment:%Y-%m-%d}"
    # Made-up towns, so the simulator's own visitors of that day cannot be among them.
    spots = [("US", None, "Pawnee"), ("US", "IN", "Pawnee"), ("US", "RI", "Quahog"),
             ("us", "ri", "quahog"), ("US", "RI", "Quahog")]  # fmt: skip
    store(
        world.a,
        *[
            record(9200 + i, moment, guests=[guest(country=c, region=r, city=city)])
            for i, (c, r, city) in enumerate(spots)
        ],
    )
    body = analyst.get(f"/geography/?{day}").content.decode()
    rows = re.findall(
        r'<tr><td><a href="([^"]+)">([^<]+)</a></td><td>([^<]+)</td>.*?<td class="num">([\d,]+)'
        r'</td><td class="num"><a href="[^"]+" title="List these sessions">([\d,]+)</a>',
        body,
    )
    found = {(city, region): (int(v), int(s)) for _, city, region, v, s in rows}
    assert found[("Quahog", "RI")] == (3, 3)  # "quahog, ri" is the same city to the filter
    assert found[("Pawnee", "IN")] == (1, 1)
    assert found[("Pawnee", "—")] == (1, 2)  # no region: its link opens Pawnee in any region
    for link, *_, sessions in rows:
        query = urlsplit(link.replace("&amp;", "&")).query
        assert list_count(analyst, query) == int(sessions.replace(",", "")), link


def test_a_map_under_a_guest_filter_counts_each_session_once(analyst, world):
    moment = world.session_of(world.a).start_time
    day = f"start={moment:%Y-%m-%d}&end={moment:%Y-%m-%d}&country=US"  # the raw path
    store(world.a, record(9300, moment, guests=[guest(region="ME"), guest(region="me")]))
    states = _place_points(chart(analyst, "us-states", day))
    assert states["ME"][:2] == (2, 1)
    for visitors, sessions, link in states.values():
        assert list_count(analyst, urlsplit(link).query) == sessions <= visitors


def test_the_canada_map_says_what_a_click_opens(analyst, world):
    moment = world.session_of(world.a).start_time
    laval = guest(country="CA", region="QC", city="Laval")
    store(world.a, record(9301, moment, guests=[laval, laval]))
    figure = chart(analyst, "canada")
    trace = figure["data"][0]
    assert "QC" in [link.split("region=")[-1] for link, _ in trace["customdata"]]
    for link, hover in trace["customdata"]:
        said = re.fullmatch(r"([\d,]+) visitors? in ([\d,]+) sessions?", hover).groups()
        visitors, sessions = (int(n.replace(",", "")) for n in said)
        assert list_count(analyst, urlsplit(link).query) == sessions <= visitors


def test_an_agents_page_counts_that_agents_sessions(analyst, world):
    agent = world.session_of(world.a).agent
    body = analyst.get(f"/agents/{agent.pk}/").content.decode()
    kpi = re.search(r'Sessions(?:</a>)?</div>\s*<div class="kpi-value">([\d,]+)<', body).group(1)
    assert int(kpi.replace(",", "")) == list_count(analyst, f"agent={agent.pk}") > 0


def test_the_countries_card_counts_the_countries_the_map_shows(analyst, world):
    moment = world.session_of(world.a).start_time
    day = f"start={moment:%Y-%m-%d}&end={moment:%Y-%m-%d}"
    store(world.a, record(9302, moment, guests=[guest(country="us"), guest(country="US")]))
    body = analyst.get(f"/?{day}").content.decode()
    card = re.search(r'Countries(?:</a>)?</div>\s*<div class="kpi-value">([\d,]+)<', body).group(1)
    assert int(card) == len(chart(analyst, "countries", day)["data"][0]["locations"])
