"""python -m glance_sim --port 8765 [--partner 12345:demo-key[:sessions_per_day[:agents]]] ..."""

import argparse
import os
import signal
import threading
import time

from . import PartnerSpec, Simulator, serve_in_thread


def _partner(text):
    parts = text.split(":")
    if len(parts) not in (2, 3, 4):
        raise argparse.ArgumentTypeError("expected PARTNER_ID:API_KEY[:SESSIONS_PER_DAY[:AGENTS]]")
    spec = PartnerSpec(partner_id=int(parts[0]), api_key=parts[1])
    if len(parts) > 2:
        spec.sessions_per_day = float(parts[2])
    if len(parts) > 3:
        spec.agents = int(parts[3])
    return spec


def _follow_test_clock():
    """Runs on the test suite's moved wall clock when it started us (see glancedash/test_clock.py;
    the simulator imports nothing of the product's)."""
    offset = os.environ.get("GLANCEDASH_TEST_CLOCK_OFFSET")
    if offset:
        import time_machine

        time_machine.travel(time.time() + float(offset), tick=True).start()


def main(argv=None):
    _follow_test_clock()
    p = argparse.ArgumentParser(
        prog="python -m glance_sim", description="Glance Activity Service simulator"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--partner",
        type=_partner,
        action="append",
        help="PARTNER_ID:API_KEY[:SESSIONS_PER_DAY[:AGENTS]]",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--history-days", type=int, default=400)
    p.add_argument("--max-results", type=int, default=1000)
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--latency", type=float, default=0.0)
    args = p.parse_args(argv)
    sim = Simulator(
        partners=args.partner or [PartnerSpec(12345, "demo-key")],
        seed=args.seed,
        history_days=args.history_days,
        max_results=args.max_results,
    )
    sim.faults.error_rate, sim.faults.latency = args.error_rate, args.latency
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server = serve_in_thread(sim, args.host, args.port)
    print(f"glance_sim serving {server.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
