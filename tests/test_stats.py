"""The dashboard's figures against the rows they summarise, in awkward time zones too."""

import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict

from sessions_app import figures
from sessions_app.figures import from_sessions
from sessions_app.figures.filters import SessionFilter
from sessions_app.figures.places import VisitorPlaces
from sessions_app.models import Session
from tests.factories import guest, record, store


def sessions_of(partner, user, query, tz, today=date(2026, 3, 20)):
    flt = SessionFilter(QueryDict(query), user=user, tz=tz, today=today)
    return flt.filter_qs(Session.objects.filter(partner=partner))


@pytest.fixture
def hours_around_dst(world):
    """A session every 30 minutes across New York's spring-forward night and Kolkata's +5:30."""
    start = datetime(2026, 3, 7, 0, 0, tzinfo=UTC)
    store(
        world.a,
        *[
            record(
                i,
                start + timedelta(minutes=30 * i),
                type="CGV"[i % 3],
                status="CXQT"[i % 4],
                duration=60 * (i % 17),
                agent=f"agent{i % 4}.acme.glance.net",
            )
            for i in range(200)
        ],
    )
    return world


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "Australia/Adelaide", "UTC"])
def test_day_buckets_match_local_dates(hours_around_dst, zone):
    tz = ZoneInfo(zone)
    qs = sessions_of(
        hours_around_dst.a,
        hours_around_dst.users["superuser"],
        "start=2026-03-06&end=2026-03-12",
        tz,
    )
    got = Counter()
    assert qs.exists()
    for row in figures.sessions_over_time(qs, tz, "day"):
        got[row["bucket"].astimezone(tz).date()] += row["n"]
    expected = Counter(s.start_time.astimezone(tz).date() for s in qs)
    assert got == expected and sum(got.values()) == qs.count()


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_hour_and_weekday_cells_match_local_clock(hours_around_dst, zone):
    tz = ZoneInfo(zone)
    qs = sessions_of(
        hours_around_dst.a,
        hours_around_dst.users["superuser"],
        "start=2026-03-06&end=2026-03-12",
        tz,
    )
    expected = Counter(
        (s.start_time.astimezone(tz).isoweekday(), s.start_time.astimezone(tz).hour) for s in qs
    )
    assert figures.weekday_hour(qs, tz) == dict(expected)
    # New York's 2 a.m. on March 8 does not exist: no session can be counted there.
    if zone == "America/New_York":
        assert (7, 2) not in figures.weekday_hour(qs.filter(start_time__date="2026-03-08"), tz)


@pytest.mark.parametrize("in_memory", [True, False], ids=["read-once", "offset-queries"])
def test_totals_match_the_rows(hours_around_dst, monkeypatch, in_memory):
    # Percentiles of up to PERCENTILES_IN_MEMORY values are selected in memory; more, by
    # ordered offset queries: both must name the same sessions.
    monkeypatch.setattr(from_sessions, "PERCENTILES_IN_MEMORY", 10_000 if in_memory else 10)
    qs = sessions_of(
        hours_around_dst.a,
        hours_around_dst.users["superuser"],
        "start=2026-03-06&end=2026-03-12",
        UTC,
    )
    durations = sorted(qs.values_list("duration", flat=True))
    totals = figures.totals(qs)
    assert totals.sessions == len(durations) == 200
    assert totals.connected == qs.filter(status__in=["C", "X"]).count() == 100
    assert totals.median_duration == durations[99]  # nearest rank: ceil(0.5 * 200) = 100th
    assert totals.p90_duration == durations[179]
    assert totals.agents == 4 and totals.countries == 1 and totals.guests_per_session == 2


def test_agent_medians_match_python(hours_around_dst):
    qs = sessions_of(
        hours_around_dst.a,
        hours_around_dst.users["superuser"],
        "start=2026-03-06&end=2026-03-12",
        UTC,
    )
    rows = {row.agent.user_name: row for row in figures.agent_scorecard(qs)}
    assert len(rows) > 1
    for name, row in rows.items():
        mine = qs.filter(agent__user_name=name)
        assert row.median_duration == statistics.median_low(mine.values_list("duration", flat=True))
        assert row.sessions == mine.count()
        assert row.connected_rate == 100 * mine.filter(status__in=["C", "X"]).count() / mine.count()
        assert sum(row.mix.values()) == row.sessions


def test_outcomes_group_statuses(world):
    store(
        world.a,
        *[record(i, "2026-03-19T10:00:00", type="G", status=s) for i, s in enumerate("CXQTDZ")],
    )
    qs = sessions_of(world.a, world.users["superuser"], "preset=7d", UTC)
    assert figures.outcomes_by_type(qs) == {"G": {"connected": 2, "not_connected": 2, "other": 2}}


def test_duration_bins_are_half_open(world):
    store(
        world.a,
        *[
            record(i, "2026-03-19T10:00:00", duration=d)
            for i, d in enumerate([0, 59, 60, 3599, 3600, 99999])
        ],
    )
    qs = sessions_of(world.a, world.users["superuser"], "preset=7d", UTC)
    bins = {row["bin"]: row["n"] for row in figures.duration_bins(qs)}
    assert bins == {0: 2, 1: 1, 6: 1, 7: 2}


def test_geography_counts_visitors_not_agents_and_says_who_is_unlocated(world):
    store(
        world.a,
        record(
            1,
            "2026-03-19T10:00:00",
            guests=[guest("agent", country="GB"), guest(country="US", region="MA")],
        ),
        record(
            2,
            "2026-03-19T10:00:00",
            guests=[guest("host"), guest("guest", country="CA", region="on")],
        ),
        record(3, "2026-03-19T10:00:00", guests=[guest("", country=None, region=None, city=None)]),
    )
    qs = sessions_of(world.a, world.users["superuser"], "preset=7d", UTC)
    places = figures.visitor_places(qs)
    assert places.by_country() == {"US": 1, "CA": 1}
    assert places.by_region("CA") == {"ON": 1}
    assert places.coverage() == {"guests": 3, "unlocated": 1}
    # One Boston per country: a city is counted within its country and region.
    cities = [(c["country_code"], c["region"], c["city"], c["n"]) for c in places.top_cities()]
    assert cities == [("CA", "on", "Boston", 1), ("US", "MA", "Boston", 1)]


def test_top_cities_list_ties_alike_whatever_order_the_counts_came_in():
    """Raw guests and rollups count the same places in different orders; a city with no region
    and one with a blank region (both as Glance sent them, and the same to the filter, which
    cannot tell them apart) list as one row either way."""
    places = [(("CA", None, "Boston"), 1), (("CA", "", "Boston"), 1), (("US", "MA", "Boston"), 1)]
    forward = VisitorPlaces(Counter(dict(places))).top_cities()
    backward = VisitorPlaces(Counter(dict(reversed(places)))).top_cities()
    assert forward == backward
    assert [(c["region"], c["n"]) for c in forward] == [(None, 2), ("MA", 1)]
