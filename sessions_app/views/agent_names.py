"""A partner's agents, named and grouped into teams by its admins (/partners/<id>/agents/).
The partner is fetched through access.get_partner_for(…, Role.ADMIN), every agent and team
through that partner."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sessions_app.accounts import access
from sessions_app.accounts.agents import AgentChange, TeamError, add_team, remove_team, save_agents
from sessions_app.models import Role

MAX_DISPLAY_NAME = 200


@login_required
def agent_names(request, pk):
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    agents = list(partner.agents.select_related("team").order_by("user_name"))
    teams = list(partner.teams.all())
    if request.method == "POST":
        changes, errors = _changes(request.POST, agents, {str(t.pk): t for t in teams})
        if errors:
            for error in errors:
                messages.error(request, error)
        else:
            n = save_agents(partner, changes, request=request)
            messages.success(request, f"{n} agent{'s' * (n != 1)} saved." if n else "No changes.")
            return redirect("agent_names", pk=partner.pk)
    context = {"partner": partner, "agents": agents, "teams": teams}
    return render(request, "sessions_app/agent_names.html", context)


def _changes(data, agents, teams) -> tuple[list[AgentChange], list[str]]:
    """What the form asks for each agent it names; errors in words, and nothing saved then."""
    changes, errors = [], []
    for agent in agents:
        if f"name-{agent.pk}" not in data:
            continue  # not on the form (a new agent synced since it was opened)
        name = " ".join(data.get(f"name-{agent.pk}", "").split())
        team_id = data.get(f"team-{agent.pk}", "")
        if len(name) > MAX_DISPLAY_NAME:
            errors.append(f"{agent.user_name}: a name has at most {MAX_DISPLAY_NAME} characters.")
        if team_id and team_id not in teams:
            errors.append(f"{agent.user_name}: that team is not one of this partner's.")
            continue
        changes.append(AgentChange(agent, name, teams.get(team_id)))
    return changes, errors


@login_required
@require_POST
def team_add(request, pk):
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    try:
        team = add_team(partner, request.POST.get("name", ""), request=request)
    except TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Team “{team.name}” added: choose its agents below.")
    return redirect("agent_names", pk=partner.pk)


@login_required
@require_POST
def team_remove(request, pk, team_pk):
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    team = get_object_or_404(partner.teams, pk=team_pk)
    remove_team(team, request=request)
    messages.success(request, f"Team “{team.name}” removed; its agents are in no team now.")
    return redirect("agent_names", pk=partner.pk)
