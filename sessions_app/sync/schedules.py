"""Two django-q2 Schedules per enabled partner, kept in step with the partner as it is saved,
disabled or deleted: the full pass at its interval, and the quick pass every
GLANCE_QUICK_SYNC_MINUTES; one per emailed report, at its hour in its time zone; and the daily
retention run, made again by every migrate. django-q2 does not make schedule names unique, so
the name is the key and every write goes through update_or_create(name=…)."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.apps import apps as global_apps
from django.conf import settings
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver
from django.utils import timezone
from django_q.models import Schedule

from sessions_app.models import Partner, ReportSchedule

SYNC_TASK = "sessions_app.tasks.sync_partner_task"
QUICK_SYNC_TASK = "sessions_app.tasks.quick_sync_partner_task"


def schedule_name(partner_pk: int) -> str:
    return f"glance-sync-partner-{partner_pk}"


def quick_schedule_name(partner_pk: int) -> str:
    return f"glance-quick-sync-partner-{partner_pk}"


def ensure_schedule(partner: Partner) -> Schedule | None:
    """The partner's full-pass schedule (returned) and its quick-pass one, made, changed or
    removed to match it."""
    name = schedule_name(partner.pk)
    _ensure_quick_schedule(partner)
    if not partner.enabled:
        Schedule.objects.filter(name=name).delete()
        return None
    existing = Schedule.objects.filter(name=name).first()
    schedule, _ = Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": SYNC_TASK,
            "args": repr((partner.pk,)),
            "schedule_type": Schedule.MINUTES,
            "minutes": partner.sync_interval_minutes,
            "repeats": -1,
            # A new or re-enabled partner syncs right away; an existing one keeps its rhythm
            # unless its interval shrank below the time left.
            "next_run": _next_run(existing, partner.sync_interval_minutes),
        },
    )
    return schedule


def _ensure_quick_schedule(partner: Partner) -> None:
    name, minutes = quick_schedule_name(partner.pk), settings.GLANCE_QUICK_SYNC_MINUTES
    if not partner.enabled or minutes <= 0:
        Schedule.objects.filter(name=name).delete()
        return
    existing = Schedule.objects.filter(name=name).first()
    first = existing.next_run if existing else timezone.now() + timedelta(minutes=minutes)
    Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": QUICK_SYNC_TASK,
            "args": repr((partner.pk,)),
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
            # Not at once: a new partner's first full pass (its backfill) runs first.
            "next_run": first,
        },
    )


def _next_run(existing: Schedule | None, minutes: int):
    now = timezone.now()
    if existing is None or existing.next_run is None:
        return now
    return min(existing.next_run, now + timedelta(minutes=minutes))


@receiver(post_save, sender=Partner)
def _partner_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        ensure_schedule(instance)


@receiver(post_delete, sender=Partner)
def _partner_deleted(sender, instance, **kwargs):
    Schedule.objects.filter(
        name__in=[schedule_name(instance.pk), quick_schedule_name(instance.pk)]
    ).delete()


# --- emailed reports ------------------------------------------------------------------------

REPORT_TASK = "sessions_app.tasks.send_report_task"
_REPORT_TYPES = {
    ReportSchedule.Frequency.DAILY: Schedule.DAILY,
    ReportSchedule.Frequency.WEEKLY: Schedule.WEEKLY,
    ReportSchedule.Frequency.MONTHLY: Schedule.MONTHLY,
}


def report_schedule_name(report_pk: int) -> str:
    return f"glancedash-report-{report_pk}"


def first_report_run(report: ReportSchedule, now: datetime | None = None) -> datetime:
    """The next send: the report's hour in its zone, on the next day (daily), Monday (weekly)
    or 1st of the month (monthly) that is still ahead."""
    zone = ZoneInfo(report.time_zone)
    local = (now or timezone.now()).astimezone(zone)
    day = local.date()
    while True:
        moment = datetime.combine(day, time(report.send_hour), tzinfo=zone)
        fits = (
            report.frequency == ReportSchedule.Frequency.DAILY
            or (report.frequency == ReportSchedule.Frequency.WEEKLY and day.weekday() == 0)
            or (report.frequency == ReportSchedule.Frequency.MONTHLY and day.day == 1)
        )
        if fits and moment > local:
            return moment
        day += timedelta(days=1)


@receiver(post_save, sender=ReportSchedule)
def _report_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    Schedule.objects.update_or_create(
        name=report_schedule_name(instance.pk),
        defaults={
            "func": REPORT_TASK,
            "args": repr((instance.pk,)),
            "schedule_type": _REPORT_TYPES[instance.frequency],
            "repeats": -1,
            "next_run": first_report_run(instance),
        },
    )


@receiver(post_delete, sender=ReportSchedule)
def _report_deleted(sender, instance, **kwargs):
    Schedule.objects.filter(name=report_schedule_name(instance.pk)).delete()


# --- retention ------------------------------------------------------------------------------

RETENTION_SCHEDULE = "apply-retention"
RETENTION_TASK = "sessions_app.tasks.apply_retention_task"
RETENTION_AT = time(3, 30)  # UTC, a quiet hour


@receiver(post_migrate)
def _ensure_retention_schedule(
    sender, app_config=None, apps=global_apps, using="default", **kwargs
):
    """The daily retention run, made (or put right) after every migrate, and after the flush
    that empties a database (which also sends post_migrate). Migration 0003 wrote it once; a row
    kept only by a migration is gone for good once the table is flushed or the row deleted in
    the admin, and retention then silently stops. Its rhythm is kept: next_run is set only when
    the schedule is made."""
    if app_config is None or app_config.label != "sessions_app":
        return
    try:
        model = apps.get_model("django_q", "Schedule")
    except LookupError:  # django_q's tables are not (or no longer) there
        return
    now = timezone.now().astimezone(UTC)
    first = datetime.combine(now.date(), RETENTION_AT, tzinfo=UTC)
    kept = {"func": RETENTION_TASK, "schedule_type": "D", "repeats": -1}  # D: daily
    model.objects.using(using).update_or_create(
        name=RETENTION_SCHEDULE,
        defaults=kept,
        create_defaults={**kept, "next_run": first if first > now else first + timedelta(days=1)},
    )
