"""The dashboard's numbers, each computed in the database (GROUP BY, window functions, ordered
offsets for percentiles), never by looping over sessions in Python: a page costs a fixed number
of queries whatever the data size. Every function takes a session queryset already scoped by the
access helper and narrowed by the filter.
"""

import math
import statistics
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, RowNumber, Trunc

from sessions_app import codes
from sessions_app.db import fetch_rows
from sessions_app.figures import from_rollups
from sessions_app.figures.filters import NOT_CONNECTED_STATUSES, Period
from sessions_app.figures.selection import Selection
from sessions_app.models import Agent, Guest
from sessions_app.rollups import local_time

CONNECTED = Q(status__in=codes.CONNECTED_STATUSES)
SUBSCRIBER_GUEST_TYPES = codes.SUBSCRIBER_GUEST_TYPES

DURATION_BINS = [  # (upper bound in seconds, label); the last bin is open-ended
    (60, "< 1 min"),
    (120, "1–2 min"),
    (300, "2–5 min"),
    (600, "5–10 min"),
    (1200, "10–20 min"),
    (1800, "20–30 min"),
    (3600, "30–60 min"),
    (None, "> 1 hour"),
]


def plain(qs: QuerySet) -> QuerySet:
    """Without the model's default ordering, which would otherwise join every GROUP BY."""
    return qs.order_by()


def _split(source) -> tuple[Selection | None, QuerySet]:
    """(the selection if rollups can serve it, the raw sessions)"""
    if isinstance(source, Selection):
        return (source if source.uses_rollups else None), source.sessions
    return None, source


# --- headline figures ----------------------------------------------------------------------


@dataclass
class Totals:
    sessions: int
    connected: int
    guests_per_session: float | None
    agents: int
    countries: int
    median_duration: int | None
    p90_duration: int | None

    @property
    def connected_rate(self) -> float | None:
        return 100 * self.connected / self.sessions if self.sessions else None


def totals(source) -> Totals:
    """Headline figures of a Selection (rollups where it allows) or of a session queryset."""
    sel, qs = _split(source)
    if sel is not None:
        return from_rollups.totals(sel)
    agg = plain(qs).aggregate(
        sessions=Count("pk"),
        connected=Count("pk", filter=CONNECTED),
        guests=Avg("guest_count"),
        agents=Count("agent", distinct=True),
    )
    median, p90 = percentiles(qs, "duration", agg["sessions"], (0.5, 0.9))
    return Totals(
        sessions=agg["sessions"],
        connected=agg["connected"],
        guests_per_session=agg["guests"],
        agents=agg["agents"],
        countries=len(located_countries(qs)),
        median_duration=median,
        p90_duration=p90,
    )


def ended_and_connected(sessions: QuerySet) -> tuple[int, int]:
    """How many of these sessions have ended, and how many of those connected, in one query
    over raw sessions (for the few hours an alert or the wallboard looks at)."""
    counts = sessions.exclude(status__in=codes.LIVE_STATUSES).aggregate(
        ended=Count("pk"), connected=Count("pk", filter=CONNECTED)
    )
    return counts["ended"], counts["connected"]


def session_count(source) -> int:
    """How many sessions: summed from rollups where the selection allows (the session list
    shows it on every page, and a COUNT over a year of sessions takes most of a second)."""
    sel, qs = _split(source)
    if sel is not None:
        return from_rollups.session_count(sel)
    return plain(qs).count()


# Up to this many values, percentiles read the values once and select in memory (a few MB);
# beyond it, each is an ordered offset query, so memory stays bounded.
PERCENTILES_IN_MEMORY = 2_000_000


def percentiles(qs: QuerySet, field: str, count: int, fractions) -> list[int | None]:
    """Nearest-rank percentiles (SQLite has no percentile function)."""
    if not count:
        return [None for _ in fractions]
    ranks = [max(math.ceil(fraction * count) - 1, 0) for fraction in fractions]
    if count > PERCENTILES_IN_MEMORY:
        ordered = plain(qs).order_by(field).values_list(field, flat=True)
        return [ordered[rank] for rank in ranks]
    # One read and numpy's selection, where each offset query sorted all the values again.
    values = np.array([row[0] for row in fetch_rows(plain(qs).values_list(field))], np.int64)
    return nearest_rank(values, fractions, count)


def nearest_rank(values: np.ndarray, fractions, count: int | None = None) -> list[int | None]:
    """Nearest-rank percentiles of values in memory, by numpy's selection (no full sort). The
    ranks are of `count` values when given (counted before some may have been deleted), kept
    within those there are."""
    if not len(values):
        return [None for _ in fractions]
    n = len(values) if count is None else count
    ranks = [min(max(math.ceil(f * n) - 1, 0), len(values) - 1) for f in fractions]
    chosen = np.partition(values, ranks)
    return [int(chosen[rank]) for rank in ranks]


# --- over time -----------------------------------------------------------------------------


def bucket_for(period: Period) -> str:
    """Hours for a day or two, days up to a quarter, weeks beyond."""
    if period.days <= 2:
        return "hour"
    if period.days <= 92:
        return "day"
    return "week"


def sessions_over_time(source, tz, bucket: str) -> list[dict]:
    """[{bucket (aware datetime in tz), session_type, n}] in time order."""
    sel, qs = _split(source)
    if sel is not None:
        rows = from_rollups.sessions_over_time(sel, tz, bucket)
        if rows is not None:
            return rows
    return raw_sessions_over_time(qs, tz, bucket)


def raw_sessions_over_time(qs: QuerySet, tz, bucket: str) -> list[dict]:
    counted = _count_in_python(qs, tz, bucket, "session_type")
    if counted is not None:
        return [
            {"bucket": key, "session_type": kind, "n": n}
            for (key, kind), n in sorted(counted.items())
        ]
    truncated = Trunc("start_time", bucket, tzinfo=tz)
    return list(
        plain(qs)
        .annotate(bucket=truncated)
        .values("bucket", "session_type")
        .annotate(n=Count("pk"))
        .order_by("bucket", "session_type")
    )


def _count_in_python(qs: QuerySet, tz, unit: str, field: str | None) -> dict | None:
    """On SQLite, time zone arithmetic in SQL is a Python function called per row (Django's
    Trunc and Extract), several times slower than reading the start times and bucketing them
    here, the way rollups are bucketed. PostgreSQL does it natively: None, use SQL. With
    GLANCEDASH_ROLLUPS off everything is the plain GROUP BY (the benchmark's naive baseline, and
    the reference the rollup tests compare with)."""
    if connection.vendor != "sqlite" or not settings.GLANCEDASH_ROLLUPS:
        return None
    columns = ["start_time", field] if field else ["start_time"]
    rows = fetch_rows(plain(qs).values_list(*columns))  # naive UTC datetimes
    if field is None:
        rows = [(row[0], None) for row in rows]
    return local_time.count_by_bucket(rows, tz, unit)


def outcomes_by_type(source) -> dict[str, dict[str, int]]:
    """{session_type: {"connected"|"not_connected"|"other": n}}"""
    sel, qs = _split(source)
    if sel is not None:
        return from_rollups.outcomes_by_type(sel)
    rows = plain(qs).values("session_type", "status").annotate(n=Count("pk"))
    result: dict[str, dict[str, int]] = {}
    for row in rows:  # one row per (type, status): a handful, not one per session
        outcome = outcome_of(row["status"])
        by_outcome = result.setdefault(row["session_type"], {})
        by_outcome[outcome] = by_outcome.get(outcome, 0) + row["n"]
    return result


def outcome_of(status: str) -> str:
    if status in codes.CONNECTED_STATUSES:
        return "connected"
    if status in NOT_CONNECTED_STATUSES:
        return "not_connected"
    return "other"


def duration_bins(source) -> list[dict]:
    """[{session_type, bin (index into DURATION_BINS), n}]"""
    sel, qs = _split(source)
    if sel is not None:
        return from_rollups.duration_bins(sel)
    return raw_duration_bins(qs)


def raw_duration_bins(qs: QuerySet) -> list[dict]:
    whens = [
        When(duration__lt=upper, then=Value(index))
        for index, (upper, _) in enumerate(DURATION_BINS)
        if upper is not None
    ]
    binned = Case(*whens, default=Value(len(DURATION_BINS) - 1), output_field=IntegerField())
    return list(
        plain(qs)
        .annotate(bin=binned)
        .values("session_type", "bin")
        .annotate(n=Count("pk"))
        .order_by("session_type", "bin")
    )


def weekday_hour(source, tz) -> dict[tuple[int, int], int]:
    """{(ISO weekday 1-7, hour 0-23): n} of session starts in tz."""
    sel, qs = _split(source)
    if sel is not None:
        cells = from_rollups.weekday_hour(sel, tz)
        if cells is not None:
            return cells
    return raw_weekday_hour(qs, tz)


def raw_weekday_hour(qs: QuerySet, tz) -> dict[tuple[int, int], int]:
    counted = _count_in_python(qs, tz, "weekday_hour", None)
    if counted is not None:
        return {key: n for (key, _), n in counted.items()}
    rows = (
        plain(qs)
        .annotate(weekday=ExtractIsoWeekDay("start_time", tzinfo=tz))
        .annotate(hour=ExtractHour("start_time", tzinfo=tz))
        .values("weekday", "hour")
        .annotate(n=Count("pk"))
    )
    return {(row["weekday"], row["hour"]): row["n"] for row in rows}


# --- geography -----------------------------------------------------------------------------


def visitor_guests(qs: QuerySet, guest_q: Q | None = None) -> QuerySet:
    """The customer side of the filtered sessions: guests who are not the agent or host."""
    guests = Guest.objects.filter(session__in=plain(qs).values("pk")).exclude(
        guest_type__in=SUBSCRIBER_GUEST_TYPES
    )
    return guests.filter(guest_q) if guest_q is not None else guests


def located_countries(qs: QuerySet) -> set[str]:
    """The visitors' country codes, upper-cased as the map and the country filter take them."""
    codes_ = located_guests(qs).values_list("country_code", flat=True).distinct()
    return {code.upper() for code in codes_}


def located_guests(qs: QuerySet, guest_q: Q | None = None) -> QuerySet:
    located = visitor_guests(qs, guest_q).exclude(country_code__isnull=True)
    return located.exclude(country_code="").order_by()  # no ordering columns in a DISTINCT


# --- agents --------------------------------------------------------------------------------


@dataclass
class AgentRow:
    agent: Agent | None
    sessions: int
    handled_minutes: float
    median_duration: float | None
    connected_rate: float | None
    mix: dict[str, int]


@dataclass
class AgentFigures:
    """One agent's numbers in a selection, before they are put beside the agent's name."""

    sessions: int
    seconds: int
    connected: int
    median: int | None
    mix: dict[str, int]


def agent_scorecard(source) -> list[AgentRow]:
    sel, qs = _split(source)
    figures = from_rollups.agent_figures(sel) if sel else raw_agent_figures(qs)
    agents = Agent.objects.in_bulk([pk for pk in figures if pk])
    return [
        AgentRow(
            agent=agents.get(pk) if pk else None,
            sessions=f.sessions,
            handled_minutes=f.seconds / 60,
            median_duration=f.median,
            connected_rate=100 * f.connected / f.sessions if f.sessions else None,
            mix=f.mix,
        )
        for pk, f in figures.items()
    ]


def raw_agent_figures(qs: QuerySet) -> dict[int | None, AgentFigures]:
    rows = (
        plain(qs)
        .values("agent")
        .annotate(
            sessions=Count("pk"),
            seconds=Sum("duration"),
            connected=Count("pk", filter=CONNECTED),
            **{f"type_{t}": Count("pk", filter=Q(session_type=t)) for t in codes.SESSION_TYPES},
        )
    )
    medians = agent_medians(qs)
    return {
        row["agent"]: AgentFigures(
            sessions=row["sessions"],
            seconds=row["seconds"] or 0,
            connected=row["connected"],
            median=medians.get(row["agent"]),
            mix={t: row[f"type_{t}"] for t in codes.SESSION_TYPES},
        )
        for row in rows
    }


def agent_medians(qs: QuerySet) -> dict[int | None, int]:
    """Each agent's median duration by nearest rank (the KPI cards' definition too): the row
    ranked ceil(n / 2) in each agent's partition, found with window functions."""
    ranked = plain(qs).annotate(
        rank=Window(RowNumber(), partition_by=[F("agent")], order_by=F("duration").asc()),
        size=Window(Count("pk"), partition_by=[F("agent")]),
    )
    middle = ranked.filter(rank=(F("size") + 1) / 2)
    return dict(middle.values_list("agent", "duration"))


def team_medians(rows: list[AgentRow]) -> dict[str, float | None]:
    """The median agent, figure by figure, to set each agent's number beside."""

    def median(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    rows = [r for r in rows if r.agent is not None]  # sessions with no agent are not an agent
    return {
        "sessions": median(r.sessions for r in rows),
        "handled_minutes": median(r.handled_minutes for r in rows),
        "median_duration": median(r.median_duration for r in rows),
        "connected_rate": median(r.connected_rate for r in rows),
    }
