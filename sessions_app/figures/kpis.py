"""The overview's KPI cards: each figure for the filtered period beside its change against the
previous period of equal length (same filters, earlier dates).

A change is only shown where it is real: when a partner shown has no data for part of the two
periods (its first sync, first session or retention limit falls after the previous period began),
the cards say so instead of showing a rise that is only the data starting."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse

from sessions_app import codes, figures, waiting
from sessions_app.figures import selection
from sessions_app.figures.filters import Period, SessionFilter
from sessions_app.models import Agent, Partner
from sessions_app.sync import completeness


@dataclass
class Kpi:
    label: str
    value: str
    change: str = ""
    direction: str = "flat"  # up | down | flat: the arrow
    note: str = ""
    lower_is_better: bool = False  # waits and abandons: a rise is bad news
    caveat: str = ""  # why the figure is missing or to be read with care, shown always
    link: str = ""  # the session list behind the number
    title: str = ""  # how the figure is defined, as a tooltip

    @property
    def tone(self) -> str:
        """better | worse | "": the change's colour."""
        if self.direction == "flat":
            return ""
        return "better" if (self.direction == "up") != self.lower_is_better else "worse"


@dataclass
class Compared:
    kpis: list[Kpi]
    gap: str = ""  # why the cards show no change, said once above them


def compared(
    flt: SessionFilter, partners: Iterable[Partner], agent: Agent | None = None
) -> Compared:
    """The cards of the filter's period (one agent's, on an agent's page) against the period
    before, or with the reason there is no fair comparison."""
    partners = list(partners)
    targets = waiting.targets_of(partners)
    sel = selection.select(flt, agent=agent)
    current = figures.totals(sel), figures.service(sel, targets)
    previous = flt.period.previous(flt.tz)
    gap = comparison_gap(partners, flt.period, previous, flt.tz)
    links = _links(flt, targets, agent)

    def all_cards(now, before, label):  # the waiting ones first: what a lead reads first
        shown = waiting_cards(now[1], before[1], label, targets, links)
        shown += cards(now[0], before[0], label)
        for card in shown:
            card.link = card.link or links.get(card.label, "")
        return shown

    if gap:
        unchanged = all_cards(current, current, "")
        return Compared(
            [Kpi(c.label, c.value, note="no comparison", link=c.link, title=c.title,
                 caveat=c.caveat) for c in unchanged],
            gap,
        )  # fmt: skip
    before_sel = selection.select(flt, previous, agent=agent)
    before = figures.totals(before_sel), figures.service(before_sel, targets)
    label = f"vs {previous.first_day:%b %-d}–{previous.last_day:%b %-d}"
    return Compared(all_cards(current, before, label))


def _links(flt: SessionFilter, targets: dict, agent: Agent | None) -> dict[str, str]:
    """The session list behind each waiting card (on an agent's page, the agent's)."""
    mine = {"agent": agent.pk} if agent is not None else {}
    target = waiting.common_target(targets.values())
    # One target: the sessions that met it. Several: the answered and abandoned sessions the
    # figure counts (no one filter says "within each partner's own time").
    in_time = (
        {"outcome": "connected", "max_wait": target.seconds}
        if target
        else {"status": "".join(waiting.OFFERED_STATUSES)}
    )
    longest = flt.drill(**mine, sort="-duration")
    return {
        "service": flt.drill(**mine, **in_time),
        "wait": flt.drill(**mine, min_wait=0),
        "abandoned": flt.drill(**mine, outcome="not_connected"),
        # The headline cards, by their labels: where each number's sessions (or rows) are.
        "Sessions": flt.drill(**mine),
        "Connected": flt.drill(**mine, outcome="connected"),
        "Median duration": longest,
        "90th percentile duration": longest,
        "Guests per session": flt.drill(**mine),
        "Active agents": f"{reverse('agent_list')}?{flt.query()}",
        "Countries": f"{reverse('geography')}?{flt.query(**mine)}",
    }


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


def waiting_cards(now: figures.Service, before: figures.Service, previous_label: str,
                  targets: dict, links: dict) -> list[Kpi]:  # fmt: skip
    target = waiting.common_target(targets.values())
    aim = f"target {target}" if target else "each partner's own target"
    level = _points("Service level", now.service_level, before.service_level, previous_label)
    if now.service_level is not None:
        level.note = f"{aim} · {level.note}" if level.note else aim
    elif now.offered and not now.known_enough:
        known = now.answered - now.unknown
        level.note = ""
        level.caveat = f"too few known waits ({known:,} of {now.answered:,} answered)"
    level.title = (
        "Answered sessions joined within the target time, of answered and abandoned sessions. "
        "Abandons count as misses; answered sessions with an unknown wait are left out."
    )
    level.link = links.get("service", "")
    median = _relative(
        "Median time to join", now.median_wait, before.median_wait,
        codes.format_duration(now.median_wait), previous_label, lower_is_better=True,
    )  # fmt: skip
    p90 = _relative(
        "90th percentile time to join", now.p90_wait, before.p90_wait,
        codes.format_duration(now.p90_wait), previous_label, lower_is_better=True,
    )  # fmt: skip
    for card in (median, p90):
        card.title = "From the first participant's arrival to the other side's."
        card.link = links.get("wait", "")
    abandoned = _points(
        "Abandoned", now.abandoned_rate, before.abandoned_rate, previous_label,
        lower_is_better=True,
    )  # fmt: skip
    abandoned.title = "Sessions that ended while waiting (Q, T), of answered and abandoned."
    abandoned.link = links.get("abandoned", "")
    return [level, median, p90, abandoned]


def _relative(label, now, before, shown, previous_label, *, lower_is_better=False) -> Kpi:
    better = {"lower_is_better": lower_is_better}
    if now is None:
        return Kpi(label, "—", note="no sessions", **better)
    if before == 0 and now == 0:
        return Kpi(label, shown, "+0%", "flat", previous_label, **better)
    if not before:
        return Kpi(label, shown, "new" if now else "", "flat", f"none {previous_label}", **better)
    change = round(100 * (now - before) / before)  # the arrow must agree with what is shown
    return Kpi(label, shown, f"{change:+d}%", _direction(change), previous_label, **better)


def _points(label, now, before, previous_label, *, lower_is_better=False) -> Kpi:
    better = {"lower_is_better": lower_is_better}
    if now is None:
        return Kpi(label, "—", note="no sessions", **better)
    shown = f"{now:.1f}%"
    if before is None:
        return Kpi(label, shown, "", "flat", f"none {previous_label}", **better)
    change = round(now - before, 1)
    return Kpi(label, shown, f"{change:+.1f} pts", _direction(change), previous_label, **better)


def _direction(change: float) -> str:
    if abs(change) < 0.05:
        return "flat"
    return "up" if change > 0 else "down"
