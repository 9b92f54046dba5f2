"""The one filter: presets, ranges in the user's time zone, validation, links."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import QueryDict

from sessions_app.figures.filters import SessionFilter
from sessions_app.models import Session
from tests.factories import guest, record, store

NY = ZoneInfo("America/New_York")
TODAY = date(2026, 3, 15)


def make(user, query="", tz=NY):
    return SessionFilter(QueryDict(query), user=user, tz=tz, today=TODAY)


@pytest.fixture
def boss(world):
    return world.users["superuser"]


@pytest.mark.parametrize(
    "preset, first, last",
    [
        ("today", date(2026, 3, 15), date(2026, 3, 15)),
        ("yesterday", date(2026, 3, 14), date(2026, 3, 14)),
        ("7d", date(2026, 3, 9), date(2026, 3, 15)),
        ("30d", date(2026, 2, 14), date(2026, 3, 15)),
        ("90d", date(2025, 12, 16), date(2026, 3, 15)),
        ("this_month", date(2026, 3, 1), date(2026, 3, 15)),
        ("last_month", date(2026, 2, 1), date(2026, 2, 28)),
    ],
)
def test_presets_cover_whole_local_days(boss, preset, first, last):
    period = make(boss, f"preset={preset}").period
    assert (period.first_day, period.last_day) == (first, last)
    assert period.start == datetime(first.year, first.month, first.day, tzinfo=NY)


def test_no_dates_means_the_last_30_days(boss):
    flt = make(boss)
    assert flt.data_ok and (flt.period.first_day, flt.period.last_day) == (date(2026, 2, 14), TODAY)


def test_a_custom_range_includes_its_end_day_in_the_users_zone(boss):
    period = make(boss, "start=2026-03-07&end=2026-03-08").period  # DST starts on the 8th in NY
    assert period.start == datetime(2026, 3, 7, 5, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 9, 4, tzinfo=UTC)  # midnight after the 8th, now EDT


def test_the_previous_period_has_the_same_length(boss):
    previous = make(boss, "start=2026-03-10&end=2026-03-15").period.previous(NY)
    assert (previous.first_day, previous.last_day) == (date(2026, 3, 4), date(2026, 3, 9))


@pytest.mark.parametrize(
    "query, field",
    [
        ("start=2026-03-10&end=2026-03-01", "end"),
        ("start=yesterday&end=2026-03-01", "start"),
        ("country=Atlantis", "country"),
        ("min_duration=-1", "min_duration"),
        ("min_duration=60&max_duration=10", "max_duration"),
        ("type=Z", "type"),
        ("status=1", "status"),
        ("partner=999999", "partner"),
        ("agent=abc", "agent"),
        ("preset=decade", "preset"),
        ("weekday=8", "weekday"),
        ("has_error=maybe", None),
    ],
)
def test_bad_values_are_form_errors_not_crashes(boss, query, field):
    flt = make(boss, query)
    if field:
        assert not flt.data_ok and field in flt.errors
        assert flt.period.days == 30  # the page still renders, with the defaults
    else:
        assert flt.data_ok


def test_a_partner_the_user_cannot_see_is_an_invalid_choice(world):
    flt = make(world.users["analyst"], f"partner={world.b.pk}")
    assert not flt.data_ok and "partner" in flt.errors


def test_guest_search_needs_a_role_allowed_to_see_guests(world):
    assert "q" in make(world.users["viewer"], "q=ann").errors
    assert make(world.users["analyst"], "q=ann").data_ok


def test_guest_search_only_reaches_partners_where_the_user_sees_guests(world):
    from sessions_app.models import Membership

    Membership.objects.create(user=world.users["viewer"], partner=world.b, role="analyst")
    store(world.a, record(1, "2026-03-14T12:00:00", guests=[guest(name="Ann Example")]))
    store(world.b, record(2, "2026-03-14T12:00:00", guests=[guest(name="Ann Example")]))
    flt = make(world.users["viewer"], "q=ann+ex")
    found = flt.filter_qs(Session.objects.all())
    assert list(found.values_list("glance_id", flat=True)) == [2]  # not A, where they are a viewer


def test_filters_narrow_by_session_and_by_guest(world):
    store(
        world.a,
        record(1, "2026-03-14T12:00:00", type="C", duration=100),
        record(2, "2026-03-14T12:00:00", type="G", duration=100),
        record(
            3,
            "2026-03-14T12:00:00",
            type="C",
            duration=900,
            guests=[guest(country="DE", city="Berlin")],
        ),
        record(
            4, "2026-03-14T12:00:00", type="C", status="T", guests=[guest(error="Connection lost")]
        ),
    )
    flt = make(world.users["superuser"], "preset=7d&type=C&country=us")
    ids = set(flt.filter_qs(Session.objects.all()).values_list("glance_id", flat=True))
    assert ids == {1, 4}
    errors = make(world.users["superuser"], "preset=7d&has_error=true").filter_qs(
        Session.objects.all()
    )
    assert set(errors.values_list("glance_id", flat=True)) == {4}
    clean = make(world.users["superuser"], "preset=7d&has_error=false&outcome=connected")
    assert set(clean.filter_qs(Session.objects.all()).values_list("glance_id", flat=True)) == {
        1,
        2,
        3,
    }


def test_the_query_string_round_trips(boss):
    flt = make(boss, "preset=custom&start=2026-03-01&end=2026-03-05&type=C&type=V&country=de")
    again = make(boss, flt.query())
    assert again.params() == flt.params()
    assert again.cleaned_data["type"] == ["C", "V"] and again.period == flt.period
    assert "country=DE" in flt.query() and "preset=30d" not in make(boss).query()


def test_drill_down_adds_to_the_filter(boss):
    link = make(boss, "type=C&country=US").drill(date(2026, 3, 10), hour=14, type="V")
    assert link.startswith("/sessions/?")
    drilled = make(boss, link.split("?", 1)[1])
    assert drilled.cleaned_data["type"] == ["V"] and drilled.cleaned_data["country"] == "US"
    assert drilled.cleaned_data["hour"] == 14 and drilled.period.first_day == date(2026, 3, 10)


def test_status_letters_may_come_repeated_or_run_together(boss):
    assert make(boss, "status=C&status=x").cleaned_data["status"] == ["C", "X"]
    assert make(boss, "status=CX&status=C").cleaned_data["status"] == ["C", "X"]
    assert make(boss, "status=C1").errors


OUT_OF_RANGE = [
    "start=9999-12-31&end=9999-12-31",
    "start=0001-01-01&end=0001-01-31",
    "start=0001-01-01&end=2026-01-31",
    "preset=custom&start=1899-12-31&end=1900-01-01",
]


@pytest.mark.parametrize("query", OUT_OF_RANGE)
def test_a_date_out_of_range_is_a_form_error_everywhere(client, world, query):
    from sessions_app.api import endpoints
    from sessions_app.figures import charts

    client.force_login(world.users["analyst"])
    agent = world.session_of(world.a).agent_id
    for url in ("/", "/geography/", "/agents/", f"/agents/{agent}/", "/sessions/"):
        body = client.get(f"{url}?{query}").content.decode()
        assert "These filters could not be used" in body and "between 2000 and 2099" in body, url
    for name in charts.CHARTS:
        answer = client.get(f"/charts/{name}/?{query}").json()
        assert answer["empty"] and "Fix the filters first" in answer["message"], name
    export = client.get(f"/sessions/export.csv?{query}")
    assert export.status_code == 400 and b"between 2000 and 2099" in export.content
    token = {"HTTP_AUTHORIZATION": f"Bearer {endpoints.new_token(world.users['analyst'], 't')[1]}"}
    for path in ("/api/v1/aggregates", "/api/v1/sessions"):
        answer = client.get(f"{path}?{query}", **token)
        assert answer.status_code == 400 and answer["Content-Type"] == "application/json"
        assert "between 2000 and 2099" in str(answer.json()["fields"])


def test_an_api_cursor_of_any_year_is_a_400_in_json(client, world):
    import base64

    import orjson

    from sessions_app.api import endpoints

    token = {"HTTP_AUTHORIZATION": f"Bearer {endpoints.new_token(world.users['analyst'], 't')[1]}"}
    for moment in ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "0001-01-01"):
        cursor = base64.urlsafe_b64encode(orjson.dumps([moment, 1])).decode().rstrip("=")
        answer = client.get(f"/api/v1/sessions?cursor={cursor}", **token)
        assert answer.status_code in (200, 400) and answer["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("typed", "code"),
    [("USA", "US"), ("Germany", "DE"), ("germany", "DE"), ("de", "DE"), ("DEU", "DE"),
     ("United Kingdom", "GB"), ("UK", "GB"), ("South Korea", "KR"), ("XK", "XK")],
)  # fmt: skip
def test_a_country_is_found_by_its_name_or_code(typed, code):
    flt = SessionFilter(QueryDict(f"country={typed}"), user=AnonymousUser(), tz=ZoneInfo("UTC"))
    assert flt.is_valid(), flt.errors
    assert flt.cleaned_data["country"] == code
