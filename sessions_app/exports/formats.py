"""Exports of exactly what the filter selects, one row per session or one per participant.

An exporter yields a header, then rows, read from the database in chunks (constant memory, no
row limit); one set of renderers turns them into CSV, NDJSON or an Excel workbook (openpyxl's
write-only mode, which streams rows to disk). Cells a spreadsheet would run as a formula are
neutralised, since guest names come from the public. The filter, the time zone and the time of
export travel with every file: in its name, its response headers and, in Excel, a sheet of
their own.
"""

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from zoneinfo import ZoneInfo

import orjson
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast
from django.urls import reverse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from sessions_app import figures, waiting
from sessions_app.figures.filters import SessionFilter
from sessions_app.glance import fields
from sessions_app.models import Guest
from sessions_app.models.sessions import name_from_user_name

CHUNK = 2000
GUARDED_TEXTS_KEPT = 20_000  # distinct text values an export remembers guarded
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ROW_KINDS = ("sessions", "guests")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A formula lead after a character some spreadsheet splits cells or rows on: one set to ";" (or
# tab, or |) would cut "a;=cmd…" into a cell that runs, whatever the quoting says.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([,;\t|\r\n][ ]*)(?=[=+\-@])")
# Either rule needs one of the lead characters somewhere: a value without any (most: codes,
# keys, countries, plain names) is passed by one search, where the substitution cost a fifth of
# a SQLite export.
_ANY_LEAD = re.compile(r"[=+\-@\t\r]")


@dataclass(frozen=True)
class Column:
    key: str  # NDJSON member and CSV header
    title: str  # Excel header
    kind: str = "text"  # text | int | bool | local | utc: how each format writes it


def neutralise(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def neutralise_csv(value: str) -> str:
    """The same, and an apostrophe before a formula that could start after a separator."""
    if not _ANY_LEAD.search(value):
        return value
    return _FORMULA_AFTER_SEPARATOR.sub(r"\1'", neutralise(value))


class Exporter:
    """One export: its columns, then rows of plain values in column order."""

    columns: list[Column]

    def __init__(self, flt: SessionFilter, sessions):
        self.filter = flt
        self.tz: ZoneInfo = flt.tz
        self.sessions = sessions.order_by("start_time", "pk")

    def rows(self, text_dates: bool = False) -> Iterator[list]:
        """Rows of plain values in column order. With `text_dates`, the sessions' dates may come
        as ISO 8601 text in UTC (SQLite stores them as text) instead of datetimes."""
        raise NotImplementedError

    def csv_chunks(self) -> Iterator[list[list]]:
        """Rows in CSV form, a chunk at a time."""
        convert = csv_row_function(self)
        chunk = []
        for row in self.rows(text_dates=True):
            chunk.append(convert(row))
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    SESSION_FIELDS = (
        "pk",
        "partner__name",
        "glance_id",
        "session_type",
        "status",
        "start_time",
        "end_time",
        "duration",
        "key",
        "width",
        "height",
        "kbytes",
        "is_reverse",
        "agent__user_name",
        "agent__partner_user_id",
        "guest_count",
        "wait_seconds",
        "partner__service_level_seconds",
        "agent__display_name",
        "agent__team__name",
        "visitor_countries",
    )

    def _session_chunks(self, sessions=None, text_dates=False) -> Iterator[list[tuple]]:
        """Chunks of session rows (tuples in SESSION_FIELDS order), read by the
        queryset's own SQL through a plain cursor: Django's per-value converters were half of
        an export's time. Dates are made aware here, or with `text_dates` on SQLite left as
        the ISO 8601 text of their UTC time (a CSV export in UTC then makes no datetime)."""
        sessions = sessions if sessions is not None else self.sessions
        fields = list(self.SESSION_FIELDS)
        if connection.vendor == "sqlite":
            # Dates as the text SQLite stores (naive UTC): fromisoformat reads that several
            # times faster than the converter Django registers for datetime columns.
            sessions = sessions.annotate(
                start_text=Cast("start_time", TextField()), end_text=Cast("end_time", TextField())
            )
            fields[5:7] = ["start_text", "end_text"]
        sql, params = sessions.values_list(*fields).query.sql_with_params()
        aware = _iso_utc_text if text_dates and connection.vendor == "sqlite" else _aware_datetime()
        # A server-side cursor on PostgreSQL: a client-side one would hold every row in memory.
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(CHUNK):
                yield [
                    (*row[:5], aware(row[5]), aware(row[6]), *row[7:12], _bool(row[12]), *row[13:])
                    for row in rows
                ]

    def _session_values(self, row: tuple) -> list:
        (_, partner, glance_id, kind, status, start, end, duration, key, width, height, kbytes,
         reverse, agent, agent_id, guest_count, wait, target, display, team,
         countries) = row  # fmt: skip
        return [
            partner,
            glance_id,
            kind,
            status,
            figures.outcome_of(status),
            wait,
            waiting.waiting_outcome(status, wait, target),
            start,
            end,
            start,
            end,
            duration,
            key,
            width,
            height,
            kbytes,
            reverse,
            agent or None,
            (display or name_from_user_name(agent)) if agent else None,
            team,
            agent_id or None,
            guest_count,
            countries,
        ]

    def _guests_by_session(self, chunk) -> dict[int, list[dict]]:
        found: dict[int, list[dict]] = {}
        guests = Guest.objects.filter(session_id__in=[row[0] for row in chunk]).order_by(
            "session_id", "position"
        )
        for guest in guests.values():
            found.setdefault(guest["session_id"], []).append(guest)
        return found


def _iso_utc_text(stored: str | None) -> str | None:
    """SQLite's text of a UTC datetime ("2026-03-01 10:00:00[.ffffff]") as isoformat() writes
    the aware value ("2026-03-01T10:00:00[.ffffff]+00:00"), without parsing it."""
    return f"{stored[:10]}T{stored[11:]}+00:00" if stored else None


def _aware_datetime():
    """A function making the database's datetime values aware (SQLite: naive UTC text)."""
    if connection.vendor == "sqlite":
        return lambda value: datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    return lambda value: value


def _bool(value):
    return value if value is None or isinstance(value, bool) else bool(value)


_KINDS = {
    fields.Kind.TEXT: "text",
    fields.Kind.CODE: "text",
    fields.Kind.INT: "int",
    fields.Kind.BOOL: "bool",
}


def glance_columns(field: fields.Field) -> list[Column]:
    """A Glance field's export columns: one, or a date's in the export's zone and in UTC."""
    if field.kind is fields.Kind.DATETIME:
        return [
            Column(field.column, field.title, "local"),
            Column(f"{field.column}_utc", f"{field.title} (UTC)", "utc"),
        ]
    return [Column(field.column, field.title, _KINDS[field.kind])]


_SESSION = {field.attr: glance_columns(field) for field in fields.SESSION}

# Glance's session fields (their keys and titles from fields.SESSION) among columns of ours.
SESSION_COLUMNS = [
    Column("partner", "Partner"),
    *_SESSION["glance_id"],
    *_SESSION["session_type"],
    *_SESSION["status"],
    Column("outcome", "Outcome"),
    Column("time_to_join_s", "Time to join (s)", "int"),
    Column("waiting_outcome", "Waiting outcome"),
    _SESSION["start_time"][0],
    Column("end", "End", "local"),
    _SESSION["start_time"][1],
    Column("end_utc", "End (UTC)", "utc"),
    *_SESSION["duration"],
    *_SESSION["key"],
    *_SESSION["width"],
    *_SESSION["height"],
    *_SESSION["kbytes"],
    *_SESSION["is_reverse"],
    Column("agent", "Agent user name"),
    Column("agent_name", "Agent"),
    Column("team", "Team"),
    Column("agent_partner_user_id", "Agent partnerUserId"),
    Column("guest_count", "Guests", "int"),
    Column("guest_countries", "Guest countries"),
]

# A participant's columns: its place in the session, then every field of fields.GUEST in order.
GUEST_COLUMNS = [
    Column("guest_position", "Guest #", "int"),
    *(column for field in fields.GUEST for column in glance_columns(field)),
]
# A stored guest's values (Guest.objects.values()) in the order of GUEST_COLUMNS after the first.
_GUEST_VALUES = itemgetter(*(field.attr for field in fields.GUEST for _ in glance_columns(field)))


class SessionExporter(Exporter):
    columns = SESSION_COLUMNS

    def rows(self, text_dates=False):
        for chunk in self._session_chunks(text_dates=text_dates):
            for row in chunk:
                yield self._session_values(row)


class GuestExporter(Exporter):
    """One row per participant, its session's fields repeated; a session with no guests still
    has one row, so no session is lost from the file."""

    columns = SESSION_COLUMNS + GUEST_COLUMNS

    def rows(self, text_dates=False):
        empty = [None] * len(GUEST_COLUMNS)
        for chunk in self._session_chunks(text_dates=text_dates):
            guests = self._guests_by_session(chunk)
            for row in chunk:
                mine = guests.get(row[0], [])
                session = self._session_values(row)
                if not mine:
                    yield session + empty
                for g in mine:
                    yield [*session, g["position"] + 1, *_GUEST_VALUES(g)]


EXPORTERS = {"sessions": SessionExporter, "guests": GuestExporter}


# --- rendering -----------------------------------------------------------------------------


def _iso(value: datetime | None, tz) -> str | None:
    return value.astimezone(tz).isoformat() if value else None


def text_values(exporter: Exporter, row: list) -> list:
    """Values for CSV and NDJSON: dates as ISO 8601 with their offset."""
    out = []
    for column, value in zip(exporter.columns, row, strict=True):
        if column.kind == "local":
            value = _iso(value, exporter.tz)
        elif column.kind == "utc":
            value = _iso(value, UTC)
        out.append(value)
    return out


def csv_row_function(exporter: Exporter) -> Callable[[list], list]:
    """A row in CSV form: dates ISO 8601 with offset, booleans true/false, text from outside
    neutralised; made once per export with each column's treatment looked up in advance
    (per-value dispatch was a third of an export's time)."""
    tz = exporter.tz
    local = [i for i, c in enumerate(exporter.columns) if c.kind == "local"]
    utc = [i for i, c in enumerate(exporter.columns) if c.kind == "utc"]
    flags = [i for i, c in enumerate(exporter.columns) if c.kind == "bool"]
    texts = [i for i, c in enumerate(exporter.columns) if c.kind == "text"]

    copies = []  # (local column, its UTC twin): the same text when the export's zone is UTC
    if tz == UTC or getattr(tz, "key", None) == "UTC":
        index = {c.key: i for i, c in enumerate(exporter.columns)}
        copies = [(i, index[exporter.columns[i].key + "_utc"]) for i in local]
        local = []

    # Most text repeats row after row (partners, agents, codes, outcomes, countries): each
    # value is guarded once.
    guarded_text: dict[str, str] = {}

    def convert(row: list) -> list:
        for i in local:
            value = row[i]
            if value is not None:
                if type(value) is str:  # UTC text (Exporter.rows' text_dates)
                    value = datetime.fromisoformat(value)
                row[i] = value.astimezone(tz).isoformat()
        for i in utc:
            value = row[i]
            if value is not None and type(value) is not str:  # text is in UTC already
                # The database's datetimes are aware UTC already.
                row[i] = (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat()
        for i, twin in copies:
            row[i] = row[twin]
        for i in flags:
            if row[i] is not None:
                row[i] = "true" if row[i] else "false"
        for i in texts:
            value = row[i]
            if value and isinstance(value, str):
                guarded = guarded_text.get(value)
                if guarded is None:
                    guarded = neutralise_csv(value)
                    if len(guarded_text) < GUARDED_TEXTS_KEPT:
                        guarded_text[value] = guarded
                row[i] = guarded
        return row  # None is written as an empty cell by the csv module

    return convert


def csv_lines(exporter: Exporter, on_row: Callable[[], None]) -> Iterator[str]:
    """The CSV file in pieces, by Python's csv module: the reference the databases' own writers
    are held to (exports/copy_csv.py on PostgreSQL, exports/sqlite_csv.py for SQLite's file of
    sessions), and SQLite's file of guests."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC)  # every text field quoted

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    buffer.write("\ufeff")  # a byte-order mark, so spreadsheets read the file as UTF-8
    writer.writerow([column.key for column in exporter.columns])
    for chunk in exporter.csv_chunks():
        writer.writerows(chunk)
        for _ in chunk:
            on_row()
        yield flush()
    yield flush()


def ndjson_lines(exporter: Exporter, on_row: Callable[[], None]) -> Iterator[bytes]:
    keys = [column.key for column in exporter.columns]
    batch = []
    for row in exporter.rows():
        batch.append(orjson.dumps(dict(zip(keys, text_values(exporter, row), strict=True))))
        on_row()
        if len(batch) == 500:
            yield b"\n".join(batch) + b"\n"
            batch = []
    if batch:
        yield b"\n".join(batch) + b"\n"


def write_xlsx(exporter: Exporter, target, about: list[tuple[str, str]], on_row) -> None:
    """A write-only workbook: the rows, then a sheet saying what the export holds."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(
        "Sessions" if isinstance(exporter, SessionExporter) else "Participants"
    )
    bold = Font(bold=True)
    header = []
    for column in exporter.columns:
        title = column.title
        if column.kind == "local":
            title = f"{title} ({exporter.tz.key})"
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in exporter.rows():
        sheet.append(
            [
                _xlsx_cell(sheet, column, value, exporter.tz)
                for column, value in zip(exporter.columns, row, strict=True)
            ]
        )
        on_row()
    info = book.create_sheet("Export")
    for name, value in about:
        info.append([name, neutralise(value)])
    book.save(target)


def _xlsx_cell(sheet, column: Column, value, tz):
    if value is None:
        return None
    if column.kind in ("local", "utc"):
        # Excel has no time zones: the zone is in the column's title.
        cell = WriteOnlyCell(
            sheet,
            value=value.astimezone(tz if column.kind == "local" else UTC).replace(tzinfo=None),
        )
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters a workbook cannot hold
    return neutralise(value)


# --- what travels with the file ------------------------------------------------------------


def about(flt: SessionFilter, rows: str, exported_by: str, when: datetime) -> list[tuple[str, str]]:
    period = flt.period
    items = [
        ("Exported at", when.astimezone(flt.tz).isoformat(timespec="seconds")),
        ("Exported by", exported_by),
        ("Time zone", flt.tz.key),
        ("Rows", "one per participant" if rows == "guests" else "one per session"),
        ("From", period.first_day.isoformat()),
        ("To (inclusive)", period.last_day.isoformat()),
    ]
    items += [
        (f"Filter: {name}", value) for name, value in flt.params() if name not in ("start", "end")
    ]
    items.append(("Link", reverse("session_list") + "?" + flt.query()))
    return items


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(flt: SessionFilter, rows: str, extension: str, when: datetime) -> str:
    period = flt.period
    parts = ["glancedash", rows, f"{period.first_day}_to_{period.last_day}"]
    skip = ("start", "end", "preset", "q")  # q is a guest's name or email: not in a file name
    parts += [f"{name}-{value}" for name, value in flt.params() if name not in skip]
    parts += [
        flt.tz.key.replace("/", "-"),
        when.astimezone(flt.tz).strftime("exported-%Y%m%dT%H%M"),
    ]
    stem = _UNSAFE.sub("-", "_".join(parts)).strip("-")[:180]
    return f"{stem}.{extension}"


def response_headers(flt: SessionFilter, when: datetime) -> dict[str, str]:
    return {
        "X-Glancedash-Filter": flt.query(),
        "X-Glancedash-Time-Zone": flt.tz.key,
        "X-Glancedash-Exported-At": when.isoformat(timespec="seconds"),
    }
