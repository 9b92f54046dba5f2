"""The benchmark's replay source (glance_sim.replay) serves exactly the simulator's pages, from
memory, and hands every other call to the simulator: a faster source, not a different one."""

import threading
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from glance_sim import PartnerSpec, Simulator, create_app, serve_in_thread
from glance_sim.replay import Pages, _Server, make_handler, range_value, windows
from glance_sim.testing import call, completed_params, counts_params

UNTIL = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SINCE = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def servers():
    def sim():
        return Simulator([PartnerSpec(7, "key-7", 400, 10)], now=UNTIL, history_days=60)

    replayed = sim()
    pages = Pages(replayed, SINCE, UNTIL, 31, 500)
    replay = _Server(("127.0.0.1", 0), make_handler(pages, create_app(replayed)))
    thread = threading.Thread(target=replay.serve_forever, daemon=True)
    thread.start()
    live = serve_in_thread(sim())
    endpoint = "/services/activityservice.asmx"
    yield f"http://127.0.0.1:{replay.server_address[1]}{endpoint}", live.url, pages
    replay.shutdown()
    replay.server_close()
    live.stop()


def _walk(url, start, end, key="key-7"):
    """Every page of one window, as a client pages through it."""
    bodies, next_id = [], 0
    while True:
        params = completed_params(range_value(start), range_value(end), 7, key, 500, next_id)
        status, _, body = call(url, "PartnerCompletedSessions", params)
        bodies.append((status, body))
        if status != 200:
            return bodies
        next_id = orjson.loads(body)["d"]["nextId"]
        if not next_id:
            return bodies


def test_every_window_of_the_backfill_is_the_simulators_own_bytes(servers):
    replay_url, live_url, pages = servers
    cut = list(windows(SINCE, UNTIL, 31))
    assert cut[0][0] == SINCE and cut[-1][1] == UNTIL and len(cut) == 2
    sessions = 0
    for start, end in cut:
        replayed = _walk(replay_url, start, end)
        assert replayed == _walk(live_url, start, end)
        sessions += sum(
            len(user["sessions"])
            for _, body in replayed
            for user in orjson.loads(body)["d"]["users"]
        )
    assert sessions == pages.sessions > 400 * 40  # the whole backfill, rendered ahead


def test_a_call_it_did_not_render_goes_to_the_simulator(servers):
    replay_url, live_url, _ = servers
    other = (UNTIL - timedelta(days=3), UNTIL - timedelta(days=1))  # not one of the windows
    assert _walk(replay_url, *other) == _walk(live_url, *other)
    counts = counts_params(range_value(SINCE), range_value(UNTIL), 7, "key-7")
    assert (
        call(replay_url, "PartnerSessionCounts", counts)[2]
        == (call(live_url, "PartnerSessionCounts", counts)[2])
    )


def test_a_wrong_key_is_refused_as_the_simulator_refuses_it(servers):
    replay_url, _, _ = servers
    [(status, body)] = _walk(replay_url, SINCE, SINCE + timedelta(days=31), key="not-the-key")
    assert status == 500
    assert orjson.loads(body)["ExceptionType"] == "System.UnauthorizedAccessException"
