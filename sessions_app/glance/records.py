"""Glance session records: turning the Activity Service's JSON answers and XML session records
into plain dataclasses, strictly enough to catch a malformed page and loosely enough to accept
everything the documentation allows (nulls, unknown codes, extra fields, two date formats).

A fault names where it is, e.g. `d.users[1].sessions[4].startTime: not a date: 'abc'`, so an
operator can find it in the page or file.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import orjson
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET


class RecordError(ValueError):
    """A page or file does not hold valid session records."""


@dataclass(slots=True, frozen=True)
class AgentRecord:
    user_name: str
    partner_user_id: str
    valid_user: bool = True
    invalid_reason: str | None = None


@dataclass(slots=True)
class GuestRecord:
    guest_type: str | None
    status: str | None
    start_time: datetime | None
    duration: int | None
    kbytes: int | None
    ip: str | None
    client_version: str | None
    protocol_version: str | None
    city: str | None
    region: str | None
    country_code: str | None
    name: str | None
    email: str | None
    phone: str | None
    error: str | None


@dataclass(slots=True)
class SessionRecord:
    glance_id: int
    session_type: str
    status: str
    start_time: datetime
    key: str | None
    width: int | None
    height: int | None
    duration: int
    kbytes: int | None
    is_reverse: bool | None
    guests: list[GuestRecord] = field(default_factory=list)
    agent: AgentRecord | None = None

    @property
    def end_time(self) -> datetime:
        return self.start_time + timedelta(seconds=self.duration)


@dataclass(slots=True)
class Page:
    """One answer of PartnerCompletedSessions: its sessions (each knowing its agent) and cursor."""

    next_id: int
    sessions: list[SessionRecord]


@dataclass(slots=True, frozen=True)
class SessionCount:
    session_type: str
    status: str
    count: int
    average_duration: int | None


# --- scalar readers -------------------------------------------------------------------------

_MS_DATE = re.compile(r"^\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/$")
_SHORT_OFFSET = re.compile(r"([+-])(\d):(\d\d)$")  # the docs print offsets like -5:00


def parse_datetime(value: Any, path: str) -> datetime:
    """ISO-8601 ('Z', an offset, or none, which is UTC as the service answers in UTC), or the
    ASP.NET form \\/Date(ms)\\/."""
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{path}: not a date: {value!r}")
    text = value.strip()
    if match := _MS_DATE.match(text):
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)
    text = _SHORT_OFFSET.sub(r"\g<1>0\2:\3", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise RecordError(f"{path}: not a date: {value!r}") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _optional_datetime(value, path):
    return None if value is None or value == "" else parse_datetime(value, path)


def _text(value: Any) -> str | None:
    """Text from outside, kept as it came except NUL, which no database column can hold."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text.replace("\x00", "") if "\x00" in text else text


def _code(value: Any) -> str:
    """A type or status code: any text, kept as it came ("" for null), capped at the column."""
    return (_text(value) or "")[:32]


def _int(value: Any, path: str, *, required: bool = False) -> int | None:
    if value is None or value == "":
        if required:
            raise RecordError(f"{path}: missing")
        return None
    if isinstance(value, bool):
        raise RecordError(f"{path}: not a number: {value!r}")
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RecordError(f"{path}: not a number: {value!r}") from None
    if not number.is_integer():
        raise RecordError(f"{path}: not a whole number: {value!r}")
    return int(number)


def _bool(value: Any, path: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise RecordError(f"{path}: not true or false: {value!r}")


# --- JSON -----------------------------------------------------------------------------------


def _object(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise RecordError(f"{path}: expected an object, got {type(value).__name__}")
    return value


def _list(value: Any, path: str) -> list:
    """A list member; null means empty, as the service may send for a user with no sessions."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{path}: expected a list, got {type(value).__name__}")
    return value


def guest_from_json(raw: Any, path: str) -> GuestRecord:
    raw = _object(raw, path)
    location = raw.get("location")
    location = _object(location, f"{path}.location") if location is not None else {}
    return GuestRecord(
        guest_type=_text(raw.get("type")),
        status=_text(raw.get("status")),
        start_time=_optional_datetime(raw.get("startTime"), f"{path}.startTime"),
        duration=_int(raw.get("duration"), f"{path}.duration"),
        kbytes=_int(raw.get("kbytes"), f"{path}.kbytes"),
        ip=_text(raw.get("ip")),
        client_version=_text(raw.get("clientVersion")),
        protocol_version=_text(raw.get("protocolVersion")),
        city=_text(location.get("city")),
        region=_text(location.get("region")),
        country_code=_text(location.get("countryCode")),
        name=_text(raw.get("name")),
        email=_text(raw.get("email")),
        phone=_text(raw.get("phone")),
        error=_text(raw.get("error")),
    )


def session_from_json(raw: Any, path: str, agent: AgentRecord | None = None) -> SessionRecord:
    raw = _object(raw, path)
    guests = _list(raw.get("guests"), f"{path}.guests")
    return SessionRecord(
        glance_id=_int(raw.get("id"), f"{path}.id", required=True),
        session_type=_code(raw.get("type")),
        status=_code(raw.get("status")),
        start_time=parse_datetime(raw.get("startTime"), f"{path}.startTime"),
        key=_text(raw.get("key")),
        width=_int(raw.get("width"), f"{path}.width"),
        height=_int(raw.get("height"), f"{path}.height"),
        duration=_int(raw.get("duration"), f"{path}.duration") or 0,
        kbytes=_int(raw.get("kbytes"), f"{path}.kbytes"),
        is_reverse=_bool(raw.get("isReverse"), f"{path}.isReverse"),
        guests=[guest_from_json(g, f"{path}.guests[{i}]") for i, g in enumerate(guests)],
        agent=agent,
    )


def agent_from_json(raw: dict, path: str) -> AgentRecord:
    valid = _bool(raw.get("validUser"), f"{path}.validUser")
    return AgentRecord(
        user_name=_text(raw.get("userName")) or "",
        partner_user_id=_text(raw.get("partnerUserId")) or "",
        valid_user=True if valid is None else valid,
        invalid_reason=_text(raw.get("invalidReason")),
    )


# --- JSON fast path ---------------------------------------------------------------------------
# Nearly every record is well formed: exact ints, plain strings, ISO dates. These readers accept
# only that and raise on anything else, and the record is then read again by the careful readers
# above, which say exactly what is wrong and where. Building those error paths for every field
# of every record was a third of a sync's parsing time.


class _NotPlain(Exception):
    pass


def _plain_int(value):
    if value is None or type(value) is int:
        return value
    raise _NotPlain


def _plain_text(value):
    if value is None or (type(value) is str and "\x00" not in value):
        return value
    raise _NotPlain


def _plain_datetime(value):
    if type(value) is not str:
        raise _NotPlain
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _NotPlain from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _plain_guest(raw: dict) -> GuestRecord:
    location = raw.get("location")
    if location is None:
        location = {}
    elif type(location) is not dict:
        raise _NotPlain
    start = raw.get("startTime")
    return GuestRecord(
        guest_type=_plain_text(raw.get("type")),
        status=_plain_text(raw.get("status")),
        start_time=None if start is None else _plain_datetime(start),
        duration=_plain_int(raw.get("duration")),
        kbytes=_plain_int(raw.get("kbytes")),
        ip=_plain_text(raw.get("ip")),
        client_version=_plain_text(raw.get("clientVersion")),
        protocol_version=_plain_text(raw.get("protocolVersion")),
        city=_plain_text(location.get("city")),
        region=_plain_text(location.get("region")),
        country_code=_plain_text(location.get("countryCode")),
        name=_plain_text(raw.get("name")),
        email=_plain_text(raw.get("email")),
        phone=_plain_text(raw.get("phone")),
        error=_plain_text(raw.get("error")),
    )


def _plain_session(raw: Any, agent: AgentRecord | None) -> SessionRecord:
    if type(raw) is not dict:
        raise _NotPlain
    guests = raw.get("guests")
    if guests is None:
        guests = []
    elif type(guests) is not list or any(type(g) is not dict for g in guests):
        raise _NotPlain
    glance_id, reverse = raw.get("id"), raw.get("isReverse")
    if type(glance_id) is not int or not (reverse is None or type(reverse) is bool):
        raise _NotPlain
    session_type, status = _plain_text(raw.get("type")), _plain_text(raw.get("status"))
    return SessionRecord(
        glance_id=glance_id,
        session_type=(session_type or "")[:32],
        status=(status or "")[:32],
        start_time=_plain_datetime(raw.get("startTime")),
        key=_plain_text(raw.get("key")),
        width=_plain_int(raw.get("width")),
        height=_plain_int(raw.get("height")),
        duration=_plain_int(raw.get("duration")) or 0,
        kbytes=_plain_int(raw.get("kbytes")),
        is_reverse=reverse,
        guests=[_plain_guest(g) for g in guests],
        agent=agent,
    )


def _session(raw: Any, path: str, agent: AgentRecord | None) -> SessionRecord:
    try:
        return _plain_session(raw, agent)
    except _NotPlain:
        return session_from_json(raw, path, agent)


def page_from_group(group: Any, path: str = "d") -> Page:
    """A `groupSessions` object: {nextId, users: [{userName, …, sessions: […]}]}."""
    group = _object(group, path)
    if "users" not in group:
        raise RecordError(f"{path}: no 'users' list (keys: {', '.join(sorted(group)) or 'none'})")
    sessions = []
    for u, user in enumerate(_list(group["users"], f"{path}.users")):
        user_path = f"{path}.users[{u}]"
        user = _object(user, user_path)
        agent = agent_from_json(user, user_path)
        for s, raw in enumerate(_list(user.get("sessions"), f"{user_path}.sessions")):
            sessions.append(_session(raw, f"{user_path}.sessions[{s}]", agent))
    next_id = _int(group.get("nextId"), f"{path}.nextId") or 0
    return Page(next_id=next_id, sessions=sessions)


def loads(body: bytes | str, what: str = "answer") -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"{what} is not valid JSON ({exc})") from None


def unwrap_d(document: Any) -> Any:
    """The result inside ASMX's {"d": …} envelope (decoded again if it came as a JSON string)."""
    if not isinstance(document, dict) or "d" not in document:
        raise RecordError('the answer has no "d" member')
    result = document["d"]
    if isinstance(result, str):
        result = loads(result, "the answer's d member")
    return result


def page_from_answer(body: bytes) -> Page:
    try:
        return _wire_page(body)
    except _NotPlain:  # anything unusual: read it again field by field, to say where
        return page_from_group(unwrap_d(loads(body)))


# --- the whole page at once ------------------------------------------------------------------
# A page of plain records (the fast path's rules above) decoded by msgspec straight from the
# bytes, typed, into these shapes: a quarter of the time of orjson's dicts read field by field,
# which was most of a sync's parsing. Any departure (a string for a number, a date the fast path
# would not take, a NUL) fails the page here and it is read by the readers above instead, so both
# ways give the same records.


class _WireLocation(msgspec.Struct, rename="camel"):
    city: str | None = None
    region: str | None = None
    country_code: str | None = None


class _WireGuest(msgspec.Struct, rename="camel"):
    type: str | None = None
    status: str | None = None
    start_time: str | None = None
    duration: int | None = None
    kbytes: int | None = None
    ip: str | None = None
    client_version: str | None = None
    protocol_version: str | None = None
    location: _WireLocation | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    error: str | None = None


class _WireSession(msgspec.Struct, rename="camel"):
    id: int
    type: str | None = None
    status: str | None = None
    start_time: str | None = None
    key: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None
    kbytes: int | None = None
    is_reverse: bool | None = None
    guests: list[_WireGuest] | None = None


class _WireUser(msgspec.Struct, rename="camel"):
    user_name: str | None = None
    partner_user_id: str | None = None
    valid_user: bool | None = None
    invalid_reason: str | None = None
    sessions: list[_WireSession] | None = None


class _WireGroup(msgspec.Struct, rename="camel"):
    users: list[_WireUser]
    next_id: int | None = None


class _WireAnswer(msgspec.Struct):
    d: _WireGroup


_WIRE = msgspec.json.Decoder(_WireAnswer)


class _WireCursorGroup(msgspec.Struct, rename="camel"):
    next_id: int | None = None


class _WireCursor(msgspec.Struct):
    d: _WireCursorGroup


_CURSOR = msgspec.json.Decoder(_WireCursor)


def cursor_of(body: bytes) -> int | None:
    """A page's nextId alone (0 for the last page), skipping its records in C; None if the page
    is not of the plain shape, and only reading it whole can tell."""
    try:
        return _CURSOR.decode(body).d.next_id or 0
    except msgspec.DecodeError:
        return None


_NO_LOCATION = _WireLocation()


def _wire_page(body: bytes) -> Page:
    if b"\\u0000" in body:  # NUL is stripped by the careful readers
        raise _NotPlain
    try:
        group = _WIRE.decode(body).d
    except msgspec.DecodeError:  # not JSON, or not of these shapes (ValidationError too)
        raise _NotPlain from None
    sessions = []
    for user in group.users:
        valid = user.valid_user
        agent = AgentRecord(
            user.user_name or "",
            user.partner_user_id or "",
            True if valid is None else valid,
            user.invalid_reason,
        )
        sessions += [_wire_session(raw, agent) for raw in user.sessions or ()]
    return Page(next_id=group.next_id or 0, sessions=sessions)


def _wire_session(raw: _WireSession, agent: AgentRecord) -> SessionRecord:
    return SessionRecord(
        raw.id,
        (raw.type or "")[:32],
        (raw.status or "")[:32],
        _plain_datetime(raw.start_time),
        raw.key,
        raw.width,
        raw.height,
        raw.duration or 0,
        raw.kbytes,
        raw.is_reverse,
        [_wire_guest(guest) for guest in raw.guests or ()],
        agent,
    )


def _wire_guest(raw: _WireGuest) -> GuestRecord:
    place, start = raw.location or _NO_LOCATION, raw.start_time
    return GuestRecord(
        raw.type,
        raw.status,
        None if start is None else _plain_datetime(start),
        raw.duration,
        raw.kbytes,
        raw.ip,
        raw.client_version,
        raw.protocol_version,
        place.city,
        place.region,
        place.country_code,
        raw.name,
        raw.email,
        raw.phone,
        raw.error,
    )


def counts_from_answer(body: bytes) -> list[SessionCount]:
    counts = []
    for i, raw in enumerate(_list(unwrap_d(loads(body)), "d")):
        path = f"d[{i}]"
        raw = _object(raw, path)
        counts.append(
            SessionCount(
                session_type=_code(raw.get("type")),
                status=_code(raw.get("status")),
                count=_int(raw.get("count"), f"{path}.count", required=True),
                average_duration=_int(raw.get("averageDuration"), f"{path}.averageDuration"),
            )
        )
    return counts


def sessions_from_json_document(document: Any) -> list[SessionRecord]:
    """An exported file: one answer ({"d": group}), a bare group, or a list of either."""
    items = document if isinstance(document, list) else [document]
    sessions = []
    for i, item in enumerate(items):
        prefix = f"[{i}]" if isinstance(document, list) else ""
        if isinstance(item, dict) and "d" in item:
            sessions += page_from_group(unwrap_d(item), f"{prefix}d" if prefix else "d").sessions
        else:
            sessions += page_from_group(item, prefix or "$").sessions
    return sessions


# --- XML ------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element) -> dict:
    """Child elements by local name (first of each), for the flat records Glance sends."""
    found = {}
    for child in element:
        found.setdefault(_local(child.tag), child)
    return found


def _xml_text(children: dict, name: str) -> str | None:
    element = children.get(name)
    if element is None:
        return None
    return _text(element.text or "")


def guest_from_xml(element, path: str) -> GuestRecord:
    kids = _children(element)
    location = _children(kids["location"]) if "location" in kids else {}
    return GuestRecord(
        guest_type=_xml_text(kids, "type"),
        status=_xml_text(kids, "status"),
        start_time=_optional_datetime(_xml_text(kids, "startTime"), f"{path}/startTime"),
        duration=_int(_xml_text(kids, "duration"), f"{path}/duration"),
        kbytes=_int(_xml_text(kids, "kbytes"), f"{path}/kbytes"),
        ip=_xml_text(kids, "ip"),
        client_version=_xml_text(kids, "clientVersion"),
        protocol_version=_xml_text(kids, "protocolVersion"),
        city=_xml_text(location, "city"),
        region=_xml_text(location, "region"),
        country_code=_xml_text(location, "countryCode"),
        name=_xml_text(kids, "name"),
        email=_xml_text(kids, "email"),
        phone=_xml_text(kids, "phone"),
        error=_xml_text(kids, "error"),
    )


def session_from_xml(element, path: str, agent: AgentRecord | None) -> SessionRecord:
    kids = _children(element)
    guests = [g for g in kids["guests"] if _local(g.tag) == "guest"] if "guests" in kids else []
    return SessionRecord(
        glance_id=_int(_xml_text(kids, "id"), f"{path}/id", required=True),
        session_type=_code(_xml_text(kids, "type")),
        status=_code(_xml_text(kids, "status")),
        start_time=parse_datetime(_xml_text(kids, "startTime"), f"{path}/startTime"),
        key=_xml_text(kids, "key"),
        width=_int(_xml_text(kids, "width"), f"{path}/width"),
        height=_int(_xml_text(kids, "height"), f"{path}/height"),
        duration=_int(_xml_text(kids, "duration"), f"{path}/duration") or 0,
        kbytes=_int(_xml_text(kids, "kbytes"), f"{path}/kbytes"),
        is_reverse=_bool(_xml_text(kids, "isReverse"), f"{path}/isReverse"),
        guests=[guest_from_xml(g, f"{path}/guests/guest[{i + 1}]") for i, g in enumerate(guests)],
        agent=agent,
    )


def _agent_from_xml(element) -> AgentRecord:
    kids = _children(element)
    valid = _bool(_xml_text(kids, "validUser"), "userSessions/validUser")
    return AgentRecord(
        user_name=_xml_text(kids, "userName") or "",
        partner_user_id=_xml_text(kids, "partnerUserId") or "",
        valid_user=True if valid is None else valid,
        invalid_reason=_xml_text(kids, "invalidReason"),
    )


def _walk_xml(element, path: str, agent: AgentRecord | None, out: list) -> None:
    """Collects <session> records anywhere, each with the <userSessions> group around it."""
    counts: dict[str, int] = {}
    for child in element:
        name = _local(child.tag)
        counts[name] = counts.get(name, 0) + 1
        child_path = f"{path}/{name}[{counts[name]}]"
        if name == "session":
            out.append(session_from_xml(child, child_path, agent))
        elif name == "userSessions":
            _walk_xml(child, child_path, _agent_from_xml(child), out)
        else:
            _walk_xml(child, child_path, agent, out)


_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def _parse_xml(body: bytes):
    try:
        return SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        # Glance's answers never declare a DTD; one that does could expand entities without
        # end or name outside files to read, so none is read at all.
        raise RecordError(
            "XML refused: it declares a document type (<!DOCTYPE …>), which Glance's answers "
            f"never do and which could expand entities or read other files ({exc})"
        ) from None
    except SafeET.ParseError as exc:
        if "junk after document element" not in str(exc):
            raise RecordError(f"XML is not well-formed: {exc}") from None
    # Bare <session> records one after another, as the seed shows them: give them a root.
    wrapped = b"<records>" + _XML_DECLARATION.sub(b"", body) + b"</records>"
    try:
        return SafeET.fromstring(wrapped, forbid_dtd=True)
    except (DefusedXmlException, SafeET.ParseError) as exc:
        raise RecordError(f"XML is not well-formed: {exc}") from None


def sessions_from_xml(body: bytes) -> list[SessionRecord]:
    root = _parse_xml(body)
    if _local(root.tag) == "session":
        return [session_from_xml(root, "/session", None)]
    out: list[SessionRecord] = []
    _walk_xml(root, f"/{_local(root.tag)}", None, out)
    return out


def sessions_from_file_bytes(body: bytes) -> list[SessionRecord]:
    """A file exported from the Activity Service: XML if it starts with '<', else JSON."""
    if body.lstrip()[:1] == b"<":
        return sessions_from_xml(body)
    return sessions_from_json_document(loads(body, "the file"))
