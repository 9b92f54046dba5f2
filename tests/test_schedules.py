"""One django-q2 schedule per enabled partner, in step with the partner."""

from django_q.models import Schedule

from sessions_app.models import Session, SyncRun
from sessions_app.sync.schedules import schedule_name
from sessions_app.tasks import sync_partner_task
from tests.helpers.glance import make_partner


def test_a_new_partner_gets_a_schedule_at_its_interval(glance, db):
    partner = make_partner(glance, sync_interval_minutes=7)
    schedule = Schedule.objects.get(name=schedule_name(partner.pk))
    assert (schedule.func, schedule.args, schedule.minutes) == (
        "sessions_app.tasks.sync_partner_task",
        f"({partner.pk},)",
        7,
    )
    assert schedule.schedule_type == Schedule.MINUTES and schedule.repeats == -1


def test_saving_a_partner_updates_its_one_schedule(glance, db):
    partner = make_partner(glance)
    partner.sync_interval_minutes = 60
    partner.save()
    partner.save()
    syncs = Schedule.objects.filter(name__startswith="glance-sync-")
    assert list(syncs.values_list("name", "minutes")) == [(schedule_name(partner.pk), 60)]


def test_disabling_or_deleting_a_partner_removes_its_schedule(glance, db):
    partner = make_partner(glance)
    syncs = Schedule.objects.filter(name__startswith="glance-sync-")
    partner.enabled = False
    partner.save()
    assert not syncs.exists()
    partner.enabled = True
    partner.save()
    partner.delete()
    assert not syncs.exists()


def test_the_scheduled_task_syncs_the_partner(glance, partner):
    summary = sync_partner_task(partner.pk)
    run = SyncRun.objects.get()
    assert (run.trigger, run.state) == ("schedule", "succeeded")
    assert f"{Session.objects.count()} new" in summary


def test_the_scheduled_task_skips_a_disabled_partner(glance, partner):
    partner.enabled = False
    partner.save()
    assert "disabled" in sync_partner_task(partner.pk)
    assert not SyncRun.objects.exists()
