"""The ASMX surface over real HTTP: paging, parameters, the service's own faults, XML, counts."""

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from glance_sim import PartnerSpec, Simulator, serve_in_thread
from glance_sim.testing import XML_NS, call, completed_params, counts_params, fetch_pages

NOW = datetime(2026, 3, 18, 15, tzinfo=UTC)
START, END = "2026-03-10T00:00:00Z", "2026-03-17T00:00:00Z"
PCS, PSC = "PartnerCompletedSessions", "PartnerSessionCounts"


@pytest.fixture(scope="module")
def sim():
    return Simulator(
        partners=[
            PartnerSpec(12345, "demo-key", sessions_per_day=300),
            PartnerSpec(777, "other-key", sessions_per_day=50, name="Beta"),
        ],
        seed=1,
        now=NOW,
        max_results=500,
    )


@pytest.fixture(scope="module")
def url(sim):
    server = serve_in_thread(sim)
    yield server.url
    server.stop()


def assert_fault(answer, message, exception_type):
    status, headers, body = answer
    assert (
        status == 500
        and headers["jsonerror"] == "true"
        and headers["content-type"].startswith("application/json")
    )
    assert json.loads(body) == {
        "Message": message,
        "StackTrace": "",
        "ExceptionType": exception_type,
    }


def test_paging_covers_range_exactly_with_users_spanning_pages(sim, url):
    pages = fetch_pages(url, completed_params(START, END, n=300))
    per_page = [sorted(s["id"] for u in d["users"] for s in u["sessions"]) for d in pages]
    ids = [i for page in per_page for i in page]
    truth = list(sim.completed_sessions(12345, START, END))
    assert (
        ids == [s["id"] for s in truth] and len(pages) > 3
    )  # pages in id order, no gaps, no duplicates
    assert all(d["nextId"] == nxt[0] for d, nxt in zip(pages, per_page[1:], strict=False))
    assert all(sum(len(u["sessions"]) for u in d["users"]) == 300 for d in pages[:-1])
    first, second = ({u["partnerUserId"] for u in d["users"]} for d in pages[:2])
    assert first & second
    d = pages[0]
    assert (
        list(d) == ["__type", "nextId", "users"] and d["__type"] == "ActivityService+groupSessions"
    )
    assert list(d["users"][0]) == [
        "__type",
        "userName",
        "partnerUserId",
        "validUser",
        "invalidReason",
        "sessions",
    ]
    served = {s["id"]: s for d in pages for u in d["users"] for s in u["sessions"]}
    assert len(truth) > 97 * 3
    for t in truth[::97]:
        user = t.pop("_user")
        assert served[t["id"]] == t
        owner = next(
            u for d in pages for u in d["users"] if any(s["id"] == t["id"] for s in u["sessions"])
        )
        assert {k: owner[k] for k in user} == user


def test_next_id_resumes_mid_range_and_session_key_filters(sim, url):
    truth = [s["id"] for s in sim.completed_sessions(12345, START, END)]
    d = json.loads(call(url, PCS, completed_params(START, END, n=5, next_id=truth[100]))[2])["d"]
    assert [s["id"] for u in d["users"] for s in u["sessions"]] == truth[100:105] and d[
        "nextId"
    ] == truth[105]
    key = next(s["key"] for s in sim.completed_sessions(12345, START, END) if len(s["key"]) == 10)
    d = json.loads(call(url, PCS, completed_params(START, END, key=key))[2])["d"]
    assert {s["key"] for u in d["users"] for s in u["sessions"]} == {key} and d["nextId"] == 0


@pytest.mark.parametrize("n, expected", [(0, 500), (-3, 500), (10_000, 500), (1, 1), (7, 7)])
def test_n_results_is_clamped(url, n, expected):
    d = json.loads(call(url, PCS, completed_params(START, END, n=n))[2])["d"]
    assert sum(len(u["sessions"]) for u in d["users"]) == expected


def test_range_rules(url):
    ok = call(url, PCS, completed_params("2026-02-01T00:00:00Z", "2026-03-04T00:00:00Z"))
    assert ok[0] == 200  # exactly 31 days is allowed
    too_long = completed_params("2026-02-01T00:00:00Z", "2026-03-04T00:00:01Z")
    assert_fault(
        call(url, PCS, too_long), "The maximum date range is 31 days.", "System.ArgumentException"
    )
    assert_fault(
        call(url, PSC, counts_params("2026-01-01", "2026-03-01")),
        "The maximum date range is 31 days.",
        "System.ArgumentException",
    )
    empty = json.loads(call(url, PCS, completed_params(END, START))[2])
    assert empty == {"d": {"__type": "ActivityService+groupSessions", "nextId": 0, "users": []}}
    assert json.loads(call(url, PSC, counts_params(END, END))[2]) == {"d": []}


def test_bad_key_and_unknown_partner(url):
    for params in (
        completed_params(START, END, api_key="nope"),
        completed_params(START, END, partner_id=999),
        completed_params(START, END, partner_id=777),
    ):
        assert_fault(
            call(url, PCS, params),
            "Invalid partnerId or apiKey.",
            "System.UnauthorizedAccessException",
        )
    status, headers, body = call(url, PSC, counts_params(START, END, api_key="nope"), mode="form")
    assert (status, headers["content-type"]) == (500, "text/plain; charset=utf-8")
    assert body == b"System.UnauthorizedAccessException: Invalid partnerId or apiKey."
    assert (
        call(url, PCS, completed_params(START, END, partner_id=777, api_key="other-key"))[0] == 200
    )


def test_missing_and_malformed_parameters(url):
    params = completed_params(START, END)
    del params["nextId"]
    assert_fault(
        call(url, PCS, params),
        "Invalid web service call, missing value for parameter: 'nextId'.",
        "System.InvalidOperationException",
    )
    params = counts_params(START, END)
    del params["type"]
    status, _, body = call(url, PSC, params, mode="form")
    assert (status, body) == (500, b"System.InvalidOperationException: Missing parameter: type.")
    assert_fault(
        call(url, PCS, completed_params(START, END, partner_id="abc")),
        "Cannot convert abc to System.Int32.",
        "System.ArgumentException",
    )
    assert_fault(
        call(url, PCS, completed_params("yesterday", END)),
        "String was not recognized as a valid DateTime.",
        "System.FormatException",
    )
    # ASMX converts numeric strings
    assert call(url, PCS, completed_params(START, END, partner_id="12345"))[0] == 200


def test_get_and_unknown_operation(url):
    assert_fault(
        call(url, PCS, {}, method="GET"),
        "An attempt was made to call the method 'PartnerCompletedSessions' using a GET request, "
        "which is not allowed.",
        "System.InvalidOperationException",
    )
    assert_fault(
        call(url, "PartnerActiveSessions", {}),
        "Request format is unrecognized for URL unexpectedly ending in '/PartnerActiveSessions'.",
        "System.InvalidOperationException",
    )


@pytest.mark.parametrize(
    "start, end",
    [
        ("2026-03-10", "2026-03-17"),  # date only = Eastern midnight
        ("2026-03-10T00:00:00", "2026-03-17T00:00:00.000"),  # no zone = Eastern
        (
            "2026-03-10T00:00:00-4:00",
            "2026-03-17T00:00:00-04:00",
        ),  # EDT offsets, one- or two-digit hour
        ("2026-03-10T04:00:00Z", "2026-03-17T04:00:00.0000000Z"),
    ],
)
def test_date_forms_mean_the_same_instant(sim, url, start, end):
    d = json.loads(call(url, PSC, counts_params(start, end))[2])["d"]
    assert [{k: v for k, v in c.items() if k != "__type"} for c in d] == sim.session_counts(
        12345, "2026-03-10T04:00:00Z", "2026-03-17T04:00:00Z"
    )


def test_form_post_answers_seed_xml(sim, url):
    status, headers, body = call(url, PCS, completed_params(START, END, n=40), mode="form")
    assert status == 200 and headers["content-type"].startswith("text/xml")
    root = ET.fromstring(body)
    assert root.tag == "{http://www.glancenetworks.com/services}groupSessions"
    sessions = root.findall("g:users/g:userSessions/g:sessions/g:session", XML_NS)
    assert len(sessions) == 40 and int(root.find("g:nextId", XML_NS).text) > 0
    names = {c.tag.split("}")[1] for s in sessions for c in s}
    assert names == {
        "id",
        "type",
        "status",
        "startTime",
        "key",
        "width",
        "height",
        "duration",
        "kbytes",
        "isReverse",
        "guests",
    }
    guest_tags = {c.tag.split("}")[1] for g in root.iter(f"{{{XML_NS['g']}}}guest") for c in g}
    assert (
        {
            "type",
            "status",
            "startTime",
            "duration",
            "kbytes",
            "ip",
            "clientVersion",
            "protocolVersion",
            "location",
        }
        <= guest_tags
        <= {
            "type",
            "status",
            "startTime",
            "duration",
            "kbytes",
            "ip",
            "clientVersion",
            "protocolVersion",
            "location",
            "name",
            "email",
            "phone",
            "error",
        }
    )
    truth = list(sim.completed_sessions(12345, START, END))[:40]
    assert sorted(int(s.find("g:id", XML_NS).text) for s in sessions) == [t["id"] for t in truth]
    status, _, body = call(url, PSC, counts_params(START, END), mode="form")
    root = ET.fromstring(body)
    assert root.tag == "{http://www.glancenetworks.com/services}ArrayOfSessionCount"
    counts = [{c.tag.split("}")[1]: c.text for c in item} for item in root]
    assert counts == [
        {k: str(v) for k, v in c.items()} for c in sim.session_counts(12345, START, END)
    ]


def test_counts_equal_completed_listing(url):
    pages = fetch_pages(url, completed_params(START, END))
    groups = {}
    for s in (s for d in pages for u in d["users"] for s in u["sessions"]):
        groups.setdefault((s["type"], s["status"]), []).append(s["duration"])
    d = json.loads(call(url, PSC, counts_params(START, END))[2])["d"]
    assert d == [
        {
            "__type": "ActivityService+sessionCount",
            "type": t,
            "status": st,
            "count": len(v),
            "averageDuration": int(sum(v) / len(v) + 0.5),
        }
        for (t, st), v in sorted(groups.items())
    ]
    only_v = json.loads(call(url, PSC, counts_params(START, END, type="V"))[2])["d"]
    assert only_v == [c for c in d if c["type"] == "V"]


def test_request_log_records_calls(sim, url):
    before = len(sim.request_log)
    call(url, PSC, counts_params(START, END), mode="form")
    rec = sim.request_log[before]
    assert (rec.operation, rec.status, rec.content_type) == (
        PSC,
        200,
        "application/x-www-form-urlencoded",
    )
    assert rec.params["apiKey"] == "demo-key"
