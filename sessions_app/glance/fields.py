"""Glance's session and guest fields, declared once.

Each field says where it sits in Glance's records (its JSON member and XML element, and the
object it is nested in), what kind of value it is, what we call it (the record attribute, which
is also the model column), whether it is personal data and which retention limit clears it, and
how an export heads its column. The record classes and the JSON, msgspec and XML readers
(records.py), the stored columns and rows (sync/ingest.py), the export columns
(exports/formats.py) and the benchmark's raw inserts all read these tables, so a new Glance
field is one line here, plus its model field and migration.

Order matters: it is the records' positional order, and the participant export's column order.
Add new fields at the end.
"""

import enum
import itertools
import linecache
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class Kind(enum.Enum):
    TEXT = "text"  # text as it came (NUL removed); null stays null
    CODE = "code"  # a type or status code: any text, "" for null, capped at 32 characters
    INT = "int"  # a whole number
    BOOL = "bool"  # true or false
    DATETIME = "datetime"  # ISO 8601 or \/Date(ms)\/, made aware in UTC


# Personal data, by the retention limit that clears it (a partner's retain_<kind>_days, the
# `Cutoffs.<kind>` of sync/retention.py).
IP = "ip"
CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class Field:
    attr: str  # our record attribute and model column
    glance: str  # Glance's JSON member and XML element
    kind: Kind
    column: str  # export column key: CSV header and NDJSON member (a date's UTC twin adds _utc)
    title: str  # export column title, in Excel (a date's UTC twin adds " (UTC)")
    within: str | None = None  # the object Glance nests it in, e.g. a guest's "location"
    pii: str | None = None  # IP or CONTACT: personal data, cleared by that retention limit
    required: bool = False  # a record without it is malformed
    missing: Any = None  # what a null becomes (a session's duration: 0)

    @property
    def python_type(self) -> Any:
        """The record attribute's type."""
        base = {Kind.TEXT: str, Kind.CODE: str, Kind.INT: int, Kind.BOOL: bool}.get(
            self.kind, datetime
        )
        never_null = self.kind is Kind.CODE or self.required or self.missing is not None
        return base if never_null else base | None

    def path(self, separator: str) -> str:
        """Where it is within its record: "startTime", "location.city", "location/city"."""
        return f"{self.within}{separator}{self.glance}" if self.within else self.glance


SESSION: tuple[Field, ...] = (
    Field("glance_id", "id", Kind.INT, "session_id", "Glance session id", required=True),
    Field("session_type", "type", Kind.CODE, "type", "Type"),
    Field("status", "status", Kind.CODE, "status", "Status"),
    Field("start_time", "startTime", Kind.DATETIME, "start", "Start", required=True),
    Field("key", "key", Kind.TEXT, "key", "Session key"),
    Field("width", "width", Kind.INT, "width", "Width"),
    Field("height", "height", Kind.INT, "height", "Height"),
    Field("duration", "duration", Kind.INT, "duration_s", "Duration (s)", missing=0),
    Field("kbytes", "kbytes", Kind.INT, "kbytes", "kB"),
    Field("is_reverse", "isReverse", Kind.BOOL, "reverse", "Reverse"),
)

GUEST: tuple[Field, ...] = (
    Field("guest_type", "type", Kind.TEXT, "guest_type", "Guest type"),
    Field("status", "status", Kind.TEXT, "guest_status", "Guest status"),
    Field("start_time", "startTime", Kind.DATETIME, "guest_start", "Guest start"),
    Field("duration", "duration", Kind.INT, "guest_duration_s", "Guest duration (s)"),
    Field("kbytes", "kbytes", Kind.INT, "guest_kbytes", "Guest kB"),
    Field("ip", "ip", Kind.TEXT, "ip", "IP address", pii=IP),
    Field("client_version", "clientVersion", Kind.TEXT, "client_version", "Client version"),
    Field("protocol_version", "protocolVersion", Kind.TEXT, "protocol_version", "Protocol version"),
    Field("city", "city", Kind.TEXT, "city", "City", within="location"),
    Field("region", "region", Kind.TEXT, "region", "Region", within="location"),
    Field("country_code", "countryCode", Kind.TEXT, "country", "Country", within="location"),
    Field("name", "name", Kind.TEXT, "name", "Name", pii=CONTACT),
    Field("email", "email", Kind.TEXT, "email", "Email", pii=CONTACT),
    Field("phone", "phone", Kind.TEXT, "phone", "Phone", pii=CONTACT),
    Field("error", "error", Kind.TEXT, "error", "Error"),
)


def attrs(table: tuple[Field, ...]) -> list[str]:
    """The table's record attributes (and model columns), in order."""
    return [field.attr for field in table]


def groups(table: tuple[Field, ...]) -> list[str]:
    """The objects the table's fields are nested in (a guest's "location"), in order."""
    return list(dict.fromkeys(field.within for field in table if field.within))


def pii_kinds(table: tuple[Field, ...]) -> list[str]:
    """The kinds of personal data in the table (IP, CONTACT), in order."""
    return list(dict.fromkeys(field.pii for field in table if field.pii))


def pii_attrs(table: tuple[Field, ...], kind: str) -> tuple[str, ...]:
    """The record attributes (model columns) holding one kind of personal data, in order."""
    return tuple(field.attr for field in table if field.pii == kind)


# --- code written out from the tables ---------------------------------------------------------
# The hot readers and writers (a page decoded by msgspec, a guest's row for the database) are
# written out from the tables as plain code, the same code one would write by hand: a loop or
# getters over the fields made a page's decode a sixth slower, and these run a million times in
# a sync. Each module writes its own, from expressions built from the fields.

_serial = itertools.count(1)


def define(source: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    """The one function `source` defines, made with `namespace` (a module's globals()) as its
    globals. Its text stays readable in tracebacks and as `function.__source__`."""
    (name,) = re.findall(r"^def (\w+)\(", source, re.MULTILINE)
    filename = f"<glance fields {next(_serial)}: {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    # The text is made from the tables above, never from data.
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    function = namespace[name]
    function.__source__ = source
    return function
