"""What the figures are made of, whichever source computes them: the headline totals, an agent's
numbers, the duration bins, the outcome of a status, and nearest-rank percentiles. Both the rollup
path (from_rollups) and the raw path (from_sessions) build these, so both answer in one shape.
"""

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Q

from sessions_app import codes, waiting
from sessions_app.models import Agent, Team

DURATION_BINS: list[tuple[int | None, str]] = [  # (upper bound in seconds, label); last is open
    (60, "< 1 min"),
    (120, "1–2 min"),
    (300, "2–5 min"),
    (600, "5–10 min"),
    (1200, "10–20 min"),
    (1800, "20–30 min"),
    (3600, "30–60 min"),
    (None, "> 1 hour"),
]

# --- outcomes: the one rule that turns a status into connected, not connected or other --------

CONNECTED = Q(status__in=codes.CONNECTED_STATUSES)


def outcome_of(status: str) -> str:
    if status in codes.CONNECTED_STATUSES:
        return "connected"
    if status in codes.NOT_CONNECTED_STATUSES:
        return "not_connected"
    return "other"


def outcome_q(outcome: str | None) -> Q | None:
    """The condition on `status` that selects an outcome's rows (sessions or rollup rows alike);
    None for no outcome."""
    both = codes.CONNECTED_STATUSES + codes.NOT_CONNECTED_STATUSES
    if outcome == "connected":
        return Q(status__in=codes.CONNECTED_STATUSES)
    if outcome == "not_connected":
        return Q(status__in=codes.NOT_CONNECTED_STATUSES)
    if outcome == "other":
        return ~Q(status__in=both)
    return None


# --- headline figures and agents -----------------------------------------------------------


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


@dataclass
class AgentFigures:
    """One agent's numbers in a selection, before they are put beside the agent's name."""

    sessions: int
    seconds: int
    connected: int
    median: int | None
    mix: dict[str, int]
    median_wait: int | None = None  # time to join, over the sessions whose wait is known


@dataclass
class AgentRow:
    agent: Agent | None
    sessions: int
    handled_minutes: float
    median_duration: float | None
    connected_rate: float | None
    mix: dict[str, int]
    median_wait: float | None = None


def agent_rows(figures: dict[int | None, AgentFigures]) -> list[AgentRow]:
    """The scorecard's rows: each agent's figures beside the agent (None: no agent)."""
    agents = Agent.objects.select_related("partner", "team").in_bulk([pk for pk in figures if pk])
    return [
        AgentRow(
            agent=agents.get(pk) if pk else None,
            sessions=f.sessions,
            handled_minutes=f.seconds / 60,
            median_duration=f.median,
            connected_rate=100 * f.connected / f.sessions if f.sessions else None,
            mix=f.mix,
            median_wait=f.median_wait,
        )
        for pk, f in figures.items()
    ]


@dataclass
class TeamRow:
    team: Team | None  # None: agents in no team, and sessions with no agent
    sessions: int
    handled_minutes: float
    median_duration: float | None
    connected_rate: float | None
    median_wait: float | None
    agents: int = 0  # of the team's agents, those with sessions here


def team_rows(figures: dict[int | None, AgentFigures], agents: list[AgentRow]) -> list[TeamRow]:
    """The team scorecard's rows: each team's own figures (its sessions together, so its
    medians are of its sessions, not of its agents' medians), and how many of its agents had
    sessions (from the agent scorecard's rows)."""
    teams = Team.objects.select_related("partner").in_bulk([pk for pk in figures if pk])
    working: dict[int | None, int] = {}
    for row in agents:
        if row.agent is not None:
            working[row.agent.team_id] = working.get(row.agent.team_id, 0) + 1
    return [
        TeamRow(
            team=teams.get(pk) if pk else None,
            sessions=f.sessions,
            handled_minutes=f.seconds / 60,
            median_duration=f.median,
            connected_rate=100 * f.connected / f.sessions if f.sessions else None,
            median_wait=f.median_wait,
            agents=working.get(pk, 0),
        )
        for pk, f in figures.items()
    ]


def team_medians(rows: list[AgentRow]) -> dict[str, float | None]:
    """The median agent, figure by figure, to set each agent's number beside."""

    def median(values: Iterable[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return statistics.median(present) if present else None

    rows = [r for r in rows if r.agent is not None]  # sessions with no agent are not an agent
    return {
        "sessions": median(r.sessions for r in rows),
        "handled_minutes": median(r.handled_minutes for r in rows),
        "median_duration": median(r.median_duration for r in rows),
        "connected_rate": median(r.connected_rate for r in rows),
        "median_wait": median(r.median_wait for r in rows),
    }


# --- waiting and service level (sessions_app.waiting defines each figure) --------------------


@dataclass
class Service:
    """Waiting figures of a selection, each partner's sessions held to its own target."""

    answered: int = 0  # ended connected
    abandoned: int = 0  # ended while waiting
    met: int = 0  # answered within its partner's target time
    unknown: int = 0  # answered, wait unknown: left out of both sides of the service level
    waited: int = 0  # sessions of any outcome with a known wait: the percentiles' count
    median_wait: int | None = None
    p90_wait: int | None = None

    @property
    def offered(self) -> int:
        return self.answered + self.abandoned

    @property
    def known_enough(self) -> bool:
        """Whether enough answered sessions have a known wait for a service level to mean
        anything (waiting.MIN_KNOWN_SHARE)."""
        if not self.answered:
            return True
        return (self.answered - self.unknown) / self.answered >= waiting.MIN_KNOWN_SHARE

    @property
    def service_level(self) -> float | None:
        counted = self.offered - self.unknown
        if not counted or not self.known_enough:
            return None
        return 100 * self.met / counted

    @property
    def abandoned_rate(self) -> float | None:
        return 100 * self.abandoned / self.offered if self.offered else None


class ServiceCounter:
    """Adds up Service figures from groups of sessions of one partner and status, each with the
    known waits among them as (seconds, sessions) pairs: rollup rows and raw GROUP BY rows alike,
    so both paths count by the one rule."""

    def __init__(self, targets: dict[int, waiting.Target]):
        self.targets = targets
        self.service = Service()
        self.waits: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []

    def add(self, partner_id: int, status: str, sessions: int, waits, counts) -> None:
        """`waits` and `counts`: arrays (or lists) of the known waits and how many had each."""
        waits, counts = np.asarray(waits, np.int64), np.asarray(counts, np.int64)
        known = int(counts.sum())
        s = self.service
        if status in waiting.ANSWERED_STATUSES:
            limit = self.targets.get(partner_id, waiting.Target()).seconds
            s.answered += sessions
            s.met += int(counts[waits <= limit].sum())
            s.unknown += sessions - known
        elif status in waiting.ABANDONED_STATUSES:
            s.abandoned += sessions
        s.waited += known
        if known:
            self.waits.append(waits)
            self.counts.append(counts)

    def result(self) -> Service:
        values = np.concatenate(self.waits) if self.waits else np.array([], np.int64)
        counts = np.concatenate(self.counts) if self.counts else np.array([], np.int64)
        self.service.median_wait, self.service.p90_wait = weighted_rank(values, counts, (0.5, 0.9))
        return self.service


COUNTED_VALUES = 1 << 20  # values below this are ranked by counting (a day is 86,400 s)


def weighted_rank(
    values: np.ndarray, counts: np.ndarray, fractions: Sequence[float]
) -> list[int | None]:
    """Nearest-rank percentiles of values each repeated `counts` times (nearest_rank's rule)."""
    total = int(counts.sum()) if len(counts) else 0
    if not total:
        return [None for _ in fractions]
    if values.min() >= 0 and values.max() < COUNTED_VALUES:
        # Seconds of waiting are few distinct values in many entries (a rollup row's triples):
        # counted by value, where a sort of every entry was most of the service figures.
        cumulative = np.cumsum(np.rint(np.bincount(values, weights=counts)).astype(np.int64))
        return [int(np.searchsorted(cumulative, rank_of(f, total) + 1)) for f in fractions]
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(counts[order])
    return [
        int(values[order][np.searchsorted(cumulative, rank_of(f, total) + 1)]) for f in fractions
    ]


# --- percentiles ---------------------------------------------------------------------------


def nearest_rank(
    values: np.ndarray, fractions: Sequence[float], count: int | None = None
) -> list[int | None]:
    """Nearest-rank percentiles of values in memory, by numpy's selection (no full sort). The
    ranks are of `count` values when given (counted before some may have been deleted), kept
    within those there are."""
    if not len(values):
        return [None for _ in fractions]
    n = len(values) if count is None else count
    ranks = [min(max(math.ceil(f * n) - 1, 0), len(values) - 1) for f in fractions]
    chosen = np.partition(values, ranks)
    return [int(chosen[rank]) for rank in ranks]


def rank_of(fraction: float, count: int) -> int:
    """The 0-based nearest rank of a fraction of `count` ordered values."""
    return max(math.ceil(fraction * count) - 1, 0)
