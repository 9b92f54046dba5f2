"""The dashboard's numbers read from rollup rows (whole UTC days) plus the raw sessions of the
partial days at either end of the period: the same answers as stats.py computes from the raw
sessions alone (tests/test_rollup_equality.py holds them to it), at a cost set by the length of
the period instead of the number of sessions in it.

Each function answers None where rollups cannot give the exact answer (a time zone whose offset
is not whole quarter hours), and stats.py then reads the raw sessions.
"""

from __future__ import annotations

import math
from collections import defaultdict
from functools import cache

import numpy as np
from django.db.models import Count, Sum

from sessions_app import codes, rollup_time, rollups, stats
from sessions_app.selection import Selection


def totals(sel: Selection) -> stats.Totals:
    rows = list(
        sel.rollups.order_by().values_list(
            "status", "sessions", "guests", "durations", "agents", "countries"
        )
    )
    edge = list(stats.plain(sel.edges).values_list("status", "guest_count", "duration", "agent_id"))
    count = sum(row[1] for row in rows) + len(edge)
    connected = sum(row[1] for row in rows if row[0] in codes.CONNECTED_STATUSES)
    connected += sum(1 for row in edge if row[0] in codes.CONNECTED_STATUSES)
    guests = sum(row[2] for row in rows) + sum(row[1] for row in edge)
    agents = {name for row in rows for name, n in row[4].items() if n > 0}
    agents |= {str(row[3]) for row in edge if row[3] is not None}
    countries = {name for row in rows for name, n in row[5].items() if n > 0}
    countries |= set(
        stats.located_guests(sel.edges).values_list("country_code", flat=True).distinct()
    )
    histogram = _sum_arrays((row[3] for row in rows), rollups.BANDS)
    for row in edge:
        histogram[rollups.band_of(row[2])] += 1
    median, p90 = percentiles(histogram, count, sel.sessions, (0.5, 0.9))
    return stats.Totals(
        sessions=count,
        connected=connected,
        guests_per_session=guests / count if count else None,
        agents=len(agents),
        countries=len(countries),
        median_duration=median,
        p90_duration=p90,
    )


def percentiles(histogram: np.ndarray, count: int, sessions, fractions) -> list[int | None]:
    """Nearest-rank percentiles, as stats.percentiles defines them: the band histogram finds
    the band holding each rank, and one query over the sessions in that band (a narrow range of
    the duration index) finds the value."""
    if not count:
        return [None for _ in fractions]
    cumulative = np.cumsum(histogram)
    found = []
    for fraction in fractions:
        rank = max(math.ceil(fraction * count), 1)
        band = int(np.searchsorted(cumulative, rank))
        remaining = rank - (int(cumulative[band - 1]) if band else 0)
        low, high = rollups.band_bounds(band)
        in_band = stats.plain(sessions)
        if low is not None:
            in_band = in_band.filter(duration__gte=low)
        if high is not None:
            in_band = in_band.filter(duration__lt=high)
        counts = in_band.values("duration").annotate(n=Count("pk")).order_by("duration")
        value = None
        for row in counts.values_list("duration", "n"):
            remaining -= row[1]
            if remaining <= 0:
                value = row[0]
                break
        found.append(value)
    return found


def sessions_over_time(sel: Selection, tz, bucket: str) -> list[dict] | None:
    counts: dict[tuple, int] = defaultdict(int)
    by_day_type = _quarters_by(sel, "day", "session_type")
    for (day, kind), quarters in by_day_type.items():
        pieces = rollup_time.pieces(day, tz, bucket)
        if pieces is None:
            return None
        for key, n in _piece_counts(quarters, pieces):
            counts[(key, kind)] += n
    for row in stats.raw_sessions_over_time(sel.edges, tz, bucket):
        counts[(row["bucket"], row["session_type"])] += row["n"]
    return [
        {"bucket": key, "session_type": kind, "n": n}
        for (key, kind), n in sorted(counts.items())
        if n
    ]


def weekday_hour(sel: Selection, tz) -> dict[tuple[int, int], int] | None:
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for (day,), quarters in _quarters_by(sel, "day").items():
        pieces = rollup_time.pieces(day, tz, "weekday_hour")
        if pieces is None:
            return None
        for key, n in _piece_counts(quarters, pieces):
            counts[key] += n
    for key, n in stats.raw_weekday_hour(sel.edges, tz).items():
        counts[key] += n
    return {key: n for key, n in counts.items() if n}


def outcomes_by_type(sel: Selection) -> dict[str, dict[str, int]]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    rows = sel.rollups.order_by().values("session_type", "status").annotate(n=Sum("sessions"))
    for row in rows:
        counts[(row["session_type"], row["status"])] += row["n"]
    edge = stats.plain(sel.edges).values("session_type", "status").annotate(n=Count("pk"))
    for row in edge:
        counts[(row["session_type"], row["status"])] += row["n"]
    result: dict[str, dict[str, int]] = {}
    for (kind, status), n in counts.items():
        by_outcome = result.setdefault(kind, {})
        outcome = stats.outcome_of(status)
        by_outcome[outcome] = by_outcome.get(outcome, 0) + n
    return result


def duration_bins(sel: Selection) -> list[dict]:
    counts: dict[tuple[str, int], int] = defaultdict(int)
    per_type: dict[str, list] = defaultdict(list)
    for kind, blob in sel.rollups.order_by().values_list("session_type", "durations"):
        per_type[kind].append(blob)
    for kind, blobs in per_type.items():
        histogram = _sum_arrays(blobs, rollups.BANDS)
        by_bin = np.bincount(
            _coarse_of_bands(), weights=histogram, minlength=len(stats.DURATION_BINS)
        )
        for coarse, n in enumerate(by_bin):
            counts[(kind, coarse)] += int(n)
    for row in stats.raw_duration_bins(sel.edges):
        counts[(row["session_type"], row["bin"])] += row["n"]
    return [
        {"session_type": kind, "bin": index, "n": n}
        for (kind, index), n in sorted(counts.items())
        if n
    ]


@cache
def _coarse_of_bands() -> np.ndarray:
    """The DURATION_BINS index of every band (band edges include every bin edge)."""
    uppers = [upper for upper, _ in stats.DURATION_BINS if upper is not None]
    out = []
    for band in range(rollups.BANDS):
        low, _ = rollups.band_bounds(band)
        value = low if low is not None else -1
        out.append(next((i for i, upper in enumerate(uppers) if value < upper), len(uppers)))
    return np.array(out)


# --- helpers --------------------------------------------------------------------------------


def _quarters_by(sel: Selection, *fields: str) -> dict[tuple, np.ndarray]:
    """Quarter-hour counts summed over the rollup rows sharing `fields`."""
    grouped: dict[tuple, list] = defaultdict(list)
    for *key, blob in sel.rollups.order_by().values_list(*fields, "quarters"):
        grouped[tuple(key)].append(blob)
    return {key: _sum_arrays(blobs, rollups.QUARTERS) for key, blobs in grouped.items()}


def _sum_arrays(blobs, size: int) -> np.ndarray:
    total = np.zeros(size, np.int64)
    for blob in blobs:
        total += rollups.array_of(blob, size)
    return total


def _piece_counts(quarters: np.ndarray, pieces) -> list[tuple[object, int]]:
    cumulative = np.concatenate(([0], np.cumsum(quarters)))
    return [
        (key, n) for first, end, key in pieces if (n := int(cumulative[end] - cumulative[first]))
    ]
