"""CSV of sessions on SQLite, written by the database: one SELECT makes each session's line.

The file formats.csv_lines writes, byte for byte: the same columns in the same order, each date
in the export's zone and in UTC as ISO 8601 with its offset, booleans as true/false, text quoted
(as the csv module's QUOTE_NONNUMERIC does) and numbers not, and the same formula guard. Python
then only joins the lines: building, converting and writing a list of values per row in Python
was two thirds of a SQLite export (exports/copy_csv.py does the same on PostgreSQL).

What SQLite cannot do as Python does is done by Python, once per export or for the rare value:
the names of the partners and agents (an agent's name may be derived from its Glance user name)
are guarded and quoted once each and joined from a temporary table; the formula guard's
substitution runs in Python (a function SQLite calls) only for a value holding a formula lead;
and a local date outside the span whose clock changes the query carries is converted in Python.
The guests' file stays formats' own.
"""

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db import OperationalError, connection
from django.db.models import F

from sessions_app import codes, waiting
from sessions_app.exports import formats, jobs

CHUNK = formats.CHUNK
# The span of local dates converted in SQL: the filter's period (at most ten years, as the
# filter takes them), and after it as long as a session may run; a date outside is converted in
# Python.
AFTER_PERIOD = timedelta(days=31)
_TEXT = "%Y-%m-%d %H:%M:%S"  # how SQLite holds Django's datetimes: UTC, naive

# The session columns the query reads, as the names the line's expressions use.
_INNER = {
    "x_id": "id",
    "x_partner": "partner_id",
    "x_glance_id": "glance_id",
    "x_type": "session_type",
    "x_status": "status",
    "x_start": "start_time",
    "x_end": "end_time",
    "x_duration": "duration",
    "x_key": "key",
    "x_width": "width",
    "x_height": "height",
    "x_kbytes": "kbytes",
    "x_reverse": "is_reverse",
    "x_agent": "agent_id",
    "x_guests": "guest_count",
    "x_wait": "wait_seconds",
    "x_target": "partner__service_level_seconds",
    "x_countries": "visitor_countries",
}
# Each export's partners and agents go in a temporary table of its own (a second export on the
# same connection, begun while the first is still read, must not change the first's names).
_TABLES = itertools.count(1)


def quoted(text: str | None) -> str:
    """Text as the csv module writes it with QUOTE_NONNUMERIC, None as the empty text."""
    return '"' + (text or "").replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A SQL string literal of `text`."""
    return "'" + text.replace("'", "''") + "'"


EMPTY = _literal('""')  # the field the csv module writes for None and ""
QUOTE = _literal('"')


def _guarded(text: str | None) -> str | None:
    return formats.neutralise_csv(text) if text else text


def _quote_sql(expression: str) -> str:
    doubled = f"replace({expression}, {QUOTE}, {_literal(chr(34) * 2)})"
    return f"(CASE WHEN {expression} IS NULL THEN {EMPTY} ELSE {QUOTE} || {doubled} || {QUOTE} END)"


# formats._ANY_LEAD as a GLOB class ("-" first, so not a range; a tab and a carriage return as
# themselves): one test of a value, where an instr() per lead character was a quarter of the line.
_ANY_LEAD = _literal("*[-=+@\t\r]*")


def _guard_sql(expression: str) -> str:
    """formats.neutralise_csv: a value with no formula lead in it (most) passes as it is."""
    return (
        f"(CASE WHEN {expression} GLOB {_ANY_LEAD} THEN glancedash_guard({expression}) "
        f"ELSE {expression} END)"
    )


def _text(expression: str) -> str:
    return _quote_sql(_guard_sql(expression))


def _int(expression: str) -> str:
    return f"ifnull({expression}, {EMPTY})"


def _in(expression: str, values, params: list) -> str:
    params.extend(values)
    return f"{expression} IN ({', '.join(['%s'] * len(values))})"


def _dated(expression: str, text: str) -> str:
    """`text` quoted, where the date `expression` is not null."""
    return f"(CASE WHEN {expression} IS NULL THEN {EMPTY} ELSE {QUOTE} || {text} || {QUOTE} END)"


def _utc_sql(expression: str) -> str:
    """formats._iso_utc_text: "2026-03-01 10:00:00[.ffffff]" as "2026-03-01T10:00:00[…]+00:00"."""
    x = expression
    return _dated(x, f"substr({x}, 1, 10) || 'T' || substr({x}, 12) || '+00:00'")


def _offset_text(offset: timedelta) -> str:
    """An offset as datetime.isoformat writes it: ±HH:MM, and :SS where it has seconds."""
    seconds = int(offset.total_seconds())
    sign, seconds = ("-" if seconds < 0 else "+"), abs(seconds)
    text = f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return text + (f":{seconds % 60:02d}" if seconds % 60 else "")


def clock_changes(tz: ZoneInfo, first: datetime, end: datetime) -> list[tuple[datetime, timedelta]]:
    """[(from when, the offset from then on)] of the zone over [first, end), in UTC: the offset
    at `first`, then each change, found to the second."""
    step = timedelta(hours=6)
    offset = lambda moment: moment.astimezone(tz).utcoffset()  # noqa: E731
    changes = [(first, offset(first))]
    moment = first
    while moment < end:
        later = min(moment + step, end)
        if offset(later) != changes[-1][1]:
            # The offset changes after low, at or before high: clocks change on a whole second.
            low, high = int(moment.timestamp()), int(later.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                same = offset(datetime.fromtimestamp(middle, UTC)) == changes[-1][1]
                low, high = (middle, high) if same else (low, middle)
            at = datetime.fromtimestamp(high, UTC)
            changes.append((at, offset(at)))
        moment = later
    return changes


def _local_sql(expression: str, tz: ZoneInfo, first: datetime, end: datetime) -> str:
    """The UTC text as ISO 8601 in the zone with its offset, as datetime.isoformat writes it:
    the wall clock moved by the offset of the row's moment (one branch per span of one offset),
    its fraction of a second kept; outside [first, end), Python's own conversion."""
    x = expression
    python = f"glancedash_local({x}, {_literal(tz.key)})"
    branches = [f"WHEN {x} < {_literal(first.strftime(_TEXT))} THEN {python}"]
    changes = clock_changes(tz, first, end)
    for i, (_, offset) in enumerate(changes):
        until = changes[i + 1][0] if i + 1 < len(changes) else end
        moved = f"{int(offset.total_seconds()):+d} seconds"
        wall = f"strftime('%Y-%m-%dT%H:%M:%S', substr({x}, 1, 19), {_literal(moved)})"
        branches.append(
            f"WHEN {x} < {_literal(until.strftime(_TEXT))} "
            f"THEN {wall} || substr({x}, 20) || {_literal(_offset_text(offset))}"
        )
    return _dated(x, f"(CASE {' '.join(branches)} ELSE {python} END)")


def _local_span(exporter) -> tuple[datetime, datetime]:
    period = exporter.filter.period
    end = period.end.astimezone(UTC) + AFTER_PERIOD
    first = period.start.astimezone(UTC) - timedelta(days=1)
    return first.replace(microsecond=0), end.replace(microsecond=0)


def _outcomes(params: list) -> tuple[str, str]:
    """The outcome and the waiting outcome (figures.outcome_of, waiting.waiting_outcome)."""
    status = "ifnull(s.x_status, '')"
    outcome = (
        f"CASE WHEN {_in(status, sorted(codes.CONNECTED_STATUSES), params)} "
        f"THEN {_literal(quoted('connected'))} "
        f"WHEN {_in(status, sorted(codes.NOT_CONNECTED_STATUSES), params)} "
        f"THEN {_literal(quoted('not_connected'))} ELSE {_literal(quoted('other'))} END"
    )
    waiting_outcome = (
        f"CASE WHEN {_in(status, sorted(waiting.ABANDONED_STATUSES), params)} "
        f"THEN {_literal(quoted(waiting.ABANDONED))} "
        f"WHEN NOT ({_in(status, sorted(waiting.ANSWERED_STATUSES), params)}) THEN {EMPTY} "
        f"WHEN s.x_wait IS NULL THEN {_literal(quoted(waiting.UNKNOWN))} "
        f"WHEN s.x_wait <= s.x_target THEN {_literal(quoted(waiting.IN_TIME))} "
        f"ELSE {_literal(quoted(waiting.LATE))} END"
    )
    return outcome, waiting_outcome


def line_statement(exporter, people: str) -> tuple[str, list]:
    """The SELECT of one CSV line per session (formats.SESSION_COLUMNS), and its parameters;
    `people` names the temporary table of the export's partners and agents (_people)."""
    params: list = []
    tz = exporter.tz
    start, end = _utc_sql("s.x_start"), _utc_sql("s.x_end")
    utc = {"start_utc": start, "end_utc": end}
    if getattr(tz, "key", None) != "UTC":
        first, last = _local_span(exporter)
        start, end = (
            _local_sql("s.x_start", tz, first, last),
            _local_sql("s.x_end", tz, first, last),
        )
    outcome, waiting_outcome = _outcomes(params)
    yes, no = _literal(quoted("true")), _literal(quoted("false"))
    flag = f"CASE WHEN s.x_reverse THEN {yes} ELSE {no} END"
    columns = {
        "partner": _int("p.partner"),
        "session_id": _int("s.x_glance_id"),
        "type": _text("s.x_type"),
        "status": _text("s.x_status"),
        "outcome": outcome,
        "time_to_join_s": _int("s.x_wait"),
        "waiting_outcome": waiting_outcome,
        "start": start,
        "end": end,
        **utc,
        "duration_s": _int("s.x_duration"),
        "key": _text("s.x_key"),
        "width": _int("s.x_width"),
        "height": _int("s.x_height"),
        "kbytes": _int("s.x_kbytes"),
        "reverse": f"CASE WHEN s.x_reverse IS NULL THEN {EMPTY} ELSE {flag} END",
        "agent": _int("a.agent"),  # already CSV fields: only a missing agent is filled in
        "agent_name": _int("a.agent_name"),
        "team": _int("a.team"),
        "agent_partner_user_id": _int("a.partner_user_id"),
        "guest_count": _int("s.x_guests"),
        "guest_countries": _text("s.x_countries"),
    }
    line = " || ',' || ".join(f"({columns[c.key]})" for c in formats.SESSION_COLUMNS)
    inner = {alias: F(name) for alias, name in _INNER.items()}
    inner_sql, inner_params = exporter.sessions.order_by().values(**inner).query.sql_with_params()
    sql = (
        f"SELECT {line} FROM ({inner_sql}) AS s "  # noqa: S608 (our SQL; values are parameters)
        f"LEFT JOIN temp.{people} p ON p.kind = 'p' AND p.id = s.x_partner "
        f"LEFT JOIN temp.{people} a ON a.kind = 'a' AND a.id = s.x_agent "
        "ORDER BY s.x_start, s.x_id"
    )
    return sql, [*params, *inner_params]


def _people(exporter) -> list[tuple]:
    """The partners and agents the export's sessions may have (jobs.export_people), each name
    as its CSV field."""
    partners, agents = jobs.export_people(exporter.filter)
    return [("p", pk, quoted(name), None, None, None, None) for pk, name in partners] + [
        ("a", pk, None, *map(quoted, names)) for pk, *names in agents
    ]


@lru_cache(maxsize=64)
def _zone(key: str) -> ZoneInfo:
    return ZoneInfo(key)


def _local(text: str, zone: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).astimezone(_zone(zone)).isoformat()


def _functions() -> None:
    """What SQLite asks Python for (the guard's substitution, a date far from the period),
    registered once a connection: SQLite refuses to register a function while a statement of
    the connection is being read, as another export's may be."""
    raw = connection.connection
    if getattr(connection, "_glancedash_csv_functions", None) is raw:
        return
    raw.create_function("glancedash_guard", 1, _guarded, deterministic=True)
    raw.create_function("glancedash_local", 2, _local, deterministic=True)
    connection._glancedash_csv_functions = raw


def csv_lines(exporter, on_row: Callable[[], None]) -> Iterator[str]:
    """The file in pieces of CHUNK lines: a byte-order mark and the header, then the lines
    SQLite writes, ended CRLF as the csv module ends them."""
    if not isinstance(exporter, formats.SessionExporter):
        yield from formats.csv_lines(exporter, on_row)
        return
    connection.ensure_connection()
    _functions()
    people = f"glancedash_export_people_{next(_TABLES)}"
    sql, params = line_statement(exporter, people)
    header = ",".join(quoted(column.key) for column in exporter.columns)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE {people} (kind TEXT, id INTEGER, partner TEXT, agent TEXT, "
                "agent_name TEXT, team TEXT, partner_user_id TEXT, PRIMARY KEY (kind, id))"
            )
            insert = f"INSERT INTO temp.{people} VALUES (%s, %s, %s, %s, %s, %s, %s)"  # noqa: S608
            cursor.executemany(insert, _people(exporter))
            cursor.execute(sql, params)
            yield "\ufeff" + header + "\r\n"
            while lines := cursor.fetchmany(CHUNK):
                for _ in lines:
                    on_row()
                yield "\r\n".join([line for (line,) in lines]) + "\r\n"
    finally:
        _drop(people)


def _drop(table: str) -> None:
    """The export's temporary table dropped, where SQLite lets it be: not while another
    statement of the connection is being read (another export's), when the table stays until the
    connection closes, holding names the user who exported may see."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{table}")
    except OperationalError:
        pass
