"""The dashboard's numbers read from rollup rows (whole UTC days) plus the raw sessions of the
partial days at either end of the period: the same answers as from_sessions computes from the
raw sessions alone (tests/test_rollup_equality.py holds them to it), at a cost set by the length of
the period instead of the number of sessions in it.

Each function answers None where rollups cannot give the exact answer (a time zone whose offset
is not whole quarter hours), and the facade (figures/__init__.py) then reads the raw sessions.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import orjson
from django.db import OperationalError, connection
from django.db.models import Count, QuerySet

from sessions_app import codes, waiting
from sessions_app.db import fetch_rows, one_snapshot
from sessions_app.figures import from_sessions as raw
from sessions_app.figures.kinds import (
    DURATION_BINS,
    Service,
    ServiceCounter,
    Totals,
)
from sessions_app.figures.selection import Selection
from sessions_app.models import Agent, Session, SessionRollupMonth
from sessions_app.rollups import local_time, write

DURATION_INDEX = "session_duration_idx"
AGENT_DURATION_INDEX = "session_agent_duration_idx"


def totals(sel: Selection) -> Totals:
    with one_snapshot():  # the rows and the percentiles' bands of one state of the sessions
        return _totals(sel)


def _totals(sel: Selection) -> Totals:
    rows = read_rollups(
        sel, "status", "sessions", "guests", "durations", "agent_ids", "country_codes"
    )
    edge = [
        row
        for part in sel.edges
        for row in raw.plain(part).values_list("status", "guest_count", "duration", "agent_id")
    ]
    count = sum(row[1] for row in rows) + len(edge)
    connected = sum(row[1] for row in rows if row[0] in codes.CONNECTED_STATUSES)
    connected += sum(1 for row in edge if row[0] in codes.CONNECTED_STATUSES)
    guests = sum(row[2] for row in rows) + sum(row[1] for row in edge)
    agent_ids = np.frombuffer(b"".join(bytes(row[4]) for row in rows), np.int64)
    edge_ids = np.array([row[3] for row in edge if row[3] is not None], np.int64)
    agents = len(_distinct(np.concatenate([agent_ids, edge_ids])))
    # Most days repeat the same few country lists: each distinct list is parsed once.
    # Upper-cased, as the map and the country filter take them ("us" is the United States).
    countries = {code.upper() for text in {row[5] for row in rows} for code in orjson.loads(text)}
    for part in sel.edges:
        countries |= raw.located_countries(part)
    histogram = write.sum_sparse([row[3] for row in rows], write.BANDS)
    for row in edge:
        histogram[write.band_of(row[2])] += 1
    index = AGENT_DURATION_INDEX if sel.by_agent else DURATION_INDEX
    median, p90 = percentiles(histogram, count, sel.sessions, (0.5, 0.9), index)
    return Totals(
        sessions=count,
        connected=connected,
        guests_per_session=guests / count if count else None,
        agents=agents,
        countries=len(countries),
        median_duration=median,
        p90_duration=p90,
    )


# Ids up to this are counted in an array as long as the largest (linear); larger ones sorted.
LOOKUP_IDS = 50_000_000


def _distinct(ids: np.ndarray) -> np.ndarray:
    """The distinct ids, ascending: by marking each in an array as long as the largest, where
    np.unique sorts (a year's agent ids are millions of entries)."""
    if not len(ids) or ids.max() > LOOKUP_IDS:
        return np.unique(ids)
    return np.flatnonzero(np.bincount(ids))


def session_count(sel: Selection) -> int:
    counted = sum(row[0] for row in read_rollups(sel, "sessions"))
    return counted + sum(raw.plain(part).count() for part in sel.edges)


def percentiles(
    histogram: np.ndarray,
    count: int,
    sessions: QuerySet,
    fractions: Sequence[float],
    index: str = DURATION_INDEX,
) -> list[int | None]:
    """Nearest-rank percentiles, as from_sessions.percentiles defines them: the band histogram finds
    the band holding each rank, and one query over the sessions in that band (a narrow range of
    a duration index: the partner's, or with agents the agents') finds the value."""
    if not count:
        return [None for _ in fractions]
    cumulative = np.cumsum(histogram)
    found = []
    for fraction in fractions:
        rank = max(math.ceil(fraction * count), 1)
        band = int(np.searchsorted(cumulative, rank))
        remaining = rank - (int(cumulative[band - 1]) if band else 0)
        low, high = write.band_bounds(band)
        in_band = raw.plain(sessions)
        if low is not None:
            in_band = in_band.filter(duration__gte=low)
        if high is not None:
            in_band = in_band.filter(duration__lt=high)
        value = None
        for duration, n in _band_counts(in_band, index):
            remaining -= n
            if remaining <= 0:
                value = duration
                break
        found.append(value)
    return found


def _band_counts(in_band, index: str) -> list[tuple[int, int]]:
    """(duration, sessions) in a band, in order."""
    # COUNT(*), not of the id, which the index does not hold: read from the index alone.
    counts = in_band.values("duration").annotate(n=Count("*")).order_by("duration")
    return indexed_rows(counts.values_list("duration", "n"), index)


def indexed_rows(queryset: QuerySet, index: str) -> list[tuple]:
    """The rows of a query of sessions in duration bands, SQLite told to read `index`: left to
    choose, it walks the whole period by start time, far slower for a long period
    (docs/performance-notes.md)."""
    if connection.vendor != "sqlite":
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    table = connection.ops.quote_name(Session._meta.db_table)
    hinted = sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {index}")
    try:
        with connection.cursor() as cursor:
            cursor.execute(hinted, params)
            return cursor.fetchall()
    except OperationalError:  # a filter shape the index cannot serve: let SQLite choose
        return list(queryset)


def sessions_over_time(sel: Selection, tz: ZoneInfo, bucket: str) -> list[dict] | None:
    counts: dict[tuple, int] = defaultdict(int)
    by_day_type = _quarters_by(sel, "day", "session_type")
    for (day, kind), quarters in by_day_type.items():
        pieces = local_time.pieces(write.day_of(day), tz, bucket)
        if pieces is None:
            return None
        for key, n in _piece_counts(quarters, pieces):
            counts[(key, kind)] += n
    for part in sel.edges:
        for row in raw.sessions_over_time(part, tz, bucket):
            counts[(row["bucket"], row["session_type"])] += row["n"]
    return [
        {"bucket": key, "session_type": kind, "n": n}
        for (key, kind), n in sorted(counts.items())
        if n
    ]


def weekday_hour(sel: Selection, tz: ZoneInfo) -> dict[tuple[int, int], int] | None:
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for (day,), quarters in _quarters_by(sel, "day").items():
        pieces = local_time.pieces(write.day_of(day), tz, "weekday_hour")
        if pieces is None:
            return None
        for key, n in _piece_counts(quarters, pieces):
            counts[key] += n
    for part in sel.edges:
        for key, n in raw.weekday_hour(part, tz).items():
            counts[key] += n
    return {key: n for key, n in counts.items() if n}


def outcomes_by_type(sel: Selection) -> dict[str, dict[str, int]]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for kind, status, n in read_rollups(sel, "session_type", "status", "sessions"):
        counts[(kind, status)] += n
    for part in sel.edges:
        for row in raw.plain(part).values("session_type", "status").annotate(n=Count("pk")):
            counts[(row["session_type"], row["status"])] += row["n"]
    return raw.outcomes_of_rows((kind, status, n) for (kind, status), n in counts.items())


def service(sel: Selection, targets: dict[int, waiting.Target]) -> Service:
    """Each row's waits summed over its quarter hours, plus the edges' sessions."""
    counter = ServiceCounter(targets)
    for partner_id, status, sessions, blob in read_rollups(
        sel, "partner", "status", "sessions", "waits"
    ):
        triples = _waits(blob)
        counter.add(partner_id, status, sessions, triples["wait"], triples["n"])
    for part in sel.edges:
        raw.add_service(counter, part)
    return counter.result()


def service_by_team(
    sel: Selection, targets: dict[int, waiting.Target]
) -> dict[int | None, Service]:
    """From the agents' own rollup rows (`select(…, agents_only=True)`), each agent's rows
    counted in its team; the edges' sessions grouped by team in SQL."""
    rows = read_rollups(sel, "agent", "partner", "status", "sessions", "waits")
    teams = teams_of(np.array([row[0] for row in rows], np.int64)).tolist()
    counters: dict[int | None, ServiceCounter] = {}
    for team, (_, partner_id, status, sessions, blob) in zip(teams, rows, strict=True):
        counter = counters.setdefault(team or None, ServiceCounter(targets))
        triples = _waits(blob)
        counter.add(partner_id, status, sessions, triples["wait"], triples["n"])
    for part in sel.edges:
        raw.add_service_by_team(counters, part, targets)
    return {team: counter.result() for team, counter in counters.items()}


def service_over_time(
    sel: Selection, tz: ZoneInfo, bucket: str, targets: dict[int, waiting.Target]
) -> dict[object, Service] | None:
    """The offered sessions of each local bucket: counted from each row's quarter hours, their
    waits from its (quarter, wait) triples. Every row's quarters and triples are put in their
    bucket at once and summed by (bucket, partner, status), one ServiceCounter.add each: a
    year is some 13,000 rows, whose one add per piece was most of the chart."""
    offered = sel.rollups.filter(status__in=waiting.OFFERED_STATUSES)
    rows = fetch_rows(
        offered.order_by().values_list("day", "partner", "status", "quarters", "waits")
    )
    counters: dict[object, ServiceCounter] = {}
    if rows:
        bucket_of = _bucket_of_quarters([row[0] for row in rows], tz, bucket)
        if bucket_of is None:
            return None
        keys, quarter_bucket = bucket_of
        groups: dict[tuple, int] = {}
        group = np.fromiter(
            (groups.setdefault(row[1:3], len(groups)) for row in rows), np.int64, len(rows)
        )
        width = len(groups)
        cells = quarter_bucket * width + group[:, None]  # each row's quarter → (bucket, group)
        empty = bytes(write.QUARTERS * write.DTYPE.itemsize)
        quarters = np.frombuffer(
            b"".join(bytes(row[3]) if row[3] else empty for row in rows), write.DTYPE
        )
        sessions = counts_by_cell(cells.ravel(), quarters, len(keys) * width)
        blobs = [bytes(row[4]) if row[4] else b"" for row in rows]
        joined, of_row = records_of(blobs, write.WAIT, np.arange(len(rows)))
        wait_cells = cells[of_row, joined["quarter"].astype(np.int64)]
        by_cell = _waits_by_cell(wait_cells, joined["wait"], joined["n"])
        key_list, partners = list(keys), list(groups)
        for cell in np.flatnonzero(sessions).tolist():
            waits, n = by_cell(cell)
            key, (partner_id, status) = key_list[cell // width], partners[cell % width]
            counter = counters.setdefault(key, ServiceCounter(targets))
            counter.add(partner_id, status, int(sessions[cell]), waits, n)
    for part in sel.edges:
        raw.add_service_over_time(counters, part, tz, bucket, targets)
    return {key: counter.result() for key, counter in sorted(counters.items())}


def _bucket_of_quarters(days: list[int], tz: ZoneInfo, bucket: str):
    """({bucket key: index}, each day's 96 quarters' bucket index as a matrix, a row per day);
    None where a day's local pieces cannot be told (local_time.pieces)."""
    keys: dict[object, int] = {}
    by_day: dict[int, np.ndarray] = {}
    for day in set(days):
        found = local_time.pieces(write.day_of(day), tz, bucket)
        if found is None:
            return None
        index = [keys.setdefault(key, len(keys)) for _, _, key in found]
        by_day[day] = np.repeat(index, [end - first for first, end, _ in found])
    return keys, np.stack([by_day[day] for day in days])


def _waits_by_cell(cells: np.ndarray, waits: np.ndarray, n: np.ndarray):
    """A function of a cell giving its (waits, sessions) summed by wait."""
    cells, waits, n = by_cell_and_wait(cells, waits, n, int(cells.max()) + 1 if len(cells) else 0)

    def of_cell(cell):
        first, end = np.searchsorted(cells, [cell, cell + 1])
        return waits[first:end], n[first:end]

    return of_cell


def by_cell_and_wait(cells: np.ndarray, waits: np.ndarray, n: np.ndarray, size: int):
    """(cell, wait, sessions) summed by (cell, wait) for cells below `size`, the nonzero ones in
    that order. Counted in one array of cells × waits where that is small (waits are mostly
    seconds), else sorted: a year's triples are millions at ten million sessions, and a sort of
    them cost more than the chart."""
    if not len(cells):
        return cells, waits, n
    waits = waits.astype(np.int64)
    width = int(waits.max()) + 1
    if size * width <= DENSE_CELLS:
        totals = counts_by_cell(cells * width + waits, n, size * width)
        found = np.flatnonzero(totals)
        return found // width, found % width, totals[found]
    keys, inverse = np.unique(cells << 32 | waits, return_inverse=True)
    totals = counts_by_cell(inverse, n, len(keys))
    kept = totals != 0
    return keys[kept] >> 32, keys[kept] & 0xFFFFFFFF, totals[kept]


DENSE_CELLS = 1 << 22  # 32 MB of float64 counts at the most


def counts_by_cell(cells: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
    """The counts summed by cell, `size` cells (bincount's float sums, rounded back)."""
    return np.rint(np.bincount(cells, weights=counts, minlength=size)).astype(np.int64)


def records_of(blobs: list[bytes], dtype: np.dtype, owner: np.ndarray):
    """Every blob's records in one array, and for each record its blob's `owner` entry."""
    lengths = np.fromiter(map(len, blobs), np.int64, len(blobs)) // dtype.itemsize
    return np.frombuffer(b"".join(blobs), dtype), np.repeat(owner, lengths)


def _waits(blob) -> np.ndarray:
    return np.frombuffer(bytes(blob) if blob else b"", write.WAIT)


def duration_bins(sel: Selection) -> list[dict]:
    counts: dict[tuple[str, int], int] = defaultdict(int)
    per_type: dict[str, list] = defaultdict(list)
    for kind, blob in read_rollups(sel, "session_type", "durations"):
        per_type[kind].append(blob)
    for kind, blobs in per_type.items():
        histogram = write.sum_sparse(blobs, write.BANDS)
        by_bin = np.bincount(_coarse_of_bands(), weights=histogram, minlength=len(DURATION_BINS))
        for coarse, n in enumerate(by_bin):
            counts[(kind, coarse)] += int(n)
    for part in sel.edges:
        for row in raw.duration_bins(part):
            counts[(row["session_type"], row["bin"])] += row["n"]
    return [
        {"session_type": kind, "bin": index, "n": n}
        for (kind, index), n in sorted(counts.items())
        if n
    ]


@cache
def _coarse_of_bands() -> np.ndarray:
    """The DURATION_BINS index of every band (band edges include every bin edge)."""
    uppers = [upper for upper, _ in DURATION_BINS if upper is not None]
    out = []
    for band in range(write.BANDS):
        low, _ = write.band_bounds(band)
        value = low if low is not None else -1
        out.append(next((i for i, upper in enumerate(uppers) if value < upper), len(uppers)))
    return np.array(out)


def teams_of(agents: np.ndarray) -> np.ndarray:
    """Each agent id's team id (NO_AGENT for no agent or no team), by a lookup array."""
    if not len(agents):
        return agents
    distinct = _distinct(agents)
    team_of = dict(Agent.objects.filter(pk__in=distinct.tolist()).values_list("pk", "team_id"))
    lookup = {pk: team_of.get(pk) or write.NO_AGENT for pk in distinct.tolist()}
    keys = np.array(list(lookup), np.int64)
    values = np.array(list(lookup.values()), np.int64)
    return values[np.searchsorted(keys, agents)]


# --- helpers --------------------------------------------------------------------------------


def read_rollups(sel: Selection, *fields: str) -> list[tuple]:
    """The selection's rollup rows as plain tuples (numbers, text and bytes): its month rows and
    remaining day rows in one UNION ALL where the fields are all a month row has (not the day),
    else its day rows."""
    by_month = "day" not in fields and sel.coarse and all(name in MONTH_FIELDS for name in fields)
    return read_parts(sel.coarse if by_month else (sel.rollups,), *fields)


def read_parts(parts: Sequence[QuerySet], *fields: str) -> list[tuple]:
    """The rows of these parts (Selection.coarse or agent_coarse), in one UNION ALL."""
    first, *rest = (part.order_by().values_list(*fields) for part in parts)
    return fetch_rows(first.union(*rest, all=True) if rest else first)


# What a month row has (SessionRollupMonth; AgentRollupMonth adds the agent).
MONTH_FIELDS = {f.name for f in SessionRollupMonth._meta.concrete_fields} | {"agent"}


def _quarters_by(sel: Selection, *fields: str) -> dict[tuple, np.ndarray]:
    """Quarter-hour counts summed over the rollup rows sharing `fields`: all rows' counts as one
    matrix, summed by group in numpy (a dict of lists of each group's rows was a large part of
    a year's chart; docs/performance-notes.md)."""
    rows = read_rollups(sel, *fields, "quarters")
    if not rows:
        return {}
    groups: dict[tuple, int] = {}
    slot = np.fromiter(
        (groups.setdefault(row[:-1], len(groups)) for row in rows), np.int64, len(rows)
    )
    empty = bytes(write.QUARTERS * write.DTYPE.itemsize)
    joined = b"".join(bytes(row[-1]) if row[-1] else empty for row in rows)
    matrix = np.frombuffer(joined, write.DTYPE).reshape(-1, write.QUARTERS)
    order = np.argsort(slot, kind="stable")
    starts = np.searchsorted(slot[order], np.arange(len(groups)))
    sums = np.add.reduceat(matrix[order].astype(np.int64), starts, axis=0)
    return {key: sums[index] for key, index in groups.items()}


def _piece_counts(quarters: np.ndarray, pieces) -> list[tuple[object, int]]:
    cumulative = np.concatenate(([0], np.cumsum(quarters)))
    return [
        (key, n) for first, end, key in pieces if (n := int(cumulative[end] - cumulative[first]))
    ]
