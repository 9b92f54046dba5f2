"""The seed document's samples, parsed field by field, and the edges the docs allow."""

import re
from datetime import UTC, datetime

import pytest

from sessions_app.glance.records import (
    RecordError,
    page_from_answer,
    parse_datetime,
    sessions_from_file_bytes,
    sessions_from_xml,
)
from tests.helpers.seed import FIXTURES, seed_page


def test_it_reads_the_seed_json_cursor_and_agents():
    page = seed_page()
    assert page.next_id == 123456789
    video, cobrowse = page.sessions
    assert video.agent.user_name == "agent.company.glance.net"
    assert video.agent.partner_user_id == "puidValue"
    assert video.agent.valid_user is True
    assert video.agent.invalid_reason is None
    assert cobrowse.agent.user_name == "agent2.company.glance.net"
    assert cobrowse.agent.partner_user_id == "anotherPUID"


def test_it_reads_the_seed_json_video_session():
    session = seed_page().sessions[0]
    assert session.glance_id == 56960588
    assert (session.session_type, session.status) == ("V", "C")
    assert session.start_time == datetime(2020, 2, 12, 11, 41, 12, tzinfo=UTC)
    assert session.key == "9900V51849"
    assert (session.width, session.height, session.duration) == (176, 144, 13)
    assert (session.kbytes, session.is_reverse) == (0, False)
    assert session.end_time == datetime(2020, 2, 12, 11, 41, 25, tzinfo=UTC)


def test_it_keeps_the_seed_json_nulls_and_empty_guest_type():
    first, second = seed_page().sessions[0].guests
    assert first.guest_type == ""  # empty, not null, not guessed
    assert first.status == "X"
    assert first.start_time == datetime(2020, 2, 12, 11, 41, 14, tzinfo=UTC)
    assert (first.duration, first.kbytes, first.ip) == (11, 0, "209.255.163.147")
    assert (first.city, first.region, first.country_code) == (None, None, "US")
    assert (first.name, first.email, first.phone) == (None, None, None)
    assert second.start_time == datetime(2020, 2, 12, 11, 41, 18, tzinfo=UTC)


def test_it_reads_the_seed_json_cobrowse_session_and_guest_pii():
    session = seed_page().sessions[1]
    assert (session.glance_id, session.session_type, session.key) == (57125147, "C", "1111")
    assert isinstance(session.key, str)
    assert (session.width, session.height, session.duration, session.kbytes) == (0, 0, 9, 30)
    visitor, agent = session.guests
    assert (visitor.guest_type, visitor.status, visitor.duration, visitor.kbytes) == (
        "visitor",
        "C",
        9,
        30,
    )
    assert (visitor.city, visitor.region, visitor.country_code) == ("Seekonk", "MA", "US")
    assert (visitor.name, visitor.email, visitor.phone) == (
        "Test guy",
        "jsmith@email.net",
        "314-555-1212",
    )
    assert visitor.start_time == datetime(2020, 2, 13, 18, 34, 15, tzinfo=UTC)
    assert (agent.guest_type, agent.duration, agent.kbytes, agent.name) == ("agent", 6, 18, None)


def test_it_reads_the_seed_xml_records():
    cobrowse, share = sessions_from_xml((FIXTURES / "seed_sessions.xml").read_bytes())
    assert (cobrowse.glance_id, cobrowse.session_type, cobrowse.status) == (12423680, "C", "C")
    assert cobrowse.start_time == datetime(2016, 2, 23, 22, 17, 51, tzinfo=UTC)
    assert (cobrowse.key, cobrowse.width, cobrowse.height, cobrowse.duration) == ("6684", 0, 0, 147)
    assert cobrowse.is_reverse is False
    assert cobrowse.kbytes is None and cobrowse.agent is None  # the XML carries neither
    visitor, agent = cobrowse.guests
    assert (visitor.guest_type, visitor.status, visitor.duration) == ("visitor", "C", 147)
    assert (visitor.ip, visitor.client_version, visitor.protocol_version) == (
        "108.49.96.66",
        "iOs 3",
        "3",
    )
    assert (visitor.city, visitor.region, visitor.country_code) == ("Newburyport", "MA", "US")
    assert (agent.guest_type, agent.duration, agent.city, agent.client_version) == (
        "agent",
        118,
        "Alexandria",
        None,
    )
    assert (share.glance_id, share.session_type, share.key, share.width, share.height) == (
        12442276,
        "G",
        "7734",
        1920,
        1080,
    )


def test_it_reads_the_seed_xml_guest_contact_and_error():
    share = sessions_from_xml((FIXTURES / "seed_sessions.xml").read_bytes())[1]
    host, guest = share.guests
    assert (host.guest_type, host.duration, host.name) == ("host", 259, None)
    assert (guest.guest_type, guest.duration) == ("guest", 244)
    assert (guest.name, guest.email, guest.phone) == (
        "Greta Guest",
        "sales@glance.net",
        "781-646-8505",
    )
    assert guest.error == "Session ended by other side"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2020-02-12T11:41:12Z", datetime(2020, 2, 12, 11, 41, 12, tzinfo=UTC)),
        ("2020-02-12T11:41:12.250Z", datetime(2020, 2, 12, 11, 41, 12, 250000, tzinfo=UTC)),
        ("2020-02-12T06:41:12-5:00", datetime(2020, 2, 12, 11, 41, 12, tzinfo=UTC)),
        ("2020-02-12T11:41:12", datetime(2020, 2, 12, 11, 41, 12, tzinfo=UTC)),
        ("/Date(1581507672000)/", datetime(2020, 2, 12, 11, 41, 12, tzinfo=UTC)),
        ("\\/Date(1581507672000+0000)\\/", datetime(2020, 2, 12, 11, 41, 12, tzinfo=UTC)),
    ],
)
def test_it_accepts_the_date_forms_the_service_may_send(text, expected):
    assert parse_datetime(text, "x") == expected


def test_it_keeps_unknown_codes_and_ignores_unknown_fields():
    body = (
        b'{"d":{"nextId":0,"extra":1,"users":[{"userName":null,"partnerUserId":null,"validUser":false,'
        b'"invalidReason":"User deleted","sessions":[{"id":"7","type":"Z","status":"?","startTime":'
        b'"2024-01-01T00:00:00Z","key":1234,"duration":5,"new":"x","guests":null}]}]}}'
    )
    (session,) = page_from_answer(body).sessions
    assert (session.glance_id, session.session_type, session.status, session.key) == (
        7,
        "Z",
        "?",
        "1234",
    )
    assert session.guests == [] and session.width is None
    assert (session.agent.user_name, session.agent.valid_user, session.agent.invalid_reason) == (
        "",
        False,
        "User deleted",
    )


@pytest.mark.parametrize(
    "body, where",
    [
        (b'{"d":{"nextId":0,"users":[{"sessions":[{"id":1,"type":"C"', "not valid JSON"),
        (b'{"Message":"boom"}', 'no "d" member'),
        (b'{"d":{"unexpected":1}}', "no 'users' list"),
        (
            b'{"d":{"nextId":0,"users":[{"sessions":[{"id":1,"startTime":"yesterday"}]}]}}',
            "d.users[0].sessions[0].startTime: not a date",
        ),
        (
            b'{"d":{"nextId":0,"users":[{"sessions":[{"type":"C","startTime":"2024-01-01T00:00:00Z"}]}]}}',
            "d.users[0].sessions[0].id: missing",
        ),
    ],
)
def test_it_names_where_a_page_is_malformed(body, where):
    with pytest.raises(RecordError, match=where.replace("[", r"\[").replace("]", r"\]")):
        page_from_answer(body)


def test_it_refuses_xml_entity_expansion():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        b"<session><id>&b;</id></session>"
    )
    with pytest.raises(RecordError, match="XML refused"):
        sessions_from_xml(bomb)


def test_it_reads_a_grouped_xml_answer_with_its_agents():
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<groupSessions xmlns="http://www.glancenetworks.com/services"><nextId>0</nextId><users><userSessions>
<userName>jane.acme.glance.net</userName><partnerUserId>EMP-1</partnerUserId><validUser>true</validUser>
<sessions><session><id>5</id><type>G</type><status>X</status><startTime>2024-03-01T10:00:00Z</startTime>
<key>42</key><width>1920</width><height>1080</height><duration>60</duration><kbytes>99</kbytes>
<isReverse>true</isReverse><guests /></session></sessions></userSessions></users></groupSessions>"""
    (session,) = sessions_from_file_bytes(body)
    assert (session.agent.user_name, session.agent.partner_user_id) == (
        "jane.acme.glance.net",
        "EMP-1",
    )
    assert (session.glance_id, session.status, session.kbytes, session.is_reverse) == (
        5,
        "X",
        99,
        True,
    )


def test_it_strips_nul_characters_no_database_can_store():
    body = (
        b'{"d":{"nextId":0,"users":[{"sessions":[{"id":1,"type":"C","status":"C","startTime":'
        b'"2024-01-01T00:00:00Z","duration":1,"guests":[{"name":"Eve\\u0000<script>"}]}]}]}}'
    )
    assert page_from_answer(body).sessions[0].guests[0].name == "Eve<script>"


PLAIN = {
    "id": 7, "type": "C", "status": "X", "startTime": "2026-03-01T10:00:00.1234567Z",
    "key": "k1", "width": 1280, "height": None, "duration": 42, "kbytes": 9, "isReverse": False,
    "guests": [{"type": "visitor", "status": "C", "startTime": "2026-03-01T10:00:05+01:00",
                "duration": 40, "kbytes": 3, "ip": "203.0.113.9", "clientVersion": "Chrome",
                "protocolVersion": "4", "location": {"city": "Paris", "region": "IDF",
                                                     "countryCode": "FR"},
                "name": "Ann", "email": None, "phone": None, "error": None}],
}  # fmt: skip


FAST_AND_CAREFUL = [
    {},
    {"id": "7"},  # a numeric string
    {"isReverse": "true"},
    {"duration": 42.0},
    {"duration": ""},
    {"startTime": "\\/Date(1772359200000)\\/"},
    {"startTime": " 2026-03-01T10:00:00Z "},
    {"startTime": "2026-03-01T05:00:00-5:00"},
    {"key": 12345},
    {"type": None, "status": "x" * 40},
    {"guests": None},
    {"guests": [{"type": "agent", "location": None, "name": "A\x00B"}]},
    {"guests": [{"startTime": "", "location": {"city": 5}}]},
    {"startTime": "2026-03-01T10:00:00"},  # no zone: UTC
]


@pytest.mark.parametrize("change", FAST_AND_CAREFUL)
def test_the_fast_reader_gives_what_the_careful_one_does(change):
    """Well-formed records take a fast path; anything else is read by the careful readers.
    Either way the record is the same."""
    from sessions_app.glance.records import _session, session_from_json

    raw = {**PLAIN, **change}
    assert _session(raw, "d.users[0].sessions[0]", None) == session_from_json(raw, "p", None)


@pytest.mark.parametrize("change", FAST_AND_CAREFUL)
@pytest.mark.parametrize(
    "user",
    [
        {"userName": "ann.acme.glance.net", "partnerUserId": "EMP-1", "validUser": True},
        {"userName": None, "partnerUserId": None, "validUser": None, "invalidReason": None},
        {"userName": "gone", "partnerUserId": "X", "validUser": "false", "invalidReason": "old"},
    ],
)
def test_a_whole_page_reads_the_same_either_way(change, user):
    """A page of plain records is decoded by msgspec in one go; a page with anything unusual is
    read record by record. Both give the records the careful readers give."""
    import orjson

    from sessions_app.glance.records import agent_from_json, session_from_json

    raw = {**PLAIN, **change}
    body = orjson.dumps({"d": {"nextId": 9, "users": [{**user, "sessions": [raw, PLAIN]}]}})
    agent = agent_from_json(user, "u")
    expected = [session_from_json(raw, "p", agent), session_from_json(PLAIN, "p", agent)]
    page = page_from_answer(body)
    assert (page.next_id, page.sessions) == (9, expected)


@pytest.mark.parametrize(
    "change, where",
    [
        ({"id": None}, "sessions[0].id"),
        ({"startTime": "yesterday"}, "sessions[0].startTime"),
        ({"duration": 1.5}, "sessions[0].duration"),
        ({"guests": [{"duration": "soon"}]}, "sessions[0].guests[0].duration"),
        ({"isReverse": "maybe"}, "sessions[0].isReverse"),
    ],
)
def test_a_malformed_record_still_names_its_fault(change, where):
    from sessions_app.glance.records import _session

    with pytest.raises(RecordError, match=re.escape(where)):
        _session({**PLAIN, **change}, "d.users[0].sessions[0]", None)
