"""The dashboard's numbers: the one place that chooses where each figure is read from.

Every page, chart, export, report and API answer asks this module. Given a `Selection` whose
filter the rollups can serve, a figure is read from the rollup rows (`from_rollups`: whole UTC
days, plus the raw sessions of the partial days at either end); given anything else (a plain
session queryset, or a selection the rollups cannot serve: a guest search, an hour of the week),
from the raw session rows (`from_sessions`). Where the rollups cannot give the exact answer (a
time zone whose offset is not whole quarter hours) `from_rollups` says None and the raw rows
answer. Both paths build the shapes of `kinds`, and tests/test_rollup_equality.py holds them
equal.
"""

from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from sessions_app import waiting
from sessions_app.figures import from_rollups, from_sessions, scorecards
from sessions_app.figures.filters import Period
from sessions_app.figures.kinds import (
    DURATION_BINS,
    AgentFigures,
    AgentRow,
    Service,
    TeamRow,
    Totals,
    agent_rows,
    outcome_of,
    team_medians,
    team_rows,
)
from sessions_app.figures.places import VisitorPlaces
from sessions_app.figures.selection import Selection, narrowed

__all__ = [
    "DURATION_BINS",
    "AgentFigures",
    "AgentRow",
    "Service",
    "Source",
    "TeamRow",
    "Totals",
    "abandonment_by_hour",
    "agent_scorecard",
    "bucket_for",
    "duration_bins",
    "ended_and_connected",
    "outcome_of",
    "outcomes_by_type",
    "service",
    "service_by_team",
    "service_over_time",
    "session_count",
    "sessions_over_time",
    "team_medians",
    "team_scorecard",
    "totals",
    "visitor_places",
    "weekday_hour",
]

Source = Selection | QuerySet  # a selection of the filter, or sessions already scoped and narrowed


def _rollups_of(source: Source) -> Selection | None:
    """The selection, where the rollups can serve it."""
    if isinstance(source, Selection) and source.uses_rollups:
        return source
    return None


def _sessions_of(source: Source) -> QuerySet:
    return source.sessions if isinstance(source, Selection) else source


def totals(source: Source) -> Totals:
    """The headline figures: sessions, connected, guests per session, agents, countries, and the
    median and 90th-percentile durations."""
    sel = _rollups_of(source)
    if sel is not None:
        return from_rollups.totals(sel)
    return from_sessions.totals(_sessions_of(source))


def session_count(source: Source) -> int:
    """How many sessions: summed from rollups where the selection allows (the session list
    shows it on every page, and a COUNT over a year of sessions takes most of a second)."""
    sel = _rollups_of(source)
    if sel is not None:
        return from_rollups.session_count(sel)
    return from_sessions.session_count(_sessions_of(source))


def ended_and_connected(sessions: QuerySet) -> tuple[int, int]:
    """(ended, connected of those) over raw sessions: the few hours an alert or the wallboard
    looks at are all partial days, which the rollups would not serve."""
    return from_sessions.ended_and_connected(sessions)


def bucket_for(period: Period) -> str:
    """Hours for a day or two, days up to a quarter, weeks beyond."""
    if period.days <= 2:
        return "hour"
    if period.days <= 92:
        return "day"
    return "week"


def sessions_over_time(source: Source, tz: ZoneInfo, bucket: str) -> list[dict]:
    """[{bucket (aware datetime in tz), session_type, n}] in time order."""
    sel = _rollups_of(source)
    if sel is not None:
        rows = from_rollups.sessions_over_time(sel, tz, bucket)
        if rows is not None:
            return rows
    return from_sessions.sessions_over_time(_sessions_of(source), tz, bucket)


def weekday_hour(source: Source, tz: ZoneInfo) -> dict[tuple[int, int], int]:
    """{(ISO weekday 1-7, hour 0-23): n} of session starts in tz."""
    sel = _rollups_of(source)
    if sel is not None:
        cells = from_rollups.weekday_hour(sel, tz)
        if cells is not None:
            return cells
    return from_sessions.weekday_hour(_sessions_of(source), tz)


def service(source: Source, targets: dict[int, waiting.Target]) -> Service:
    """Service level against each partner's target, abandoned rate, and time-to-join
    percentiles (waiting.py defines each)."""
    sel = _rollups_of(source)
    if sel is not None:
        return from_rollups.service(sel, targets)
    return from_sessions.service(_sessions_of(source), targets)


def service_by_team(
    source: Source, targets: dict[int, waiting.Target]
) -> dict[int | None, Service]:
    """{team id (None: agents in no team): Service} of the sessions that have an agent; give a
    selection made with `agents_only=True`, which the agents' own rollup rows serve."""
    sel = _rollups_of(source)
    if sel is not None and sel.by_agent:
        return from_rollups.service_by_team(sel, targets)
    return from_sessions.service_by_team(_sessions_of(source), targets)


def service_over_time(
    source: Source, tz: ZoneInfo, bucket: str, targets: dict[int, waiting.Target]
) -> dict[object, Service]:
    """{bucket start (aware datetime in tz): Service} of the buckets with offered sessions."""
    sel = _rollups_of(source)
    if sel is not None:
        found = from_rollups.service_over_time(sel, tz, bucket, targets)
        if found is not None:
            return found
    return from_sessions.service_over_time(_sessions_of(source), tz, bucket, targets)


def abandonment_by_hour(source: Source, tz: ZoneInfo) -> dict[tuple[int, int], tuple[int, int]]:
    """{(ISO weekday, hour): (abandoned, offered)} in tz: when visitors give up waiting."""
    offered = weekday_hour(_narrowed(source, waiting.OFFERED_STATUSES), tz)
    abandoned = weekday_hour(_narrowed(source, waiting.ABANDONED_STATUSES), tz)
    return {cell: (abandoned.get(cell, 0), n) for cell, n in offered.items()}


def _narrowed(source: Source, statuses: tuple[str, ...]) -> Source:
    if isinstance(source, Selection):
        return narrowed(source, Q(status__in=statuses))
    return source.filter(status__in=statuses)


def outcomes_by_type(source: Source) -> dict[str, dict[str, int]]:
    """{session_type: {"connected"|"not_connected"|"other": n}}"""
    sel = _rollups_of(source)
    if sel is not None:
        return from_rollups.outcomes_by_type(sel)
    return from_sessions.outcomes_by_type(_sessions_of(source))


def duration_bins(source: Source) -> list[dict]:
    """[{session_type, bin (index into DURATION_BINS), n}]"""
    sel = _rollups_of(source)
    if sel is not None:
        return from_rollups.duration_bins(sel)
    return from_sessions.duration_bins(_sessions_of(source))


def agent_scorecard(source: Source) -> list[AgentRow]:
    """Each agent's sessions, handled minutes, median duration, connected rate and mix."""
    sel = _rollups_of(source)
    if sel is not None:
        return agent_rows(scorecards.agent_figures(sel))
    return agent_rows(from_sessions.agent_figures(_sessions_of(source)))


def team_scorecard(source: Source, agents: list[AgentRow]) -> list[TeamRow]:
    """Each team's sessions, handled minutes, median duration, connected rate and median time
    to join; `agents` is the same source's agent scorecard (for each team's working agents)."""
    sel = _rollups_of(source)
    if sel is not None:
        return team_rows(scorecards.agent_figures(sel, by_team=True), agents)
    return team_rows(from_sessions.agent_figures(_sessions_of(source), by_team=True), agents)


def visitor_places(source: Source, guest_q: Q | None = None) -> VisitorPlaces:
    """Where the visitors were, narrowed by the filter's guest-level condition (a filter that has
    one never selects rollups, so the raw guest rows answer it)."""
    sel = _rollups_of(source)
    if sel is not None and guest_q is None:
        return VisitorPlaces.from_rollups(sel)
    return VisitorPlaces.from_sessions(_sessions_of(source), guest_q)
