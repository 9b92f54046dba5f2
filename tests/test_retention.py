"""Retention at its boundaries: by the command, the daily task, and at ingest."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from sessions_app.glance.records import AgentRecord, GuestRecord, SessionRecord
from sessions_app.models import AuditEvent, Guest, Session
from sessions_app.sync.ingest import store_sessions
from sessions_app.sync.retention import apply_retention
from tests.factories import keep_everything


def record(glance_id, age: timedelta):
    guest = GuestRecord(
        "visitor",
        "C",
        None,
        10,
        1,
        "203.0.113.9",
        "Chrome 120",
        "4",
        "Boston",
        "MA",
        "US",
        "Ann Lee",
        "ann@example.com",
        "555-0100",
        None,
    )
    return SessionRecord(
        glance_id,
        "C",
        "C",
        timezone.now() - age,
        "42",
        0,
        0,
        10,
        1,
        False,
        [guest],
        AgentRecord("agent.acme.glance.net", "EMP-1"),
    )


MINUTE = timedelta(minutes=1)


@pytest.fixture
def aged(partner):
    """Sessions just inside and just past each limit, written while nothing was yet too old."""
    keep_everything(partner)
    ages = {
        1: timedelta(days=90) - MINUTE,
        2: timedelta(days=90) + MINUTE,
        3: timedelta(days=180) - MINUTE,
        4: timedelta(days=180) + MINUTE,
        5: timedelta(days=730) - MINUTE,
        6: timedelta(days=730) + MINUTE,
    }
    store_sessions(partner, [record(i, age) for i, age in ages.items()])
    partner.retain_ip_days, partner.retain_contact_days, partner.retain_sessions_days = 90, 180, 730
    partner.save(update_fields=["retain_ip_days", "retain_contact_days", "retain_sessions_days"])
    return partner


def guest(glance_id):
    return Guest.objects.get(session__glance_id=glance_id)


def test_retention_clears_and_deletes_exactly_past_each_limit(aged):
    (result,) = apply_retention()
    assert (result.ips_cleared, result.contacts_cleared, result.sessions_deleted) == (4, 2, 1)
    assert guest(1).ip == "203.0.113.9" and guest(2).ip is None
    assert (
        guest(3).name == "Ann Lee"
        and (guest(4).name, guest(4).email, guest(4).phone) == (None,) * 3
    )
    assert guest(4).city == "Boston"  # location is not personal data here; it stays
    assert (
        Session.objects.filter(glance_id=5).exists()
        and not Session.objects.filter(glance_id=6).exists()
    )
    assert AuditEvent.objects.get(action="retention_applied").details == {
        "ips": 4,
        "contacts": 2,
        "sessions": 1,
    }


def test_a_dry_run_counts_and_changes_nothing(aged):
    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert (
        "would be (dry run)" in out.getvalue() and "4 guest IP addresses cleared" in out.getvalue()
    )
    assert Guest.objects.filter(ip__isnull=True).count() == 0 and Session.objects.count() == 6


def test_a_second_run_finds_nothing_more(aged):
    apply_retention()
    (again,) = apply_retention()
    assert (again.ips_cleared, again.contacts_cleared, again.sessions_deleted) == (0, 0, 0)
    assert AuditEvent.objects.filter(action="retention_applied").count() == 1


def test_the_sync_does_not_write_back_what_retention_removes(partner):
    result = store_sessions(
        partner, [record(1, timedelta(days=100)), record(2, timedelta(days=800))]
    )
    assert result.skipped == 1 and not Session.objects.filter(glance_id=2).exists()
    assert guest(1).ip is None and guest(1).name == "Ann Lee"


def test_a_daily_schedule_applies_retention(db):
    schedule = Schedule.objects.get(name="apply-retention")
    assert (schedule.func, schedule.schedule_type) == (
        "sessions_app.tasks.apply_retention_task",
        "D",
    )


def test_the_daily_schedule_is_made_again_after_a_flush(db):
    # A flush (as every transaction=True test ends with) empties the table migration 0003
    # wrote it into; before, nothing made it again, and retention stopped.
    call_command("flush", interactive=False, verbosity=0)
    schedule = Schedule.objects.get(name="apply-retention")
    assert schedule.func == "sessions_app.tasks.apply_retention_task"
    assert timezone.now() < schedule.next_run <= timezone.now() + timedelta(days=1)


def test_a_migrate_puts_the_schedule_right_and_keeps_its_rhythm(db):
    next_run = timezone.now() + timedelta(hours=5)
    Schedule.objects.filter(name="apply-retention").update(func="x.y", next_run=next_run)
    call_command("migrate", verbosity=0)
    schedule = Schedule.objects.get(name="apply-retention")
    assert (schedule.func, schedule.next_run) == (
        "sessions_app.tasks.apply_retention_task",
        next_run,
    )
