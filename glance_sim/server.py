"""A threaded wsgiref server in a daemon thread, quiet and cleanly stoppable."""

import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from . import defaults
from .app import create_app


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the benchmark opens many connections at once


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class ServerThread:
    def __init__(self, sim, host="127.0.0.1", port=0):
        self.sim = sim
        self.httpd = make_server(
            host,
            port,
            create_app(sim),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        self.host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"glance-sim-{self.port}",
            daemon=True,
        )
        self.thread.start()

    @property
    def base_url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self):
        return self.base_url + defaults.ENDPOINT_PATH

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def serve_in_thread(sim, host="127.0.0.1", port=0):
    return ServerThread(sim, host, port)
