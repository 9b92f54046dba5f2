"""A partner's agents as its admins name and group them: display names and teams. Each change
is written with its audit record in one transaction, and tells cached charts that a team filter
may now select other sessions (the partner's data generation)."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from sessions_app.accounts import audit
from sessions_app.models import Agent, Partner, Team

MAX_NAME = 100


class TeamError(ValueError):
    """A team name that cannot be used, in words for the admin."""


@dataclass(frozen=True)
class AgentChange:
    agent: Agent
    display_name: str
    team: Team | None


def _data_changed(partner: Partner) -> None:
    Partner.objects.filter(pk=partner.pk).update(data_generation=F("data_generation") + 1)


def add_team(partner: Partner, name: str, *, request) -> Team:
    name = " ".join(name.split())
    if not name:
        raise TeamError("A team needs a name.")
    if len(name) > MAX_NAME:
        raise TeamError(f"A team name has at most {MAX_NAME} characters.")
    # Compared here, not by the database's LOWER(), which SQLite applies to ASCII only.
    if name.casefold() in {
        other.casefold() for other in partner.teams.values_list("name", flat=True)
    }:
        raise TeamError(f"{partner.name} has a team called “{name}” already.")
    try:
        with transaction.atomic():
            team = Team.objects.create(partner=partner, name=name)
            audit.record(
                audit.Action.AGENTS_CHANGED,
                f"{partner.name}: team “{name}” added",
                request=request,
                partner=partner,
                team=team.pk,
            )
    except IntegrityError:  # added by someone else a moment ago
        raise TeamError(f"{partner.name} has a team called “{name}” already.") from None
    return team


def remove_team(team: Team, *, request) -> None:
    """Its agents are in no team afterwards; their sessions stay."""
    partner = team.partner
    with transaction.atomic():
        members = team.agents.count()
        team.delete()
        _data_changed(partner)
        audit.record(
            audit.Action.AGENTS_CHANGED,
            f"{partner.name}: team “{team.name}” removed ({members} agents now in no team)",
            request=request,
            partner=partner,
        )


def save_agents(partner: Partner, changes: list[AgentChange], *, request) -> int:
    """Writes the display names and teams that differ from what is stored; returns how many
    agents changed."""
    changed = [
        c
        for c in changes
        if c.agent.partner_id == partner.pk
        and (c.agent.display_name, c.agent.team_id) != (c.display_name, c.team and c.team.pk)
    ]
    if not changed:
        return 0
    with transaction.atomic():
        for c in changed:
            c.agent.display_name = c.display_name
            c.agent.team = c.team
        Agent.objects.bulk_update([c.agent for c in changed], ["display_name", "team"])
        _data_changed(partner)
        audit.record(
            audit.Action.AGENTS_CHANGED,
            f"{partner.name}: {len(changed)} agents renamed or regrouped",
            request=request,
            partner=partner,
            agents=[c.agent.pk for c in changed],
        )
    return len(changed)
