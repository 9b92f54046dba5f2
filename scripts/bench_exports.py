"""Export benchmark: rows per second and peak memory of a whole-range CSV export and an Excel
export of a capped number of rows, through the real export view, on whatever database
DATABASE_URL / GLANCEDASH_DATA_DIR name. Each export runs in its own process, so its peak
resident memory (VmHWM) is its own.

    python scripts/bench_exports.py --user demo [--xlsx-days 36]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> int:
    """This process's peak resident memory. Not getrusage's ru_maxrss: Linux carries that over
    from the parent across fork and exec, so a child of the big benchmark worker reported the
    worker's 273 MB for a 100,000-row export. VmHWM belongs to this process's own memory map."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def run_one(user: str, fmt: str, query: str) -> dict:
    """In this process: export once, count rows and bytes, report time and peak memory."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glancedash.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("sessions_app").setLevel(logging.WARNING)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import resolve

    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EXPORT_XLSX_INLINE_ROWS = 10**9  # time the workbook itself, not the job queue
    client = Client()
    client.force_login(get_user_model().objects.get(username=user))
    # A running server has its URLs and views imported (0.15 s here): not the export's time.
    resolve(f"/sessions/export.{fmt}")
    started = time.perf_counter()
    response = client.get(f"/sessions/export.{fmt}?{query}", secure=True)
    if response.status_code != 200:
        raise SystemExit(f"export refused: HTTP {response.status_code}: {response.content[:300]!r}")
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
    seconds = time.perf_counter() - started
    from sessions_app.models import AuditEvent

    rows = AuditEvent.objects.filter(action="export").latest("at").details["row_count"]
    result = {
        "format": fmt,
        "query": query,
        "rows": rows,
        "bytes": size,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "peak_rss_mb": peak_rss_mb(),
    }
    from django.db import connection

    if fmt == "csv" and connection.vendor == "postgresql":
        result["bare_copy_rows_per_second"] = bare_copy_rate(user, query)
        result["ratio_of_bare_copy"] = round(
            result["rows_per_second"] / result["bare_copy_rows_per_second"], 2
        )
    return result


def bare_copy_rate(user: str, query: str) -> int:
    """Rows a second of a bare COPY TO of the same sessions: the export's selection and order,
    each column as stored, no formatting, read and thrown away. What PostgreSQL itself costs."""
    from zoneinfo import ZoneInfo

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.http import QueryDict

    from sessions_app.exports.jobs import exportable_sessions
    from sessions_app.figures.filters import SessionFilter

    person = get_user_model().objects.get(username=user)
    flt = SessionFilter(QueryDict(query), user=person, tz=ZoneInfo("UTC"))
    sessions = flt.filter_qs(exportable_sessions(person)).order_by("start_time", "pk")
    columns = [f.attname for f in sessions.model._meta.concrete_fields]
    sql, params = sessions.values_list(*columns).query.sql_with_params()
    rows = 0
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy,
    ):
        for _ in copy:
            rows += 1
    return round(rows / (time.perf_counter() - started))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--user", required=True, help="an analyst, admin or superuser")
    parser.add_argument(
        "--xlsx-days", type=int, default=36, help="days of sessions in the Excel run"
    )
    parser.add_argument("--one", nargs=2, metavar=("FORMAT", "QUERY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.user, *args.one)))
        return
    from datetime import date, timedelta

    last = date.today()
    first = last - timedelta(days=args.xlsx_days - 1)
    results = []
    for fmt, query in [
        ("csv", f"preset=custom&start={last - timedelta(days=400)}&end={last}"),
        ("xlsx", f"preset=custom&start={first}&end={last}"),
    ]:
        out = subprocess.run(
            [sys.executable, __file__, "--user", args.user, "--one", fmt, query],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]))


if __name__ == "__main__":
    main()
