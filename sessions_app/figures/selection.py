"""What one filter selects, in the two forms the numbers can be read from.

`sessions` is always the raw, filtered sessions of the whole period, and every number can be
computed from it. When the filter only narrows by what rollup rows are keyed on (partner, agent,
type, status and so outcome, and the date range) the period is also split: the whole UTC days
inside it are read from the rollups (the agents' own rows when it names agents), and the partial
UTC days at either end (a local midnight is rarely a UTC one) from the raw sessions, so a year
costs about 365 rollup rows per key and two days of sessions, however many sessions it holds.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from sessions_app.accounts import access
from sessions_app.figures.filters import Period, SessionFilter, people_q
from sessions_app.figures.kinds import outcome_q
from sessions_app.models import Agent
from sessions_app.rollups.write import day_number, day_of, day_start, month_start, next_month

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
    # The same sums as `rollups`, in the fewest rows: the month rows of the whole months inside
    # (those summed since their days last changed) and the day rows of the rest. One UNION ALL
    # reads them (from_rollups.read_rollups) wherever a figure does not need the day.
    coarse: tuple[QuerySet, ...] = ()
    # The same coarse parts of the agents' own rows (AgentRollupMonth, AgentRollup) for the same
    # days and filter: what the agent and team scorecards read. The same as `coarse` when the
    # selection is by agent.
    agent_coarse: tuple[QuerySet, ...] = ()
    # What a figure read once for this selection keeps for the next that needs it (the agents
    # page asks for the agents' figures, then the teams'); a copy made by `replace` starts empty.
    memo: dict = field(default_factory=dict, init=False, compare=False, repr=False)

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
    days = {"day__gte": day_number(first_day), "day__lt": day_number(end_day)}
    stale = scope.stale_months()
    stale_inside = any_stale(stale, first_day, end_day)
    agent_days = narrow(scope.agent_rollups(), flt.values, agent).filter(**days)
    agent_months = narrow(scope.month_rollups(by_agent=True), flt.values, agent)
    agent_coarse = coarse_parts(agent_days, agent_months, stale, first_day, end_day, stale_inside)
    if by_agents:
        rollups, coarse = agent_days, agent_coarse
    else:
        rollups = narrow(scope.rollups(), flt.values).filter(**days)
        months = narrow(scope.month_rollups(), flt.values)
        coarse = coarse_parts(rollups, months, stale, first_day, end_day, stale_inside)
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
    return Selection(
        sessions, period, flt.tz, rollups, edges, first_day, end_day, coarse, agent_coarse
    )


def narrowed(sel: Selection, condition: Q) -> Selection:
    """The selection further narrowed by a condition on what both sessions and rollup rows have
    (status, session_type): every part of it alike."""
    return replace(
        sel,
        sessions=sel.sessions.filter(condition),
        rollups=None if sel.rollups is None else sel.rollups.filter(condition),
        coarse=tuple(part.filter(condition) for part in sel.coarse),
        agent_coarse=tuple(part.filter(condition) for part in sel.agent_coarse),
        edges=tuple(edge.filter(condition) for edge in sel.edges),
    )


def whole_months(first_day: date, end_day: date) -> dict[str, int]:
    """The day-number range of the whole months inside [first_day, end_day) (empty if none)."""
    first_month = first_day if first_day.day == 1 else next_month(first_day)
    end_month = max(month_start(end_day), first_month)
    return {"day__gte": day_number(first_month), "day__lt": day_number(end_month)}


def any_stale(stale: QuerySet, first_day: date, end_day: date) -> bool:
    """Whether any of these stale months lies wholly inside [first_day, end_day). Asked even when
    no whole month lies inside: a page makes the same queries on any date."""
    return stale.filter(**whole_months(first_day, end_day)).exists()


def coarse_parts(days: QuerySet, months: QuerySet, stale: QuerySet, first_day: date,
                 end_day: date, stale_inside: bool) -> tuple[QuerySet, ...]:  # fmt: skip
    """`days` (rows of [first_day, end_day)) as month rows for the whole months inside, where
    summed, and day rows for the rest: the days before the first whole month and after the last,
    and the days of each stale month (StaleRollupMonth) of each partner. `stale_inside`: what
    any_stale answers of the same days (asked once for the several tables a selection reads)."""
    inside = whole_months(first_day, end_day)
    first_month, end_month = day_of(inside["day__gte"]), day_of(inside["day__lt"])
    if first_month >= end_month:
        return (days,)
    months = months.filter(**inside)
    parts = []
    if first_day < first_month:
        parts.append(days.filter(day__lt=inside["day__gte"]))
    if end_month < end_day:
        parts.append(days.filter(day__gte=inside["day__lt"]))
    if stale_inside:  # however many: one correlated test each way, not a part per month
        of_row = stale.model.objects.filter(partner=OuterRef("partner"))
        months = months.exclude(Exists(of_row.filter(day=OuterRef("day"))))
        in_stale = of_row.filter(day__lte=OuterRef("day"), end__gt=OuterRef("day"))
        parts.append(days.filter(**inside).filter(Exists(in_stale)))
    return (months, *parts)


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
