"""Micro-benchmark: python -m glance_sim.bench [--http] -> sessions generated+serialized per s."""

import argparse
import json
import time
from datetime import UTC, datetime, timedelta

from . import PartnerSpec, Simulator, render, serve_in_thread
from .testing import call, completed_params


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m glance_sim.bench")
    p.add_argument("--sessions-per-day", type=float, default=3000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--http", action="store_true", help="also pull the pages over HTTP (json.loads)")
    args = p.parse_args(argv)
    now = datetime(2026, 3, 18, 15, tzinfo=UTC)
    start, end = now - timedelta(days=args.days), now
    sim = Simulator([PartnerSpec(1, "k", args.sessions_per_day)], now=now, history_days=400)
    n, pages, next_id, t0 = 0, 0, 0, time.perf_counter()
    while True:
        next_id, groups = sim.page(1, start.timestamp(), end.timestamp(), "", 1000, next_id)
        render.json_page(next_id, groups)
        n, pages = n + sum(len(items) for _, items in groups), pages + 1
        if not next_id:
            break
    dt = time.perf_counter() - t0
    print(f"in-process: {n} sessions, {n / dt:,.0f}/s, {dt / pages * 1000:.1f} ms per 1000-page")
    if args.http:
        sim = Simulator([PartnerSpec(1, "k", args.sessions_per_day)], now=now, history_days=400)
        server = serve_in_thread(sim)
        params = completed_params(start.isoformat(), end.isoformat(), partner_id=1, api_key="k")
        n, t0 = 0, time.perf_counter()
        while True:
            d = json.loads(call(server.url, "PartnerCompletedSessions", params)[2])["d"]
            n += sum(len(u["sessions"]) for u in d["users"])
            if not d["nextId"]:
                break
            params["nextId"] = d["nextId"]
        dt = time.perf_counter() - t0
        server.stop()
        print(f"over HTTP (fresh simulator, client json.loads included): {n / dt:,.0f} sessions/s")


if __name__ == "__main__":
    main()
