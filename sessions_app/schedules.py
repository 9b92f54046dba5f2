"""One django-q2 Schedule per enabled partner, kept in step with the partner as it is saved,
disabled or deleted. django-q2 does not make schedule names unique, so the name is the key and
every write goes through update_or_create(name=…)."""

from datetime import timedelta

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django_q.models import Schedule

from sessions_app.models import Partner

SYNC_TASK = "sessions_app.tasks.sync_partner_task"


def schedule_name(partner_pk: int) -> str:
    return f"glance-sync-partner-{partner_pk}"


def ensure_schedule(partner: Partner) -> Schedule | None:
    name = schedule_name(partner.pk)
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
    Schedule.objects.filter(name=schedule_name(instance.pk)).delete()
