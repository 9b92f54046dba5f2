"""What one filter selects, in the two forms the numbers can be read from.

`sessions` is always the raw, filtered sessions of the whole period, and every number can be
computed from it. When the filter only narrows by what rollup rows are keyed on (partner, agent,
type, status and so outcome, and the date range) the period is also split: the whole UTC days
inside it are read from the rollups (the agents' own rows when it names agents), and the partial
UTC days at either end (a local midnight is rarely a UTC one) from the raw sessions, so a year
costs about 365 rollup rows per key and two days of sessions, however many sessions it holds.
"""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet

from sessions_app.accounts import access
from sessions_app.figures.filters import Period, SessionFilter, people_q
from sessions_app.figures.kinds import outcome_q
from sessions_app.models import Agent
from sessions_app.rollups.write import day_number, day_start

# The filter's parameters a rollup row can answer; any other one set means raw sessions only.
# Agents are answered by the agents' own rows (AgentRollup), the rest by either kind.
ROLLUP_PARAMETERS = {
    "preset", "start", "end", "partner", "type", "status", "outcome", "agent", "team",
}  # fmt: skip


@dataclass(frozen=True)
class Selection:
    sessions: QuerySet  # the raw, filtered sessions of the whole period
    period: Period
    tz: ZoneInfo
    rollups: QuerySet | None = None  # rollup rows of the whole UTC days [first_day, end_day)
    # Raw sessions inside the period before and after those days: two plain ranges, not one OR,
    # which no index serves.
    edges: tuple[QuerySet, QuerySet] = ()
    first_day: date | None = None
    end_day: date | None = None

    @property
    def uses_rollups(self) -> bool:
        return self.rollups is not None

    @property
    def by_agent(self) -> bool:
        """Whether its rollup rows are agents' own (AgentRollup)."""
        return self.rollups is not None and self.rollups.model._meta.model_name == "agentrollup"


def select(
    flt: SessionFilter,
    period: Period | None = None,
    *,
    agent: Agent | None = None,
    agents_only: bool = False,
) -> Selection:
    """The filter's selection for `period` (the filter's own by default), scoped to what its
    user may see; `agent` narrows it to one agent (an agent's own page); `agents_only` to the
    sessions that have an agent, read from the agents' own rollup rows (figures by team)."""
    period = period or flt.period
    scope = access.scope_for(flt.user)
    sessions = flt.filter_qs(scope.sessions(), period)
    if agent is not None:
        sessions = sessions.filter(agent=agent)
    if agents_only:
        sessions = sessions.filter(agent__isnull=False)
    plain = Selection(sessions=sessions, period=period, tz=flt.tz)
    if not settings.GLANCEDASH_ROLLUPS or not rollups_answer(flt):
        return plain
    first_day, end_day = whole_utc_days(period.start, period.end)
    if first_day >= end_day:
        return plain  # no whole UTC day inside: at most two days of sessions, read raw
    by_agents = (
        agents_only or agent is not None or flt.values.get("agent") or flt.values.get("team")
    )
    rows = scope.agent_rollups() if by_agents else scope.rollups()
    rollups = narrow(rows, flt.values, agent).filter(
        day__gte=day_number(first_day), day__lt=day_number(end_day)
    )
    # Each edge filtered afresh, not narrowed from `sessions`: SQLite's index range takes only
    # one upper bound, and from the period's it would scan the whole period.
    edges = tuple(
        flt.filter_qs(scope.sessions(), part)
        for part in (
            replace(period, end=day_start(first_day)),
            replace(period, start=day_start(end_day)),
        )
    )
    if agent is not None:
        edges = tuple(edge.filter(agent=agent) for edge in edges)
    if agents_only:
        edges = tuple(edge.filter(agent__isnull=False) for edge in edges)
    return Selection(sessions, period, flt.tz, rollups, edges, first_day, end_day)


def narrowed(sel: Selection, condition: Q) -> Selection:
    """The selection further narrowed by a condition on what both sessions and rollup rows have
    (status, session_type): every part of it alike."""
    return replace(
        sel,
        sessions=sel.sessions.filter(condition),
        rollups=None if sel.rollups is None else sel.rollups.filter(condition),
        edges=tuple(edge.filter(condition) for edge in sel.edges),
    )


def rollups_answer(flt: SessionFilter) -> bool:
    """Whether every parameter the filter applies is one a rollup row is keyed on (a filter with
    errors applies only the default range)."""
    return {name for name, _ in flt.params()} <= ROLLUP_PARAMETERS


def whole_utc_days(start: datetime, end: datetime) -> tuple[date, date]:
    """[first, end) of the UTC days lying wholly inside [start, end)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first = start.date() if start == day_start(start.date()) else start.date() + timedelta(days=1)
    return first, end.date()


def narrow(rollups: QuerySet, values: dict, agent: Agent | None = None) -> QuerySet:
    """The filter's partner, agents, type, status and outcome, as SessionFilter.filter_qs applies
    them, to rows by partner or (with agents) by agent; `agent` narrows to one more."""
    people = people_q(values)
    if people is not None:
        rollups = rollups.filter(people)
    if agent is not None:
        rollups = rollups.filter(agent=agent)
    if values.get("partner"):
        rollups = rollups.filter(partner__in=values["partner"])
    if values.get("type"):
        rollups = rollups.filter(session_type__in=values["type"])
    if values.get("status"):
        rollups = rollups.filter(status__in=values["status"])
    outcome = outcome_q(values.get("outcome"))
    return rollups if outcome is None else rollups.filter(outcome)
