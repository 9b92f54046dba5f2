"""Retention: guest IP addresses, then guest names, emails and phones, then whole sessions are
removed once they are older than each partner's limits (by default Glance's own policy: 90 days,
180 days, 2 years). "Older" is by session start: a session that started more than N days ago.

apply_retention() runs daily from a django-q2 schedule and by hand (`manage.py apply_retention`);
the sync applies the same limits to what it writes, so a re-read of old data cannot bring back
what retention removed."""

import operator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import reduce

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from sessions_app.accounts import audit
from sessions_app.glance import fields
from sessions_app.models import Guest, Partner, Session, StaleRollupMonth
from sessions_app.rollups import months, write


@dataclass
class Cutoffs:
    ip: datetime
    contact: datetime
    sessions: datetime

    @classmethod
    def for_partner(cls, partner: Partner, now: datetime | None = None) -> "Cutoffs":
        now = now or timezone.now()
        return cls(
            ip=now - timedelta(days=partner.retain_ip_days),
            contact=now - timedelta(days=partner.retain_contact_days),
            sessions=now - timedelta(days=partner.retain_sessions_days),
        )


@dataclass
class RetentionResult:
    partner: Partner
    ips_cleared: int = 0
    contacts_cleared: int = 0
    sessions_deleted: int = 0

    def __str__(self):
        return (
            f"{self.partner}: {self.ips_cleared} guest IP addresses cleared, "
            f"{self.contacts_cleared} guests' name/email/phone cleared, "
            f"{self.sessions_deleted} sessions deleted"
        )


def apply_retention(now: datetime | None = None, dry_run: bool = False) -> list[RetentionResult]:
    return [_apply_to_partner(partner, now, dry_run) for partner in Partner.objects.all()]


def _apply_to_partner(partner, now, dry_run) -> RetentionResult:
    cut = Cutoffs.for_partner(partner, now)
    old_sessions = Session.objects.filter(partner=partner, start_time__lt=cut.sessions)
    # Guests of sessions about to be deleted are not counted as cleared.
    guests = Guest.objects.filter(session__partner=partner, session__start_time__gte=cut.sessions)
    with_ip = guests.filter(_any_present(IP_FIELDS), session__start_time__lt=cut.ip)
    with_contact = guests.filter(_any_present(CONTACT_FIELDS), session__start_time__lt=cut.contact)
    if dry_run:
        return RetentionResult(partner, with_ip.count(), with_contact.count(), old_sessions.count())
    with transaction.atomic():
        # As ingest does: hold the partner's row, and tell cached charts the data changed.
        Partner.objects.filter(pk=partner.pk).update(data_generation=F("data_generation") + 1)
        deleted = old_sessions.delete()[1].get("sessions_app.Session", 0)
        if deleted:
            _trim_rollups(partner, cut.sessions)
        result = RetentionResult(
            partner,
            ips_cleared=_clear(with_ip, IP_FIELDS),
            contacts_cleared=_clear(with_contact, CONTACT_FIELDS),
            sessions_deleted=deleted,
        )
        if result.ips_cleared or result.contacts_cleared or result.sessions_deleted:
            audit.record(
                audit.Action.RETENTION_APPLIED,
                str(result),
                partner=partner,
                ips=result.ips_cleared,
                contacts=result.contacts_cleared,
                sessions=result.sessions_deleted,
            )
    # Every day, whatever was deleted: a partner whose syncs change nothing (or that no longer
    # syncs) still has its stale months summed, those of the upgrade that added month rows too.
    months.compact(partner.pk, now=now)  # the same instant the cut was made at
    return result


# The guest columns each limit clears, from Glance's field table.
IP_FIELDS = fields.pii_attrs(fields.GUEST, fields.IP)
CONTACT_FIELDS = fields.pii_attrs(fields.GUEST, fields.CONTACT)


def _any_present(columns: tuple[str, ...]) -> Q:
    nothing = Q(pk__in=[])  # no column of that kind: no guest has one to clear
    return reduce(operator.or_, (Q(**{f"{column}__isnull": False}) for column in columns), nothing)


def _clear(guests: QuerySet, columns: tuple[str, ...]) -> int:
    if not columns:
        return 0
    return Guest.objects.filter(pk__in=guests.values("pk")).update(**dict.fromkeys(columns))


def _trim_rollups(partner, cutoff) -> None:
    """Rollups follow the deleted sessions: days before the cutoff go, its own day is summed
    again from what is left of it; months before the cutoff's go, and its own is marked stale
    (by the rebuild) and summed again after."""
    cut_day = cutoff.astimezone(UTC).date()
    for table in write.TABLES:
        table.model().objects.filter(partner=partner, day__lt=write.day_number(cut_day)).delete()
    cut_month = write.day_number(write.month_start(cut_day))
    for table in months.TABLES:
        table.model().objects.filter(partner=partner, day__lt=cut_month).delete()
    StaleRollupMonth.objects.filter(partner=partner, day__lt=cut_month).delete()
    write.rebuild(partner.pk, cut_day, cut_day)
