"""One table of Glance's fields (sessions_app/glance/fields.py) drives the records, the readers,
the stored columns and the exports: every field of the seed's samples goes in as Glance sent it
and comes out of the exports as it was stored, and nothing but the table lists the fields."""

import dataclasses
import re
import typing
from datetime import datetime
from pathlib import Path

import msgspec
import orjson
import pytest
from defusedxml import ElementTree
from django.db import connection

from sessions_app.exports import formats
from sessions_app.glance import records
from sessions_app.glance.fields import GUEST, SESSION, Kind, attrs
from sessions_app.models import Guest, Membership, Role, Session
from sessions_app.sync import ingest
from tests.factories import store

FIXTURES = Path(__file__).parent / "fixtures"
JSON_BODY = (FIXTURES / "seed_answer.json").read_bytes()
XML_BODY = (FIXTURES / "seed_sessions.xml").read_bytes()


def _element_dict(element) -> dict:
    """An XML record as {child name: text, or the dict of a nested object}, like the JSON."""
    return {
        child.tag: _element_dict(child) if len(child) else child.text
        for child in element
        if child.tag != "guests"
    } | {"guests": [_element_dict(g) for g in element.findall("guests/guest")]}


def sent(kind: str) -> list[dict]:
    """The seed's sessions (with their guests) as Glance sent them, in the order they are read."""
    if kind == "json":
        users = orjson.loads(JSON_BODY)["d"]["users"]
        return [session for user in users for session in user["sessions"]]
    root = ElementTree.fromstring(b"<records>" + XML_BODY + b"</records>")
    return [_element_dict(session) for session in root]


def as_sent(field, raw: dict):
    """A field's value in a record as Glance sent it, read by hand (XML sends text)."""
    value = (
        (raw.get(field.within) or {}).get(field.glance) if field.within else raw.get(field.glance)
    )
    if value is None:
        return "" if field.kind is Kind.CODE else field.missing
    if field.kind is Kind.INT:
        return int(value)
    if field.kind is Kind.BOOL:
        return value if isinstance(value, bool) else value == "true"
    if field.kind is Kind.DATETIME:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def read(kind: str) -> list:
    if kind == "json":
        return records.page_from_answer(JSON_BODY).sessions
    return records.sessions_from_xml(XML_BODY)


# Every way a record is read: a page at once (msgspec), record by record (the fast path, then
# the careful readers that name a fault), and XML.
READERS = {
    "json": read,
    "json, record by record": lambda _: (
        records.page_from_group(records.unwrap_d(records.loads(JSON_BODY))).sessions
    ),
    "json, careful": lambda _: [records.session_from_json(raw, "s") for raw in sent("json")],
    "xml": read,
}


@pytest.mark.parametrize("reader", READERS)
def test_every_field_of_the_seed_is_read_as_glance_sent_it(reader):
    kind = reader.split(",")[0]
    for raw, session in zip(sent(kind), READERS[reader](kind), strict=True):
        assert [getattr(session, f.attr) for f in SESSION] == [as_sent(f, raw) for f in SESSION]
        for raw_guest, guest in zip(raw["guests"], session.guests, strict=True):
            assert [getattr(guest, f.attr) for f in GUEST] == [as_sent(f, raw_guest) for f in GUEST]


def test_the_seed_samples_between_them_give_every_field_a_value():
    """So the round trips here leave no field untried (the JSON has no clientVersion, the XML
    no kbytes)."""
    sessions = sent("json") + sent("xml")
    guests = [guest for session in sessions for guest in session["guests"]]
    assert all(any(as_sent(f, s) not in (None, "") for s in sessions) for f in SESSION)
    assert all(any(as_sent(f, g) not in (None, "") for g in guests) for f in GUEST)


def test_every_field_is_stored_as_read(archive_partner):
    sessions = read("json") + read("xml")
    store(archive_partner, *sessions)
    for session in sessions:
        row = Session.objects.get(partner=archive_partner, glance_id=session.glance_id)
        assert [getattr(row, f.attr) for f in SESSION] == [
            getattr(session, f.attr) for f in SESSION
        ]
        guests = Guest.objects.filter(session=row).order_by("position")
        assert [[getattr(g, f.attr) for f in GUEST] for g in guests] == [
            [getattr(g, f.attr) for f in GUEST] for g in session.guests
        ]


def exported(client, rows: str) -> list[dict]:
    query = "preset=custom&start=2016-01-01&end=2020-12-31"
    response = client.get(f"/sessions/export.ndjson?rows={rows}&{query}")
    assert response.status_code == 200
    return [orjson.loads(line) for line in b"".join(response.streaming_content).splitlines()]


def as_exported(column, value):
    return datetime.fromisoformat(value) if column.kind in ("local", "utc") and value else value


def test_every_stored_field_comes_out_of_the_exports(client, archive_partner, django_user_model):
    analyst = django_user_model.objects.create_user("ana", password="x-pass-123456789")
    Membership.objects.create(user=analyst, partner=archive_partner, role=Role.ANALYST)
    client.force_login(analyst)
    store(archive_partner, *read("json"), *read("xml"))
    stored = {s.glance_id: s for s in Session.objects.filter(partner=archive_partner)}
    for row in exported(client, "sessions"):
        session = stored[row["session_id"]]
        for f in SESSION:
            for column in formats.glance_columns(f):
                assert as_exported(column, row[column.key]) == getattr(session, f.attr)
    guest_rows = exported(client, "guests")
    assert len(guest_rows) == Guest.objects.filter(session__partner=archive_partner).count() == 8
    for row in guest_rows:
        guest = Guest.objects.get(
            session=stored[row["session_id"]], position=row["guest_position"] - 1
        )
        for f in GUEST:
            for column in formats.glance_columns(f):
                assert as_exported(column, row[column.key]) == getattr(guest, f.attr)


# --- nothing but the table lists the fields --------------------------------------------------


def test_the_records_hold_the_tables_fields():
    assert [f.name for f in dataclasses.fields(records.GuestRecord)] == attrs(GUEST)
    assert [f.name for f in dataclasses.fields(records.SessionRecord)] == [
        *attrs(SESSION),
        "guests",
        "agent",
    ]


def _wire_names(shape) -> list[str]:
    """A msgspec shape's member names, a nested shape's as "object.member"."""
    names = []
    for info in msgspec.structs.fields(shape):
        types = typing.get_args(info.type)
        nested = [t for t in types if isinstance(t, type) and issubclass(t, msgspec.Struct)]
        if nested:
            names += [f"{info.encode_name}.{name}" for name in _wire_names(nested[0])]
        else:
            names.append(info.encode_name)
    return names


def test_the_msgspec_shapes_read_the_tables_glance_names():
    assert _wire_names(records._WireGuest) == [f.path(".") for f in GUEST]
    assert _wire_names(records._WireSession) == [*(f.path(".") for f in SESSION), "guests"]


def test_the_models_store_the_tables_fields():
    ours = {"id", "session", "position", "partner", "end_time", "agent", "guest_count"}
    ours |= {"wait_seconds", "visitor_countries", "synced_at", "fingerprint"}  # ours, at ingest
    for model, table in ((Guest, GUEST), (Session, SESSION)):
        assert [f.name for f in model._meta.concrete_fields if f.name not in ours] == attrs(table)


def test_ingest_writes_the_tables_columns():
    assert attrs(GUEST) == ingest.GUEST_FIELDS
    assert ["glance_id", *ingest.SESSION_FIELDS] == [
        *attrs(SESSION),
        "end_time",
        "agent",
        "guest_count",
        "wait_seconds",
        "visitor_countries",
        "synced_at",
        "fingerprint",
    ]


def test_the_exports_columns_are_the_tables():
    def columns(table):
        return [
            (key, f.title + suffix)
            for f in table
            for key, suffix in [(f.column, "")]
            + ([(f"{f.column}_utc", " (UTC)")] if f.kind is Kind.DATETIME else [])
        ]

    assert [(c.key, c.title) for c in formats.GUEST_COLUMNS] == [
        ("guest_position", "Guest #"),
        *columns(GUEST),
    ]
    # The sessions export places them among columns of its own.
    assert set(columns(SESSION)) <= {(c.key, c.title) for c in formats.SESSION_COLUMNS}


def test_the_benchmarks_raw_inserts_fill_every_column():
    import scripts.bench_worker as bench

    session = bench.db_columns(Session, ["partner", "glance_id", *ingest.SESSION_FIELDS])
    guest = bench.db_columns(Guest, ["session", "position", *ingest.GUEST_FIELDS])
    assert sorted(["id", *session]) == sorted(f.column for f in Session._meta.concrete_fields)
    assert sorted(["id", *guest]) == sorted(f.column for f in Guest._meta.concrete_fields)
    # And its rows hold a value for each of those columns, no more, no fewer.
    seed = orjson.loads(JSON_BODY)["d"]["users"][0]["sessions"][0]
    row, guests = bench.plain_rows(connection.vendor)(1, 1, seed, None, 1)
    assert len(row) == 1 + len(session) and guests
    assert all(len(g) == 1 + len(guest) for g in guests)


def _without_duration(kind: str) -> bytes:
    """The seed with every session's duration sent as null (JSON) or left out (XML)."""
    if kind == "xml":
        return re.sub(rb"<duration>\d+</duration>", b"", XML_BODY)
    answer = orjson.loads(JSON_BODY)
    for user in answer["d"]["users"]:
        for session in user["sessions"]:
            session["duration"] = None
    return orjson.dumps(answer)


NULL_READERS = {
    "json": lambda body: records.page_from_answer(body).sessions,
    "json, record by record": lambda body: (
        records.page_from_group(records.unwrap_d(records.loads(body))).sessions
    ),
    "json, careful": lambda body: [
        records.session_from_json(raw, "s")
        for user in orjson.loads(body)["d"]["users"]
        for raw in user["sessions"]
    ],
    "xml": records.sessions_from_xml,
}


@pytest.mark.parametrize("reader", NULL_READERS)
def test_a_missing_duration_is_read_as_the_tables_zero(reader):
    (duration,) = [f for f in SESSION if f.attr == "duration"]
    sessions = NULL_READERS[reader](_without_duration(reader.split(",")[0]))
    assert sessions and {s.duration for s in sessions} == {duration.missing} == {0}
