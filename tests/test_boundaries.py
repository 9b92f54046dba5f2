"""Sessions on the edges of a range: one starting exactly at a range's end instant belongs to the
next day, and one at local midnight on a day the clocks change belongs to that day. Each is
counted once, in the right day, on the overview, in the session list, in the chart, in the CSV
export and through the API, for a user in New York (US summer time began 2026-03-08 and ended
2026-11-01). The expectations are written out by hand from the zone's rules, not read back from
the product."""

import csv
import io
import re
from datetime import datetime

import pytest
from django.contrib.auth.models import User

from sessions_app.api import endpoints
from sessions_app.models import Membership, Partner, Profile
from tests.factories import record, store

ZONE = "America/New_York"
STARTS = {  # glance id: start (UTC), and the New York day it falls on
    1: ("2026-03-07T05:00:00", "2026-03-07"),  # 00:00 EST: the first instant of Mar 7
    2: ("2026-03-08T04:59:59", "2026-03-07"),  # 23:59:59 EST: the last second of Mar 7
    3: ("2026-03-08T05:00:00", "2026-03-08"),  # 00:00 EST on the day the clocks go forward
    4: ("2026-03-09T03:59:59", "2026-03-08"),  # 23:59:59 EDT: that day had 23 hours
    5: ("2026-03-09T04:00:00", "2026-03-09"),  # 00:00 EDT: the end instant of Mar 8
    6: ("2026-11-01T04:00:00", "2026-11-01"),  # 00:00 EDT on the day the clocks go back
    7: ("2026-11-02T04:59:59", "2026-11-01"),  # 23:59:59 EST: that day had 25 hours
    8: ("2026-11-02T05:00:00", "2026-11-02"),  # 00:00 EST: the end instant of Nov 1
}
RANGES = [  # (start, end) inclusive local dates, as the filter takes them
    ("2026-03-07", "2026-03-07"),
    ("2026-03-08", "2026-03-08"),
    ("2026-03-07", "2026-03-08"),
    ("2026-03-09", "2026-03-09"),
    ("2026-11-01", "2026-11-01"),
    ("2026-10-30", "2026-11-01"),
    ("2026-11-02", "2026-11-02"),
]


def expected(first: str, last: str) -> set[int]:
    return {gid for gid, (_, day) in STARTS.items() if first <= day <= last}


@pytest.fixture
def edge(client, db):
    partner = Partner.objects.create(name="Edge Centre", glance_partner_id=777)
    store(partner, *[record(gid, start) for gid, (start, _) in STARTS.items()])
    user = User.objects.create_user("newyork", password="pw-ny-Xy9!")
    Membership.objects.create(user=user, partner=partner, role="analyst")
    Profile.objects.create(user=user, time_zone=ZONE)
    client.force_login(user)
    client.token = endpoints.new_token(user, "edges")[1]
    return client


@pytest.mark.parametrize("first, last", RANGES)
def test_each_page_counts_an_edge_session_once_in_its_own_day(edge, first, last):
    want = expected(first, last)
    dates = f"start={first}&end={last}"
    listed = edge.get(f"/sessions/?{dates}").content.decode()
    rows = re.findall(
        r"<td>(\d{4}-\d\d-\d\d) [\d:]+</td>.*?/sessions/\d+/\">(\d+)</a>", listed, re.S
    )
    assert {int(gid): day for day, gid in rows} == {gid: STARTS[gid][1] for gid in want}
    assert (f"{len(want):,} sessions. Times in" in listed) == bool(want)
    overview = edge.get(f"/?{dates}").content.decode()
    kpi = re.search(r'Sessions(?:</a>)?</div>\s*<div class="kpi-value">([\d,—]+)<', overview).group(
        1
    )
    assert kpi == (f"{len(want):,}" if want else "—")
    figure = edge.get(f"/charts/sessions-over-time/?{dates}").json()
    bars = [trace for trace in figure.get("data", []) if trace["type"] == "bar"]  # not the
    assert sum(sum(trace["y"]) for trace in bars) == len(want)  # previous period's line


@pytest.mark.parametrize("first, last", RANGES)
def test_exports_and_the_api_agree_on_each_edge(edge, first, last):
    want = expected(first, last)
    dates = f"start={first}&end={last}"
    response = edge.get(f"/sessions/export.csv?{dates}")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {int(row["session_id"]): row["start"][:10] for row in rows} == {
        gid: STARTS[gid][1] for gid in want
    }
    auth = {"authorization": f"Bearer {edge.token}"}
    listed = edge.get(f"/api/v1/sessions?{dates}", headers=auth).json()["results"]
    assert {row["glance_id"] for row in listed} == want
    days = edge.get(f"/api/v1/aggregates?by=day&{dates}", headers=auth).json()["rows"]
    by_day = {row["key"]: row["sessions"] for row in days}
    assert by_day == {
        day: sum(1 for _, d in STARTS.values() if d == day)
        for day in {STARTS[gid][1] for gid in want}
    }


def test_each_day_of_the_chart_holds_its_own_sessions(edge):
    figure = edge.get("/charts/sessions-over-time/?start=2026-03-06&end=2026-03-10").json()
    totals = {}
    for trace in figure["data"]:
        if trace["type"] != "bar":  # the previous period's line
            continue
        for x, y in zip(trace["x"], trace["y"], strict=True):
            day = datetime.fromisoformat(x).date().isoformat() if "T" in x else x[:10]
            totals[day] = totals.get(day, 0) + y
    assert {day: n for day, n in totals.items() if n} == {
        "2026-03-07": 2,
        "2026-03-08": 2,
        "2026-03-09": 1,
    }
