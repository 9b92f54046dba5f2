"""Waiting, written out by hand: the time to join of each of the seed's samples, the sides a
guest's type puts it on, and the service level and abandoned rate of a small known set of
sessions, read from the list, the rollups and a raw computation alike."""

import csv
import html
import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.http import QueryDict
from django.test import RequestFactory

from sessions_app import codes, figures, waiting
from sessions_app.accounts.partners import save_partner
from sessions_app.api import endpoints
from sessions_app.figures import selection
from sessions_app.figures.filters import SessionFilter
from sessions_app.forms import PartnerForm
from sessions_app.glance.records import sessions_from_xml
from sessions_app.models import AlertRule, Membership, Partner, Session
from sessions_app.notify import alerts, wallboard
from tests.factories import guest, record, store
from tests.helpers.seed import FIXTURES, seed_page

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_each_seed_sample_has_the_wait_its_guests_start_times_give(db):
    """Cobrowse XML: the visitor at 22:17:22, the agent at 22:17:51 (29 s). Screen share XML: the
    host at 21:11:42, the guest at 21:12:09 (27 s). JSON video: both guests' types are empty, so
    the sides are unknown. JSON cobrowse: the visitor at 18:34:15, the agent at 18:34:18 (3 s)."""
    partner = Partner.objects.create(name="Seed", glance_partner_id=77)
    records = sessions_from_xml((FIXTURES / "seed_sessions.xml").read_bytes())
    records += seed_page().sessions
    store(partner, *records)
    waits = dict(Session.objects.values_list("glance_id", "wait_seconds"))
    by_type = {r.session_type + r.start_time.isoformat(): waits[r.glance_id] for r in records}
    assert sorted(by_type.items()) == sorted(
        {
            "C2016-02-23T22:17:51+00:00": 29,
            "G2016-02-24T21:12:09+00:00": 27,
            "V2020-02-12T11:41:12+00:00": None,
            "C2020-02-13T18:34:18+00:00": 3,
        }.items()
    )


def at(seconds):
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("guests", "wait"),
    [
        ([("visitor", at(0)), ("agent", at(29))], 29),
        ([("agent", at(0)), ("visitor", at(12))], 12),  # the agent waited: still the gap
        ([("Host", at(5)), (" GUEST ", at(9))], 4),  # types without case or spaces
        ([("visitor", at(0)), ("guest", at(3)), ("agent", at(40))], 40),  # first of each side
        ([("visitor", at(10)), ("agent", at(40)), ("agent", at(20))], 10),  # earliest agent
        ([("", at(0)), ("", at(4))], None),  # the JSON sample: sides unknown
        ([("visitor", at(0))], None),  # nobody came
        ([("visitor", at(0)), ("agent", None)], None),  # the agent's arrival unknown
        ([("visitor", at(0)), ("observer", at(3))], None),  # a type we do not know
        ([("visitor", at(0)), ("agent", at(0))], 0),  # joined in the same second
    ],
)
def test_time_to_join_takes_the_first_arrival_of_each_side(guests, wait):
    assert waiting.time_to_join(guests) == wait


def _session(glance_id, status, wait, *, partner_day=0, types=("visitor", "agent")):
    """A session whose sides arrive `wait` seconds apart (None: only the visitor came)."""
    start = T0 + timedelta(days=partner_day, minutes=glance_id)
    guests = [guest(types[0], start=start - timedelta(seconds=wait or 0))]
    if wait is not None:
        guests.append(guest(types[1], start=start))
    return record(glance_id, start, status=status, guests=guests)


@pytest.fixture
def lead(db):
    """Two partners with different targets; a lead who sees both."""
    fast = Partner.objects.create(
        name="Fast", glance_partner_id=41, service_level_seconds=20, service_level_percent=90
    )
    slow = Partner.objects.create(name="Slow", glance_partner_id=42)  # 80% in 30 s
    store(
        fast,
        _session(1, "C", 5),
        _session(2, "C", 20),  # on the target: in time
        _session(3, "X", 25),  # answered late for Fast
        _session(4, "Q", None),  # gave up: a miss
        _session(5, "C", 8, types=("", "")),  # wait unknown: out of both sides
        _session(6, "E", 3),  # neither answered nor abandoned: not offered
    )
    store(
        slow,
        _session(11, "C", 25, partner_day=1),  # in time for Slow's 30 s
        _session(12, "T", None, partner_day=1),
        _session(13, "C", 31, partner_day=1),
    )
    user = User.objects.create_user("lead")
    for partner in (fast, slow):
        Membership.objects.create(user=user, partner=partner, role="analyst")
    return user


def _selection(user, query=""):
    flt = SessionFilter(
        QueryDict(f"start=2026-03-01&end=2026-03-06&{query}"),
        user=user,
        tz=ZoneInfo("UTC"),
        today=date(2026, 3, 10),
    )
    assert flt.is_valid(), flt.errors
    return selection.select(flt)


def test_service_level_holds_each_partner_to_its_own_target(lead):
    sel = _selection(lead)
    targets = waiting.targets_of(Partner.objects.all())
    for source in (sel, sel.sessions):  # the rollups, and the raw sessions
        service = figures.service(source, targets)
        # Offered: 4 answered + 1 abandoned at Fast, 2 answered + 1 abandoned at Slow.
        assert (service.answered, service.abandoned, service.offered) == (6, 2, 8)
        assert service.unknown == 1  # session 5
        assert service.met == 3  # sessions 1, 2 and 11
        assert service.service_level == pytest.approx(100 * 3 / 7)
        assert service.abandoned_rate == pytest.approx(100 * 2 / 8)
        # Known waits of every outcome: 3, 5, 20, 25, 25, 31 (session 6's 3 s counts here).
        assert service.waited == 6
        assert (service.median_wait, service.p90_wait) == (20, 31)
    assert sel.uses_rollups


def test_service_level_over_time_counts_each_day_by_its_partners_targets(lead):
    sel = _selection(lead)
    targets = waiting.targets_of(Partner.objects.all())
    by_day = figures.service_over_time(sel, ZoneInfo("UTC"), "day", targets)
    raw = figures.service_over_time(sel.sessions, ZoneInfo("UTC"), "day", targets)
    assert [(key.date(), s.met, s.offered - s.unknown) for key, s in by_day.items()] == [
        (date(2026, 3, 2), 2, 4),
        (date(2026, 3, 3), 1, 3),
    ]
    assert {k: (s.met, s.offered, s.unknown) for k, s in raw.items()} == {
        k: (s.met, s.offered, s.unknown) for k, s in by_day.items()
    }


def test_agents_get_their_median_time_to_join(lead):
    sel = _selection(lead, "partner=" + str(Partner.objects.get(name="Fast").pk))
    rows = {row.agent.user_name: row for row in figures.agent_scorecard(sel) if row.agent}
    raw = {row.agent.user_name: row for row in figures.agent_scorecard(sel.sessions) if row.agent}
    # Fast's known waits, all Jane's: 3, 5, 20, 25 → the nearest-rank median is 5.
    assert rows["jane.acme.glance.net"].median_wait == 5
    assert raw["jane.acme.glance.net"].median_wait == 5


def test_abandonment_by_hour_counts_abandoned_of_offered(lead):
    sel = _selection(lead)
    cells = figures.abandonment_by_hour(sel, ZoneInfo("UTC"))
    # Every session starts between 10:00 and 10:13 UTC: Monday and Tuesday at 10.
    assert cells == {(1, 10): (1, 5), (2, 10): (1, 3)}


# --- the same figures on every surface ---------------------------------------------------------

RANGE = "start=2026-03-01&end=2026-03-06"


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


def _listed(client, query):
    body = client.get(f"/sessions/?{RANGE}&{query}").content.decode()
    found = re.search(r"([\d,]+) sessions?\. Times in", body)
    return int(found.group(1).replace(",", "")) if found else 0


def _cards(client, query=""):
    body = client.get(f"/?{RANGE}&{query}").content.decode()
    cards = re.findall(
        r'<div class="kpi-label">(?:<a href="([^"]*)">)?([^<]+)(?:</a>)?</div>\s*'
        r'<div class="kpi-value">([^<]+)</div>',
        body,
    )
    return {label: (html.unescape(link), value) for link, label, value in cards}


def test_the_overview_cards_show_the_waiting_figures_and_open_their_sessions(lead_client):
    fast = Partner.objects.get(name="Fast")
    cards = _cards(lead_client, f"partner={fast.pk}")
    # Fast alone: 2 in time (5 s, 20 s) of 4 counted (1, 2, 3 and the abandoned 4).
    assert cards["Service level"][1] == "50.0%"
    assert cards["Abandoned"][1] == "20.0%"  # 1 of 5 offered
    assert cards["Median time to join"][1] == "5 s"  # Fast's known waits: 3, 5, 20, 25
    link, _ = cards["Service level"]
    assert "max_wait=20" in link and "outcome=connected" in link
    assert _listed(lead_client, link.split("?", 1)[1].replace(RANGE, "")) == 2
    abandoned_link, _ = cards["Abandoned"]
    assert _listed(lead_client, abandoned_link.split("?", 1)[1]) == 1


def test_a_wait_filter_lists_exactly_the_sessions_waiting_that_long(lead_client):
    # Known waits 3, 5, 20, 25, 25, 31: at least 20 s is four sessions, at most 5 s two.
    assert _listed(lead_client, "min_wait=20") == 4
    assert _listed(lead_client, "max_wait=5") == 2
    assert _listed(lead_client, "min_wait=0") == 6  # every known wait, no unknown one
    body = lead_client.get(f"/sessions/?{RANGE}&min_wait=30&max_wait=10").content.decode()
    assert "The longest wait is below the shortest." in body


def test_the_export_and_the_api_say_the_same_of_each_session(lead_client, lead):
    response = lead_client.get(f"/sessions/export.csv?{RANGE}")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = {
        row["session_id"]: (row["time_to_join_s"], row["waiting_outcome"])
        for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
    }
    assert rows == {
        "1": ("5", "answered in time"),
        "2": ("20", "answered in time"),
        "3": ("25", "answered late"),
        "4": ("", "abandoned"),
        "5": ("", "answered, wait unknown"),
        "6": ("3", ""),
        "11": ("25", "answered in time"),  # Slow's target is 30 s
        "12": ("", "abandoned"),
        "13": ("31", "answered late"),
    }
    secret = endpoints.new_token(lead, "script")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    answer = lead_client.get(f"/api/v1/sessions?{RANGE}&limit=100", **auth).json()
    api_rows = {
        str(s["glance_id"]): (
            "" if s["time_to_join"] is None else str(s["time_to_join"]),
            s["waiting_outcome"],
        )
        for s in answer["results"]
    }
    assert api_rows == rows
    by_type = lead_client.get(f"/api/v1/aggregates?{RANGE}&by=type", **auth).json()["rows"]
    (cobrowse,) = by_type
    service = figures.service(
        _selection(lead), waiting.targets_of(Partner.objects.all())
    )  # the overview's figure
    assert cobrowse["service_level"] == round(service.service_level, 2) == round(300 / 7, 2)
    assert cobrowse["abandoned_rate"] == 25.0
    assert (cobrowse["median_time_to_join"], cobrowse["p90_time_to_join"]) == (20, 31)
    assert (cobrowse["answered"], cobrowse["abandoned"], cobrowse["answered_in_time"]) == (6, 2, 3)


def test_the_wallboard_shows_todays_service_level_against_the_target(lead):
    fast = Partner.objects.get(name="Fast")
    board = wallboard.board([fast], ZoneInfo("UTC"), now=T0 + timedelta(hours=2)).as_json()
    assert (board["service_level"], board["service_counted"]) == (50.0, 4)
    assert board["service_target"] == "90% in 20 s"
    assert board["service_state"] == "missed"  # 40 points under, not merely near
    assert (board["abandoned_rate"], board["offered"]) == (20.0, 5)
    assert (board["connected_rate"], board["ended"]) == (66.7, 6)  # 4 C/X of 6 ended (E too)


def test_an_alert_rule_fires_when_the_service_level_is_below_the_target(db):
    partner = Partner.objects.create(name="Alerted", glance_partner_id=51)  # 80% in 30 s
    # Six offered in the last two hours: 4 in time, 1 late, 1 abandoned: 4 of 6 = 66.7%.
    store(
        partner,
        *[_session(i, "C", 10) for i in range(1, 5)],
        _session(5, "C", 45),
        _session(6, "T", None),
    )
    rule = AlertRule(partner=partner, kind=AlertRule.Kind.LOW_SERVICE_LEVEL, hours=2)
    assert str(rule) == "Alerted: service level below the target (80%) over the last 2 h"
    now = T0 + timedelta(hours=1)
    condition = alerts.low_service_level(rule, now)
    assert condition.holds
    assert condition.detail == (
        "service level 66.7% against 80% (4 of 6 joined within 30 s in the last 2 h; 1 abandoned)"
    )
    rule.threshold = 60  # the rule's own floor, below what was met
    assert not alerts.low_service_level(rule, now).holds
    rule.hours = 1  # the window from 10:05 sees sessions 5 and 6 only: too few to judge
    rule.threshold = None
    later = T0 + timedelta(minutes=65)
    assert alerts.low_service_level(rule, later).detail.startswith("2 answered or abandoned")


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (None, "—"),
        (0, "0 s"),
        (45, "45 s"),
        (471, "7 min 51 s"),
        (600, "10 min 00 s"),
        (3660, "1 h 01 min"),
        (3599.6, "1 h 00 min"),  # a median of two: rounded, never "59 min 60 s"
        (90061, "1 d 01 h"),
        (-5, "−5 s"),  # a negative duration Glance sent is shown, not hidden
    ],
)
def test_durations_read_with_their_units(seconds, words):
    assert codes.format_duration(seconds) == words


def test_a_start_time_that_is_a_default_not_an_arrival_gives_no_wait(db):
    """0001-01-01 (a .NET default), 1900 and 1970 (a zero timestamp) against a 2026 arrival:
    no wait, and the sync stores the session instead of failing on it for good."""
    partner = Partner.objects.create(name="Odd", glance_partner_id=52)
    starts = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1900, 1, 1, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        T0 - timedelta(seconds=waiting.MAX_WAIT),
    ]
    store(
        partner,
        *[
            record(i, T0, guests=[guest("visitor", start=start), guest("agent", start=T0)])
            for i, start in enumerate(starts, start=1)
        ],
    )
    waits = dict(Session.objects.filter(partner=partner).values_list("glance_id", "wait_seconds"))
    assert waits == {1: None, 2: None, 3: None, 4: waiting.MAX_WAIT}  # a day is still a wait


def test_too_few_known_waits_give_no_service_level_rather_than_a_false_zero(db, client):
    """A video partner whose guests carry no types (as the seed's JSON sample): 20 answered of
    unknown wait and 2 abandoned would otherwise read 0%."""
    partner = Partner.objects.create(name="Video", glance_partner_id=53)
    store(
        partner,
        *[_session(i, "C", 5, types=("", "")) for i in range(1, 21)],
        _session(21, "T", None),
        _session(22, "Q", None),
    )
    service = figures.service(Session.objects.all(), waiting.targets_of([partner]))
    assert (service.answered, service.unknown, service.abandoned) == (20, 20, 2)
    assert service.service_level is None and service.abandoned_rate == pytest.approx(100 * 2 / 22)
    user = User.objects.create_user("video-lead")
    Membership.objects.create(user=user, partner=partner, role="analyst")
    client.force_login(user)
    body = client.get(f"/?{RANGE}").content.decode()
    card = body.split("Service level</a></div>", 1)[1].split("</div>\n</div>", 1)[0]
    assert "—" in card and "too few known waits (0 of 20 answered)" in card
    rule = AlertRule(partner=partner, kind=AlertRule.Kind.LOW_SERVICE_LEVEL, hours=3)
    condition = alerts.low_service_level(rule, T0 + timedelta(hours=1))
    assert not condition.holds and condition.detail.startswith("too few known waits")


def test_a_new_target_redraws_the_cached_service_level_chart(lead_client):
    fast = Partner.objects.get(name="Fast")
    url = f"/charts/service-level/?{RANGE}&partner={fast.pk}"
    before = lead_client.get(url).json()
    assert before["data"][1]["name"] == "Target: 90% in 20 s"
    form = PartnerForm(
        {
            "name": fast.name, "api_url": fast.api_url, "enabled": "on", "api_key": "k-1",
            "sync_interval_minutes": 15, "service_level_percent": 75,
            "service_level_seconds": 30, "retain_ip_days": 90, "retain_contact_days": 180,
            "retain_sessions_days": 730,
        },
        instance=fast,
    )  # fmt: skip
    assert form.is_valid(), form.errors
    request = RequestFactory().post("/")
    request.user = User.objects.get(username="lead")
    save_partner(form, request=request)
    after = lead_client.get(url).json()
    assert after["data"][1]["name"] == "Target: 75% in 30 s"
    # Fast's day: 3 of 4 joined within 30 s now (5, 20 and 25 s; the abandon a miss).
    assert after["data"][0]["y"] == [75.0]


def test_every_overview_card_opens_what_it_counts(lead_client):
    cards = _cards(lead_client)
    assert all(link for link, _ in cards.values()), cards
    sessions_link, sessions = cards["Sessions"]
    assert _listed(lead_client, sessions_link.split("?", 1)[1]) == int(sessions) == 9
    connected_link, _ = cards["Connected"]
    assert _listed(lead_client, connected_link.split("?", 1)[1]) == 6  # C and X
    assert cards["Active agents"][0].startswith("/agents/?")


def test_the_previous_periods_weekly_line_lands_on_the_weeks_it_is_laid_over(db, client):
    """120 days are drawn by week: the period before is laid over them whole weeks later, so
    each of its Mondays is drawn on a Monday (shifted by 120 days it would land on Tuesdays)."""
    partner = Partner.objects.create(name="Weekly", glance_partner_id=54)
    first = datetime(2025, 11, 3, 12, tzinfo=UTC)
    store(partner, *[record(i, first + timedelta(days=3 * i)) for i in range(90)])
    user = User.objects.create_user("weekly")
    Membership.objects.create(user=user, partner=partner, role="analyst")
    client.force_login(user)
    figure = client.get("/charts/sessions-over-time/?start=2026-04-01&end=2026-07-29").json()
    (overlay,) = [trace for trace in figure["data"] if trace["type"] == "scatter"]
    days = {datetime.fromisoformat(x).date() for x in overlay["x"]}
    assert days and {day.isoweekday() for day in days} == {1}
    bars = {datetime.fromisoformat(x).date() for t in figure["data"] if t["type"] == "bar"
            for x in t["x"]}  # fmt: skip
    assert days <= bars | {day + timedelta(weeks=1) for day in bars}
