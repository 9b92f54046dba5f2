"""Every query parameter of every page, chart and export, fuzzed: whatever arrives in the query
string, the answer is a page (with a form error where a value is wrong), a 400, a 403 or a 404,
never a server error. Django's test client raises the view's exception, so hypothesis shrinks a
500 to the smallest query that causes it.

Values mix what a user or a crafted link could send: the right kind of value, wrong kinds,
boundary numbers and dates, control characters (NUL included), long and non-Latin text, and
several values for one name."""

import os
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessions_app.figures import charts
from sessions_app.figures.filters import SessionFilter

# Per persona. `make test` draws the same examples every run (derandomized), so a red build is
# one a change made; FUZZ_EXAMPLES=5000 draws that many fresh ones, to hunt.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FRESH = "FUZZ_EXAMPLES" in os.environ

PARAMETERS = sorted(
    {*SessionFilter.base_fields, "sort", "page", "rows", "action", "tz", "format", "next"}
)

PLAUSIBLE = [
    "",
    "7d",
    "30d",
    "365d",
    "custom",
    "C",
    "G",
    "V",
    "X",
    "US",
    "us",
    "true",
    "false",
    "unknown",
    "connected",
    "2026-02-30",
    "2026-11-01",
    "0001-01-01",
    "9999-12-31",
    "-1",
    "0",
    "1",
    "7",
    "24",
    "1e309",
    "NaN",
    "9" * 40,
    "-sessions",
    "start",
    "-duration",
    "guests",
    "sessions",
    "Europe/Berlin",
    "Asia/Kathmandu",
    "Mars/Olympus",
    "//evil.example.com",
    "%00",
    "\x00",
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "Zoë 北京 ☃",
]

VALUES = st.one_of(
    st.sampled_from(PLAUSIBLE),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=1200),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.dates().map(lambda d: d.isoformat()),
)

QUERIES = st.lists(
    st.tuples(st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=12)), VALUES),
    max_size=8,
)


def pages(world):
    session = world.session_of(world.a)
    paths = [
        "/",
        "/geography/",
        "/agents/",
        f"/agents/{session.agent_id}/",
        "/sessions/",
        f"/sessions/{session.pk}/",
        "/sessions/export.csv",
        "/sessions/export.ndjson",
        "/sessions/export.xlsx",
        "/sync/",
        "/audit/",
        "/partners/",
        f"/partners/{world.a.pk}/",
        f"/charts/session-timeline/{session.pk}/",
        "/healthz.json",
        "/views/",
    ]
    return paths + [f"/charts/{name}/" for name in charts.CHARTS]


ALLOWED = {200, 302, 400, 403, 404}


def fetch(client, path, query):
    response = client.get(f"{path}?{urlencode(query)}")
    if response.streaming:
        b"".join(response.streaming_content)  # an export fails while it streams, if it fails
    return response


@pytest.mark.parametrize("persona", ["admin", "viewer"])
def test_no_query_string_makes_any_page_fail(client, world, persona):
    client.force_login(world.users[persona])
    paths = pages(world)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
        derandomize=not FRESH,
    )
    @given(path=st.sampled_from(paths), query=QUERIES)
    def check(path, query):
        response = fetch(client, path, query)
        assert response.status_code in ALLOWED, (path, query, response.status_code)

    check()


def test_a_wrong_filter_value_is_named_on_the_page(client, world):
    client.force_login(world.users["analyst"])
    response = client.get("/", {"min_duration": "soon", "country": "Narnia"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "These filters could not be used, so defaults are shown" in page
    assert "Lasted at least (s): Enter a whole number." in page
    assert "Country: No country called “Narnia”: type its name (Germany) or code (DE)." in page
    export = client.get("/sessions/export.csv", {"country": "Narnia"})
    assert export.status_code == 400 and b"country" in export.content


@pytest.mark.parametrize("value", ["9223372036854775808", "-9223372036854775809", "0"])
def test_an_id_too_large_for_the_database_is_a_form_error(client, world, value):
    # Found by the fuzz test: on SQLite it overflowed the query and answered 500.
    client.force_login(world.users["analyst"])
    page = client.get("/", {"agent": value, "partner": "1"}).content.decode()
    assert f"Agent: “{value}” is not an agent id." in page
    assert client.get("/sessions/export.csv", {"agent": value}).status_code == 400
