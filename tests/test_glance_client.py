"""The client's own behaviour over real HTTP: counts, timeouts, unreachable and wrong
endpoints, and an API key that never appears in what it reports."""

import socket
from datetime import timedelta

import pytest

from sessions_app.glance.client import (
    GlanceAuthError,
    GlanceClient,
    GlanceError,
    GlanceUnavailable,
    split_windows,
)
from tests.helpers.glance import PARTNER_ID, PARTNER_KEY, SIM_NOW


def client(glance, key=PARTNER_KEY, url=None):
    return GlanceClient(url or glance.url, PARTNER_ID, key, label="Acme (4242)")


def test_session_counts_match_what_the_service_counts(glance):
    start, end = SIM_NOW - timedelta(days=7), SIM_NOW
    counts = client(glance).session_counts(start, end)
    truth = glance.sim.session_counts(PARTNER_ID, start, end)
    assert [(c.session_type, c.status, c.count, c.average_duration) for c in counts] == [
        (t["type"], t["status"], t["count"], t["averageDuration"]) for t in truth
    ]
    assert sum(c.count for c in counts) > 0


def test_counts_and_listing_agree(glance):
    start, end = SIM_NOW - timedelta(days=3), SIM_NOW
    listed = client(glance).completed_sessions(start, end)
    counted = client(glance).session_counts(start, end)
    assert len(listed) == sum(c.count for c in counted)


def test_a_range_longer_than_31_days_is_fetched_in_windows(glance):
    start = SIM_NOW - timedelta(days=45)
    sessions = client(glance).completed_sessions(start, SIM_NOW)
    assert [s["id"] for s in glance.sim.completed_sessions(PARTNER_ID, start, SIM_NOW)] == [
        s.glance_id for s in sessions
    ]
    assert len({(c.params["startRange"], c.params["endRange"]) for c in glance.calls()}) == 2


def test_a_slow_service_ends_in_a_timeout_message(glance, settings):
    settings.GLANCE_READ_TIMEOUT, settings.GLANCE_MAX_RETRIES = 0.2, 1
    glance.sim.faults.latency = 0.5
    with pytest.raises(GlanceUnavailable, match=r"no answer within 0.2s \(timeout\).*2 tries"):
        client(glance).session_counts(SIM_NOW - timedelta(days=1), SIM_NOW)


def test_an_unreachable_endpoint_is_named():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}/services/activityservice.asmx"
    with pytest.raises(
        GlanceUnavailable, match=f"Acme \\(4242\\) PartnerSessionCounts: cannot connect to {url}"
    ):
        GlanceClient(url, PARTNER_ID, PARTNER_KEY, label="Acme (4242)").session_counts(
            SIM_NOW, SIM_NOW
        )


def test_a_wrong_endpoint_path_fails_at_once_without_retries(glance):
    wrong = glance.url.replace("/services/activityservice.asmx", "/nothing-here")
    with pytest.raises(GlanceError, match="unexpected answer") as failure:
        client(glance, url=wrong).session_counts(SIM_NOW - timedelta(days=1), SIM_NOW)
    assert not isinstance(failure.value, GlanceUnavailable)


def test_a_refused_key_is_an_authentication_error_without_the_key(glance):
    with pytest.raises(GlanceAuthError) as failure:
        client(glance, key="my-secret-wrong-key").session_counts(
            SIM_NOW - timedelta(days=1), SIM_NOW
        )
    assert "my-secret-wrong-key" not in str(failure.value)
    assert "my-secret-wrong-key" not in repr(client(glance, key="my-secret-wrong-key"))
    assert len(glance.calls("PartnerSessionCounts")) == 1


def test_windows_cover_a_range_without_gaps():
    start = SIM_NOW - timedelta(days=100)
    windows = split_windows(start, SIM_NOW, 31)
    assert [w[1] - w[0] for w in windows] == [timedelta(days=31)] * 3 + [timedelta(days=7)]
    assert windows[0][0] == start and windows[-1][1] == SIM_NOW
    assert split_windows(SIM_NOW, SIM_NOW, 31) == []


def test_a_page_is_read_to_its_cursor_first_and_to_its_records_when_asked():
    """The read-ahead thread only needs each page's nextId; the writer reads the records. An
    unusual page (a cursor sent as text) is read whole at once, and a page with a bad record
    reports it, naming where, when its records are asked for."""
    from sessions_app.glance.client import Answer, GlanceBadResponse

    plain = (
        b'{"d":{"nextId":7,"users":[{"userName":"a","sessions":[{"id":1,"type":"C",'
        b'"status":"C","startTime":"2026-01-01T00:00:00Z","duration":5}]}]}}'
    )
    answer = Answer(client_for_tests(), plain)
    assert answer.next_id == 7 and answer._page is None
    assert [s.glance_id for s in answer.page().sessions] == [1]

    unusual = plain.replace(b'"nextId":7', b'"nextId":"8"')
    answer = Answer(client_for_tests(), unusual)
    assert answer.next_id == 8 and answer._page is not None

    bad = plain.replace(b'"startTime":"2026-01-01T00:00:00Z"', b'"startTime":"soon"')
    answer = Answer(client_for_tests(), bad)
    assert answer.next_id == 7
    with pytest.raises(GlanceBadResponse, match=r"sessions\[0\]\.startTime: not a date"):
        answer.page()


def client_for_tests():
    return GlanceClient("https://glance.invalid/services/x.asmx", PARTNER_ID, PARTNER_KEY)
