"""The dashboard's numbers from the raw session rows: the reference every rollup answer is held
to (tests/test_rollup_equality.py), the path for filters the rollups cannot serve (a guest search,
an hour of the week), and the partial days at either end of a rollup selection.

Each figure is one query, a GROUP BY where the database can do the grouping. Two figures read
values into Python instead, because that is the faster way: percentiles select in memory with
numpy up to PERCENTILES_IN_MEMORY values (SQLite has no percentile function), and on SQLite the
time buckets are counted from the start times (SQLite's time zone arithmetic is a Python function
called per row). Every function takes a session queryset already scoped by the access helper and
narrowed by the filter.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

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

from sessions_app import codes, waiting
from sessions_app.db import fetch_rows
from sessions_app.figures.kinds import (
    CONNECTED,
    DURATION_BINS,
    AgentFigures,
    Service,
    ServiceCounter,
    Totals,
    nearest_rank,
    outcome_of,
    rank_of,
)
from sessions_app.models import Guest
from sessions_app.rollups import local_time

# Up to this many values, percentiles read the values once and select in memory (a few MB);
# beyond it, each is an ordered offset query, so memory stays bounded.
PERCENTILES_IN_MEMORY = 2_000_000


def plain(qs: QuerySet) -> QuerySet:
    """Without the model's default ordering, which would otherwise join every GROUP BY."""
    return qs.order_by()


def totals(qs: QuerySet) -> Totals:
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


def session_count(qs: QuerySet) -> int:
    return plain(qs).count()


def ended_and_connected(sessions: QuerySet) -> tuple[int, int]:
    """How many of these sessions have ended, and how many of those connected, in one query
    (for the few hours an alert or the wallboard looks at)."""
    counts = sessions.exclude(status__in=codes.LIVE_STATUSES).aggregate(
        ended=Count("pk"), connected=Count("pk", filter=CONNECTED)
    )
    return counts["ended"], counts["connected"]


def percentiles(
    qs: QuerySet, field: str, count: int, fractions: Sequence[float]
) -> list[int | None]:
    """Nearest-rank percentiles of `count` values of a field."""
    if not count:
        return [None for _ in fractions]
    if count > PERCENTILES_IN_MEMORY:
        ordered = plain(qs).order_by(field).values_list(field, flat=True)
        return [ordered[rank_of(fraction, count)] for fraction in fractions]
    # One read and numpy's selection, where each offset query sorted all the values again.
    values = np.array([row[0] for row in fetch_rows(plain(qs).values_list(field))], np.int64)
    return nearest_rank(values, fractions, count)


# --- over time -----------------------------------------------------------------------------


def sessions_over_time(qs: QuerySet, tz: ZoneInfo, bucket: str) -> list[dict]:
    """[{bucket (aware datetime in tz), session_type, n}] in time order."""
    counted = _bucketed_in_python(qs, tz, bucket, "session_type")
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


def weekday_hour(qs: QuerySet, tz: ZoneInfo) -> dict[tuple[int, int], int]:
    """{(ISO weekday 1-7, hour 0-23): n} of session starts in tz."""
    counted = _bucketed_in_python(qs, tz, "weekday_hour", None)
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


def _bucketed_in_python(qs: QuerySet, tz: ZoneInfo, unit: str, field: str | None) -> dict | None:
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


# --- waiting and service level ------------------------------------------------------------


def service(qs: QuerySet, targets: dict[int, waiting.Target]) -> Service:
    counter = ServiceCounter(targets)
    add_service(counter, qs)
    return counter.result()


def add_service(counter: ServiceCounter, qs: QuerySet) -> None:
    """Adds the sessions' waiting figures to `counter`."""
    add_service_grouped({None: counter}, qs, None, counter.targets)


def service_by_team(qs: QuerySet, targets: dict[int, waiting.Target]) -> dict[int | None, Service]:
    counters: dict[int | None, ServiceCounter] = {}
    add_service_by_team(counters, qs, targets)
    return {team: counter.result() for team, counter in counters.items()}


def add_service_by_team(counters: dict, qs: QuerySet, targets: dict[int, waiting.Target]) -> None:
    """Adds the waiting figures of sessions that have an agent, by the agent's team (None: in
    no team)."""
    add_service_grouped(counters, qs.filter(agent__isnull=False), F("agent__team"), targets)


def service_by_group(qs: QuerySet, group, targets: dict[int, waiting.Target]) -> dict:
    """{value of the `group` expression: Service} (the API's aggregates by day, type, …)."""
    counters: dict = {}
    add_service_grouped(counters, qs, group, targets)
    return {key: counter.result() for key, counter in counters.items()}


def add_service_grouped(counters: dict, qs: QuerySet, group, targets) -> None:
    """Adds the sessions' waiting figures to `counters` (one per value of the `group`
    expression, or the one at None where `group` is None), from one GROUP BY (group, partner,
    status, wait): a day's waits are a few dozen distinct seconds."""
    columns = ("partner_id", "status", "wait_seconds")
    if group is None:
        rows = ((None, *row) for row in plain(qs).values_list(*columns).annotate(n=Count("pk")))
    else:
        grouped = plain(qs).annotate(_group=group).values_list("_group", *columns)
        rows = grouped.annotate(n=Count("pk"))
    groups: dict[tuple, list] = {}
    for key, partner_id, status, wait, n in rows:
        entry = groups.setdefault((key, partner_id, status), [0, [], []])
        entry[0] += n
        if wait is not None:
            entry[1].append(wait)
            entry[2].append(n)
    for (key, partner_id, status), (sessions, waits, counts) in groups.items():
        counter = counters.setdefault(key, ServiceCounter(targets))
        counter.add(partner_id, status, sessions, waits, counts)


def service_over_time(
    qs: QuerySet, tz: ZoneInfo, bucket: str, targets: dict[int, waiting.Target]
) -> dict[object, Service]:
    """{bucket key (local_time.pieces' keys): Service} of the offered sessions."""
    counters: dict[object, ServiceCounter] = {}
    add_service_over_time(counters, qs, tz, bucket, targets)
    return {key: counter.result() for key, counter in sorted(counters.items())}


def add_service_over_time(counters: dict, qs: QuerySet, tz: ZoneInfo, bucket: str,
                          targets: dict[int, waiting.Target]) -> None:  # fmt: skip
    offered = plain(qs).filter(status__in=waiting.OFFERED_STATUSES)
    groups: dict[tuple, list] = {}
    rows = fetch_rows(offered.values_list("start_time", "partner_id", "status", "wait_seconds"))
    for start, partner_id, status, wait in rows:
        key = local_time.bucket_of(start, tz, bucket)
        group = groups.setdefault((key, partner_id, status), [0, defaultdict(int)])
        group[0] += 1
        if wait is not None:
            group[1][wait] += 1
    for (key, partner_id, status), (sessions, waits) in groups.items():
        counter = counters.setdefault(key, ServiceCounter(targets))
        counter.add(partner_id, status, sessions, list(waits), list(waits.values()))


# --- outcomes and durations ----------------------------------------------------------------


def outcomes_by_type(qs: QuerySet) -> dict[str, dict[str, int]]:
    """{session_type: {"connected"|"not_connected"|"other": n}}"""
    rows = plain(qs).values("session_type", "status").annotate(n=Count("pk"))
    return outcomes_of_rows((row["session_type"], row["status"], row["n"]) for row in rows)


def outcomes_of_rows(rows: Iterable[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """{session_type: {outcome: n}} of (session_type, status, n) rows: one per (type, status)."""
    result: dict[str, dict[str, int]] = {}
    for session_type, status, n in rows:
        by_outcome = result.setdefault(session_type, {})
        outcome = outcome_of(status)
        by_outcome[outcome] = by_outcome.get(outcome, 0) + n
    return result


def duration_bins(qs: QuerySet) -> list[dict]:
    """[{session_type, bin (index into DURATION_BINS), n}]"""
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


# --- geography -----------------------------------------------------------------------------


def visitor_guests(qs: QuerySet, guest_q: Q | None = None) -> QuerySet:
    """The customer side of the filtered sessions: guests who are not the agent or host."""
    guests = Guest.objects.filter(session__in=plain(qs).values("pk")).exclude(
        guest_type__in=codes.SUBSCRIBER_GUEST_TYPES
    )
    return guests.filter(guest_q) if guest_q is not None else guests


def located_guests(qs: QuerySet, guest_q: Q | None = None) -> QuerySet:
    located = visitor_guests(qs, guest_q).exclude(country_code__isnull=True)
    return located.exclude(country_code="").order_by()  # no ordering columns in a DISTINCT


def located_countries(qs: QuerySet) -> set[str]:
    """The visitors' country codes, upper-cased as the map and the country filter take them."""
    codes_ = located_guests(qs).values_list("country_code", flat=True).distinct()
    return {code.upper() for code in codes_}


# --- agents --------------------------------------------------------------------------------


def agent_figures(qs: QuerySet, by_team: bool = False) -> dict[int | None, AgentFigures]:
    """Every agent's figures, or with `by_team` every team's (None: no agent, or no team)."""
    key = "agent__team" if by_team else "agent"
    rows = (
        plain(qs)
        .values(key)
        .annotate(
            sessions=Count("pk"),
            seconds=Sum("duration"),
            connected=Count("pk", filter=CONNECTED),
            **{f"type_{t}": Count("pk", filter=Q(session_type=t)) for t in codes.SESSION_TYPES},
        )
    )
    medians = agent_medians(qs, by=key)
    waits = agent_medians(qs.filter(wait_seconds__isnull=False), "wait_seconds", by=key)
    return {
        row[key]: AgentFigures(
            sessions=row["sessions"],
            seconds=row["seconds"] or 0,
            connected=row["connected"],
            median=medians.get(row[key]),
            mix={t: row[f"type_{t}"] for t in codes.SESSION_TYPES},
            median_wait=waits.get(row[key]),
        )
        for row in rows
    }


def agent_medians(
    qs: QuerySet, field: str = "duration", by: str = "agent"
) -> dict[int | None, int]:
    """Each agent's (or team's) median of a field by nearest rank (the KPI cards' definition
    too): the row ranked ceil(n / 2) in each partition, found with window functions."""
    ranked = plain(qs).annotate(
        rank=Window(RowNumber(), partition_by=[F(by)], order_by=F(field).asc()),
        size=Window(Count("pk"), partition_by=[F(by)]),
    )
    middle = ranked.filter(rank=(F("size") + 1) / 2)
    return dict(middle.values_list(by, field))
