"""`make load`: 50 logged-in users for 60 s against gunicorn while a sync writes, on loopback.

On a fresh SQLite database (or, with --postgres-url, a fresh PostgreSQL one beside the one it
names, `<name>_load`), in production settings (DEBUG off) but over plain HTTP on 127.0.0.1:

1. starts the Glance simulator with two partners and syncs the first one (--days of history);
2. makes --users analyst accounts and starts gunicorn with --workers workers;
3. logs every account in at once, timed on its own: a storm of PBKDF2 password checks is the
   logins' figure, not the pages' p95;
4. runs one locust user for --unloaded-seconds with nothing syncing: each page's unloaded median;
5. slows the simulator's answers and starts a backfill of the second partner (`sync_glance`
   in its own process), so a sync is writing for the whole run;
6. runs locust headless: --users users for --seconds, each viewing the overview and its charts,
   geography and its maps, agents, the session list, a session, and a CSV export
   (scripts/locustfile.py);
7. waits for the sync to finish, syncs both partners up to now (as their schedules would) and
   runs `verify_glance` on both: the data must be complete by Glance's own counts;
8. prints requests, failures, median and p95 per page, the logins, and each page's p95 against
   3x its unloaded median (issue 18's target), and writes them all as JSON (--json).

Exits non-zero on any failed request, a failed sync or a completeness mismatch.
"""

import argparse
import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bench import fernet_key, fresh_pg  # noqa: E402 (scripts/ is not a package)

PY = sys.executable
BIN = Path(PY).parent
SEEDED, SYNCING = 31001, 31002  # the two simulated partners' Glance ids


def main():
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="glancedash-load-"))
    processes = []
    try:
        env = environment(args, work)
        sim_url = start_simulator(args, processes)
        api = f"{sim_url}/services/activityservice.asmx"
        print(f"· seeding: {args.days} days of partner {SEEDED}")
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        for glance_id in (SEEDED, SYNCING):
            manage(env, "add_partner", "--name", f"Load {glance_id}", "--partner-id",
                   str(glance_id), "--api-key-env", "LOAD_API_KEY", "--api-url", api,
                   "--backfill-from", (days_ago(args.days)))  # fmt: skip
        started = time.monotonic()
        manage(env, "sync_glance", "--partner", str(SEEDED))
        print(f"  synced in {time.monotonic() - started:.0f} s")
        make_users(env, args.users)
        web = start_gunicorn(env, args, processes)
        logins = log_in_all(web, args.users, env["LOAD_PASSWORD"], work)
        env["LOAD_COOKIES"] = str(work / "cookies.json")
        print(f"· unloaded: one user for {args.unloaded_seconds} s, nothing syncing")
        unloaded = run_locust(env, web, work, users=1, seconds=args.unloaded_seconds)
        control(sim_url, "faults", {"latency": args.sync_latency})
        print(f"· a backfill of partner {SYNCING} starts writing")
        sync = subprocess.Popen(
            [PY, "manage.py", "sync_glance", "--partner", str(SYNCING)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        print(f"· locust: {args.users} users for {args.seconds} s")
        stats = run_locust(env, web, work, users=args.users, seconds=args.seconds)
        sync_still_running = sync.poll() is None
        control(sim_url, "faults", {"latency": 0})
        sync_output, _ = sync.communicate(timeout=600)
        # Both partners brought up to now, as their schedules would, before Glance's counts of
        # up to now are compared: the seeded one last synced before the load began.
        for glance_id in (SEEDED, SYNCING):
            manage(env, "sync_glance", "--partner", str(glance_id))
        results = {
            "database": "postgresql" if args.postgres_url else "sqlite",
            "users": args.users,
            "seconds": args.seconds,
            "gunicorn_workers": args.workers,
            "pages": stats,
            "unloaded": unloaded,
            "logins": logins,
            "sync": {
                "exit_code": sync.returncode,
                "output": sync_output.strip().splitlines()[-1:],
                "ran_through_the_load": sync_still_running,
            },
            "completeness": verify(env),
        }
        print_results(results)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
            print(f"\nAll figures: {args.json}")
        return 0 if passed(results) else 1
    finally:
        stop(processes)
        shutil.rmtree(work, ignore_errors=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--unloaded-seconds", type=int, default=60,
        help="the run of one user, before the load, that gives each page's unloaded median",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--days", type=int, default=90, help="history of the seeded partner")
    parser.add_argument("--sessions-per-day", type=int, default=300)
    parser.add_argument(
        "--sync-latency", type=float, default=1.0,
        help="seconds the simulator waits before each answer during the run, so the backfill "
        "of the second partner lasts through it",
    )  # fmt: skip
    parser.add_argument("--postgres-url", help="a PostgreSQL server's URL; default: SQLite")
    parser.add_argument("--json", default="load-results.json")
    return parser.parse_args()


# --- the processes --------------------------------------------------------------------------


def environment(args, work: Path) -> dict:
    database = fresh_pg(args.postgres_url, "load") if args.postgres_url else ""
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "FIELD_ENCRYPTION_KEY": fernet_key(),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Production settings, but plain HTTP on loopback: no TLS redirect, cookies over HTTP.
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "GLANCE_ALLOW_HTTP": "true",
        "OUTBOUND_ALLOWED_ADDRESSES": "127.0.0.0/8",  # the simulator, on loopback
        "GLANCE_PAGE_SIZE": "500",
        "GLANCEDASH_DATA_DIR": str(work),
        "STATIC_ROOT": str(work / "static"),
        "DATABASE_URL": database or f"sqlite:///{work / 'glancedash.sqlite3'}",
        "LOAD_API_KEY": "load-key",
        "LOAD_PASSWORD": "load-" + secrets.token_hex(8),
        "LOG_LEVEL": "WARNING",
    }


def start_simulator(args, processes) -> str:
    port = free_port()
    command = [PY, "-m", "glance_sim", "--port", str(port), "--history-days", str(args.days + 2)]
    for glance_id in (SEEDED, SYNCING):
        command += ["--partner", f"{glance_id}:load-key:{args.sessions_per_day}"]
    start(processes, "simulator", command)
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/_sim/health", seconds=60)
    return url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 (loopback)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def start_gunicorn(env, args, processes) -> str:
    port = free_port()
    command = [str(BIN / "gunicorn"), "glancedash.wsgi", "--workers", str(args.workers),
               "--bind", f"127.0.0.1:{port}", "--timeout", "120"]  # fmt: skip
    start(processes, "gunicorn", command, env=env)
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/healthz", seconds=60)
    print(f"· gunicorn with {args.workers} workers on {url}")
    return url


def log_in_all(web: str, users: int, password: str, work: Path) -> dict:
    """Every account logs in at once, before the run, timed on its own (form and post): each
    password check is a deliberately slow PBKDF2 hash, and a storm of them is not a page's p95.
    The cookies go to the locust users (LOAD_COOKIES)."""
    import statistics
    from concurrent.futures import ThreadPoolExecutor

    import requests

    def log_in(number: int) -> tuple[str, dict, float]:
        name = f"load{number:02d}"
        browser = requests.Session()
        started = time.perf_counter()
        browser.get(f"{web}/login/", timeout=60)
        answer = browser.post(
            f"{web}/login/",
            data={"username": name, "password": password,
                  "csrfmiddlewaretoken": browser.cookies.get("csrftoken", "")},
            allow_redirects=False, timeout=60,
        )  # fmt: skip
        if answer.status_code != 302:
            raise SystemExit(f"{name} could not log in: HTTP {answer.status_code}")
        return name, browser.cookies.get_dict(), (time.perf_counter() - started) * 1000

    print(f"· {users} logins at once, timed apart from the pages")
    with ThreadPoolExecutor(users) as pool:
        done = list(pool.map(log_in, range(1, users + 1)))
    (work / "cookies.json").write_text(json.dumps({name: jar for name, jar, _ in done}))
    times = sorted(ms for _, _, ms in done)
    return {
        "count": len(times),
        "median_ms": round(statistics.median(times)),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)]),
        "max_ms": round(times[-1]),
    }


def run_locust(env, web, work, *, users: int, seconds: int) -> list[dict]:
    prefix = work / f"locust-{users}"
    subprocess.run(
        [str(BIN / "locust"), "-f", str(ROOT / "scripts/locustfile.py"), "--headless",
         "--users", str(users), "--spawn-rate", str(max(users // 5, 1)),
         "--run-time", f"{seconds}s", "--host", web, "--csv", str(prefix),
         "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"],
        cwd=ROOT, env={**env, "LOAD_ACCOUNTS": str(users)}, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    with open(f"{prefix}_failures.csv", newline="") as f:
        for row in csv.DictReader(f):
            print(f"  FAILED {row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error']}")
    with open(f"{prefix}_stats.csv", newline="") as f:
        return [
            {
                "page": row["Name"],
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "median_ms": int(float(row["50%"] or 0)),
                "p95_ms": int(float(row["95%"] or 0)),
                "per_second": round(float(row["Requests/s"]), 1),
            }
            for row in csv.DictReader(f)
        ]


def make_users(env, count):
    print(f"· {count} analyst accounts")
    code = f"""
import os
from sessions_app.accounts import members
from sessions_app.models import Partner
partners = list(Partner.objects.all())
for n in range(1, {count} + 1):
    user = members.create_user(f"load{{n:02d}}", "", password=os.environ["LOAD_PASSWORD"])
    for partner in partners:
        members.grant(partner, user, "analyst")
"""
    manage(env, "shell", "-v", "0", "-c", code)


def verify(env) -> dict:
    result = subprocess.run(
        [PY, "manage.py", "verify_glance"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return {"exit_code": result.returncode, "output": result.stdout.strip().splitlines()}


def manage(env, *args):
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def start(processes, name, command, env=None):
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, **quiet)
    processes.append((name, proc))


def stop(processes):
    for _, proc in reversed(processes):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def control(sim_url, action, payload):
    request = urllib.request.Request(  # noqa: S310 (the simulator on loopback)
        f"{sim_url}/_sim/{action}", data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310


def days_ago(days) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


# --- the report -----------------------------------------------------------------------------


def print_results(results):
    print(f"\nLoad: {results['users']} users for {results['seconds']} s, "
          f"{results['database']}, gunicorn × {results['gunicorn_workers']}")  # fmt: skip
    print(f"{'page':<28}{'requests':>10}{'failures':>10}{'median ms':>11}{'p95 ms':>9}{'req/s':>8}")
    for row in results["pages"]:
        print(
            f"{row['page']:<28}{row['requests']:>10,}{row['failures']:>10,}"
            f"{row['median_ms']:>11,}{row['p95_ms']:>9,}{row['per_second']:>8}"
        )
    sync = results["sync"]
    print(f"\nsync during the load: exit {sync['exit_code']}; {' '.join(sync['output'])}")
    print(f"  still writing when the load ended: {sync['ran_through_the_load']}")
    print(f"completeness (verify_glance): exit {results['completeness']['exit_code']}")
    for line in results["completeness"]["output"]:
        print(f"  {line}")
    logins = results["logins"]
    print(
        f"\nlogins, all {logins['count']} at once before the run (form and post): median "
        f"{logins['median_ms']:,} ms, p95 {logins['p95_ms']:,} ms, slowest {logins['max_ms']:,} ms"
    )
    print("\nTargets: zero errors; each page's p95 under load ≤ 3x its median unloaded")
    for page, ok, figure in load_verdicts(results):
        print(f"  {'PASS' if ok else 'MISS'}  {page}: {figure}")


P95_OVER_UNLOADED_MEDIAN = 3  # issue 18: each page's p95 under load, against its median unloaded


def load_verdicts(results):
    """(page, its p95 under load ≤ 3x its median unloaded?, the figures) for each page."""
    unloaded = {row["page"]: row["median_ms"] for row in results["unloaded"]}
    for row in results["pages"]:
        quiet = unloaded.get(row["page"])
        if row["page"] == "Aggregated" or not quiet:
            continue
        ratio = row["p95_ms"] / quiet
        yield (
            row["page"],
            ratio <= P95_OVER_UNLOADED_MEDIAN,
            f"p95 {row['p95_ms']:,} ms, {ratio:.1f}x the unloaded median of {quiet:,} ms",
        )


def passed(results) -> bool:
    total = next(row for row in results["pages"] if row["page"] == "Aggregated")
    return (
        total["failures"] == 0
        and results["sync"]["exit_code"] == 0
        and results["completeness"]["exit_code"] == 0
    )


if __name__ == "__main__":
    sys.exit(main())
