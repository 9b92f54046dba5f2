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
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--skip-raw", action="store_true")
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-pages", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    logging.getLogger("sessions_app").setLevel(logging.WARNING)  # not a line per audit event

    call_command("migrate", verbosity=0)
    ids = [int(i) for i in args.partners.split(",")]
    result = {"database": database_label()}
    partners = make_partners(args.sim, ids, args.days)
    result["ingest"] = sync_all(partners)
    if not args.skip_raw:
        result["raw_limit"] = raw_limit(partners, args.days)
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


def make_partners(sim_url: str, ids: list[int], days: int):
    from sessions_app.models import Partner

    start = (datetime.now(UTC) - timedelta(days=days)).date()
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


def sync_all(partners) -> dict:
    from sessions_app.models import Guest, Session
    from sessions_app.sync import run

    started = time.perf_counter()
    pages = 0
    for partner in partners:
        synced = run.sync_partner(partner)
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


def raw_limit(partners, days: int) -> dict:
    """The same pages fetched and parsed, and their rows built as the sync builds them (the
    columns of sessions_app/glance/fields.py), inserted with plain executemany into tables like
    ours (same columns and indexes) with no ORM, no upsert, no rollups."""
    from django.conf import settings
    from django.db import connection

    from sessions_app.db import datetime_adapter
    from sessions_app.glance.client import GlanceClient, split_windows
    from sessions_app.models import Guest, Session
    from sessions_app.sync import ingest
    from sessions_app.sync.retention import Cutoffs

    session_table, guest_table = (
        copy_table("sessions_app_session"),
        copy_table("sessions_app_guest"),
    )
    raw = connection.connection  # the DB-API connection itself: no Django wrapper
    cursor = raw.cursor()
    mark = "?" if connection.vendor == "sqlite" else "%s"
    session_columns = ["id", *db_columns(Session, ["partner", "glance_id", *ingest.SESSION_FIELDS])]
    guest_columns = ["id", *db_columns(Guest, ["session", "position", *ingest.GUEST_FIELDS])]
    session_sql = insert_sql(session_table, session_columns, mark)
    guest_sql = insert_sql(guest_table, guest_columns, mark)
    to_db = datetime_adapter()
    end = datetime.now(UTC)
    start = end - timedelta(days=days)
    synced_at = to_db(end)
    keep_all = Cutoffs(
        ip=start - timedelta(days=1), contact=start - timedelta(days=1), sessions=start
    )
    next_session, next_guest, sessions = 1, 1, 0
    started = time.perf_counter()
    for partner in partners:
        client = GlanceClient.for_partner(partner)
        for window in split_windows(start, end, settings.GLANCE_WINDOW_DAYS):
            for page in client.completed_session_pages(*window):
                session_rows, ids = [], {}
                for record in page.sessions:
                    ids[record.glance_id] = next_session
                    row = ingest._session_row(partner, record, {}, synced_at, to_db)
                    session_rows.append((next_session, *row))
                    next_session += 1
                records = {record.glance_id: record for record in page.sessions}
                guest_rows = ingest._guest_rows(records, ids, keep_all, to_db)
                guest_rows = [(next_guest + i, *row) for i, row in enumerate(guest_rows)]
                next_guest += len(guest_rows)
                cursor.execute("BEGIN")  # Django's connections autocommit: one page, one commit
                cursor.executemany(session_sql, session_rows)
                cursor.executemany(guest_sql, guest_rows)
                cursor.execute("COMMIT")
                sessions += len(session_rows)
    seconds = time.perf_counter() - started
    for table in (guest_table, session_table):
        cursor.execute(f"DROP TABLE {table}")
    return {
        "sessions": sessions,
        "seconds": round(seconds, 1),
        "sessions_per_second": round(sessions / seconds),
    }


def db_columns(model, names: list[str]) -> list[str]:
    """The database columns of a model's fields (a foreign key's is <name>_id)."""
    return [model._meta.get_field(name).column for name in names]


def insert_sql(table: str, columns: list[str], mark: str) -> str:
    names = ", ".join(f'"{column}"' for column in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608


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
