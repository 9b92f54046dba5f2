"""Glance session records: turning the Activity Service's JSON answers and XML session records
into plain dataclasses, strictly enough to catch a malformed page and loosely enough to accept
everything the documentation allows (nulls, unknown codes, extra fields, two date formats).

The session and guest fields come from the tables of fields.py: the record classes, the
careful readers, the fast paths and the msgspec shapes below are all made from them.

A fault names where it is, e.g. `d.users[1].sessions[4].startTime: not a date: 'abc'`, so an
operator can find it in the page or file.
"""

import re
from dataclasses import dataclass, make_dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element

import msgspec
import orjson
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from sessions_app.glance.fields import GUEST, SESSION, Field, Kind, define, groups


class RecordError(ValueError):
    """A page or file does not hold valid session records."""


@dataclass(slots=True, frozen=True)
class AgentRecord:
    user_name: str
    partner_user_id: str
    valid_user: bool = True
    invalid_reason: str | None = None


def _record_class(name: str, table: tuple[Field, ...], extra: list, **namespace: Any) -> type:
    """A dataclass of the table's fields in order, then `extra`. A field that may be null
    defaults to None when every field after it has a default too, so a field added at the end
    of a table leaves the calls that build records positionally working."""
    specs, defaulted = [], all(len(spec) == 3 for spec in extra)
    for f in reversed(table):
        defaulted = defaulted and type(None) in getattr(f.python_type, "__args__", ())
        specs.append((f.attr, f.python_type, None) if defaulted else (f.attr, f.python_type))
    cls = make_dataclass(name, [*reversed(specs), *extra], slots=True, namespace=namespace)
    cls.__module__ = __name__
    return cls


def _end_time(self) -> datetime:
    return self.start_time + timedelta(seconds=self.duration)


GuestRecord = _record_class(
    "GuestRecord", GUEST, [], __doc__="A session's participant: the fields of fields.GUEST."
)
SessionRecord = _record_class(
    "SessionRecord",
    SESSION,
    [
        ("guests", list[GuestRecord], dataclass_field(default_factory=list)),
        ("agent", AgentRecord | None, None),
    ],
    __doc__="A session: the fields of fields.SESSION, its guests and its agent.",
    end_time=property(_end_time, doc="Glance sends none: the start plus the duration."),
)


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
_CODE_LENGTH = 32  # the columns of session types and statuses, and of the rollups keyed by them


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


def _optional_datetime(value: Any, path: str) -> datetime | None:
    return None if value is None or value == "" else parse_datetime(value, path)


def _text(value: Any) -> str | None:
    """Text from outside, kept as it came except NUL, which no database column can hold."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text.replace("\x00", "") if "\x00" in text else text


def _code(value: Any) -> str:
    """A type or status code: any text, kept as it came ("" for null), capped at the column."""
    return (_text(value) or "")[:_CODE_LENGTH]


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
    return _guest_from_json(_object(raw, path), path)


def session_from_json(raw: Any, path: str, agent: AgentRecord | None = None) -> SessionRecord:
    return _session_from_json(_object(raw, path), path, agent)


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
# of every record was a third of a sync's parsing time. The record readers are written out from
# the tables (fields.define).


class _NotPlain(Exception):
    pass


def _plain_int(value: Any) -> int | None:
    if value is None or type(value) is int:
        return value
    raise _NotPlain


def _plain_required_int(value: Any) -> int:
    if type(value) is int:
        return value
    raise _NotPlain


def _plain_bool(value: Any) -> bool | None:
    if value is None or type(value) is bool:
        return value
    raise _NotPlain


def _plain_text(value: Any) -> str | None:
    if value is None or (type(value) is str and "\x00" not in value):
        return value
    raise _NotPlain


def _plain_datetime(value: Any) -> datetime:
    if type(value) is not str:
        raise _NotPlain
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _NotPlain from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _plain_optional_datetime(value: Any) -> datetime | None:
    return None if value is None else _plain_datetime(value)


_NO_OBJECT: dict = {}  # read only: a nested object Glance left out


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

_WIRE_TYPES = {Kind.TEXT: str, Kind.CODE: str, Kind.INT: int, Kind.BOOL: bool, Kind.DATETIME: str}
_WIRE_EMPTY: dict[str, msgspec.Struct] = {}  # "<shape>.<nested object>": an empty one


def _wire_shape(name: str, table: tuple[Field, ...], within: str | None = None, extra=()) -> type:
    """The msgspec shape of a table's fields (those nested in `within`), under our attribute
    names and Glance's member names; a nested object is a shape of its own, where its first
    field is (msgspec reads members fastest in the order they come)."""
    specs = []
    for f in table:
        if f.within == within:
            wire = _WIRE_TYPES[f.kind]
            if f.required:
                specs.append((f.attr, wire, msgspec.field(name=f.glance)))
            else:
                specs.append((f.attr, wire | None, msgspec.field(default=None, name=f.glance)))
        elif within is None and f.within not in (spec[0] for spec in specs):
            nested = _wire_shape(f"{name}_{f.within}", table, f.within)
            _WIRE_EMPTY[f"{name}.{f.within}"] = nested()
            specs.append((f.within, nested | None, None))
    return msgspec.defstruct(name, [*specs, *extra], kw_only=True, module=__name__)


_WireGuest = _wire_shape("_WireGuest", GUEST)
_WireSession = _wire_shape(
    "_WireSession", SESSION, extra=[("guests", list[_WireGuest] | None, None)]
)


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


def _children(element: Element) -> dict:
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


def guest_from_xml(element: Element, path: str) -> GuestRecord:
    return _guest_from_xml(_children(element), path)


def session_from_xml(element: Element, path: str, agent: AgentRecord | None) -> SessionRecord:
    return _session_from_xml(_children(element), path, agent)


def _agent_from_xml(element: Element) -> AgentRecord:
    kids = _children(element)
    valid = _bool(_xml_text(kids, "validUser"), "userSessions/validUser")
    return AgentRecord(
        user_name=_xml_text(kids, "userName") or "",
        partner_user_id=_xml_text(kids, "partnerUserId") or "",
        valid_user=True if valid is None else valid,
        invalid_reason=_xml_text(kids, "invalidReason"),
    )


def _walk_xml(element: Element, path: str, agent: AgentRecord | None, out: list) -> None:
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


def _parse_xml(body: bytes) -> Element:
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


# --- the record readers, written out from the tables ---------------------------------------
# Each reader is the code one would write by hand for the fields of fields.py (see
# fields.define): per-field loops over the table made every reader a third to a half slower.
# A reader's text is its `__source__`.

_GUEST_NESTS, _SESSION_NESTS = groups(GUEST), groups(SESSION)


def _careful(f: Field, value: str, separator: str, *, text_read: bool = False) -> str:
    """A field read by the careful readers, which say where a value is wrong; `value` is the
    expression of the value as it came (`text_read`: already read as text)."""
    where = f'f"{{path}}{separator}{f.path(separator)}"'
    if f.kind is Kind.TEXT:
        expression = value if text_read else f"_text({value})"
    elif f.kind is Kind.CODE:
        expression = f"_code({value})"
    elif f.kind is Kind.INT:
        expression = f"_int({value}, {where}{', required=True' if f.required else ''})"
    elif f.kind is Kind.BOOL:
        expression = f"_bool({value}, {where})"
    else:
        reader = "parse_datetime" if f.required else "_optional_datetime"
        expression = f"{reader}({value}, {where})"
    return expression if f.missing is None else f"({expression} or {f.missing!r})"


def _json_careful(f: Field) -> str:
    return _careful(f, f"{f.within or 'raw'}.get({f.glance!r})", ".")


def _xml_careful(f: Field) -> str:
    return _careful(f, f"_xml_text({f.within or 'kids'}, {f.glance!r})", "/", text_read=True)


def _plain(f: Field) -> str:
    """A field read by the JSON fast path, which raises _NotPlain for anything unusual."""
    value = f"{f.within or 'raw'}.get({f.glance!r})"
    if f.kind is Kind.INT:
        expression = f"_plain_{'required_' if f.required else ''}int({value})"
    elif f.kind is Kind.CODE:
        expression = f'(_plain_text({value}) or "")[:{_CODE_LENGTH}]'
    elif f.kind is Kind.TEXT:
        expression = f"_plain_text({value})"
    elif f.kind is Kind.BOOL:
        expression = f"_plain_bool({value})"
    else:
        expression = f"_plain_{'' if f.required else 'optional_'}datetime({value})"
    return expression if f.missing is None else f"({expression} or {f.missing!r})"


def _wire(f: Field) -> str:
    """A field of a msgspec shape, whose types msgspec has checked."""
    value = f"{f.within or 'raw'}.{f.attr}"
    if f.kind is Kind.CODE:
        expression = f'({value} or "")[:{_CODE_LENGTH}]'
    elif f.kind is Kind.DATETIME and f.required:
        expression = f"_plain_datetime({value})"
    elif f.kind is Kind.DATETIME:
        expression = f"(None if {value} is None else _plain_datetime({value}))"
    else:
        expression = value
    return expression if f.missing is None else f"({expression} or {f.missing!r})"


def _reader(head: str, record: str, expressions: list[str]) -> Any:
    """Defines the function that runs the lines of `head`, then returns `record` made of
    `expressions`."""
    arguments = "".join(f"        {expression},\n" for expression in expressions)
    return define(f"{head}    return {record}(\n{arguments}    )\n", globals())


def _lines(template: str, nests: list[str]) -> str:
    """`template` (a line or more, "{n}" the name of a nested object) for each nested object."""
    return "".join(template.replace("{n}", name) for name in nests)


_JSON_NEST = (
    "    {n} = raw.get('{n}')\n"
    "    {n} = _object({n}, f'{path}.{n}') if {n} is not None else _NO_OBJECT\n"
)
_XML_NEST = "    {n} = _children(kids['{n}']) if '{n}' in kids else _NO_OBJECT\n"
_PLAIN_NEST = (
    "    {n} = raw.get('{n}')\n"
    "    if {n} is None:\n"
    "        {n} = _NO_OBJECT\n"
    "    elif type({n}) is not dict:\n"
    "        raise _NotPlain\n"
)
_WIRE_NEST = "    {n} = raw.{n} or _WIRE_EMPTY['{shape}.{n}']\n"

_guest_from_json = _reader(
    "def _guest_from_json(raw, path):\n" + _lines(_JSON_NEST, _GUEST_NESTS),
    "GuestRecord",
    [_json_careful(f) for f in GUEST],
)
_session_from_json = _reader(
    "def _session_from_json(raw, path, agent):\n"
    "    guests = _list(raw.get('guests'), f'{path}.guests')\n"
    + _lines(_JSON_NEST, _SESSION_NESTS),
    "SessionRecord",
    [
        *[_json_careful(f) for f in SESSION],
        "[guest_from_json(g, f'{path}.guests[{i}]') for i, g in enumerate(guests)]",
        "agent",
    ],
)
_plain_guest = _reader(
    "def _plain_guest(raw):\n" + _lines(_PLAIN_NEST, _GUEST_NESTS),
    "GuestRecord",
    [_plain(f) for f in GUEST],
)
_plain_session = _reader(
    "def _plain_session(raw, agent):\n"
    "    if type(raw) is not dict:\n"
    "        raise _NotPlain\n"
    "    guests = raw.get('guests')\n"
    "    if guests is None:\n"
    "        guests = ()\n"
    "    elif type(guests) is not list or any(type(g) is not dict for g in guests):\n"
    "        raise _NotPlain\n" + _lines(_PLAIN_NEST, _SESSION_NESTS),
    "SessionRecord",
    [*[_plain(f) for f in SESSION], "[_plain_guest(g) for g in guests]", "agent"],
)
_wire_guest = _reader(
    "def _wire_guest(raw):\n" + _lines(_WIRE_NEST.replace("{shape}", "_WireGuest"), _GUEST_NESTS),
    "GuestRecord",
    [_wire(f) for f in GUEST],
)
_wire_session = _reader(
    "def _wire_session(raw, agent):\n"
    + _lines(_WIRE_NEST.replace("{shape}", "_WireSession"), _SESSION_NESTS),
    "SessionRecord",
    [*[_wire(f) for f in SESSION], "[_wire_guest(guest) for guest in raw.guests or ()]", "agent"],
)
_guest_from_xml = _reader(
    "def _guest_from_xml(kids, path):\n" + _lines(_XML_NEST, _GUEST_NESTS),
    "GuestRecord",
    [_xml_careful(f) for f in GUEST],
)
_session_from_xml = _reader(
    "def _session_from_xml(kids, path, agent):\n"
    "    guests = kids['guests'] if 'guests' in kids else ()\n"
    "    guests = [g for g in guests if _local(g.tag) == 'guest']\n"
    + _lines(_XML_NEST, _SESSION_NESTS),
    "SessionRecord",
    [
        *[_xml_careful(f) for f in SESSION],
        "[guest_from_xml(g, f'{path}/guests/guest[{i + 1}]') for i, g in enumerate(guests)]",
        "agent",
    ],
)
