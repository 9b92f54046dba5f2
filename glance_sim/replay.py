"""A source that is never the bottleneck: every completed-sessions page a backfill will ask for,
rendered to bytes before anything is timed, then served from memory.

The simulator renders each page as it is asked, and at a few thousand sessions a second that
set the pace of any loader measured against it, so `make bench` measured the simulator. This
server answers a PartnerCompletedSessions call it knows by a dictionary lookup and a socket
write; any other call (session counts, a window it did not render) goes to the simulator behind
it, which is still correct, only not fast.

    python -m glance_sim.replay --since 2025-10-27T00:00Z --until 2026-12-01T18:00Z \
        --partner 901:key:2500:100 [--window-days 31] [--page-size 1000] [--port 0]

It prints one JSON line when ready: its URL, the pages and sessions it holds and the bytes.
"""

import argparse
import json
import signal
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import orjson

from . import Simulator, create_app, defaults, render
from .__main__ import _partner
from .api import COMPLETED


def range_value(moment: datetime) -> str:
    """The form glancedash sends startRange and endRange in (sessions_app.glance.client)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def windows(start: datetime, end: datetime, days: int):
    """[start, end) in consecutive windows of at most `days`, as a sync cuts a backfill."""
    step = timedelta(days=days)
    while start < end:
        yield start, min(start + step, end)
        start = min(start + step, end)


class Pages:
    """{(partner id, api key, startRange, endRange, sessionKey, nResults, nextId): the page's
    bytes}. `size` is capped as the simulator caps nResults."""

    def __init__(self, sim: Simulator, since: datetime, until: datetime, days: int, size: int):
        self.bodies: dict[tuple, bytes] = {}
        self.sessions = 0
        size = min(size, sim.max_results)
        for spec in (data.spec for data in sim.partners.values()):
            for start, end in windows(since, until, days):
                self._render(sim, spec, start, end, size)

    def _render(self, sim, spec, start, end, size) -> None:
        next_id = 0
        while True:
            following, groups = sim.page(
                spec.partner_id, start.timestamp(), end.timestamp(), "", size, next_id
            )
            key = (spec.partner_id, spec.api_key, range_value(start), range_value(end), "", size,
                   next_id)  # fmt: skip
            self.bodies[key] = render.json_page(following, groups)
            self.sessions += sum(len(items) for _, items in groups)
            if not following:
                return
            next_id = following

    def find(self, body: bytes) -> bytes | None:
        try:
            params = orjson.loads(body)
            key = (
                int(params["partnerId"]),
                params["apiKey"],
                params["startRange"],
                params["endRange"],
                params["sessionKey"],
                int(params["nResults"]),
                int(params["nextId"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None
        return self.bodies.get(key)


def make_handler(pages: Pages, fallback):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a client's session reuses its connection

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = None
            if self.path.rsplit("/", 1)[-1] == COMPLETED:
                answer = pages.find(body)
            if answer is None:
                status, headers, answer = self._ask_simulator(body)
            else:
                status, headers = "200 OK", [("Content-Type", "application/json; charset=utf-8")]
            self.send_response_only(int(status.split()[0]), status.split(" ", 1)[1])
            for name, value in headers:
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def _ask_simulator(self, body: bytes):
            environ = {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": self.path.split("?")[0],
                "QUERY_STRING": "",
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": BytesIO(body),
                "HTTP_ACCEPT": self.headers.get("Accept", ""),
            }
            answer = {}

            def start_response(status, headers, exc_info=None):
                answer["status"], answer["headers"] = status, headers

            chunks = b"".join(fallback(environ, start_response))
            return answer["status"], answer["headers"], chunks

        def log_message(self, format, *args):
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m glance_sim.replay", description=__doc__)
    parser.add_argument("--since", required=True, type=datetime.fromisoformat)
    parser.add_argument("--until", required=True, type=datetime.fromisoformat)
    parser.add_argument("--partner", type=_partner, action="append", required=True)
    parser.add_argument("--window-days", type=int, default=defaults.MAX_RANGE_DAYS)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--history-days", type=int, default=400)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    sim = Simulator(args.partner, now=args.until, history_days=args.history_days)
    pages = Pages(sim, args.since, args.until, args.window_days, args.page_size)
    server = _Server((args.host, args.port), make_handler(pages, create_app(sim)))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    ready = {
        "url": f"http://{args.host}:{server.server_address[1]}",
        "pages": len(pages.bodies),
        "sessions": pages.sessions,
        "bytes": sum(map(len, pages.bodies.values())),
    }
    print(json.dumps(ready), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
