"""Real HTTP servers on loopback for the outbound-policy tests: one that answers with a secret,
one that redirects, one that hangs. Each records the requests that reached it."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalServer:
    """Answers every request with `status`, `body` and `headers`, or hangs for `hang` seconds
    first; `requests` holds (method, path, body) of each that arrived."""

    def __init__(self, status=200, body=b"", headers=None, hang=0.0, host="127.0.0.1"):
        self.status, self.body, self.headers, self.hang = status, body, headers or {}, hang
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append((self.command, self.path, self.rfile.read(length)))
                if server.hang:
                    time.sleep(server.hang)
                self.send_response(server.status)
                for name, value in server.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_port}"
        # A short poll: stop() waits up to a poll interval (0.5 s by default) for the loop to stop.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
