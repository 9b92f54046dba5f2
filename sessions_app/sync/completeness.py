"""Is what we store what Glance has? Glance's own counts (PartnerSessionCounts with status C:
every ended session that started in a range, by type and status) against the sessions stored
for the same range.

- Checks go by UTC calendar month, from the later of the month's first instant and the first
  instant this partner syncs from (its earliest sync, or its retention limit), to the end of
  the month or of the sync. Months never overlap, so each month's latest check is its answer
  and a partner's badge is the sum of its months. A month is at most 31 days: the longest range
  the counts operation accepts.
- The sync checks a month once it has written all of it (after the window that finishes it). A
  mismatch re-syncs that month's range once and checks again; one that survives the re-sync is
  kept as a persisting mismatch, which the sync status page and /healthz.json show as a warning.
- `manage.py verify_glance` runs the same check by hand over any range.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Count, Min
from django.utils import timezone

from sessions_app.codes import LIVE_STATUSES
from sessions_app.glance.client import GlanceClient, GlanceError
from sessions_app.models import CompletenessCheck, Partner, Session, SyncRun
from sessions_app.sync.retention import Cutoffs

log = logging.getLogger(__name__)

State = CompletenessCheck.State


# --- months ---------------------------------------------------------------------------------


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(moment: datetime) -> datetime:
    first = month_start(moment)
    return (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )


def month_ranges(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at UTC month boundaries."""
    ranges = []
    while start < end:
        cut = min(next_month(start), end)
        ranges.append((start, cut))
        start = cut
    return ranges


def synced_from(partner: Partner, now: datetime | None = None) -> datetime | None:
    """The first instant whose sessions this partner keeps: the start of its earliest sync that
    wrote anything, or its retention limit if that is later. None before any sync."""
    first = (
        partner.sync_runs.exclude(trigger__in=[SyncRun.Trigger.IMPORT, SyncRun.Trigger.QUICK])
        .filter(windows_done__gt=0)
        .aggregate(first=Min("window_start"))["first"]
    )
    if first is None:
        return None
    return max(first, Cutoffs.for_partner(partner, now).sessions)


def data_start(partner: Partner, now: datetime | None = None) -> datetime | None:
    """Since when the partner's figures are whole: the earlier of its first sync's start and its
    first stored session (an import may reach further back), never before its retention limit.
    None while it holds nothing at all."""
    first_session = (
        Session.objects.filter(partner=partner)
        .order_by("start_time")
        .values_list("start_time", flat=True)
        .first()
    )
    known = [when for when in (synced_from(partner, now), first_session) if when is not None]
    if not known:
        return None
    return max(min(known), Cutoffs.for_partner(partner, now).sessions)


# --- one check ------------------------------------------------------------------------------


def stored_counts(partner: Partner, start: datetime, end: datetime) -> Counter:
    """Our ended sessions that started in [start, end), by (type, status)."""
    rows = (
        Session.objects.filter(partner=partner, start_time__gte=start, start_time__lt=end)
        .exclude(status__in=LIVE_STATUSES)
        .values_list("session_type", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return Counter({(session_type, status): n for session_type, status, n in rows})


def check_range(
    partner: Partner,
    start: datetime,
    end: datetime,
    client: GlanceClient,
    *,
    rechecked: bool = False,
) -> CompletenessCheck:
    """Checks [start, end), which lies inside one UTC month, and saves it as that month's answer."""
    try:
        answer = client.session_counts(start, end, status="C")
    except GlanceError as exc:
        log.warning("completeness check of %s failed: %s", partner, exc)
        return _save(partner, start, end, state=State.FAILED, error=str(exc), rechecked=rechecked)
    expected = Counter()
    for count in answer:
        expected[(count.session_type, count.status)] += count.count
    stored = stored_counts(partner, start, end)
    groups = [
        {"type": key[0], "status": key[1], "expected": expected[key], "stored": stored[key]}
        for key in sorted(expected.keys() | stored.keys())
    ]
    missing = sum(max(g["expected"] - g["stored"], 0) for g in groups)
    extra = sum(max(g["stored"] - g["expected"], 0) for g in groups)
    return _save(
        partner,
        start,
        end,
        state=State.MISMATCH if missing or extra else State.COMPLETE,
        expected=sum(expected.values()),
        stored=sum(stored.values()),
        missing=missing,
        extra=extra,
        groups=groups,
        rechecked=rechecked,
    )


def _save(partner, start, end, **values) -> CompletenessCheck:
    fresh = {"expected": 0, "stored": 0, "missing": 0, "extra": 0, "groups": [], "error": ""}
    check, _ = CompletenessCheck.objects.update_or_create(
        partner=partner,
        month=month_start(start).date(),
        defaults={
            **fresh,
            **values,
            "range_start": start,
            "range_end": end,
            "checked_at": timezone.now(),
        },
    )
    return check


# --- during a sync --------------------------------------------------------------------------


class SyncChecker:
    """Checks each month of a sync's range once the sync has written all of it."""

    def __init__(
        self,
        partner: Partner,
        client: GlanceClient,
        start: datetime,
        end: datetime,
        resync: Callable[[datetime, datetime], None],
    ):
        self.partner, self.client, self.resync = partner, client, resync
        self.pending = month_ranges(start, end)

    def after_window(self, window_end: datetime) -> None:
        while self.pending and self.pending[0][1] <= window_end:
            start, end = self.pending.pop(0)
            self._check_month(start, end)

    def _check_month(self, start: datetime, end: datetime) -> None:
        floor = synced_from(self.partner)
        start = max(month_start(start), floor or start)
        if start >= end:
            return
        check = check_range(self.partner, start, end, self.client)
        if check.state == State.MISMATCH:
            # Once: Glance's data may have moved between the pages and the counts (a session
            # ended meanwhile, one changed status); what is still off after that is reported.
            self.resync(start, end)
            check_range(self.partner, start, end, self.client, rechecked=True)


# --- what users see -------------------------------------------------------------------------


@dataclass
class Completeness:
    """A partner's badge and the table behind it: the sum of its months' latest checks."""

    months: list[CompletenessCheck] = field(default_factory=list)

    @property
    def state(self) -> str:
        """ "unchecked", "failed" (Glance's counts could not be read), "mismatch" or "complete"."""
        if not self.months:
            return "unchecked"
        if any(check.state == State.MISMATCH for check in self.months):
            return "mismatch"
        if any(check.state == State.FAILED for check in self.months):
            return "failed"
        return "complete"

    @property
    def missing(self) -> int:
        return sum(check.missing for check in self.months)

    @property
    def extra(self) -> int:
        return sum(check.extra for check in self.months)

    @property
    def label(self) -> str:
        if self.state == "unchecked":
            return "not yet checked"
        if self.state == "failed":
            return "check failed"
        if self.state == "complete":
            return "complete"
        if self.missing:
            return f"{self.missing:,} session{'s' if self.missing != 1 else ''} missing"
        return f"{self.extra:,} more than Glance counts"

    @property
    def expected(self) -> int:
        return sum(check.expected for check in self.months)

    @property
    def stored(self) -> int:
        return sum(check.stored for check in self.months)

    @property
    def since(self) -> datetime | None:
        return self.months[0].range_start if self.months else None

    @property
    def until(self) -> datetime | None:
        return self.months[-1].range_end if self.months else None

    @property
    def persisting(self) -> list[CompletenessCheck]:
        return [check for check in self.months if check.persisting]

    @property
    def last_checked(self) -> datetime | None:
        return max((check.checked_at for check in self.months), default=None)

    @property
    def groups(self) -> list[dict]:
        """Expected against stored by type and status, over every month checked."""
        expected, stored = Counter(), Counter()
        for check in self.months:
            for group in check.groups:
                key = (group["type"], group["status"])
                expected[key] += group["expected"]
                stored[key] += group["stored"]
        return [
            {
                "type": key[0],
                "status": key[1],
                "expected": expected[key],
                "stored": stored[key],
                "difference": stored[key] - expected[key],
            }
            for key in sorted(expected.keys() | stored.keys())
        ]

    def as_json(self) -> dict:
        return {
            "state": self.state,
            "missing": self.missing,
            "extra": self.extra,
            "last_checked": self.last_checked.isoformat() if self.last_checked else None,
            "persisting_mismatches": [
                {
                    "start": check.range_start.isoformat(),
                    "end": check.range_end.isoformat(),
                    "missing": check.missing,
                    "extra": check.extra,
                }
                for check in self.persisting
            ],
        }


def completeness(partner: Partner) -> Completeness:
    return Completeness(list(partner.completeness_checks.order_by("month")))


def completeness_of(partners: Iterable[Partner]) -> dict[int, Completeness]:
    """Every partner's badge in one query (pk -> Completeness)."""
    badges = {partner.pk: Completeness() for partner in partners}
    checks = (
        CompletenessCheck.objects.filter(partner__in=list(badges))
        .select_related("partner")
        .order_by("month")
    )
    for check in checks:
        badges[check.partner_id].months.append(check)
    return badges
