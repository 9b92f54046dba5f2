"""The overview's KPI cards: each figure for the filtered period beside its change against the
previous period of equal length (same filters, earlier dates).

A change is only shown where it is real: when a partner shown has no data for part of the two
periods (its first sync, first session or retention limit falls after the previous period began),
the cards say so instead of showing a rise that is only the data starting."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sessions_app import codes, figures
from sessions_app.figures import selection
from sessions_app.figures.filters import Period, SessionFilter
from sessions_app.models import Agent, Partner
from sessions_app.sync import completeness


@dataclass
class Kpi:
    label: str
    value: str
    change: str = ""
    direction: str = "flat"  # up | down | flat: arrow and colour
    note: str = ""


@dataclass
class Compared:
    kpis: list[Kpi]
    gap: str = ""  # why the cards show no change, said once above them


def compared(
    flt: SessionFilter, partners: Iterable[Partner], agent: Agent | None = None
) -> Compared:
    """The cards of the filter's period (one agent's, on an agent's page) against the period
    before, or with the reason there is no fair comparison."""
    current = figures.totals(selection.select(flt, agent=agent))
    previous = flt.period.previous(flt.tz)
    gap = comparison_gap(partners, flt.period, previous, flt.tz)
    if gap:
        unchanged = cards(current, current, "")
        return Compared([Kpi(c.label, c.value, note="no comparison") for c in unchanged], gap)
    before = figures.totals(selection.select(flt, previous, agent=agent))
    label = f"vs {previous.first_day:%b %-d}–{previous.last_day:%b %-d}"
    return Compared(cards(current, before, label))


def comparison_gap(
    partners: Iterable[Partner], period: Period, previous: Period, tz: ZoneInfo
) -> str:
    """Why the previous period is no fair comparison ("No comparison with the previous period:
    Second Centre's data starts Nov 1."): a partner shown has data only from after it began and
    before this period ends. "" where every partner shown has data for both, or none in either."""
    late = []
    for partner in partners:
        start = completeness.data_start(partner)
        if start is not None and previous.start < start < period.end:
            late.append(f"{partner.name}'s data starts {_day(start, tz, period)}")
    return f"No comparison with the previous period: {'; '.join(late)}." if late else ""


def _day(moment: datetime, tz: ZoneInfo, period: Period) -> str:
    local = moment.astimezone(tz)
    return f"{local:%b %-d}" if local.year == period.last_day.year else f"{local:%b %-d, %Y}"


def cards(current: figures.Totals, previous: figures.Totals, previous_label: str) -> list[Kpi]:
    return [
        _relative(
            "Sessions", current.sessions, previous.sessions, f"{current.sessions:,}", previous_label
        ),
        _points("Connected", current.connected_rate, previous.connected_rate, previous_label),
        _relative(
            "Median duration",
            current.median_duration,
            previous.median_duration,
            codes.format_duration(current.median_duration),
            previous_label,
        ),
        _relative(
            "90th percentile duration",
            current.p90_duration,
            previous.p90_duration,
            codes.format_duration(current.p90_duration),
            previous_label,
        ),
        _relative(
            "Guests per session",
            current.guests_per_session,
            previous.guests_per_session,
            f"{current.guests_per_session:.2f}" if current.guests_per_session else "—",
            previous_label,
        ),
        _relative(
            "Active agents", current.agents, previous.agents, f"{current.agents:,}", previous_label
        ),
        _relative(
            "Countries",
            current.countries,
            previous.countries,
            f"{current.countries:,}",
            previous_label,
        ),
    ]


def _relative(label, now, before, shown, previous_label) -> Kpi:
    if now is None:
        return Kpi(label, "—", note="no sessions")
    if not before:
        return Kpi(label, shown, "new" if now else "", "flat", f"none {previous_label}")
    change = round(100 * (now - before) / before)  # the arrow must agree with what is shown
    return Kpi(label, shown, f"{change:+d}%", _direction(change), previous_label)


def _points(label, now, before, previous_label) -> Kpi:
    if now is None:
        return Kpi(label, "—", note="no sessions")
    shown = f"{now:.1f}%"
    if before is None:
        return Kpi(label, shown, "", "flat", f"none {previous_label}")
    change = round(now - before, 1)
    return Kpi(label, shown, f"{change:+.1f} pts", _direction(change), previous_label)


def _direction(change: float) -> str:
    if abs(change) < 0.05:
        return "flat"
    return "up" if change > 0 else "down"
