"""The overview's KPI cards: each figure for the filtered period beside its change against the
previous period of equal length (same filters, earlier dates)."""

from dataclasses import dataclass

from sessions_app import codes, stats


@dataclass
class Kpi:
    label: str
    value: str
    change: str = ""
    direction: str = "flat"  # up | down | flat: arrow and colour
    note: str = ""


def cards(current: stats.Totals, previous: stats.Totals, previous_label: str) -> list[Kpi]:
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
