"""Plain executemany INSERT and upsert statements, built from a model's own metadata so column
names cannot drift from the models. Values go in as the database stores them (db_datetime).
And one_snapshot, for reads that must see one state of the database."""

import hashlib
from contextlib import contextmanager
from datetime import UTC

from django.db import connection, transaction
from django.db.models import IntegerField


def datetime_adapter():
    """db_datetime for the current database, looked up once for a batch of many values."""
    if connection.vendor != "sqlite":
        return _as_is
    return _sqlite_datetime


def _as_is(value):
    return value


def _sqlite_datetime(value):
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ")


def db_datetime(value):
    """An aware datetime as this database stores it (SQLite: naive UTC text; PostgreSQL: as is).

    The same values as Django's adapt_datetimefield_value, without its per-call checks, which
    were a large part of a sync's time at two datetimes per session (docs/performance-notes.md)."""
    if connection.vendor != "sqlite":
        return value
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ")


# From this many rows, PostgreSQL is written by COPY into a temporary table and one statement
# from it: a row's own INSERT or UPDATE is a statement for the server to plan and run, and a
# sync page's 3,000 of them were most of its time there (docs/performance-notes.md).
COPY_FROM_ROWS = 50


def insert_many(model, fields, rows, *, conflict=None, update=None, returning=None):
    """INSERT every row in one executemany (PostgreSQL: one COPY and one INSERT … SELECT); with
    `conflict`, ON CONFLICT (…) DO UPDATE `update`, or DO NOTHING when `update` is empty. With
    DO UPDATE, no two rows may share a conflict key (PostgreSQL refuses a row updated twice).

    With `returning` (fields), the rows written, as tuples of those fields, where the database
    can say in the same statement (PostgreSQL's INSERT … SELECT … RETURNING); None where it
    cannot (SQLite's executemany, a batch too small to COPY), and the caller looks them up."""
    if not rows:
        return [] if returning else None
    meta, quote = model._meta, connection.ops.quote_name
    columns = [quote(meta.get_field(name).column) for name in fields]
    placeholders = ", ".join(["%s"] * len(columns))
    staged = connection.vendor == "postgresql" and len(rows) >= COPY_FROM_ROWS
    names = ", ".join(columns)
    # Identifiers come from model metadata, quoted; every value is a bound parameter or copied.
    values = f"SELECT {names} FROM {{stage}}" if staged else f"VALUES ({placeholders})"  # noqa: S608
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) {values}"
    if conflict:
        keys = ", ".join(quote(meta.get_field(name).column) for name in conflict)
        if not update:
            sql += f" ON CONFLICT ({keys}) DO NOTHING"
        else:
            sets = ", ".join(
                f"{quote(meta.get_field(name).column)} = "
                f"EXCLUDED.{quote(meta.get_field(name).column)}"
                for name in update
            )
            sql += f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"
    if returning and staged:
        sql += " RETURNING " + ", ".join(quote(meta.get_field(name).column) for name in returning)
    with connection.cursor() as cursor:
        if staged:
            with transaction.atomic(savepoint=False):
                cursor.execute(sql.format(stage=_stage(cursor, model, columns, rows)))
                return cursor.fetchall() if returning else None
        cursor.executemany(sql, rows)
    return None


def _stage(cursor, model, columns: list[str], rows) -> str:
    """`rows` COPYed into a temporary table of these (quoted) columns of the model's table, made
    on first use in this database session and emptied first; its name. Run inside a
    transaction, so the statement reading it sees what was copied."""
    table = model._meta.db_table
    digest = hashlib.blake2s(repr(columns).encode(), digest_size=4).hexdigest()
    stage = connection.ops.quote_name(f"stage_{table}_{digest}")
    names = ", ".join(columns)
    # Only the columns' types: no constraints, indexes or defaults to keep up while copying.
    # Emptied at each commit, so no batch (a guest's personal data) outlives its transaction.
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {names} FROM {connection.ops.quote_name(table)} WITH NO DATA"
    )
    cursor.execute(f"TRUNCATE {stage}")
    with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return stage


def select_in(model, fields, *, where: dict, key: str, values: list, chunk: int = 900) -> list:
    """Rows (tuples of `fields`) matching `where` (equalities) whose `key` is in `values`: the
    lookups a sync makes for every page. Django's ORM is far slower than one plain statement at
    running one of these with a thousand ids on SQLite (docs/performance-notes.md)."""
    meta, quote = model._meta, connection.ops.quote_name
    column = lambda name: quote(meta.get_field(name).column)  # noqa: E731
    conditions = " AND ".join(f"{column(name)} = %s" for name in where)
    field = meta.get_field(key)
    if isinstance(getattr(field, "target_field", field), IntegerField):  # a key's: its target's
        # No stored key lies outside 64 bits, and either database fails on a value that does
        # (an id from Glance past 2**63) where it should match nothing.
        values = [v for v in values if v is None or _INT64[0] <= v <= _INT64[1]]
    rows = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array parameter, cast to the key's type: the planner sees how many values
            # there are (a subquery of them looked like a hundred, and a few days' rollup rows
            # were found by scanning the partner's), and a thousand placeholders, or a list of
            # a thousand strings for psycopg to quote, cost more than the lookup itself.
            # The type without its length: a cast to varchar(255) cuts a longer value, which
            # would then match the stored one it begins with.
            cast = field.db_type(connection).split("(")[0]
            sql = (
                f"SELECT {', '.join(column(name) for name in fields)} "  # noqa: S608
                f"FROM {quote(meta.db_table)} WHERE "
                f"{conditions + ' AND ' if conditions else ''}{column(key)} = ANY(%s::{cast}[])"
            )
            cursor.execute(sql, [*where.values(), array_literal(values)])
            return cursor.fetchall()
        for i in range(0, len(values), chunk):
            part = values[i : i + chunk]
            # Identifiers come from model metadata, quoted; every value is a bound parameter.
            sql = (
                f"SELECT {', '.join(column(name) for name in fields)} "  # noqa: S608
                f"FROM {quote(meta.db_table)} WHERE "
                f"{conditions + ' AND ' if conditions else ''}"
                f"{column(key)} IN ({', '.join(['%s'] * len(part))})"
            )
            cursor.execute(sql, [*where.values(), *part])
            rows += cursor.fetchall()
    return rows


_INT64 = (-(2**63), 2**63 - 1)


def array_literal(values) -> str:
    """A PostgreSQL array literal of numbers or strings (each string double-quoted, its
    backslashes and double quotes escaped, as the array input syntax asks), to go as one
    bound parameter."""

    def element(value) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"not a number or a string: {value!r}")
        if isinstance(value, int):
            return str(value)
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "{" + ",".join(map(element, values)) + "}"


def fetch_rows(queryset) -> list[tuple]:
    """A queryset's rows as the database driver gives them: its own SQL through a plain cursor,
    without Django's per-value converters (a large part of reading a year of rollup rows). Numbers,
    text and bytes come back as they are; SQLite's datetimes naive, in UTC."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def update_many(model, fields, rows) -> None:
    """UPDATE `fields` of many rows in one executemany (PostgreSQL: one COPY and one UPDATE …
    FROM); each row is (*values, primary key)."""
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    columns = [quote(meta.get_field(name).column) for name in fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) >= COPY_FROM_ROWS:
            with transaction.atomic(savepoint=False):
                stage = _stage(cursor, model, [*columns, pk], rows)
                sets = ", ".join(f"{column} = s.{column}" for column in columns)
                # Identifiers come from model metadata, quoted; the values were copied.
                cursor.execute(
                    f"UPDATE {table} SET {sets} FROM {stage} s WHERE {table}.{pk} = s.{pk}"  # noqa: S608
                )
            return
        sets = ", ".join(f"{column} = %s" for column in columns)
        # Identifiers come from model metadata, quoted; every value is a bound parameter.
        sql = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608
        cursor.executemany(sql, rows)


@contextmanager
def one_snapshot():
    """Every read inside sees the database as its first read did: on PostgreSQL, a REPEATABLE
    READ transaction. A figure that reads rollup rows and then the sessions of one duration band
    (a percentile, a scorecard's medians) would otherwise count a sync that committed between
    the two reads in one and not the other, a rank off. Inside a transaction already (a test's,
    a write's) that one stands. SQLite is left to read each statement afresh: its transactions
    here take the write lock at once (transaction_mode IMMEDIATE), which a page must not hold."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield
