"""CSV on PostgreSQL, written by the database: COPY (SELECT …) TO STDOUT.

The file formats.csv_lines writes, value for value: the same columns in the same order,
each date in the export's zone and in UTC as ISO 8601 with its offset, booleans as true/false,
text quoted and numbers not, and the same formula guard on text from the outside world. Here
PostgreSQL formats every value and the bytes it sends are handed on as they come: no Python
object per value, which is what held CSV on PostgreSQL to 16,000 rows/s.

Two things are done in Python first, once per export rather than once per row: the names of the
partners and agents (an agent's name may be derived from its Glance user name, by
models.sessions.name_from_user_name), already guarded, travel into the query as arrays. One
difference a reader never sees: an empty value is written as nothing where the csv module
writes "" (every CSV reader reads both as the empty string).
"""

from collections.abc import Callable, Iterator

from django.db import connection, transaction

from sessions_app import codes, waiting
from sessions_app.exports import formats, jobs
from sessions_app.glance import fields
from sessions_app.models import Guest

CHUNK = formats.CHUNK  # rows per piece of the response
SORT_MEMORY = "64MB"  # the export's one sort, in memory: a million sessions' raw values

# The session columns the query reads, by the names the SELECT below uses.
_INNER = (
    ("id", "pk"),
    ("partner_id", "partner_id"),
    ("glance_id", "glance_id"),
    ("session_type", "session_type"),
    ("status", "status"),
    ("start_time", "start_time"),
    ("end_time", "end_time"),
    ("duration", "duration"),
    ("key", "key"),
    ("width", "width"),
    ("height", "height"),
    ("kbytes", "kbytes"),
    ("is_reverse", "is_reverse"),
    ("agent_id", "agent_id"),
    ("guest_count", "guest_count"),
    ("wait_seconds", "wait_seconds"),
    ("target", "partner__service_level_seconds"),
    ("visitor_countries", "visitor_countries"),
)

# formats.neutralise_csv in SQL: an apostrophe before a formula lead at the start, and before
# one after any separator a spreadsheet may split on.
_AFTER_SEPARATOR = r"([,;\t|\r\n] *)(?=[=+@-])"
_LEADS = list(formats._FORMULA_START)


def _guard(expression: str) -> tuple[str, list]:
    led = (
        f"(CASE WHEN left({expression}, 1) = ANY(%s) THEN '''' || {expression} "
        f"ELSE {expression} END)"
    )
    # A value with none of the lead characters anywhere (most: keys, codes, countries) is let
    # through by one translate(); the regular expressions, four times dearer, see only the rest.
    return (
        f"(CASE WHEN translate({expression}, %s, '') = {expression} THEN {expression} "
        f"WHEN {expression} ~ %s THEN regexp_replace({led}, %s, E'\\\\1''', 'g') "
        f"ELSE {led} END)",
        ["".join(_LEADS), _AFTER_SEPARATOR, _LEADS, _AFTER_SEPARATOR, _LEADS],
    )


def _local(text: str, moment: str) -> str:
    """ISO 8601 in the export's zone (the transaction's TimeZone) with its offset, as
    datetime.isoformat writes it, from `text`, the database's own text of `moment`
    ("2026-03-01 10:00:00+01", "… +05:30"): a space made a "T" and a whole-hour offset given its
    minutes. Fractions of a second, which the database writes trimmed and Python as six
    digits, take to_char's slower way; Glance's times have none."""
    return (
        f"CASE WHEN substr({text}, 20, 1) IN ('+', '-') "
        f"THEN replace({text}, ' ', 'T') || CASE WHEN length({text}) = 22 THEN ':00' ELSE '' END "
        f"ELSE to_char({moment}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM') END"
    )


def _utc(text: str, moment: str) -> str:
    """The same in UTC, from `text`, the database's text of `moment` at UTC."""
    return (
        f"CASE WHEN length({text}) = 19 THEN replace({text}, ' ', 'T') || '+00:00' "
        f"ELSE to_char({moment} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00' END"
    )


def _dates(alias: str, name: str, moment: str, utc_zone: bool) -> tuple[str, str]:
    """A moment's two columns, (in the export's zone, in UTC), from its texts in the lateral row
    `alias`; the UTC text for both when the zone is UTC (formats.csv_row_function makes the
    same copy)."""
    utc = _utc(f"{alias}.{name}_utc", moment)
    return (utc if utc_zone else _local(f"{alias}.{name}_local", moment)), utc


def _texts(moments: dict[str, str], alias: str, utc_zone: bool) -> str:
    """A lateral row of each moment's text, in the zone and at UTC, made once per row (OFFSET 0
    keeps the planner from copying the expressions into every place that reads them)."""
    items = [f"({at} AT TIME ZONE 'UTC')::text AS {name}_utc" for name, at in moments.items()]
    if not utc_zone:
        items += [f"{at}::text AS {name}_local" for name, at in moments.items()]
    return f"CROSS JOIN LATERAL (SELECT {', '.join(items)} OFFSET 0) AS {alias}"


def _flag(expression: str) -> str:
    return f"CASE WHEN {expression} THEN 'true' WHEN NOT {expression} THEN 'false' END"


def _in(column: str) -> str:
    """A test of `column` against a list of values: the list is the parameter."""
    return f"{column} = ANY(%s)"


class _Select:
    """The SELECT list, built column by column with its parameters, in formats' order."""

    def __init__(self):
        self.items: list[str] = []
        self.params: list = []
        self.quoted: list[str] = []  # FORCE_QUOTE: the columns the csv module would quote

    def add(self, key: str, kind: str, sql: str, params=()):
        name = f'"{key}"'
        self.items.append(f"{sql} AS {name}")
        self.params.extend(params)
        if kind not in ("int",):
            self.quoted.append(name)

    def text(self, key, expression):
        self.add(key, "text", *_guard(expression))


def _session_columns(select: _Select, utc_zone: bool) -> None:
    status_in = _in("s.status")
    select.add("partner", "text", "s.partner_name")
    select.add("session_id", "int", "s.glance_id")
    select.text("type", "s.session_type")
    select.text("status", "s.status")
    select.add(
        "outcome", "text",
        f"CASE WHEN {status_in} THEN 'connected' WHEN {status_in} THEN 'not_connected' "
        "ELSE 'other' END",
        [list(codes.CONNECTED_STATUSES), list(codes.NOT_CONNECTED_STATUSES)],
    )  # fmt: skip
    select.add("time_to_join_s", "int", "s.wait_seconds")
    select.add(
        "waiting_outcome", "text",
        f"CASE WHEN {status_in} THEN %s WHEN NOT ({status_in}) THEN '' "
        "WHEN s.wait_seconds IS NULL THEN %s WHEN s.wait_seconds <= s.target THEN %s ELSE %s END",
        [list(waiting.ABANDONED_STATUSES), waiting.ABANDONED, list(waiting.ANSWERED_STATUSES),
         waiting.UNKNOWN, waiting.IN_TIME, waiting.LATE],
    )  # fmt: skip
    # formats' order: start and end in the zone, then both in UTC.
    start, start_utc = _dates("t", "start", "s.start_time", utc_zone)
    end, end_utc = _dates("t", "end", "s.end_time", utc_zone)
    select.add("start", "local", start)
    select.add("end", "local", end)
    select.add("start_utc", "utc", start_utc)
    select.add("end_utc", "utc", end_utc)
    select.add("duration_s", "int", "s.duration")
    select.text("key", "s.key")
    for key in ("width", "height", "kbytes"):
        select.add(key, "int", f"s.{key}")
    select.add("reverse", "bool", _flag("s.is_reverse"))
    select.add("agent", "text", "s.agent_user_name")
    select.add("agent_name", "text", "s.agent_name")
    select.add("team", "text", "s.team_name")
    select.add("agent_partner_user_id", "text", "s.agent_partner_user_id")
    select.add("guest_count", "int", "s.guest_count")
    select.text("guest_countries", "s.visitor_countries")


def _guest_columns(select: _Select, utc_zone: bool) -> None:
    select.add("guest_position", "int", "g.position + 1")
    for field in fields.GUEST:
        column = f"g.{field.attr}"
        if field.kind is fields.Kind.DATETIME:
            local, utc = _dates("gt", field.attr, column, utc_zone)
            select.add(field.column, "local", local)
            select.add(f"{field.column}_utc", "utc", utc)
        elif field.kind is fields.Kind.INT:
            select.add(field.column, "int", column)
        elif field.kind is fields.Kind.BOOL:
            select.add(field.column, "bool", _flag(column))
        else:
            select.text(field.column, column)


def _names(exporter) -> list:
    """[partner ids, their names, agent ids, user names, names, teams, partnerUserIds]: the
    people the export's sessions may have, guarded (jobs.export_people), for the query to join
    by id."""
    partners, agents = jobs.export_people(exporter.filter)
    return [[row[i] for row in partners] for i in range(2)] + [
        [row[i] for row in agents] for i in range(5)
    ]


def copy_statement(exporter) -> tuple[str, list]:
    """The COPY statement writing the exporter's rows, and its parameters.

    The sessions are joined to their names and sorted before any value is formatted, so the one
    sort moves raw values; what reads them after (the guests, each row's date texts) is joined
    by nested loops, which keep that order, so the outer ORDER BY costs no second sort."""
    sessions = exporter.sessions.order_by().values_list(*(django for _, django in _INNER))
    inner, inner_params = sessions.query.sql_with_params()
    utc_zone = getattr(exporter.tz, "key", None) == "UTC"
    select = _Select()
    _session_columns(select, utc_zone)
    moments = {"start": "s.start_time", "end": "s.end_time"}
    joins, order = _texts(moments, "t", utc_zone), "s.start_time, s.id"
    if isinstance(exporter, formats.GuestExporter):
        _guest_columns(select, utc_zone)
        guests = connection.ops.quote_name(Guest._meta.db_table)
        guest_moments = {
            f.attr: f"g.{f.attr}" for f in fields.GUEST if f.kind is fields.Kind.DATETIME
        }
        joins += f" LEFT JOIN {guests} g ON g.session_id = s.id "
        joins += _texts(guest_moments, "gt", utc_zone)
        order += ", g.position"
    names = ", ".join(name for name, _ in _INNER)
    sorted_sessions = (
        f"SELECT s.*, p.partner_name, a.agent_user_name, a.agent_name, a.team_name, "  # noqa: S608 (our SQL; values are parameters)
        f"a.agent_partner_user_id FROM ({inner}) AS s ({names}) "
        "LEFT JOIN unnest(%s::bigint[], %s::text[]) AS p (partner_pk, partner_name) "
        "ON p.partner_pk = s.partner_id "
        "LEFT JOIN unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[]) "
        "AS a (agent_pk, agent_user_name, agent_name, team_name, agent_partner_user_id) "
        "ON a.agent_pk = s.agent_id ORDER BY s.start_time, s.id"
    )
    sql = (
        f"COPY (SELECT {', '.join(select.items)} FROM ({sorted_sessions}) AS s {joins} "  # noqa: S608
        f"ORDER BY {order}) TO STDOUT (FORMAT csv, FORCE_QUOTE ({', '.join(select.quoted)}))"
    )
    return sql, [*select.params, *inner_params, *_names(exporter)]


def csv_lines(exporter, on_row: Callable[[], None]) -> Iterator[bytes]:
    """The file in pieces of CHUNK rows: a header from formats' columns, then what COPY sends
    (one row a message), its line ends made CRLF as the csv module writes them. The header
    goes out only once the COPY has begun: a zone the database does not know, or any other
    failure to start, is an error, not a file of one line."""
    sql, params = copy_statement(exporter)
    header = ",".join(f'"{column.key}"' for column in exporter.columns)
    # The export's zone is set for a transaction of its own (SET LOCAL), where the dates are
    # written in it. Only read in, the transaction is always rolled back: were it a savepoint
    # in a caller's transaction, a release would leave the zone set there for what follows.
    with transaction.atomic(), connection.cursor() as cursor:
        try:
            cursor.execute(
                "SELECT set_config('TimeZone', %s, true), set_config('DateStyle', 'ISO', true), "
                # A query planned once and run once: JIT compiling took seconds of a million rows.
                "set_config('jit', 'off', true), set_config('work_mem', %s, true)",
                [exporter.tz.key, SORT_MEMORY],
            )
            with cursor.copy(sql, params) as copy:
                rows = iter(copy)
                first = next(rows, None)  # the query has run and sent its first row
                yield ("\ufeff" + header + "\r\n").encode()
                if first is None:
                    return
                piece = [bytes(first[:-1])]
                on_row()
                for row in rows:
                    piece.append(bytes(row[:-1]))
                    on_row()
                    if len(piece) == CHUNK:
                        yield b"\r\n".join(piece) + b"\r\n"
                        piece = []
                if piece:
                    yield b"\r\n".join(piece) + b"\r\n"
        finally:
            transaction.set_rollback(True)
