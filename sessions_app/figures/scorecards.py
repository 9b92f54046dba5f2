"""The agent and team scorecards read from the agents' own rollup rows, months where whole: a
cost set by the number of rows (agents × months × types and statuses, plus the days of the
partial months), not by the number of sessions in them.

Each row sums its sessions, handled seconds, duration bands and (wait, count) pairs, so counts,
minutes, connected rates and the mix are sums of rows. A median duration is found as the overall
percentiles find theirs (from_rollups.percentiles): the band histogram of the group's rows gives
the band holding its middle rank, and one query (a UNION ALL with a part per band) reads each
group's sessions in its band only (session_agent_duration_idx: agent, then duration). A median
wait is exact from the rows' (wait, count) pairs. Teams are sums of their agents.

Sessions with no agent have no row of their own: their sums are the partner's rows less the
agents' rows, which every measure here allows (each is a sum).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.db.models import Aggregate, BigIntegerField, BinaryField, Count, Q, QuerySet, Sum
from django.db.models.functions import Cast

from sessions_app import codes
from sessions_app.db import fetch_rows, one_snapshot
from sessions_app.figures import from_rollups
from sessions_app.figures.kinds import AgentFigures
from sessions_app.figures.selection import Selection
from sessions_app.rollups import write

NO_AGENT = write.NO_AGENT  # the group of sessions with no agent (and, by team, of no team)
TYPES = list(codes.SESSION_TYPES)
ROW_FIELDS = ("session_type", "status", "sessions", "seconds", "durations", "waits")


@dataclass
class _Entries:
    """What the figures sum, one entry per rollup row (or edge session)."""

    agent: np.ndarray  # agent id, NO_AGENT for none
    kind: np.ndarray  # index into TYPES; len(TYPES) for a type outside them
    connected: np.ndarray
    sessions: np.ndarray
    seconds: np.ndarray
    # Per entry its (band, n) pairs (write.SPARSE) and (quarter, wait, n) triples (write.WAIT).
    bands: list[bytes]
    waits: list[bytes]

    @classmethod
    def joined(cls, parts: list[_Entries]) -> _Entries:
        return cls(
            **{
                name: [blob for part in parts for blob in getattr(part, name)]
                if name in ("bands", "waits")
                else np.concatenate([getattr(part, name) for part in parts])
                for name in vars(parts[0])
            }
        )


def agent_figures(sel: Selection, by_team: bool = False) -> dict[int | None, AgentFigures]:
    """Every agent's figures (with `by_team`, every team's: each agent counted in its team; None
    for agents in no team and sessions with no agent). The rows and the medians' bands are read
    in one snapshot (the agents page holds one over both scorecards)."""
    with one_snapshot():
        sums = _agent_sums(sel)
        if by_team:
            sums = _team_sums(sums)
        medians = _medians(sel, sums)
    waits = _wait_medians(sums)
    return {
        (int(pk) if pk != NO_AGENT else None): AgentFigures(
            sessions=int(sums.count[i]),
            seconds=int(sums.seconds[i]),
            connected=int(sums.connected[i]),
            median=medians.get(int(pk)),
            mix={t: int(sums.mix[i, column]) for column, t in enumerate(TYPES)},
            median_wait=waits.get(int(pk)),
        )
        for i, pk in enumerate(sums.ids.tolist())
        if sums.count[i] > 0
    }


@dataclass
class _Sums:
    """Each group's sums, a row per group id (ascending): what its figures are made of."""

    ids: np.ndarray  # agent ids (NO_AGENT for none), or by team team ids
    count: np.ndarray
    seconds: np.ndarray
    connected: np.ndarray
    mix: np.ndarray  # sessions per (group, type index)
    histogram: np.ndarray  # sessions per (group, duration band)
    # Sessions per (group, known wait), the nonzero ones sorted by (group, wait): row indexes,
    # waits, counts.
    waits: tuple[np.ndarray, np.ndarray, np.ndarray]
    members: dict[int, set[int]]  # {group id: its agent ids}, whose sessions its medians read


def _agent_sums(sel: Selection) -> _Sums:
    """Every agent's sums, read once per selection (the agents page asks for the agents' figures
    and then the teams', which are sums of these): the agents' rows and each edge session, and
    unless the selection is by agent the partner's rows less the agents' rows for the sessions
    with no agent (subtracted as one total, not row by row)."""
    if "agent sums" in sel.memo:
        return sel.memo["agent sums"]
    agent_rows = _rows(sel.agent_coarse, "agent")
    by_agent = _sums_of(_part([row[0] for row in agent_rows], [row[1:] for row in agent_rows]))
    edge = [
        (agent or NO_AGENT, (kind, status, 1, duration, _one_band(duration), _one_wait(wait)))
        for part in sel.edges
        for kind, status, agent, duration, wait in part.order_by().values_list(
            "session_type", "status", "agent_id", "duration", "wait_seconds"
        )
    ]
    others = [_part([agent for agent, _ in edge], [row for _, row in edge])]
    parts = [by_agent]
    if not sel.by_agent:
        partner_rows = _rows(sel.coarse)
        others.append(_part([NO_AGENT] * len(partner_rows), partner_rows))
        parts.append(_less_as_no_agent(by_agent))
    parts.append(_sums_of(_Entries.joined(others)))
    sums = _regrouped(_concatenated(parts))
    sel.memo["agent sums"] = sums
    return sums


def _sums_of(entries: _Entries) -> _Sums:
    """The entries summed by agent."""
    ids, slot = np.unique(entries.agent, return_inverse=True)
    size = len(ids)

    def summed(values, cells=slot, width=1):
        out = from_rollups.counts_by_cell(cells, values, size * width)
        return out.reshape(size, width) if width > 1 else out

    bands, band_rows = from_rollups.records_of(entries.bands, write.SPARSE, slot)
    waits, wait_rows = from_rollups.records_of(entries.waits, write.WAIT, slot)
    width = len(TYPES) + 1
    cells = band_rows * write.BANDS + bands["band"].astype(np.int64)
    return _Sums(
        ids=ids,
        count=summed(entries.sessions),
        seconds=summed(entries.seconds),
        connected=summed(entries.sessions * entries.connected),
        mix=summed(entries.sessions, slot * width + entries.kind, width),
        histogram=summed(bands["n"], cells, write.BANDS),
        waits=from_rollups.by_cell_and_wait(
            wait_rows, waits["wait"].astype(np.int64), waits["n"].astype(np.int64), size
        ),
        members={int(pk): {int(pk)} for pk in ids.tolist()},
    )


def _less_as_no_agent(sums: _Sums) -> _Sums:
    """All of these sums, negated, as one row of no agent: what the agents' rows take off the
    partner's."""
    rows, waits, n = sums.waits
    one = np.zeros(len(rows), np.int64)
    return _Sums(
        ids=np.array([NO_AGENT], np.int64),
        count=-sums.count.sum(keepdims=True),
        seconds=-sums.seconds.sum(keepdims=True),
        connected=-sums.connected.sum(keepdims=True),
        mix=-sums.mix.sum(axis=0, keepdims=True),
        histogram=-sums.histogram.sum(axis=0, keepdims=True),
        waits=from_rollups.by_cell_and_wait(one, waits, -n, 1),
        members={NO_AGENT: {NO_AGENT}},
    )


def _concatenated(parts: list[_Sums]) -> _Sums:
    """The parts' rows one after another (ids repeat: _regrouped adds them up)."""
    offsets = np.cumsum([0] + [len(part.ids) for part in parts[:-1]])
    members: dict[int, set[int]] = defaultdict(set)
    for part in parts:
        for pk, agents in part.members.items():
            members[pk] |= agents
    return _Sums(
        ids=np.concatenate([part.ids for part in parts]),
        count=np.concatenate([part.count for part in parts]),
        seconds=np.concatenate([part.seconds for part in parts]),
        connected=np.concatenate([part.connected for part in parts]),
        mix=np.concatenate([part.mix for part in parts]),
        histogram=np.concatenate([part.histogram for part in parts]),
        waits=(
            np.concatenate([p.waits[0] + at for p, at in zip(parts, offsets, strict=True)]),
            np.concatenate([part.waits[1] for part in parts]),
            np.concatenate([part.waits[2] for part in parts]),
        ),
        members=dict(members),
    )


def _regrouped(sums: _Sums, keys: np.ndarray | None = None) -> _Sums:
    """The rows added up by `keys` (one per row; by default their ids), a row per distinct key;
    a group's members are its rows' members."""
    keys = sums.ids if keys is None else keys
    ids, slot = np.unique(keys, return_inverse=True)
    size = len(ids)

    def summed(values):
        out = np.zeros((size, *values.shape[1:]), np.int64)
        np.add.at(out, slot, values)
        return out

    rows, waits, n = sums.waits
    members: dict[int, set[int]] = defaultdict(set)
    for pk, key in zip(sums.ids.tolist(), keys.tolist(), strict=True):
        members[key] |= sums.members[pk]
    return _Sums(
        ids=ids,
        count=summed(sums.count),
        seconds=summed(sums.seconds),
        connected=summed(sums.connected),
        mix=summed(sums.mix),
        histogram=summed(sums.histogram),
        waits=from_rollups.by_cell_and_wait(slot[rows], waits, n, size),
        members=dict(members),
    )


def _team_sums(agents: _Sums) -> _Sums:
    """The agents' sums added up by team (NO_AGENT: agents in no team, and no agent)."""
    return _regrouped(agents, from_rollups.teams_of(agents.ids))


# --- reading --------------------------------------------------------------------------------


def _rows(parts: tuple[QuerySet, ...], *prefix: str) -> list[tuple]:
    """The parts' rows as (*prefix, *ROW_FIELDS). PostgreSQL sums them by key first, each
    group's blobs joined end to end (their records stay whole, and the sums below add records
    of one key however many rows they came from): a year of a partner's agents is up to
    hundreds of thousands of rows once the partial months' days are busy, and a few thousand
    keys."""
    if connection.vendor != "postgresql":
        return from_rollups.read_parts(parts, *prefix, *ROW_FIELDS)
    keys = (*prefix, "session_type", "status")
    summed = {
        "n": Cast(Sum("sessions"), BigIntegerField()),
        "s": Cast(Sum("seconds"), BigIntegerField()),
        "d": _Joined("durations"),
        "w": _Joined("waits"),
    }
    grouped = [
        part.order_by().values(*keys).annotate(**summed).values_list(*keys, *summed)
        for part in parts
    ]
    first, *rest = grouped
    return fetch_rows(first.union(*rest, all=True) if rest else first)


class _Joined(Aggregate):
    """PostgreSQL's string_agg of bytea: a group's blobs end to end."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ''::bytea)"
    output_field = BinaryField()


_KIND = {kind: index for index, kind in enumerate(TYPES)}


def _part(agents: list[int], rows: list[tuple]) -> _Entries:
    """Entries of rows of ROW_FIELDS, column by column."""
    return _Entries(
        agent=np.array(agents, np.int64),
        kind=np.array([_KIND.get(row[0], len(TYPES)) for row in rows], np.int64),
        connected=np.array([row[1] in codes.CONNECTED_STATUSES for row in rows], np.int64),
        sessions=np.array([row[2] for row in rows], np.int64),
        seconds=np.array([row[3] for row in rows], np.int64),
        bands=[bytes(row[4]) if row[4] else b"" for row in rows],
        waits=[bytes(row[5]) if row[5] else b"" for row in rows],
    )


def _one_band(duration: int) -> bytes:
    return np.array([(write.band_of(duration), 1)], write.SPARSE).tobytes()


def _one_wait(wait: int | None) -> bytes:
    return b"" if wait is None else np.array([(0, wait, 1)], write.WAIT).tobytes()


# --- medians --------------------------------------------------------------------------------


def _medians(sel: Selection, sums: _Sums) -> dict[int, int]:
    """{group: the duration ranked ceil(n / 2)} (from_sessions.agent_medians' definition): the
    band of that rank from the histogram, then the group's sessions in that band, counted by
    duration, in one query."""
    ids, histogram, count, members = sums.ids, sums.histogram, sums.count, sums.members
    rank = (count + 1) // 2
    below = histogram.cumsum(axis=1)
    band = (below >= rank[:, None]).argmax(axis=1)
    before = np.where(band > 0, below[np.arange(len(ids)), band - 1], 0)
    wanted: dict[int, list[tuple[int, int]]] = defaultdict(list)  # {band: [(group, rank)]}
    for i, pk in enumerate(ids.tolist()):
        if count[i] > 0:
            wanted[int(band[i])].append((pk, int(rank[i] - before[i])))
    counted = _durations_in_bands(
        sel.sessions,
        {b: set().union(*(members[pk] for pk, _ in groups)) for b, groups in wanted.items()},
    )
    found = {}
    for b, groups in wanted.items():
        for pk, remaining in groups:
            counts: dict[int, int] = defaultdict(int)
            for agent in members[pk]:
                for duration, n in counted.get((b, agent), ()):
                    counts[duration] += n
            for duration in sorted(counts):
                remaining -= counts[duration]
                if remaining <= 0:
                    found[pk] = duration
                    break
    return found


def _durations_in_bands(sessions: QuerySet, wanted: dict[int, set[int]]) -> dict[tuple, list]:
    """{(band, agent id or NO_AGENT): [(duration, sessions)]} of each band's agents' sessions in
    that band: one UNION ALL with a part per band, each a few ranges of the (agent, duration)
    index read from the index alone. (One OR of the bands' terms made PostgreSQL OR bitmaps and
    read every matching row from the table.)"""
    parts = []
    for band, agents in sorted(wanted.items()):
        low, high = write.band_bounds(band)
        in_band = Q()
        if low is not None:
            in_band &= Q(duration__gte=low)
        if high is not None:
            in_band &= Q(duration__lt=high)
        named = sorted(agent for agent in agents if agent != NO_AGENT)
        whose = [Q(agent__in=named)] if named else []
        if NO_AGENT in agents:  # a part of its own: an OR of the two is no index range
            whose.append(Q(agent__isnull=True))
        for who in whose:
            counts = sessions.order_by().filter(who & in_band).values("agent", "duration")
            # COUNT(*), not of the id, which the index does not hold: read from the index alone.
            parts.append(counts.annotate(n=Count("*")).values_list("agent", "duration", "n"))
    out: dict[tuple, list] = defaultdict(list)
    for chunk in _chunks(parts):
        query = chunk[0].union(*chunk[1:], all=True) if len(chunk) > 1 else chunk[0]
        for agent, duration, n in from_rollups.indexed_rows(
            query, from_rollups.AGENT_DURATION_INDEX
        ):
            out[(write.band_of(duration), agent or NO_AGENT)].append((duration, n))
    return out


# What one statement may hold: SQLite's compound SELECT takes 500 terms (there are 297 bands,
# and the sessions with no agent are in one group, so at most 298 parts), and a stock SQLite
# 32,766 parameters, which each part's filter repeats (the user's partners among them).
MAX_PARTS = 400
MAX_PARAMETERS = 30_000


def _chunks(parts: list[QuerySet]) -> list[list[QuerySet]]:
    """The parts in runs that each fit in one statement."""
    chunks: list[list[QuerySet]] = []
    size = MAX_PARAMETERS
    for part in parts:
        n = len(part.query.sql_with_params()[1])
        if size + n > MAX_PARAMETERS or len(chunks[-1]) >= MAX_PARTS:
            chunks.append([])
            size = 0
        chunks[-1].append(part)
        size += n
    return chunks


def _wait_medians(sums: _Sums) -> dict[int, int]:
    """{group: the wait ranked ceil(n / 2) of its sessions with a known wait}, from its sessions
    per wait (the signed rows' sums: the signs cancel there)."""
    rows, wait, n = sums.waits
    kept = n > 0
    rows, wait, n = rows[kept], wait[kept], n[kept]
    groups = np.arange(len(sums.ids))
    starts, ends = np.searchsorted(rows, groups), np.searchsorted(rows, groups, side="right")
    out = {}
    for i in np.flatnonzero(ends > starts).tolist():
        cumulative = np.cumsum(n[starts[i] : ends[i]])
        rank = (int(cumulative[-1]) + 1) // 2
        out[int(sums.ids[i])] = int(wait[starts[i] + int(np.searchsorted(cumulative, rank))])
    return out
