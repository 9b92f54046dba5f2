"""Agents by name and team: the name made from a Glance user name until an admin gives one,
teams formed by a partner's admins (audited, and only of that partner's agents), the `team=`
filter on the pages, exports and API, and the team scorecard beside the agents'."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.http import QueryDict

from sessions_app import figures, waiting
from sessions_app.api import endpoints
from sessions_app.figures import selection
from sessions_app.figures.filters import SessionFilter
from sessions_app.models import Agent, AuditEvent, Membership, Partner, Team
from sessions_app.models.sessions import name_from_user_name
from sessions_app.notify import wallboard
from tests.factories import guest, record, store

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
RANGE = "start=2026-03-01&end=2026-03-06"


@pytest.mark.parametrize(
    ("user_name", "name"),
    [
        ("grace.nelson.acme.glance.net", "Grace Nelson"),
        ("agent2.company.glance.net", "Agent2"),  # the seed's user names
        ("Mary-Ann.o.ACME.GLANCE.NET", "Mary Ann O"),
        ("g_nelson@acme.com", "G Nelson"),
        ("desk 7", "desk 7"),  # nothing to go on: as it is
    ],
)
def test_an_agent_is_called_by_a_name_made_from_the_glance_user_name(user_name, name):
    assert name_from_user_name(user_name) == name


def _session(glance_id, agent, wait):
    start = T0 + timedelta(minutes=glance_id)
    guests = [guest("visitor", start=start - timedelta(seconds=wait)), guest("agent", start=start)]
    return record(glance_id, start, agent=agent, guests=guests)


@pytest.fixture
def centre(db, client):
    """Acme: Grace and Omar in Tier 1 (waits 10, 20, 30 s), Lee in no team (5 s); the lead is
    Acme's admin. Other Co's agent sits in the same tables."""
    acme = Partner.objects.create(name="Acme", glance_partner_id=61)
    other = Partner.objects.create(name="Other Co", glance_partner_id=62)
    store(
        acme,
        _session(1, "grace.nelson.acme.glance.net", 10),
        _session(2, "grace.nelson.acme.glance.net", 30),
        _session(3, "omar.haddad.acme.glance.net", 20),
        _session(4, "lee.chan.acme.glance.net", 5),
    )
    store(other, _session(5, "zed.other.glance.net", 99))
    lead = User.objects.create_user("lead")
    Membership.objects.create(user=lead, partner=acme, role="admin")
    client.force_login(lead)
    page = client.post(f"/partners/{acme.pk}/teams/", {"name": "  Tier   1 "}, follow=True)
    assert "Team “Tier 1” added" in page.content.decode()
    tier1 = Team.objects.get(partner=acme)
    agents = {a.user_name.split(".")[0]: a for a in Agent.objects.filter(partner=acme)}
    form = {f"name-{a.pk}": "" for a in agents.values()}
    form |= {f"team-{a.pk}": "" for a in agents.values()}
    form |= {f"team-{agents['grace'].pk}": tier1.pk, f"team-{agents['omar'].pk}": tier1.pk}
    form[f"name-{agents['omar'].pk}"] = "Omar H."
    client.post(f"/partners/{acme.pk}/agents/", form)
    return acme, other, tier1, agents, client


def test_admins_name_agents_and_form_teams_and_each_change_is_audited(centre):
    acme, _, tier1, _, client = centre
    assert [a.name for a in tier1.agents.order_by("user_name")] == ["Grace Nelson", "Omar H."]
    events = AuditEvent.objects.filter(action="agents_changed").order_by("pk")
    assert [e.summary for e in events] == [
        "Acme: team “Tier 1” added",
        "Acme: 2 agents renamed or regrouped",
    ]
    again = client.post(f"/partners/{acme.pk}/teams/", {"name": "tier 1"}, follow=True)
    assert "Acme has a team called “tier 1” already." in again.content.decode()
    assert Team.objects.count() == 1


def test_another_partners_team_cannot_be_given_to_an_agent(centre):
    acme, other, _, agents, client = centre
    theirs = Team.objects.create(partner=other, name="Theirs")
    grace = agents["grace"]
    page = client.post(
        f"/partners/{acme.pk}/agents/",
        {f"name-{grace.pk}": "", f"team-{grace.pk}": theirs.pk},
        follow=True,
    ).content.decode()
    assert "that team is not one of this partner" in page
    grace.refresh_from_db()
    assert grace.team.name == "Tier 1"  # nothing saved
    assert client.post(f"/partners/{other.pk}/teams/", {"name": "Sneaky"}).status_code == 404


def _listed(client, query):
    body = client.get(f"/sessions/?{RANGE}&{query}").content.decode()
    found = re.search(r"([\d,]+) sessions?\. Times in", body)
    return int(found.group(1).replace(",", "")) if found else 0


def test_the_team_filter_and_scorecard_agree_on_the_teams_sessions(centre):
    _, _, tier1, _, client = centre
    assert _listed(client, f"team={tier1.pk}") == 3
    body = client.get(f"/agents/?{RANGE}").content.decode()
    teams = body.split('<table class="grid scorecard teams">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*(.*?)</tr>", teams, re.S)
    cells = {
        re.sub("<[^>]+>", "", name).strip(): re.findall(r'<td class="num">([^<]*)</td>', rest)
        for name, rest in rows
    }
    # Tier 1: 2 agents, 3 sessions, median wait 20 s; no team: Lee, 1 session of 5 s.
    assert cells["Tier 1"][0:2] == ["2", "3"] and cells["Tier 1"][-1] == "20 s"
    assert cells["no team"][0:2] == ["1", "1"] and cells["no team"][-1] == "5 s"
    assert (
        f'href="/sessions/?{RANGE}&amp;team={tier1.pk}"'
        in teams.replace("start=2026-03-01&amp;end=2026-03-06", RANGE)
        or f"team={tier1.pk}" in teams
    )
    csv = client.get(f"/sessions/export.csv?{RANGE}&team={tier1.pk}")
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert text.count("\n") == 1 + 3


def test_an_unknown_team_is_named_as_a_team_in_the_error(centre):
    *_, client = centre
    body = client.get(f"/sessions/?{RANGE}&team=99999").content.decode()
    assert "There is no team 99999 that you can see." in body


def test_another_partners_real_team_is_no_filter_of_yours(centre):
    *_, client = centre
    theirs = Team.objects.create(partner=Partner.objects.get(name="Other Co"), name="Theirs")
    body = client.get(f"/sessions/?{RANGE}&team={theirs.pk}").content.decode()
    assert f"There is no team {theirs.pk} that you can see." in body
    assert "Theirs" not in body  # not among the picker's suggestions either


def test_team_names_differ_by_more_than_case_in_any_script(centre):
    acme, _, _, _, client = centre
    client.post(f"/partners/{acme.pk}/teams/", {"name": "Équipe"})
    again = client.post(f"/partners/{acme.pk}/teams/", {"name": "éQUIPE"}, follow=True)
    assert "Acme has a team called “éQUIPE” already." in again.content.decode()
    assert sorted(acme.teams.values_list("name", flat=True)) == ["Tier 1", "Équipe"]


def test_the_wallboard_api_and_exports_name_agents_as_the_pages_do(centre):
    acme, _, tier1, agents, client = centre
    board = wallboard.board([acme], ZoneInfo("UTC"), now=T0 + timedelta(hours=1)).as_json()
    assert board["top_agents"] == [
        {"agent": "Grace Nelson", "sessions": 2},
        {"agent": "Lee Chan", "sessions": 1},
        {"agent": "Omar H.", "sessions": 1},
    ]
    response = client.get(f"/sessions/export.csv?{RANGE}&agent={agents['omar'].pk}")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert (row["agent"], row["agent_name"], row["team"]) == (
        "omar.haddad.acme.glance.net", "Omar H.", "Tier 1",
    )  # fmt: skip
    lead = User.objects.get(username="lead")
    secret = endpoints.new_token(lead, "script")[1]
    answer = client.get(
        f"/api/v1/sessions?{RANGE}&team={tier1.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}"
    ).json()
    assert {(s["agent_name"], s["team"]) for s in answer["results"]} == {
        ("Grace Nelson", "Tier 1"), ("Omar H.", "Tier 1"),
    }  # fmt: skip


def test_the_overview_says_which_team_was_slowest_to_join(centre):
    """Tier 1 (Grace 10 s and 30 s, Omar 20 s: median 20 s) before the agents in no team (Lee,
    5 s); the rollups and the raw sessions agree."""
    acme, _, tier1, _, client = centre
    body = client.get(f"/?{RANGE}").content.decode()
    table = body.split('<section class="card team-waits">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>(.*?)</tr>", table, re.S)
    cells = [
        (re.sub("<[^>]+>", "", name).strip(), re.findall(r'class="num">([^<]*)<', rest))
        for name, rest in rows
    ]
    assert cells == [
        ("Tier 1", ["3", "100.0%", "20 s", "30 s", "0.0%"]),  # 10, 20 and 30 s: within 30 s
        ("in no team", ["1", "100.0%", "5 s", "5 s", "0.0%"]),
    ]
    user = User.objects.get(username="lead")
    flt = SessionFilter(QueryDict(RANGE), user=user, tz=ZoneInfo("UTC"))
    sel = selection.select(flt, agents_only=True)
    assert sel.uses_rollups and sel.by_agent
    targets = waiting.targets_of([acme])
    summed = figures.service_by_team(sel, targets)
    counted = figures.service_by_team(sel.sessions, targets)
    assert (
        {k: (s.met, s.offered, s.median_wait) for k, s in summed.items()}
        == {k: (s.met, s.offered, s.median_wait) for k, s in counted.items()}
        == {tier1.pk: (3, 3, 20), None: (1, 1, 5)}
    )


def test_an_agent_and_a_team_picked_together_show_both(centre):
    _, _, tier1, agents, client = centre
    assert _listed(client, f"team={tier1.pk}&agent={agents['lee'].pk}") == 4  # 3 and Lee's 1


def test_removing_a_chip_keeps_the_lists_order(centre):
    _, _, tier1, _, client = centre
    body = client.get(f"/sessions/?{RANGE}&team={tier1.pk}&sort=-duration").content.decode()
    chip = re.search(r'class="chip-remove" href="\?([^"]+)"', body).group(1)
    assert "team=" not in chip and "sort=-duration" in chip.replace("&amp;", "&")
