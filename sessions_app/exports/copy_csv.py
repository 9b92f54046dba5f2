"""CSV on PostgreSQL, written by the database: COPY (SELECT …) TO STDOUT.

The file formats.python_csv_lines writes, value for value: the same columns in the same order,
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
from sessions_app.exports import formats
from sessions_app.glance import fields
from sessions_app.models import Agent, Guest
from sessions_app.models.sessions import name_from_user_name

CHUNK = formats.CHUNK  # rows per piece of the response

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
)

# formats.neutralise_csv in SQL: an apostrophe before a formula lead at the start, and before
# one after any separator a spreadsheet may split on. The second test is a cheap bracket match,
# so the rewrite runs only on the rare value that needs it.
_AFTER_SEPARATOR = r"([,;\t|\r\n] *)(?=[=+@-])"
_LEADS = list(formats._FORMULA_START)


def _guard(expression: str) -> tuple[str, list]:
    led = (
        f"(CASE WHEN left({expression}, 1) = ANY(%s) THEN '''' || {expression} "
        f"ELSE {expression} END)"
    )
    return (
        f"(CASE WHEN {expression} ~ %s THEN regexp_replace({led}, %s, E'\\\\1''', 'g') "
        f"ELSE {led} END)",
        [_AFTER_SEPARATOR, _LEADS, _AFTER_SEPARATOR, _LEADS],
    )


def _local(expression: str) -> str:
    """ISO 8601 in the session's time zone (the export's, set for the transaction), with its
    offset; microseconds only when there are some, as datetime.isoformat writes them."""
    return (
        f"CASE WHEN date_trunc('second', {expression}) = {expression} "
        f"THEN to_char({expression}, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM') "
        f"ELSE to_char({expression}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM') END"
    )


def _utc(expression: str) -> str:
    utc = f"({expression} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN date_trunc('second', {utc}) = {utc} "
        f'THEN to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS"+00:00"\') '
        f'ELSE to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\') END'
    )


def _flag(expression: str) -> str:
    return f"CASE WHEN {expression} THEN 'true' WHEN NOT {expression} THEN 'false' END"


def _in(column: str, values) -> tuple[str, list]:
    return f"{column} = ANY(%s)", [list(values)]


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


def _session_columns(select: _Select) -> None:
    connected, _ = _in("s.status", codes.CONNECTED_STATUSES)
    lost, _ = _in("s.status", codes.NOT_CONNECTED_STATUSES)
    abandoned, _ = _in("s.status", waiting.ABANDONED_STATUSES)
    answered, _ = _in("s.status", waiting.ANSWERED_STATUSES)
    select.add("partner", "text", "p.name")
    select.add("session_id", "int", "s.glance_id")
    select.text("type", "s.session_type")
    select.text("status", "s.status")
    select.add(
        "outcome", "text",
        f"CASE WHEN {connected} THEN 'connected' WHEN {lost} THEN 'not_connected' ELSE 'other' END",
        [list(codes.CONNECTED_STATUSES), list(codes.NOT_CONNECTED_STATUSES)],
    )  # fmt: skip
    select.add("time_to_join_s", "int", "s.wait_seconds")
    select.add(
        "waiting_outcome", "text",
        f"CASE WHEN {abandoned} THEN %s WHEN NOT ({answered}) THEN '' "
        "WHEN s.wait_seconds IS NULL THEN %s WHEN s.wait_seconds <= s.target THEN %s ELSE %s END",
        [list(waiting.ABANDONED_STATUSES), waiting.ABANDONED, list(waiting.ANSWERED_STATUSES),
         waiting.UNKNOWN, waiting.IN_TIME, waiting.LATE],
    )  # fmt: skip
    select.add("start", "local", _local("s.start_time"))
    select.add("end", "local", _local("s.end_time"))
    select.add("start_utc", "utc", _utc("s.start_time"))
    select.add("end_utc", "utc", _utc("s.end_time"))
    select.add("duration_s", "int", "s.duration")
    select.text("key", "s.key")
    for key in ("width", "height", "kbytes"):
        select.add(key, "int", f"s.{key}")
    select.add("reverse", "bool", _flag("s.is_reverse"))
    select.add("agent", "text", "a.user_name")
    select.add("agent_name", "text", "a.name")
    select.add("team", "text", "a.team")
    select.add("agent_partner_user_id", "text", "a.partner_user_id")
    select.add("guest_count", "int", "s.guest_count")
    select.text("guest_countries", "c.countries")


def _guest_columns(select: _Select) -> None:
    select.add("guest_position", "int", "g.position + 1")
    for field in fields.GUEST:
        column = f"g.{field.attr}"
        if field.kind is fields.Kind.DATETIME:
            select.add(field.column, "local", _local(column))
            select.add(f"{field.column}_utc", "utc", _utc(column))
        elif field.kind is fields.Kind.INT:
            select.add(field.column, "int", column)
        elif field.kind is fields.Kind.BOOL:
            select.add(field.column, "bool", _flag(column))
        else:
            select.text(field.column, column)


def _names(exporter) -> list:
    """[partner ids, their names, agent ids, user names, names, teams, partnerUserIds]: the
    export's people, guarded as formats guards text, for the query to join by id."""
    partners = {p.pk: p for p in exporter.filter.shown_partners()}
    agents = Agent.objects.filter(partner__in=list(partners)).values_list(
        "pk", "user_name", "display_name", "team__name", "partner_user_id"
    )
    guard = lambda value: formats.neutralise_csv(value) if value else None  # noqa: E731
    table = [[], [], [], [], [], [], []]
    for pk, partner in partners.items():
        table[0].append(pk)
        table[1].append(guard(partner.name))
    for pk, user_name, display, team, partner_user_id in agents:
        table[2].append(pk)
        table[3].append(guard(user_name))
        table[4].append(guard((display or name_from_user_name(user_name)) if user_name else None))
        table[5].append(guard(team))
        table[6].append(guard(partner_user_id))
    return table


# formats._country_list: a session's visitor countries, each once, upper case, in code point
# order, separated by spaces ("" for none).
_COUNTRIES = (
    "CROSS JOIN LATERAL (SELECT coalesce(string_agg(DISTINCT {code}, ' ' ORDER BY {code}), '') "
    "AS countries FROM {guests} v WHERE v.session_id = s.id AND v.country_code <> '' "
    "AND (v.guest_type IS NULL OR v.guest_type <> ALL(%s))) AS c"
)


def copy_statement(exporter) -> tuple[str, list]:
    """The COPY statement writing the exporter's rows, and its parameters."""
    sessions = exporter.sessions.values_list(*(django for _, django in _INNER))
    inner, inner_params = sessions.query.sql_with_params()
    guests = connection.ops.quote_name(Guest._meta.db_table)
    select = _Select()
    _session_columns(select)
    joins, order = "", "s.start_time, s.id"
    if isinstance(exporter, formats.GuestExporter):
        _guest_columns(select)
        joins = f"LEFT JOIN {guests} g ON g.session_id = s.id"
        order += ", g.position"
    names = ", ".join(name for name, _ in _INNER)
    sql = (
        f"COPY (SELECT {', '.join(select.items)} "  # noqa: S608 (our SQL; values are parameters)
        f"FROM ({inner}) AS s ({names}) "
        "LEFT JOIN unnest(%s::bigint[], %s::text[]) AS p (id, name) ON p.id = s.partner_id "
        "LEFT JOIN unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[]) "
        "AS a (id, user_name, name, team, partner_user_id) ON a.id = s.agent_id "
        + _COUNTRIES.format(code='upper(v.country_code) COLLATE "C"', guests=guests)
        + f" {joins} ORDER BY {order}) "
        f"TO STDOUT (FORMAT csv, FORCE_QUOTE ({', '.join(select.quoted)}))"
    )
    subscribers = [list(codes.SUBSCRIBER_GUEST_TYPES)]
    return sql, [*select.params, *inner_params, *_names(exporter), *subscribers]


def csv_lines(exporter, on_row: Callable[[], None]) -> Iterator[bytes]:
    """The file in pieces of CHUNK rows: a header from formats' columns, then what COPY sends
    (one row a message), its line ends made CRLF as the csv module writes them."""
    sql, params = copy_statement(exporter)
    header = ",".join(f'"{column.key}"' for column in exporter.columns)
    yield ("\ufeff" + header + "\r\n").encode()
    # The export's zone is set for a transaction of its own (SET LOCAL), where to_char writes
    # each date in it. Only read in, the transaction is always rolled back: were it a savepoint
    # in a caller's transaction, a release would leave the zone set there for what follows.
    with transaction.atomic(), connection.cursor() as cursor:
        try:
            cursor.execute("SELECT set_config('TimeZone', %s, true)", [exporter.tz.key])
            with cursor.copy(sql, params) as copy:
                piece = []
                for row in copy:
                    piece.append(bytes(row[:-1]))
                    on_row()
                    if len(piece) == CHUNK:
                        yield b"\r\n".join(piece) + b"\r\n"
                        piece = []
                if piece:
                    yield b"\r\n".join(piece) + b"\r\n"
        finally:
            transaction.set_rollback(True)
