"""CSV on PostgreSQL is written by the database (exports/copy_csv.py): the file the csv module
writes (formats.csv_lines), value for value, whatever the zone, the data or the kind of
row, and the one the download serves there."""

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import QueryDict

from sessions_app.exports import copy_csv, formats
from sessions_app.exports.jobs import Counter, exportable_sessions
from sessions_app.figures.filters import SessionFilter
from sessions_app.models import Agent, Membership, Partner, Role, Session, Team
from tests.factories import guest, record, store
from tests.test_exports import HOSTILE

pytestmark = pytest.mark.django_db

SEPARATED = [
    f"a{sep}{lead}cmd|' /C calc'!A0"
    for sep in (",", ";", "\t", "|", "\n", "\r", ", ")
    for lead in "=+-@"
]
LEADS = [f"{lead}x" for lead in formats._FORMULA_START]
ZONES = [
    "UTC",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +13:45, and +12:45 in its winter
    "America/St_Johns",  # -03:30 / -02:30
    "Australia/Lord_Howe",  # a half-hour change of clocks
    "America/New_York",
]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("COPY … TO STDOUT is PostgreSQL's; SQLite's own writer: test_sqlite_csv")


def _hostile_world(world):
    """Sessions of partner A with every kind of awkward value in every text column: formula
    leads, separators, quotes, line breaks, non-Latin text, microseconds, a night the clocks
    change in New York, lower-case and repeated countries, no guests at all."""
    texts = HOSTILE + SEPARATED + LEADS + [""]
    dst_night = datetime(2026, 11, 1, 5, 30, 15, tzinfo=UTC)  # 01:30 EDT, then EST
    records = []
    for i, text in enumerate(texts):
        # Whole seconds, as Glance sends them; now and then a fraction (written six digits long).
        fraction = timedelta(microseconds=(250000, 1)[i % 2]) if i % 3 == 0 else timedelta()
        start = dst_night + timedelta(minutes=37 * i) + fraction
        guests = [
            guest("agent", country="us", start=start + timedelta(seconds=i)),
            guest(name=text, city=text, error=text, country=text[:2] or None, start=start),
            guest("host" if i % 3 else None, country="gb", region=text),
        ]
        records.append(
            record(
                91000 + i,
                start,
                status="CXQTZ"[i % 5],
                agent=f"{text}.acme.glance.net" if i % 4 else None,
                guests=guests if i % 6 else [],
            )
        )
    store(world.a, *records)
    Partner.objects.filter(pk=world.a.pk).update(name='=HYPERLINK("evil"), Partner A')
    team = Team.objects.create(partner=world.a, name="@team;=sum")
    Agent.objects.filter(partner=world.a).update(team=team)
    Agent.objects.filter(partner=world.a, user_name__startswith="+").update(display_name="-Dee")
    Session.objects.filter(glance_id=91003).update(is_reverse=True, key="-1+1")


def _exporter(user, query, rows, zone):
    flt = SessionFilter(QueryDict(query), user=user, tz=ZoneInfo(zone))
    assert flt.data_ok, flt.errors
    return formats.EXPORTERS[rows](flt, flt.filter_qs(exportable_sessions(user)))


def _parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("rows", formats.ROW_KINDS)
def test_the_database_writes_the_file_the_csv_module_writes(world, rows, zone):
    _hostile_world(world)
    user = world.users["analyst"]
    query = "preset=custom&start=2026-10-01&end=2026-12-31"
    by_python, by_copy = Counter(), Counter()
    expected = "".join(formats.csv_lines(_exporter(user, query, rows, zone), by_python))
    written = b"".join(copy_csv.csv_lines(_exporter(user, query, rows, zone), by_copy))
    got = _parsed(written.decode())
    assert got == _parsed(expected)
    assert by_copy.n == by_python.n == len(got) - 1 > len(SEPARATED)
    assert written.count(b"\r\n") == expected.count("\r\n")  # CRLF rows, as the csv module ends
    header = dict(zip(got[0], zip(*got[1:], strict=True), strict=True))
    assert any(value.startswith("'=HYPERLINK") for value in header["partner"])
    assert any("\n" in value for value in header["agent"])  # multi-line values kept whole


def test_an_empty_selection_is_the_header_alone(world):
    query = "preset=custom&start=2001-01-01&end=2001-01-31"
    for rows in formats.ROW_KINDS:
        counter = Counter()
        written = b"".join(
            copy_csv.csv_lines(_exporter(world.users["analyst"], query, rows, "UTC"), counter)
        )
        expected = "".join(
            formats.csv_lines(_exporter(world.users["analyst"], query, rows, "UTC"), Counter())
        )
        assert written.decode() == expected and counter.n == 0


def test_the_download_on_postgresql_is_the_databases_file(client, world):
    _hostile_world(world)
    client.force_login(world.users["analyst"])
    query = "preset=custom&start=2026-10-01&end=2026-12-31&rows=guests"
    response = client.get(f"/sessions/export.csv?{query}")
    body = b"".join(response.streaming_content)
    own = b"".join(
        copy_csv.csv_lines(_exporter(world.users["analyst"], query, "guests", "UTC"), Counter())
    )
    assert body == own and b"'=HYPERLINK" in body


def test_only_the_filters_partners_names_travel_into_the_query(world):
    """The names go into the query as arrays: those of the partners the filter shows, no more."""
    _hostile_world(world)
    query = f"partner={world.b.pk}&preset=custom&start=2026-10-01&end=2026-12-31"
    exporter = _exporter(world.users["superuser"], query, "sessions", "UTC")
    partner_ids, partner_names, agent_ids, *_ = copy_csv._names(exporter)
    assert partner_ids == [world.b.pk] and partner_names == [world.b.name]
    assert set(agent_ids) == set(Agent.objects.filter(partner=world.b).values_list("pk", flat=True))


def test_an_agent_in_another_partners_team_keeps_its_names(world):
    """A team of A holding an agent of B (the admin allows it): the team's export names the
    agent's B sessions' partner and agent as the csv module does."""
    user = world.users["analyst"]
    Membership.objects.create(user=user, partner=world.b, role=Role.ANALYST)
    team = Team.objects.create(partner=world.a, name="Tier A")
    agent = Agent.objects.filter(partner=world.b).exclude(user_name="").first()
    Agent.objects.filter(pk=agent.pk).update(team=team)
    query = f"preset=30d&team={team.pk}"
    expected = "".join(formats.csv_lines(_exporter(user, query, "sessions", "UTC"), Counter()))
    written = b"".join(copy_csv.csv_lines(_exporter(user, query, "sessions", "UTC"), Counter()))
    got = _parsed(written.decode())
    assert got == _parsed(expected) and len(got) > 1 and agent.user_name in expected


def test_the_exports_zone_stays_with_the_export(world):
    """The zone is set for the COPY alone: the dates read after it, in the same transaction (a
    test's, or a request's under ATOMIC_REQUESTS), are the stored ones."""
    user = world.users["analyst"]
    stored = list(Session.objects.order_by("pk").values_list("start_time", flat=True))
    exporter = _exporter(user, "preset=7d", "sessions", "Asia/Kolkata")
    assert len(b"".join(copy_csv.csv_lines(exporter, Counter())).splitlines()) > 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW TimeZone")
        assert cursor.fetchone()[0] == "UTC"
    assert list(Session.objects.order_by("pk").values_list("start_time", flat=True)) == stored
