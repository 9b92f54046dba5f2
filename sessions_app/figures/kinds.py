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

from sessions_app import codes
from sessions_app.models import Agent

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


@dataclass
class AgentRow:
    agent: Agent | None
    sessions: int
    handled_minutes: float
    median_duration: float | None
    connected_rate: float | None
    mix: dict[str, int]


def agent_rows(figures: dict[int | None, AgentFigures]) -> list[AgentRow]:
    """The scorecard's rows: each agent's figures beside the agent (None: no agent)."""
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
    }


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
