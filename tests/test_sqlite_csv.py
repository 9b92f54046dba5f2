"""CSV of sessions on SQLite is written by the database (exports/sqlite_csv.py): the file the
csv module writes (formats.csv_lines), byte for byte, whatever the zone, the data or the span,
and the one the download serves there."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from sessions_app.exports import formats, sqlite_csv
from sessions_app.exports.jobs import Counter
from sessions_app.models import Agent, Membership, Role, Session, Team
from tests.factories import record, store
from tests.test_copy_csv import SEPARATED, ZONES, _exporter, _hostile_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's own CSV writer; PostgreSQL's is COPY (test_copy_csv)")


def _both(user, query: str, zone: str, rows: str = "sessions") -> tuple[str, str, int]:
    by_python, by_sqlite = Counter(), Counter()
    expected = "".join(formats.csv_lines(_exporter(user, query, rows, zone), by_python))
    written = "".join(sqlite_csv.csv_lines(_exporter(user, query, rows, zone), by_sqlite))
    assert by_sqlite.n == by_python.n
    return expected, written, by_sqlite.n


@pytest.mark.parametrize("zone", ZONES)
def test_the_database_writes_the_file_the_csv_module_writes(world, zone):
    _hostile_world(world)
    expected, written, n = _both(
        world.users["analyst"], "preset=custom&start=2026-10-01&end=2026-12-31", zone
    )
    assert written == expected and n > len(SEPARATED)  # the hostile rows among them
    assert "'=HYPERLINK" in written and "\r\n" in written


def test_dates_far_from_the_period_are_converted_exactly(world):
    """A session ending months after the period (past the span the query converts in SQL), one
    at a fraction of a second, and one whose end Glance put days before its start (before that
    span), over a month and over ten years: the same text as the csv module's."""
    start = datetime(2026, 3, 8, 6, 59, 59, 500000, tzinfo=UTC)  # New York's clocks go forward
    store(world.a, record(93001, start), record(93002, datetime(2017, 7, 1, 12, tzinfo=UTC)))
    Session.objects.filter(glance_id=93001).update(end_time=start + timedelta(days=200))
    Session.objects.filter(glance_id=93002).update(end_time=datetime(2017, 6, 28, tzinfo=UTC))
    user = world.users["analyst"]
    for query in ("preset=custom&start=2026-03-01&end=2026-03-31",
                  "preset=custom&start=2017-01-01&end=2026-12-31"):  # fmt: skip
        expected, written, n = _both(user, query, "America/New_York")
        assert written == expected and n >= 1, query
    assert "2026-09-24T02:59:59.500000-04:00" in written  # 200 days on, in summer time
    assert "2017-06-27T20:00:00-04:00" in written  # before its start


def test_a_moment_at_a_clock_change_takes_the_new_offset(world):
    """Sessions a second either side of New York's changes, and at them, to the microsecond."""
    changes = (datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC))
    moments = [
        change + timedelta(seconds=second, microseconds=fraction)
        for change in changes
        for second in (-1, 0, 1)
        for fraction in (0, 999999)
    ]
    store(world.a, *[record(94000 + i, moment) for i, moment in enumerate(moments)])
    query = "preset=custom&start=2026-03-01&end=2026-11-30"
    expected, written, _ = _both(world.users["analyst"], query, "America/New_York")
    assert written == expected
    assert "2026-03-08T03:00:00-04:00" in written and "2026-03-08T01:59:59-05:00" in written


def test_an_agent_in_another_partners_team_keeps_its_names(world):
    """A team of A holding an agent of B (the admin allows it): the team's export holds the
    agent's B sessions with their partner's and agent's names, as the csv module writes them."""
    user = world.users["analyst"]
    Membership.objects.create(user=user, partner=world.b, role=Role.ANALYST)
    team = Team.objects.create(partner=world.a, name="Tier A")
    agent = Agent.objects.filter(partner=world.b).exclude(user_name="").first()
    Agent.objects.filter(pk=agent.pk).update(team=team)
    expected, written, n = _both(user, f"preset=30d&team={team.pk}", "UTC")
    assert written == expected and n > 0 and agent.user_name in written


def test_a_second_export_while_the_first_is_read_leaves_both_whole(world, monkeypatch):
    """Two exports on one connection, the second begun and finished while the first is half
    read (by other users, of other partners): each file is its own, in full."""
    monkeypatch.setattr(sqlite_csv, "CHUNK", 3)
    analyst, superuser = world.users["analyst"], world.users["superuser"]
    other = f"preset=30d&partner={world.b.pk}"
    expected = "".join(
        formats.csv_lines(_exporter(analyst, "preset=30d", "sessions", "UTC"), Counter())
    )
    expected_other = "".join(
        formats.csv_lines(_exporter(superuser, other, "sessions", "UTC"), Counter())
    )
    first = sqlite_csv.csv_lines(_exporter(analyst, "preset=30d", "sessions", "UTC"), Counter())
    begun = [next(first), next(first)]
    second = "".join(
        sqlite_csv.csv_lines(_exporter(superuser, other, "sessions", "UTC"), Counter())
    )
    assert second == expected_other
    assert "".join([*begun, *first]) == expected


def test_the_guests_file_is_the_csv_modules_own(world):
    _hostile_world(world)
    expected, written, _ = _both(
        world.users["analyst"], "preset=custom&start=2026-10-01&end=2026-12-31", "UTC", "guests"
    )
    assert written == expected


def test_the_download_on_sqlite_is_the_databases_file(client, world):
    _hostile_world(world)
    client.force_login(world.users["analyst"])
    query = "preset=custom&start=2026-10-01&end=2026-12-31"
    body = b"".join(client.get(f"/sessions/export.csv?{query}").streaming_content).decode()
    own = "".join(
        sqlite_csv.csv_lines(_exporter(world.users["analyst"], query, "sessions", "UTC"), Counter())
    )
    assert body == own and "'=HYPERLINK" in body


def test_a_clock_change_is_found_to_the_second():
    tz = ZoneInfo("Europe/Berlin")
    changes = sqlite_csv.clock_changes(
        tz, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert [(moment, offset.total_seconds() / 3600) for moment, offset in changes] == [
        (datetime(2026, 1, 1, tzinfo=UTC), 1),
        (datetime(2026, 3, 29, 1, tzinfo=UTC), 2),
        (datetime(2026, 10, 25, 1, tzinfo=UTC), 1),
    ]


def test_the_sql_lead_test_finds_what_the_guards_search_finds():
    """The SQL passes a value by one GLOB where formats passes it by a regular expression: for
    every character, alone and between others, both must agree."""
    values = [c for code in range(1, 0x3000) for c in (chr(code), f"a{chr(code)}b")] + ["🙂-"]
    with connection.cursor() as cursor:
        for value in values:
            cursor.execute(f"SELECT %s GLOB {sqlite_csv._ANY_LEAD}", [value])
            assert bool(cursor.fetchone()[0]) == bool(formats._ANY_LEAD.search(value)), value
