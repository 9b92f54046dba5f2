"""Generated data: determinism, shape, realism, ids, the ended-only rule, versions, memory."""

import os
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from glance_sim import PartnerSpec, Simulator
from glance_sim.dates import parse_date

NOW = datetime(2026, 3, 18, 15, tzinfo=UTC)  # a Wednesday
WEEK = (NOW - timedelta(days=7), NOW)
SESSION_KEYS = [
    "__type",
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
    "_user",
]
GUEST_KEYS = [
    "type",
    "status",
    "startTime",
    "duration",
    "kbytes",
    "ip",
    "location",
    "name",
    "email",
    "phone",
]


def make(seed=1, **kw):
    return Simulator(
        partners=[PartnerSpec(12345, "demo-key", sessions_per_day=300, agents=25, name="Acme")],
        seed=seed,
        now=kw.pop("now", NOW),
        **kw,
    )


def ts(s):
    return parse_date(s).timestamp()


@pytest.fixture(scope="module")
def week():
    return list(make().completed_sessions(12345, *WEEK))


def test_same_seed_same_data_other_seed_differs(week):
    assert list(make().completed_sessions(12345, *WEEK)) == week
    other = list(make(seed=2).completed_sessions(12345, *WEEK))
    assert [s["id"] for s in other] != [s["id"] for s in week] or other != week


def test_shape_matches_seed(week):
    s = week[0]
    assert list(s) == SESSION_KEYS and s["__type"] == "ActivityService+session"
    assert list(s["guests"][0]) == GUEST_KEYS and "__type" not in s["guests"][0]
    assert list(s["_user"]) == ["userName", "partnerUserId", "validUser", "invalidReason"]
    assert isinstance(s["key"], str) and s["startTime"].endswith("Z") and len(s["startTime"]) == 20


def test_volume_mix_and_rules(week):
    assert 1500 < len(week) < 2700  # ~300/day average over a week
    types = Counter(s["type"] for s in week)
    assert 0.45 < types["C"] / len(week) < 0.65 and 0.2 < types["G"] / len(week) < 0.4
    statuses = Counter(s["status"] for s in week)
    assert set(statuses) <= set("CXQTDEKU") and statuses["C"] > len(week) / 2
    assert 0.06 < statuses["X"] / len(week) < 0.2
    for s in week:
        start, guests = ts(s["startTime"]), s["guests"]
        assert s["duration"] > 0 and all(0 < g["duration"] <= s["duration"] for g in guests)
        assert all(abs(ts(g["startTime"]) - start) <= 60 for g in guests)
        assert len(guests) >= 2 if s["status"] in "CX" else len(guests) >= 1
        if s["status"] in "QT":
            assert len(guests) == 1 and 60 <= s["duration"] <= 300
        if s["type"] == "C":
            assert (s["width"], s["height"]) == (0, 0) and not s["isReverse"]
            assert {g["type"] for g in guests} <= {"agent", "visitor", "guest", ""}
        else:
            assert s["width"] > 0 and {g["type"] for g in guests} <= {"host", "guest", ""}
        if s["type"] == "V":
            assert (s["width"], s["height"]) in {
                (160, 120),
                (176, 144),
                (320, 240),
                (352, 288),
                (640, 360),
                (640, 480),
                (704, 576),
            }


def test_guests_and_agents_look_real(week):
    guests = [g for s in week for g in s["guests"]]
    assert sum(g["location"] is None for g in guests) > 0
    assert any(
        g["location"] and g["location"]["city"] is None and g["location"]["countryCode"]
        for g in guests
    )
    assert any(":" in g["ip"] for g in guests) and any(
        g["name"] and not g["name"].isascii() for g in guests
    )
    visitors = [g for g in guests if g["type"] == "visitor"]
    assert 0.15 < sum(g["name"] is not None for g in visitors) / len(visitors) < 0.45
    users = Counter(s["_user"]["partnerUserId"] for s in week)
    assert len(users) > 15 and max(users.values()) > 3 * min(
        users.values()
    )  # some agents far busier
    assert all(u.endswith(".acme.glance.net") for u in {s["_user"]["userName"] for s in week})
    agents = make().partners[12345].users
    assert [u["validUser"] for u in agents].count(False) == 1
    assert {u["invalidReason"] for u in agents} == {None, "User deleted"}


def test_weekdays_busier_than_weekend_and_nights(week):
    local = [datetime.fromtimestamp(ts(s["startTime"]), ZoneInfo("America/New_York")) for s in week]
    weekend = sum(d.weekday() >= 5 for d in local)
    night = sum(d.hour < 6 for d in local)
    assert weekend < len(week) * 0.12 and night < len(week) * 0.05


@pytest.mark.parametrize("sessions_per_day, per_window", [(24, 48), (8, 16)])
def test_a_steady_partner_holds_as_many_sessions_in_any_two_days(sessions_per_day, per_window):
    spec = PartnerSpec(1, "k", sessions_per_day=sessions_per_day, steady=True)
    sim = Simulator(partners=[spec], now=NOW + timedelta(days=10), history_days=30)
    sizes = set()
    for hours in range(0, 24 * 7, 5):  # every weekday, day and night, weekends too
        start = NOW - timedelta(hours=hours)
        sizes.add(len(list(sim.completed_sessions(1, start, start + timedelta(days=2)))))
    assert sizes == {per_window}


def test_ids_unique_increasing_and_name_their_hour(week):
    ids = [s["id"] for s in week]
    assert ids == sorted(set(ids))
    for s in week[::50]:
        hour = (s["id"] - 10_000_000) // 10_000
        assert hour == (int(ts(s["startTime"])) - int(ts("2020-01-01T00:00:00Z"))) // 3600
    far = make(now=datetime(2035, 12, 31, 23, tzinfo=UTC), history_days=2)
    last = list(far.completed_sessions(12345, far.now - timedelta(days=2), far.now))
    assert last and last[-1]["id"] < 2_147_483_647


def test_only_ended_sessions_until_now_and_history_limit():
    sim = make()
    day = (NOW - timedelta(days=1), NOW)
    served = {s["id"] for s in sim.completed_sessions(12345, *day)}
    assert all(
        ts(s["startTime"]) + s["duration"] <= NOW.timestamp()
        for s in sim.completed_sessions(12345, *day)
    )
    active = sim.session_counts(12345, *day, status="A")
    assert active and all(c["averageDuration"] == 0 and c["status"] in "AW" for c in active)
    sim.now = NOW + timedelta(hours=5)  # the live ones end; nothing new started in the old window
    later = {s["id"] for s in sim.completed_sessions(12345, *day)}
    assert served < later and len(later - served) == sum(c["count"] for c in active)
    assert (
        list(
            make(history_days=3).completed_sessions(
                12345, NOW - timedelta(days=10), NOW - timedelta(days=4)
            )
        )
        == []
    )


def test_version_flips_the_mutable_subset():
    sim = make()
    before = {
        s["id"]: s
        for s in sim.completed_sessions(12345, NOW - timedelta(days=3), NOW - timedelta(days=1))
    }
    sim.bump_version()
    after = {
        s["id"]: s
        for s in sim.completed_sessions(12345, NOW - timedelta(days=3), NOW - timedelta(days=1))
    }
    changed = [i for i in before if before[i] != after[i]]
    assert 0.04 < len(changed) / len(before) < 0.16
    for i in changed:
        a, b = before[i], after[i]
        assert (a["status"], b["status"], b["duration"] - a["duration"]) == ("X", "C", 30)
        assert [g["duration"] + 30 for g in a["guests"]] == [g["duration"] for g in b["guests"]]
    sim.bump_version()
    assert {
        s["id"]: s
        for s in sim.completed_sessions(12345, NOW - timedelta(days=3), NOW - timedelta(days=1))
    } == before


def test_counts_match_listing():
    sim = make()
    window = (NOW - timedelta(days=10), NOW)
    grouped = {}
    for s in sim.completed_sessions(12345, *window):
        grouped.setdefault((s["type"], s["status"]), []).append(s["duration"])
    assert len(grouped) > 3
    expected = [
        {"type": t, "status": st, "count": len(d), "averageDuration": int(sum(d) / len(d) + 0.5)}
        for (t, st), d in sorted(grouped.items())
    ]
    assert sim.session_counts(12345, *window) == expected
    assert sim.session_counts(12345, *window, type="G") == [c for c in expected if c["type"] == "G"]


def test_memory_stays_flat_over_a_31_day_window():
    sim = make()
    tracemalloc.start()
    try:
        n = sum(1 for _ in sim.completed_sessions(12345, NOW - timedelta(days=31), NOW))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n > 8000 and peak < 25_000_000


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("GLANCE_SIM_SLOW"), reason="~15 s; set GLANCE_SIM_SLOW=1")
def test_a_million_sessions_stream_lazily():
    sim = Simulator(
        partners=[PartnerSpec(1, "k", sessions_per_day=20000)], seed=3, now=NOW, history_days=60
    )
    n, start, t0 = 0, NOW - timedelta(days=60), time.perf_counter()
    while start < NOW:
        n += sum(1 for _ in sim.completed_sessions(1, start, start + timedelta(days=7)))
        start += timedelta(days=7)
    assert n > 1_000_000, (n, time.perf_counter() - t0)


def test_real_clock_and_optional_json_guest_extras(monkeypatch):
    sim = Simulator(seed=4)  # default partner 12345/demo-key, now = the real clock
    recent = list(sim.completed_sessions(12345, datetime.now(UTC) - timedelta(days=3), time.time()))
    assert recent and all(ts(s["startTime"]) + s["duration"] <= time.time() for s in recent)
    monkeypatch.setattr("glance_sim.defaults.JSON_GUEST_EXTRAS", True)
    guest = next(make(seed=9).completed_sessions(12345, *WEEK))["guests"][0]
    assert list(guest) == [*GUEST_KEYS, "clientVersion", "protocolVersion", "error"]
