"""The bulk write path (sessions_app/db.py) on whichever database the suite runs on: from
COPY_FROM_ROWS rows PostgreSQL is written by COPY into a temporary table and one statement from
it, below that by plain statements. Both must store exactly what a row-by-row write stores,
text that COPY's own format gives meaning to included."""

from datetime import UTC, datetime, timedelta

import pytest

from sessions_app import db as bulk
from sessions_app.models import Agent, AgentRollup, Guest, Session, SessionRollup
from sessions_app.rollups import write
from tests.factories import guest, record, store

pytestmark = pytest.mark.django_db

# Tab, newline and backslash delimit COPY's text format; \N is its NULL; a lone "." ended it once.
COPY_SYNTAX = ["a\tb", "line\nbreak", "back\\slash", "\\N", "\\.", "", "naïve 東京 🙂", "\r\n"]
START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _records(n: int, *, duration: int = 300, offset: int = 0, apart=timedelta(minutes=7)):
    return [
        record(
            1000 + i,
            START + apart * i,
            duration=duration + i,
            agent=f"agent{i % 3}.acme.glance.net",
            guests=[
                guest("agent"),
                guest(name=COPY_SYNTAX[(i + offset) % len(COPY_SYNTAX)], city="Cork\tCity"),
            ],
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [bulk.COPY_FROM_ROWS - 1, bulk.COPY_FROM_ROWS * 3])
def test_a_batch_is_stored_exactly_either_way(partner, n):
    store(partner, *_records(n))
    names = list(
        Guest.objects.filter(guest_type="visitor").order_by("session__glance_id")
        .values_list("name", flat=True)
    )  # fmt: skip
    assert names == [COPY_SYNTAX[i % len(COPY_SYNTAX)] for i in range(n)]
    assert set(Guest.objects.filter(guest_type="visitor").values_list("city", flat=True)) == {
        "Cork\tCity"
    }
    assert Session.objects.count() == n
    assert sorted(Session.objects.values_list("duration", flat=True)) == [300 + i for i in range(n)]


@pytest.mark.parametrize("n", [bulk.COPY_FROM_ROWS - 1, bulk.COPY_FROM_ROWS * 3])
def test_a_batch_read_again_updates_in_place(partner, n):
    store(partner, *_records(n))
    first_ids = dict(Session.objects.values_list("glance_id", "pk"))
    store(partner, *_records(n, duration=900, offset=1))  # the same ids, changed
    assert dict(Session.objects.values_list("glance_id", "pk")) == first_ids
    assert sorted(Session.objects.values_list("duration", flat=True)) == [900 + i for i in range(n)]
    names = list(
        Guest.objects.filter(guest_type="visitor").order_by("session__glance_id")
        .values_list("name", flat=True)
    )  # fmt: skip
    assert names == [COPY_SYNTAX[(i + 1) % len(COPY_SYNTAX)] for i in range(n)]
    # The rollups hold the second read only: its sessions and seconds, not both reads'.
    rows = SessionRollup.objects.filter(partner=partner)
    assert sum(row.sessions for row in rows) == n
    assert sum(row.seconds for row in rows) == sum(900 + i for i in range(n))


def test_rollups_written_in_bulk_equal_a_rebuild(partner):
    # A day apart: every session its own rollup rows, so creating them and then updating them
    # each take the bulk path (binary and JSON measures through COPY included).
    n, day = bulk.COPY_FROM_ROWS * 2, timedelta(days=1)
    store(partner, *_records(n, apart=day))
    store(partner, *_records(n, duration=30, offset=1, apart=day))
    assert SessionRollup.objects.filter(partner=partner).count() == n
    written = _rollup_rows(partner)
    write.rebuild(partner.pk, START.date(), (START + day * n).date())
    assert _rollup_rows(partner) == written
    assert sum(row[3] for row in written["SessionRollup"]) == n  # the second read only


def _rollup_rows(partner):
    """{table: its rows, sorted}, binary measures as bytes."""
    fields = ["day", "session_type", "status", *write.MEASURES]
    return {
        model.__name__: sorted(
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in model.objects.filter(partner=partner).values_list(*keyed, *fields)
        )
        for model, keyed in ((SessionRollup, []), (AgentRollup, ["agent_id"]))
    }


# The array syntax's own characters: quotes, backslashes, braces, commas, its NULL, blanks.
ARRAY_SYNTAX = ['say "hi"', "back\\slash", "{brace}", "a,b", "NULL", "", " padded ", '\\"', "東京"]


def test_a_lookup_finds_exactly_the_values_asked_for_whatever_they_hold(partner):
    """select_in's values go to PostgreSQL as one array literal (db.array_literal): every
    value must come back as itself, and only the values asked for."""
    agents = [Agent.objects.create(partner=partner, user_name=name) for name in ARRAY_SYNTAX]
    asked = ARRAY_SYNTAX[::2]
    rows = bulk.select_in(
        Agent, ["user_name", "id"], where={"partner": partner.pk}, key="user_name", values=asked
    )
    assert sorted(rows) == sorted((a.user_name, a.pk) for a in agents if a.user_name in asked)
    by_id = bulk.select_in(Agent, ["id"], where={}, key="id", values=[agents[1].pk, 10**12])
    assert by_id == [(agents[1].pk,)]


def test_a_lookup_matches_no_value_the_column_could_not_hold(partner):
    """A value longer than its column does not match the stored one it begins with (a cast to
    varchar(255) would cut it), and an id past 64 bits matches nothing rather than failing."""
    stored = Agent.objects.create(partner=partner, user_name="x" * 255)
    too_long = bulk.select_in(
        Agent, ["id"], where={"partner": partner.pk}, key="user_name", values=["x" * 300]
    )
    assert too_long == []
    exact = bulk.select_in(
        Agent, ["id"], where={"partner": partner.pk}, key="user_name", values=["x" * 255]
    )
    assert exact == [(stored.pk,)]
    store(partner, record(5, START))
    for huge in (2**63, 2**64, -(2**63) - 1):
        rows = bulk.select_in(
            Session, ["glance_id"], where={"partner": partner.pk}, key="glance_id",
            values=[huge, 5],
        )  # fmt: skip
        assert rows == [(5,)]
