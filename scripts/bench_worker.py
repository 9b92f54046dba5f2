"""One database's part of `make bench` (scripts/bench.py starts it; run alone only to debug).

On a fresh database it syncs the simulator's partners over HTTP, measures the raw ingest limit
on the same pages, times every dashboard page and chart endpoint against the naive way (the
same aggregates by GROUP BY over the raw session and guest tables, rollups switched off) and
times CSV exports, then prints one JSON object on its last line.

    python scripts/bench_worker.py --sim URL --partners 1,2,3 [--skip-raw] [--skip-exports]
"""

import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glancedash.settings")

RANGES = (7, 30, 365)
PAGE_RUNS = 5  # the median of these is the figure
NAIVE_RUNS = 3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sim", required=True, help="the simulator's base URL")
    parser.add_argument("--partners", required=True, help="Glance partner ids, comma-separated")
    parser.add_argument("--since", required=True, type=datetime.fromisoformat,
                        help="the backfill's start, midnight UTC")  # fmt: skip
    parser.add_argument("--until", required=True, type=datetime.fromisoformat)
    parser.add_argument("--source-rate", action="store_true", help="time the source alone first")
    parser.add_argument("--skip-raw", action="store_true")
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument(
        "--direct",
        type=int,
        metavar="SESSIONS",
        help="load this many generated sessions by COPY instead of syncing",
    )
    parser.add_argument("--days", type=int, default=400, help="with --direct: the span")
    parser.add_argument("--agents", type=int, default=100, help="with --direct: per partner")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    logging.getLogger("sessions_app").setLevel(logging.WARNING)  # not a line per audit event

    call_command("migrate", verbosity=0)
    ids = [int(i) for i in args.partners.split(",")]
    result = {"database": database_label()}
    partners = make_partners(args.sim, ids, args.since)
    if args.direct:
        import direct_load

        result["direct"] = direct_load.load(
            partners, args.since, args.until, args.direct, args.days, args.agents
        )
    else:
        if args.source_rate:
            result["source"] = source_rate(partners, args.since, args.until)
        result["ingest"] = sync_all(partners, args.until)
        if args.source_rate:
            source = result["source"]
            source["sessions_per_second"] = round(result["ingest"]["sessions"] / source["seconds"])
    if not args.skip_raw and not args.direct:
        result["raw_limit"] = raw_limit(partners, args.since, args.until)
        result["ingest"]["ratio_of_raw"] = round(
            result["ingest"]["sessions_per_second"] / result["raw_limit"]["sessions_per_second"], 2
        )
    user = make_user(partners)
    result["pages"] = [] if args.skip_pages else time_pages(user, naive=not args.skip_naive)
    if not args.skip_exports:
        result["exports"] = time_exports(user.username)
    print(json.dumps(result))


def database_label() -> str:
    from django.db import connection

    return connection.vendor


# --- ingest ---------------------------------------------------------------------------------


def make_partners(sim_url: str, ids: list[int], since: datetime):
    from sessions_app.models import Partner

    start = since.date()
    partners = []
    for glance_id in ids:
        partner = Partner(
            name=f"Bench {glance_id}",
            glance_partner_id=glance_id,
            api_url=f"{sim_url}/services/activityservice.asmx",
            backfill_start=start,
        )
        partner.set_api_key(f"bench-key-{glance_id}")
        partner.save()
        partners.append(partner)
    return partners


def sync_all(partners, until: datetime) -> dict:
    from sessions_app.models import Guest, Session
    from sessions_app.sync import run

    started = time.perf_counter()
    pages = 0
    for partner in partners:
        synced = run.sync_partner(partner, until=until)
        if synced.state != "succeeded":
            raise SystemExit(f"sync of {partner} failed: {synced.error}")
        pages += synced.pages
    seconds = time.perf_counter() - started
    sessions, guests = Session.objects.count(), Guest.objects.count()
    return {
        "sessions": sessions,
        "guests": guests,
        "pages": pages,
        "seconds": round(seconds, 1),
        "sessions_per_second": round(sessions / seconds),
    }


def source_rate(partners, since: datetime, until: datetime) -> dict:
    """How fast the source alone serves the pages: our HTTP client fetching every page a
    backfill asks for and throwing it away (only its cursor is read, to ask for the next). The
    raw limit and the sync can only be measured against a source several times faster."""
    from sessions_app.glance.client import GlanceClient

    started, pages, size = time.perf_counter(), 0, 0
    for partner in partners:
        client = GlanceClient.for_partner(partner)
        for window in backfill_windows(since, until):
            for answer in client.completed_session_answers(*window):
                pages += 1
                size += answer.size
    return {"pages": pages, "bytes": size, "seconds": time.perf_counter() - started}


def backfill_windows(since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    from django.conf import settings

    from sessions_app.glance.client import split_windows

    return split_windows(since, until, settings.GLANCE_WINDOW_DAYS)


def raw_limit(partners, since: datetime, until: datetime) -> dict:
    """The plain way to load the same pages, as anyone would write it who only wanted the rows
    in: one HTTP session, orjson.loads, each session and guest made a tuple of its members (the
    columns of sessions_app/glance/fields.py, dates made the database's datetimes), written
    into empty tables like ours (same columns and indexes) with no ORM, no upsert, no agents,
    no rollups: SQLite by executemany, PostgreSQL by COPY (psycopg's cursor.copy). One page,
    one transaction, as the sync commits."""
    import orjson
    import requests
    from django.db import connection

    from sessions_app.models import Guest, Session
    from sessions_app.sync import ingest

    session_table, guest_table = (
        copy_table("sessions_app_session"),
        copy_table("sessions_app_guest"),
    )
    raw = connection.connection  # the DB-API connection itself: no Django wrapper
    cursor = raw.cursor()
    session_columns = ["id", *db_columns(Session, ["partner", "glance_id", *ingest.SESSION_FIELDS])]
    guest_columns = ["id", *db_columns(Guest, ["session", "position", *ingest.GUEST_FIELDS])]
    write = copy_writer if connection.vendor == "postgresql" else executemany_writer
    write_sessions = write(cursor, session_table, session_columns)
    write_guests = write(cursor, guest_table, guest_columns)
    rows = plain_rows(connection.vendor)
    synced_at = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    if connection.vendor == "postgresql":
        synced_at = datetime.now(UTC)
    http = requests.Session()
    next_session, next_guest, sessions = 1, 1, 0
    started = time.perf_counter()
    for partner in partners:
        url = f"{partner.api_url}/PartnerCompletedSessions"
        for window in backfill_windows(since, until):
            cursor_id = 0
            while True:
                body = {
                    "partnerId": partner.glance_partner_id,
                    "apiKey": partner.api_key,
                    "startRange": window[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "endRange": window[1].strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "sessionKey": "",
                    "nResults": 1000,
                    "nextId": cursor_id,
                }
                page = orjson.loads(http.post(url, json=body, timeout=60).content)["d"]
                session_rows, guest_rows = [], []
                for user in page["users"]:
                    for s in user["sessions"]:
                        row, guests = rows(next_session, partner.pk, s, synced_at, next_guest)
                        session_rows.append(row)
                        guest_rows += guests
                        next_session, next_guest = next_session + 1, next_guest + len(guests)
                cursor.execute("BEGIN")  # Django's connections autocommit: one page, one commit
                write_sessions(session_rows)
                write_guests(guest_rows)
                cursor.execute("COMMIT")
                sessions += len(session_rows)
                cursor_id = page["nextId"]
                if not cursor_id:
                    break
    seconds = time.perf_counter() - started
    for table in (guest_table, session_table):
        cursor.execute(f"DROP TABLE {table}")
    return {
        "sessions": sessions,
        "seconds": round(seconds, 1),
        "sessions_per_second": round(sessions / seconds),
        "method": "COPY" if connection.vendor == "postgresql" else "executemany",
    }


def plain_rows(vendor: str):
    """(session_row, guest_row): tuples of a session's and a guest's members in our columns'
    order, written out once from the fields' table, as one would write them by hand."""
    from sessions_app.glance import fields

    def member(f, record):
        value = f"{record}.get({f.glance!r})"
        if f.within:
            value = f"({record}.get({f.within!r}) or {{}}).get({f.glance!r})"
        if f.kind is fields.Kind.DATETIME:
            value = f"as_db(fromiso({value}))" if f.required else f"maybe(as_db, {value})"
        return value

    session = [member(f, "s") for f in fields.SESSION if f.attr != "glance_id"]
    guest = [member(f, "g") for f in fields.GUEST]
    source = (
        "def rows(pk, partner_pk, s, synced_at, next_guest):\n"
        "    start = fromiso(s['startTime'])\n"
        f"    session = (pk, partner_pk, s['id'], {', '.join(session)},\n"
        "               as_db(start + timedelta(seconds=s['duration'] or 0)), None,\n"
        "               len(s['guests']), None, '', synced_at, None)\n"
        f"    guests = [(next_guest + i, pk, i, {', '.join(guest)})\n"
        "              for i, g in enumerate(s['guests'])]\n"
        "    return session, guests\n"
    )
    namespace = {
        "as_db": (lambda m: m) if vendor == "postgresql" else _sqlite_text,
        "fromiso": datetime.fromisoformat,
        "maybe": lambda f, v: f(datetime.fromisoformat(v)) if v else None,
        "timedelta": timedelta,
    }
    exec(source, namespace)  # noqa: S102 (made from the fields' table, never from data)
    return namespace["rows"]


def _sqlite_text(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(" ")


def executemany_writer(cursor, table: str, columns: list[str]):
    names = ", ".join(f'"{column}"' for column in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['?'] * len(columns))})"  # noqa: S608
    return lambda rows: cursor.executemany(sql, rows)


def copy_writer(cursor, table: str, columns: list[str]):
    names = ", ".join(f'"{column}"' for column in columns)

    def write(rows):
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    return write


def db_columns(model, names: list[str]) -> list[str]:
    """The database columns of a model's fields (a foreign key's is <name>_id)."""
    return [model._meta.get_field(name).column for name in names]


def copy_table(table: str) -> str:
    """An empty copy of `table` with the same columns and the same indexes (foreign keys left
    out: this is the limit, not a rival design)."""
    from django.db import connection

    copy = f"bench_raw_{table}"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {copy}")
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE tbl_name = %s", [table])
            statements = [row[0] for row in cursor.fetchall() if row[0]]
            statements = [re.sub(r' REFERENCES "\w+" \("id"\) DEFERRABLE INITIALLY DEFERRED', "",
                                 sql) for sql in statements]  # fmt: skip
        else:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
            statements = [f"CREATE TABLE {table} (LIKE {table} INCLUDING DEFAULTS)"]
            statements += [row[0] for row in cursor.fetchall()]
        for sql in statements:
            sql = re.sub(rf'(public\.)?"?{table}"?(?=[ (]|$)', copy, sql, count=1)
            sql = re.sub(r"INDEX \"?(\w+)\"?", r"INDEX bench_raw_\1", sql)
            sql = re.sub(r'CONSTRAINT "(\w+)"', r'CONSTRAINT "bench_raw_\1"', sql)
            sql = sql.replace(f"LIKE {copy}", f"LIKE {table}")
            cursor.execute(sql)
    return copy


# --- pages ----------------------------------------------------------------------------------


def make_user(partners):
    from django.contrib.auth import get_user_model

    from sessions_app.models import Membership, Role

    user = get_user_model().objects.create_user("bench", password="bench-pass-123456")  # noqa: S106
    for partner in partners:
        Membership.objects.create(user=user, partner=partner, role=Role.ADMIN)
    return user


def page_urls(days: int, agent_id: int, session_id: int) -> list[tuple[str, str]]:
    from sessions_app.figures.charts import CHARTS

    end = datetime.now(UTC).date()
    query = f"preset=custom&start={end - timedelta(days=days - 1)}&end={end}"
    urls = [
        ("overview", f"/?{query}"),
        ("geography", f"/geography/?{query}"),
        ("agents", f"/agents/?{query}"),
        ("sessions p1", f"/sessions/?{query}"),
        ("sessions p500", f"/sessions/?{query}&page=500"),
        ("agent page", f"/agents/{agent_id}/?{query}"),
    ]
    urls += [(f"chart {name}", f"/charts/{name}/?{query}") for name in CHARTS]
    return urls


def time_pages(user, *, naive: bool) -> list[dict]:
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings

    from sessions_app.models import Session

    settings.ALLOWED_HOSTS = ["*"]
    # No collectstatic in a scratch database's run: plain static URLs cost the same to render.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client()
    client.force_login(user)
    busiest = (
        Session.objects.order_by()
        .values("agent")
        .annotate(n=django_count())
        .order_by("-n")
        .first()["agent"]
    )
    session_id = Session.objects.order_by("-start_time").values_list("pk", flat=True).first()
    cases = []
    for days in RANGES:
        cases += [(f"{days} d", *url) for url in page_urls(days, busiest, session_id)]
    agent_query = f"agent={busiest}"
    cases += [
        ("365 d, one agent", name, f"{url}&{agent_query}")
        for name, url in page_urls(365, busiest, session_id)
        if not name.startswith(("agent page", "sessions p500"))
    ]
    cases.append(("—", "session detail", f"/sessions/{session_id}/"))
    rows = []
    for range_label, name, url in cases:
        ours = timed(client, url, PAGE_RUNS)
        row = {"range": range_label, "page": name, "ms": ours}
        if naive and not name.startswith(("sessions", "session detail")):
            with override_settings(GLANCEDASH_ROLLUPS=False):
                row["naive_ms"] = timed(client, url, NAIVE_RUNS)
            row["speedup"] = round(row["naive_ms"] / ours, 1) if ours else None
        rows.append(row)
        print(f"  {range_label:>16}  {name:<28} {ours:8.1f} ms  {row.get('naive_ms', '')}",
              file=sys.stderr)  # fmt: skip
    return rows


def django_count():
    from django.db.models import Count

    return Count("pk")


def timed(client, url: str, runs: int) -> float:
    """Median server time in ms; the chart cache is cleared first, so each run computes."""
    from django.core.cache import cache

    times = []
    for _ in range(runs):
        cache.clear()
        started = time.perf_counter()
        response = client.get(url, secure=True)  # production settings redirect plain http
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    return round(statistics.median(times), 1)


# --- exports --------------------------------------------------------------------------------


def time_exports(username: str) -> list[dict]:
    end = datetime.now(UTC).date()
    queries = [
        ("whole range", f"preset=custom&start={end - timedelta(days=3000)}&end={end}"),
        ("100,000-row filter", hundred_thousand_filter(end)),
    ]
    results = []
    for label, query in queries:
        out = subprocess.run(
            [sys.executable, str(ROOT / "scripts/bench_exports.py"), "--user", username,
             "--one", "csv", query],
            stdout=subprocess.PIPE, text=True, check=True, cwd=ROOT, env=os.environ.copy(),
        )  # fmt: skip
        results.append(
            {"export": f"CSV, {label}", **json.loads(out.stdout.strip().splitlines()[-1])}
        )
    return results


def hundred_thousand_filter(end) -> str:
    """A date range ending today that holds about 100,000 sessions."""
    from sessions_app.models import Session

    start_times = Session.objects.order_by("-start_time").values_list("start_time", flat=True)
    if start_times.count() <= 100_000:
        first = end - timedelta(days=3000)
    else:
        first = start_times[99_999].date()
    return f"preset=custom&start={first}&end={end}"


if __name__ == "__main__":
    main()
