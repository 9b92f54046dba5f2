"""Each fault switch, the /_sim control API, reset, and the command line."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from glance_sim import Faults, PartnerSpec, Simulator, serve_in_thread
from glance_sim.testing import call, completed_params, control, counts_params

NOW = datetime(2026, 3, 18, 15, tzinfo=UTC)
PCS, PSC = "PartnerCompletedSessions", "PartnerSessionCounts"
START, END = "2026-03-16T00:00:00Z", "2026-03-17T00:00:00Z"


@pytest.fixture(scope="module")
def server():
    sim = Simulator(
        partners=[PartnerSpec(12345, "demo-key", sessions_per_day=100)], seed=5, now=NOW
    )
    server = serve_in_thread(sim)
    yield server
    server.stop()


@pytest.fixture
def sim(server):
    server.sim.reset()
    return server.sim


def pcs(server, n=20):
    return call(server.url, PCS, completed_params(START, END, n=n))


def psc(server):
    return call(server.url, PSC, counts_params(START, END))


def test_error_rate_is_deterministic(server, sim):
    sim.faults.error_rate = 0.4
    first = [psc(server)[0] for _ in range(40)]
    sim.reset()
    sim.faults.error_rate = 0.4
    assert [psc(server)[0] for _ in range(40)] == first
    assert set(first) == {200, 503} and 6 <= first.count(503) <= 26


def test_fail_next_with_429_and_retry_after(server, sim):
    sim.faults = Faults(fail_next=2, error_status=429, retry_after=7)
    answers = [pcs(server) for _ in range(3)]
    assert [a[0] for a in answers] == [429, 429, 200] and answers[0][1]["retry-after"] == "7"
    assert sim.faults.fail_next == 0
    sim.faults.fail_next, sim.faults.error_status, sim.faults.retry_after = 1, 503, None
    status, headers, _ = psc(server)
    assert status == 503 and "retry-after" not in headers


def test_latency(server, sim):
    sim.faults.latency = 0.3
    t0 = time.perf_counter()
    assert psc(server)[0] == 200
    assert time.perf_counter() - t0 >= 0.3


def test_auth_failure(server, sim):
    sim.faults.auth_failure = True
    status, headers, body = pcs(server)
    assert status == 500 and headers["jsonerror"] == "true"
    assert json.loads(body)["Message"] == "Invalid partnerId or apiKey."


@pytest.mark.parametrize("kind", ["truncated", "not_json", "wrong_shape"])
def test_malformed_calls_count_completed_sessions_calls_only(server, sim, kind):
    sim.faults.malformed_calls, sim.faults.malformed_kind = {2}, kind
    assert pcs(server)[0] == 200 and psc(server)[0] == 200
    status, headers, body = pcs(server)
    assert status == 200
    if kind == "truncated":
        with pytest.raises(ValueError):
            json.loads(body)
    elif kind == "not_json":
        assert headers["content-type"].startswith("text/html") and body.startswith(b"<html>")
    else:
        assert json.loads(body) == {"d": {"unexpected": 1}}
    assert json.loads(pcs(server)[2])["d"]["users"]


def test_fail_after_calls_drops_the_connection(server, sim):
    sim.faults.fail_after_calls = 2
    assert pcs(server)[0] == 200 and psc(server)[0] == 200 and pcs(server)[0] == 200
    for op in (pcs, psc):
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            op(server)
    assert [r.status for r in sim.request_log][-2:] == [0, 0]
    assert control(server, "reset")[0] == 200
    assert pcs(server)[0] == 200


def test_mutate_between_calls_and_versions(server, sim):
    sim.faults.mutate_between_calls = True
    first = json.loads(pcs(server, n=1000)[2])["d"]
    assert sim.version == 1
    second = json.loads(pcs(server, n=1000)[2])["d"]
    assert sim.version == 2 and first != second
    changed = {s["id"] for u in second["users"] for s in u["sessions"] if s["status"] == "C"} - {
        s["id"] for u in first["users"] for s in u["sessions"] if s["status"] == "C"
    }
    assert changed


def test_control_api(server, sim):
    with urllib.request.urlopen(server.base_url + "/_sim/health") as r:
        assert (r.status, r.read()) == (200, b"ok")
    status, body = control(
        server, "faults", {"fail_next": 1, "malformed_calls": [3, 4], "latency": 0}
    )
    assert status == 200 and sim.faults.fail_next == 1 and sim.faults.malformed_calls == {3, 4}
    assert json.loads(body)["malformed_calls"] == [3, 4]
    assert control(server, "faults", {"no_such_fault": 1})[0] == 400
    assert json.loads(control(server, "bump")[1]) == {"version": 1} and sim.version == 1
    psc(server)
    assert control(server, "reset")[0] == 200
    assert (sim.version, sim.request_log, sim.faults) == (0, [], Faults())


def test_command_line_serves_and_stops_on_sigterm():
    env = dict(
        os.environ,
        PYTHONPATH=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "glance_sim", "--port", "0", "--partner", "42:k:50"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    # Days before our clock: under `pytest --clock` the simulator process keeps the same clock
    # (glancedash/test_clock.py), so its history holds them whatever day the suite runs on.
    today = datetime.now(UTC).date()
    first, last = (today - timedelta(days=back) for back in (3, 2))
    try:
        url = proc.stdout.readline().split()[-1]
        assert url.endswith("/services/activityservice.asmx")
        status, _, body = call(
            url, PSC, counts_params(str(first), str(last), partner_id=42, api_key="k")
        )
        assert status == 200 and json.loads(body)["d"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
