"""The dashboard pages: overview, geography, agents, one agent, sync status, and the chart data
they draw. Each page reads the one SessionFilter from the query string and fetches sessions
through the access helper, so pages, charts and exports always agree."""

import hashlib

import orjson
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from sessions_app import codes, figures, timezones, waiting
from sessions_app.accounts import access
from sessions_app.db import one_snapshot
from sessions_app.figures import charts, geo, kpis, selection
from sessions_app.figures.filters import SessionFilter
from sessions_app.http import json_bytes, json_response
from sessions_app.models import Role, Session, SessionRollup, SyncRun, Team
from sessions_app.sync import completeness
from sessions_app.sync.status import sync_status


def session_filter(request) -> SessionFilter:
    return SessionFilter(request.GET, user=request.user, tz=timezones.for_user(request.user))


def page_context(request, flt: SessionFilter, section: str, **extra) -> dict:
    return {
        "filter": flt,
        "section": section,
        "query": flt.query(),
        "download_query": flt.query(),  # what the Download menu exports: what the page shows
        "can_see_pii": flt.pii_partners().exists(),
        "has_partners": flt.fields["partner"].queryset.exists(),
        "export_formats": [("csv", "CSV"), ("xlsx", "Excel"), ("ndjson", "NDJSON")],
        "country_names": geo.country_names(),
        "statuses": list(codes.SESSION_STATUSES.items()),
        **extra,
    }


CHART_CARDS = {
    "overview": [
        ("service-level", "Service level over time, against the target", "wide"),
        ("sessions-over-time", "Sessions over time, by type", "wide"),
        ("outcomes", "Outcome by session type", ""),
        ("durations", "How long sessions lasted", ""),
        ("heatmap", "When sessions start (hour × weekday)", "wide"),
        (
            "abandonment",
            "When visitors give up waiting (abandoned %, hour × weekday; hours of "
            f"{charts.MIN_SESSIONS_PER_CELL} or more sessions)",
            "wide",
        ),
    ],
}


@login_required
@require_GET
def overview(request):
    flt = session_filter(request)
    partners = flt.shown_partners()
    cards = kpis.compared(flt, partners)
    context = page_context(
        request, flt, "overview", kpis=cards.kpis, comparison_gap=cards.gap,
        charts=CHART_CARDS["overview"], teams=team_waits(flt, partners),
        several_partners=len(partners) > 1,
    )  # fmt: skip
    return render(request, "dashboard/overview.html", context)


def team_waits(flt: SessionFilter, partners: list) -> list[tuple]:
    """(team or None, Service, link) of each team shown, the slowest to join first: which team
    is behind, on the overview. Empty where the partners shown have no teams."""
    if not Team.objects.filter(partner__in=partners).exists():
        return []
    by_team = figures.service_by_team(
        selection.select(flt, agents_only=True), waiting.targets_of(partners)
    )
    teams = Team.objects.select_related("partner").in_bulk([pk for pk in by_team if pk])
    rows = [
        (teams.get(pk), service, f"?{flt.query(team=pk)}" if pk else "")
        for pk, service in by_team.items()
        if service.offered
    ]
    # Slowest first; a team with no known wait last, then the agents in no team.
    rows.sort(key=lambda row: (
        row[0] is None, row[1].median_wait is None, -(row[1].median_wait or 0),
    ))  # fmt: skip
    return rows


@login_required
@require_GET
def geography(request):
    flt = session_filter(request)
    places = figures.visitor_places(selection.select(flt), flt.guest_q())
    cards = [
        ("countries", "Visitors by country", "wide map"),
        ("us-states", "United States", "map"),
    ]
    if places.by_region("CA"):
        cards.append(("canada", "Canada", "map"))
    cities = places.top_cities()
    for row in cities:  # each city opens the sessions a visitor from it was in
        row["link"] = flt.drill(country=row["country_code"], region=row["region"] or None,
                                city=row["city"])  # fmt: skip
    context = page_context(
        request, flt, "geography", coverage=places.coverage(), cities=cities, charts=cards
    )
    return render(request, "dashboard/geography.html", context)


AGENT_SORTS = {
    "agent": lambda row: (str(row.agent) if row.agent else "").lower(),
    "sessions": lambda row: row.sessions,
    "minutes": lambda row: row.handled_minutes,
    "median": lambda row: row.median_duration or 0,
    "connected": lambda row: row.connected_rate or 0,
    # An agent with no known wait sorts with the slowest.
    "wait": lambda row: row.median_wait if row.median_wait is not None else float("inf"),
}


@login_required
@require_GET
def agent_list(request):
    flt = session_filter(request)
    sel = selection.select(flt)
    with one_snapshot():  # the teams are sums of the agents' rows, read once
        rows = figures.agent_scorecard(sel)
        teams = figures.team_scorecard(sel, rows)
    teams.sort(key=lambda row: (row.team is None, -row.sessions))
    sort = request.GET.get("sort", "-sessions")
    key = sort.lstrip("-")
    if key not in AGENT_SORTS:
        sort, key = "-sessions", "sessions"
    rows.sort(key=AGENT_SORTS[key], reverse=sort.startswith("-"))
    # Each agent's two links made here, reversing each route once: hundreds of {% url %}
    # tags were a third of the page's time.
    detail = reverse("agent_detail", args=[0]).removesuffix("0/")  # "…/agents/"
    listed = reverse("session_list")
    links = {
        row.agent.pk: (
            f"{detail}{row.agent.pk}/?{flt.query()}",
            f"{listed}?{flt.query(agent=row.agent.pk)}",
        )
        for row in rows
        if row.agent
    }
    team_links = {
        row.team.pk: f"{listed}?{flt.query(team=row.team.pk)}" for row in teams if row.team
    }
    context = page_context(
        request, flt, "agents", rows=rows, team=figures.team_medians(rows), sort=sort,
        links=links, teams=teams, team_links=team_links,
        several_partners=len({row.agent.partner_id for row in rows if row.agent}) > 1,
    )  # fmt: skip
    return render(request, "dashboard/agent_list.html", context)


@login_required
@require_GET
def agent_detail(request, pk):
    agent = get_object_or_404(
        access.agents_for(request.user).select_related("partner", "team"), pk=pk
    )
    flt = session_filter(request)
    # The agent's own rollup rows where the filter allows, as for a filter by agent.
    current = selection.select(flt, agent=agent)
    cards = kpis.compared(flt, [agent.partner], agent=agent)
    recent = current.sessions.select_related("partner").order_by("-start_time")[:20]
    context = page_context(
        request,
        flt,
        "agents",
        agent=agent,
        kpis=cards.kpis,
        comparison_gap=cards.gap,
        recent=recent,
        agent_query=flt.query(agent=agent.pk),
        download_query=flt.query(agent=agent.pk),  # this agent's sessions, not the filter's all
    )
    return render(request, "dashboard/agent_detail.html", context)


@login_required
@require_GET
def sync_overview(request):
    partners = access.partners_for(request.user, Role.ANALYST)
    if not partners.exists():
        raise PermissionDenied("sync status is for analysts and admins")
    coverage = {partner.pk: stored_coverage(partner) for partner in partners}
    failures = (
        SyncRun.objects.filter(partner__in=partners, state=SyncRun.State.FAILED)
        .select_related("partner")
        .order_by("-started_at")[:20]
    )
    badges = completeness.completeness_of(partners)
    rows = [
        (partner, sync_status(partner), coverage.get(partner.pk), badges[partner.pk])
        for partner in partners
    ]
    persisting = [check for badge in badges.values() for check in badge.persisting]
    context = {"rows": rows, "failures": failures, "persisting": persisting, "section": "sync"}
    return render(request, "dashboard/sync.html", context)


def stored_coverage(partner) -> dict:
    """The first and last session stored and how many: two index probes and the rollups' sum,
    not a scan of the partner's sessions (a GROUP BY over a million took seconds)."""
    sessions = Session.objects.filter(partner=partner).order_by("start_time")
    first = sessions.values_list("start_time", flat=True).first()
    last = sessions.reverse().values_list("start_time", flat=True).first()
    if settings.GLANCEDASH_ROLLUPS:
        n = SessionRollup.objects.filter(partner=partner).aggregate(n=Sum("sessions"))["n"]
    else:
        n = sessions.count()
    return {"first": first, "last": last, "n": n or 0}


@login_required
@require_GET
def chart(request, name):
    build = charts.CHARTS.get(name)
    if build is None:
        raise Http404("no such chart")
    flt = session_filter(request)
    if not flt.data_ok:
        errors = "; ".join(" ".join(messages) for messages in flt.errors.values())
        return json_response(charts.Chart(None, f"Fix the filters first: {errors}").as_json())
    key = chart_cache_key(request.user, name, flt)
    body = cache.get(key)
    if body is None:
        result = build(charts.Context(filter=flt, selection=selection.select(flt)))
        body = json_bytes(result.as_json())
        cache.set(key, body, settings.CHART_CACHE_SECONDS)
    return json_response(body)


def chart_cache_key(user, name: str, flt) -> str:
    """Who asks (the partners they see, their role in each, so how guest details are masked),
    which chart, which filter on which dates
    ("last 30 days" moves at midnight) and which data: any write to a partner's sessions bumps
    its generation, so a cached chart is never older than the data it shows."""
    generations = access.data_scope(user)
    period = flt.period
    about = [user.pk, name, flt.tz.key, flt.query(), str(period.first_day), str(period.last_day)]
    digest = hashlib.sha256(orjson.dumps([about, generations])).hexdigest()
    return f"chart:{digest}"
