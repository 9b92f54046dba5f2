"""`make bench`: ingest, the raw ingest limit, page and chart timings against the naive way, and
CSV exports, at 1,000,000 sessions (and pages again at 10,000, to show the cost does not grow
with the data), on a fresh SQLite database and, when DATABASE_URL names a PostgreSQL server, on
a fresh database beside the one it names (`<name>_bench`, dropped and made anew).

The source is glance_sim.replay: every page the backfills will ask for is rendered before
anything is timed and served from memory, so neither the sync nor the raw limit waits on the
simulator's rendering; the source's own rate (a client that only fetches) is printed beside.

    python scripts/bench.py [--sessions 1000000] [--small 10000] [--json bench-results.json]
    python scripts/bench.py --report bench-results.json   # the table of an earlier run again
    python scripts/bench.py --postgres-url URL --sessions 10000000 --direct

With --direct, PostgreSQL only: the sessions are loaded straight into the database by COPY (not
through HTTP; scripts/direct_load.py) and the rollups built from them, at --sessions and at
100,000, and every page is timed at both: the cost must not grow with the data (≤ 2x) and at
365 days must be ≥ 20x below the naive way's.

Prints one table with every figure and the targets of issue 6, and writes them all as JSON so
two runs can be compared. Needs nothing running: it starts its own source.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

TARGETS = {
    "source_over_raw": 3.0,  # the source alone at least this many times the raw limit
    "ingest_ratio_of_raw": 0.6,
    "page_ms": 150,
    "session_list_ms": 100,
    "growth_ratio": 2.0,
    "speedup_365d": 10,
    "direct_speedup_365d": 20,  # --direct: at ten million sessions
    "direct_small": 100_000,  # --direct: the sessions each page's time is compared with
    "csv_rows_per_second": 80_000,  # SQLite: its SELECT of finished lines (exports/sqlite_csv.py)
    "pg_csv_rows_per_second": 150_000,  # PostgreSQL: COPY (SELECT …) TO STDOUT
    "csv_ratio_of_bare_copy": 0.5,  # of a bare COPY TO of the same rows
    "csv_peak_mb": 200,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000, help="the small run's sessions")
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--partners", type=int, default=3)
    parser.add_argument("--agents", type=int, default=300, help="in all, shared out")
    parser.add_argument("--json", default="bench-results.json")
    parser.add_argument("--postgres-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument(
        "--report", metavar="JSON", help="print the table of an earlier run's JSON; run nothing"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="with --report: as the README's Markdown tables"
    )
    parser.add_argument(
        "--direct", action="store_true", help="PostgreSQL: load by COPY; pages at N and 100k"
    )
    parser.add_argument(
        "--skip-naive", action="store_true", help="with --direct: no naive timings (hours at 10M)"
    )
    args = parser.parse_args()
    if args.report:
        results = json.loads(Path(args.report).read_text())
        (print_markdown if args.markdown else print_table)(results)
        return
    if args.direct:
        return direct(args)

    big = [900 + i for i in range(1, args.partners + 1)]
    small = [950 + i for i in range(1, args.partners + 1)]
    agents = max(1, args.agents // args.partners)
    specs = [f"{i}:bench-key-{i}:{args.sessions / args.days / args.partners}:{agents}" for i in big]
    specs += [f"{i}:bench-key-{i}:{args.small / args.days / args.partners}:{agents}" for i in small]
    window = backfill_window(args.days)
    print("· rendering the source's pages ahead", file=sys.stderr)
    source = subprocess.Popen(
        [PY, "-m", "glance_sim.replay", *window, "--history-days", str(args.days + 2)]
        + [arg for spec in specs for arg in ("--partner", spec)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    results = {"sessions": args.sessions, "small": args.small, "days": args.days, "runs": {}}
    try:
        ready = json.loads(source.stdout.readline() or "{}")
        if "url" not in ready:
            raise SystemExit("the replay source did not start")
        results["source"] = ready
        with tempfile.TemporaryDirectory(prefix="glancedash-bench-") as scratch:
            runs = [
                ("sqlite", big, {}, ["--source-rate"]),
                ("sqlite small", small, {}, ["--skip-raw", "--skip-exports", "--skip-naive"]),
            ]
            if args.postgres_url:
                runs.append(("postgresql", big, {"DATABASE_URL": fresh_pg(args.postgres_url)}, []))
            for label, ids, env, flags in runs:
                print(f"· {label}: {len(ids)} partners over {args.days} days", file=sys.stderr)
                data_dir = Path(scratch) / label.replace(" ", "-")
                flags = [*flags, *window]
                results["runs"][label] = worker(ready["url"], ids, data_dir, env, flags)
    finally:
        source.terminate()
        source.wait(30)
    print_table(results)
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"\nAll figures: {args.json}")


def backfill_window(days: int) -> list[str]:
    """The workers' --since and --until: one fixed end for the source and every sync, so the
    pages rendered ahead are the pages asked for; the backfill starts at a UTC midnight, as a
    partner's backfill date does."""
    until = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    since = datetime.combine(until.date() - timedelta(days=days), time.min, tzinfo=UTC)
    return ["--since", since.isoformat(), "--until", until.isoformat()]


def direct(args) -> None:
    """The --direct run: two fresh PostgreSQL databases loaded by COPY, pages timed on each."""
    if not args.postgres_url:
        raise SystemExit("--direct loads PostgreSQL by COPY: give --postgres-url (or DATABASE_URL)")
    window = backfill_window(args.days)
    agents = str(max(1, args.agents // args.partners))
    results = {"sessions": args.sessions, "small": TARGETS["direct_small"], "days": args.days,
               "direct": True, "runs": {}}  # fmt: skip
    runs = [("postgresql", 900, args.sessions, "bench"),
            ("postgresql small", 950, TARGETS["direct_small"], "bench_small")]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="glancedash-bench-") as scratch:
        for label, first_id, sessions, suffix in runs:
            print(f"· {label}: {sessions:,} sessions by COPY", file=sys.stderr)
            ids = [first_id + i for i in range(1, args.partners + 1)]
            env = {"DATABASE_URL": fresh_pg(args.postgres_url, suffix)}
            flags = ["--direct", str(sessions), "--days", str(args.days), "--agents", agents,
                     "--skip-exports", *window]  # fmt: skip
            if label.endswith("small") or args.skip_naive:
                flags.append("--skip-naive")
            data_dir = Path(scratch) / label.replace(" ", "-")
            results["runs"][label] = worker("http://127.0.0.1:9", ids, data_dir, env, flags)
    print_table(results)
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"\nAll figures: {args.json}")


def worker(sim_url, ids, data_dir, env, flags) -> dict:
    data_dir.mkdir(parents=True)
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "GLANCEDASH_DATA_DIR": str(data_dir),
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + os.urandom(24).hex(),
        "FIELD_ENCRYPTION_KEY": fernet_key(),
        "GLANCE_ALLOW_HTTP": "true",
        "OUTBOUND_ALLOWED_ADDRESSES": "127.0.0.0/8",  # the simulator, on loopback
        "GLANCE_PAGE_SIZE": "1000",
        **env,
    }
    out = subprocess.run(
        [PY, str(ROOT / "scripts/bench_worker.py"), "--sim", sim_url,
         "--partners", ",".join(map(str, ids)), *flags],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def fresh_pg(url: str, suffix: str = "bench") -> str:
    """A new empty database beside the one `url` names (`<name>_<suffix>`); its URL."""
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    bench_name = f"{name.split('?')[0] or 'glancedash'}_{suffix}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:  # the server's own db
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(bench_name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(bench_name)))
    return f"{base}/{bench_name}"


# --- the table ------------------------------------------------------------------------------


# The ingest figures of a run, as both tables print them.
INGEST_FIGURES = (
    ("sessions synced", lambda r: f"{r['ingest']['sessions']:,}"),
    ("guests", lambda r: f"{r['ingest']['guests']:,}"),
    ("sessions/s", lambda r: f"{r['ingest']['sessions_per_second']:,}"),
    ("raw limit, sessions/s", lambda r: f"{r['raw_limit']['sessions_per_second']:,}"),
    ("raw limit written by", lambda r: r["raw_limit"].get("method", "executemany")),
    ("share of the raw limit", lambda r: f"{r['ingest']['ratio_of_raw']:.2f}"),
    ("the source alone, sessions/s", lambda r: _source_rate(r)),
)


def _source_rate(run: dict) -> str:
    return f"{run['source']['sessions_per_second']:,}" if "source" in run else "—"


def small_label(results) -> str:
    return "postgresql small" if results.get("direct") else "sqlite small"


def print_table(results):
    runs = results["runs"]
    small_run = small_label(results)
    dbs = [label for label in runs if label != small_run]
    print(f"\nglancedash benchmark: {results['sessions']:,} sessions over {results['days']} days")
    if results.get("direct"):
        print("\nLoaded by COPY (scripts/direct_load.py), rollups rebuilt after")
        for label, run in runs.items():
            d = run["direct"]
            print(
                f"  {label:<18} {d['sessions']:>12,} sessions  {d['guests']:>12,} guests"
                f"  load {d['load_seconds']:>7} s  rollups {d['rollup_seconds']:>7} s"
            )
    else:
        print("\nIngest (sync over HTTP from a source serving pages rendered ahead, from memory)")
        print(f"{'':34}" + "".join(f"{db:>16}" for db in dbs))
        for label, get in INGEST_FIGURES:
            print(f"{label:34}" + "".join(f"{get(runs[db]):>16}" for db in dbs))
    small_pages = {(p["range"], p["page"]): p["ms"] for p in runs[small_run]["pages"]}
    print("\nServer time per page, median ms (naive = rollups off, GROUP BY over raw tables)")
    header = f"{'range':>17} {'page':<28}"
    for db in dbs:
        header += f"{db + ' ms':>16}{'naive':>9}{'x':>6}"
    small_ms = f"{results['small'] // 1000}k ms"
    header += f"{small_ms:>9}{'growth':>8}"
    print(header)
    for index, page in enumerate(runs[dbs[0]]["pages"]):
        line = f"{page['range']:>17} {page['page']:<28}"
        for db in dbs:
            row = runs[db]["pages"][index]
            line += f"{row['ms']:>16.1f}{row.get('naive_ms', ''):>9}{row.get('speedup', ''):>6}"
        small = small_pages.get((page["range"], page["page"]))
        growth = f"{page['ms'] / small:.1f}" if small else ""
        line += f"{small if small is not None else '':>9}{growth:>8}"
        print(line)
    print("\nCSV exports")
    for db in dbs:
        for export in runs[db].get("exports", []):
            print(
                f"{db:>12}  {export['export']:<28} {export['rows']:>10,} rows"
                f"  {export['rows_per_second']:>8,} rows/s  {export['peak_rss_mb']:>5} MB peak"
            )
    browser = ROOT / "data" / "browser-timings.json"
    if browser.exists():  # written by tests/browser/test_page_weight.py
        figures = json.loads(browser.read_text())
        results["browser"] = figures
        print(
            f"\nOverview in Chromium (browser tests, {figures['measured_at']}): JS+CSS "
            f"{figures['overview_js_css_brotli_bytes']:,} bytes brotli; charts drawn "
            f"{figures['charts_drawn_after_navigation_ms']} ms after navigation"
        )
    print("\nTargets" + ("" if results.get("direct") else " (pages: SQLite)"))
    for label, ok, figure in verdicts_of(results):
        print(f"  {'PASS' if ok else 'MISS'}  {label}: {figure}")


def print_markdown(results):
    """The same figures as the README's Performance section shows them."""
    runs = results["runs"]
    dbs = [label for label in runs if label != small_label(results)]
    small = {(p["range"], p["page"]): p["ms"] for p in runs[small_label(results)]["pages"]}
    if not results.get("direct"):
        _markdown_ingest(runs, dbs)
    _markdown_pages(results, runs, dbs, small)


def _markdown_ingest(runs, dbs):
    print("| ingest | " + " | ".join(dbs) + " |\n|---|" + "---:|" * len(dbs))
    for label, get in INGEST_FIGURES:
        print(f"| {label} | " + " | ".join(get(runs[db]) for db in dbs) + " |")


def _markdown_pages(results, runs, dbs, small):
    header = "| range | page |" + "".join(f" {db} ms | naive ms | × |" for db in dbs)
    print("\n" + header + f" {results['small'] // 1000}k ms | growth |")
    print("|---|---|" + "---:|---:|---:|" * len(dbs) + "---:|---:|")
    for index, page in enumerate(runs[dbs[0]]["pages"]):
        cells = [page["range"], page["page"]]
        for db in dbs:
            row = runs[db]["pages"][index]
            naive = f"{row['naive_ms']:.0f}" if row.get("naive_ms") else ""
            cells += [f"{row['ms']:.0f}", naive, str(row.get("speedup", ""))]
        ten_k = small.get((page["range"], page["page"]))
        cells += [f"{ten_k:.0f}" if ten_k else "", f"{page['ms'] / ten_k:.1f}" if ten_k else ""]
        print("| " + " | ".join(cells) + " |")
    print("\n| export | database | rows | rows/s | peak memory |\n|---|---|---:|---:|---:|")
    for db in dbs:
        for export in runs[db].get("exports", []):
            print(
                f"| {export['export']} | {db} | {export['rows']:,} | "
                f"{export['rows_per_second']:,} | {export['peak_rss_mb']} MB |"
            )
    print()
    for label, ok, figure in verdicts_of(results):
        print(f"- {'PASS' if ok else '**MISS**'} {label}: {figure}")


def verdicts_of(results):
    return (direct_verdicts if results.get("direct") else verdicts)(results)


def direct_verdicts(results):
    """--direct: each page at --sessions against itself at 100,000, and against the naive way."""
    pages = results["runs"]["postgresql"]["pages"]
    small = {(p["range"], p["page"]): p["ms"] for p in results["runs"]["postgresql small"]["pages"]}
    growth = [(p["ms"] / small[(p["range"], p["page"])], p) for p in pages
              if small.get((p["range"], p["page"]))]  # fmt: skip
    worst, page = max(growth, key=lambda pair: pair[0])
    yield (
        f"every page ≤ 2x its time at {results['small']:,} sessions",
        worst <= TARGETS["growth_ratio"],
        f"worst {worst:.1f}x ({page['range']} {page['page']})",
    )
    speedups = [(p["speedup"], p) for p in pages if p["range"] == "365 d" and p.get("speedup")]
    if not speedups:
        return  # run with --skip-naive
    least, page = min(speedups, key=lambda pair: pair[0])
    yield (
        "≥ 20x the naive way at 365 days",
        least >= TARGETS["direct_speedup_365d"],
        f"least {least}x ({page['page']})",
    )


def ingest_verdicts(results):
    runs = results["runs"]
    source = runs["sqlite"].get("source")
    for db in (label for label in runs if label != "sqlite small"):
        run = runs[db]
        if source:
            times = source["sessions_per_second"] / run["raw_limit"]["sessions_per_second"]
            yield (
                f"{db}: the source alone ≥ 3x the raw limit",
                times >= TARGETS["source_over_raw"],
                f"{times:.1f}x",
            )
        yield (
            f"{db}: ingest ≥ 0.6 of the raw limit ({run['raw_limit'].get('method')})",
            run["ingest"]["ratio_of_raw"] >= TARGETS["ingest_ratio_of_raw"],
            f"{run['ingest']['ratio_of_raw']:.2f}",
        )


def verdicts(results):
    sqlite = results["runs"]["sqlite"]
    small = {(p["range"], p["page"]): p["ms"] for p in results["runs"]["sqlite small"]["pages"]}
    pages = sqlite["pages"]
    lists = [p["ms"] for p in pages if p["page"].startswith("sessions")]
    others = [p["ms"] for p in pages if not p["page"].startswith("sessions")]
    growth = [
        p["ms"] / small[(p["range"], p["page"])]
        for p in pages
        if small.get((p["range"], p["page"]))
    ]
    speedups = [p["speedup"] for p in pages if p["range"] == "365 d" and p.get("speedup")]
    yield from ingest_verdicts(results)
    yield ("every page ≤ 150 ms", max(others) <= TARGETS["page_ms"], f"slowest {max(others)} ms")
    yield (
        "session list ≤ 100 ms",
        max(lists) <= TARGETS["session_list_ms"],
        f"slowest {max(lists)} ms",
    )
    yield (
        "≤ 2x the time at 10,000 sessions",
        max(growth) <= TARGETS["growth_ratio"],
        f"worst {max(growth):.1f}x",
    )
    yield (
        "≥ 10x the naive way at 365 days",
        min(speedups) >= TARGETS["speedup_365d"],
        f"least {min(speedups)}x",
    )
    browser = results.get("browser")
    if browser:
        yield (
            "overview JS+CSS < 1.6 MB compressed",
            browser["overview_js_css_brotli_bytes"] < 1_600_000,
            f"{browser['overview_js_css_brotli_bytes']:,} bytes",
        )
        yield (
            "overview charts drawn ≤ 1.5 s after navigation",
            browser["charts_drawn_after_navigation_ms"] <= 1500,
            f"{browser['charts_drawn_after_navigation_ms']} ms",
        )
    yield from export_verdicts(results)


def export_verdicts(results):
    for db, run in results["runs"].items():
        for export in run.get("exports", []):
            if "ratio_of_bare_copy" in export:  # PostgreSQL: COPY … TO STDOUT
                yield (
                    f"{db}: {export['export']} ≥ 150,000 rows/s, ≥ 0.5 of a bare COPY TO, < 200 MB",
                    export["rows_per_second"] >= TARGETS["pg_csv_rows_per_second"]
                    and export["ratio_of_bare_copy"] >= TARGETS["csv_ratio_of_bare_copy"]
                    and export["peak_rss_mb"] < TARGETS["csv_peak_mb"],
                    f"{export['rows_per_second']:,} rows/s, {export['ratio_of_bare_copy']:.2f} "
                    f"of {export['bare_copy_rows_per_second']:,}, {export['peak_rss_mb']} MB",
                )
            elif db == "sqlite":
                yield (
                    f"{db}: {export['export']} ≥ 80,000 rows/s, < 200 MB",
                    export["rows_per_second"] >= TARGETS["csv_rows_per_second"]
                    and export["peak_rss_mb"] < TARGETS["csv_peak_mb"],
                    f"{export['rows_per_second']:,} rows/s, {export['peak_rss_mb']} MB",
                )


if __name__ == "__main__":
    main()
