"""Fresh within two minutes: the quick pass beside the full one (sync/run.py: quick_sync).

A session that ended is stored by the next quick pass; a pass that finds nothing new writes
nothing (no session, guest or rollup row, no ANALYZE, no completeness call, no stale chart);
and Glance is asked at most twice as often an hour as the old 15-minute schedule asked it."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.models import Schedule

from glance_sim import PartnerSpec, Simulator, serve_in_thread
from sessions_app.models import Partner, Session, SyncRun
from sessions_app.sync import schedules
from sessions_app.sync.run import quick_sync, sync_partner
from tests.helpers import glance as sim_helpers

pytestmark = pytest.mark.django_db

BUSY = 700  # sessions a day: a few dozen an hour
MILLION = 1_000_000 / 365  # a million sessions a year


@pytest.fixture(scope="module")
def sim():
    simulator = Simulator(
        # Steady: every hour holds the same traffic, whatever day and hour the suite runs at.
        [
            PartnerSpec(61, "key-61", BUSY, 12, steady=True),
            PartnerSpec(62, "key-62", MILLION, 40, steady=True),
        ],
        seed=3,
        now=sim_helpers.SIM_NOW,
        history_days=10,
    )
    server = serve_in_thread(simulator)
    yield simulator, server.url
    server.stop()


@pytest.fixture
def at():
    """at(moment): the wall clock and the simulator's, both at `moment`, standing still."""
    travellers = []

    def move(simulator, moment):
        if travellers:
            travellers.pop().stop()
        travellers.append(time_machine.travel(moment, tick=False))
        travellers[-1].start()
        simulator.now = moment

    yield move
    for traveller in travellers:
        traveller.stop()


def _partner(url, glance_id, *, days=2):
    partner = Partner(
        name=f"Quick {glance_id}",
        glance_partner_id=glance_id,
        api_url=url,
        backfill_start=(sim_helpers.SIM_NOW - timedelta(days=days)).date(),
    )
    partner.set_api_key(f"key-{glance_id}")
    partner.save()
    return partner


def _first_to_end_after(simulator, t0):
    """(end time, Glance id) of partner 61's first session to end after t0 that started within
    the quick pass's look-back of its end."""
    at = simulator.now
    simulator.now = t0 + timedelta(hours=1)
    later = list(simulator.completed_sessions(61, t0 - timedelta(hours=1), t0 + timedelta(hours=1)))
    simulator.now = at
    ends = []
    for s in later:
        start = datetime.fromisoformat(s["startTime"])
        end = start + timedelta(seconds=s["duration"])
        if end > t0 and end - start < timedelta(minutes=50):
            ends.append((end, s["id"]))
    return min(ends)


def _served_ended(simulator, glance_id, start, end):
    """Glance ids of the sessions the simulator lists for [start, end): ended by its now."""
    return {s["id"] for s in simulator.completed_sessions(glance_id, start, end)}


def test_a_session_that_ended_is_on_the_dashboard_after_the_next_quick_pass(sim, at):
    simulator, url = sim
    t0 = sim_helpers.SIM_NOW
    at(simulator, t0)
    partner = _partner(url, 61)
    assert sync_partner(partner).state == SyncRun.State.SUCCEEDED
    # The first session to end after t0 (within the look-back), and the minute's pass after it.
    ended, first = _first_to_end_after(simulator, t0)
    t1 = ended + timedelta(minutes=1)
    at(simulator, t1)
    ended_since = _served_ended(simulator, 61, t1 - timedelta(hours=1), t1) - set(
        Session.objects.values_list("glance_id", flat=True)
    )
    assert first in ended_since
    simulator.reset()
    run = quick_sync(Partner.objects.get(pk=partner.pk))
    assert run.state == SyncRun.State.SUCCEEDED and run.trigger == SyncRun.Trigger.QUICK
    assert run.sessions_created == len(ended_since)
    assert ended_since <= set(Session.objects.values_list("glance_id", flat=True))
    operations = {request.operation for request in simulator.request_log}
    assert operations == {"PartnerCompletedSessions"}  # no completeness call


def test_a_quick_pass_that_finds_nothing_new_writes_nothing(sim, at):
    simulator, url = sim
    t0 = sim_helpers.SIM_NOW
    at(simulator, t0)
    partner = _partner(url, 61)
    sync_partner(partner)
    quick_sync(Partner.objects.get(pk=partner.pk))  # as the pass a minute before
    generation = Partner.objects.get(pk=partner.pk).data_generation
    synced = dict(Session.objects.values_list("pk", "synced_at"))
    # The same instant again: Glance lists exactly what it listed (a moment later, a session
    # may have ended, and the pass would rightly write it).
    with CaptureQueriesContext(connection) as queries:
        run = quick_sync(Partner.objects.get(pk=partner.pk))
    assert run.state == SyncRun.State.SUCCEEDED
    assert (run.sessions_created, run.sessions_updated) == (0, 0)
    written = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    touched = " ".join(written).lower()
    for table in ('sessions_app_session"', "sessions_app_guest", "rollup", "analyze"):
        assert table not in touched, f"{table} written by a pass that found nothing"
    assert len(queries) <= 16  # claim, run, one lookup, watermark, release: milliseconds
    assert Partner.objects.get(pk=partner.pk).data_generation == generation  # charts stay cached
    assert dict(Session.objects.values_list("pk", "synced_at")) == synced
    # Of the quick runs that found nothing, the latest stands for them all.
    quick = partner.sync_runs.filter(trigger=SyncRun.Trigger.QUICK)
    assert list(quick.values_list("pk", flat=True)) == [run.pk]


def _an_hour_with_a_change(simulator):
    """The latest hour up to SIM_NOW in which bumping the version changes a session partner 61
    ended: about one session in ten can change, so a given hour holds none one time in eight."""
    for back in range(24):
        t0 = sim_helpers.SIM_NOW - timedelta(hours=back)
        simulator.now = t0
        durations = []
        for version in (0, 1):
            simulator.version = version
            durations.append(
                {
                    s["id"]: s["duration"]
                    for s in simulator.completed_sessions(61, t0 - timedelta(hours=1), t0)
                }
            )
        simulator.version = 0
        if durations[0] != durations[1]:
            return t0
    raise AssertionError("no session of partner 61 changes in a day: the simulator broke")


def test_a_session_glance_changed_is_written_again(sim, at):
    simulator, url = sim
    t0 = _an_hour_with_a_change(simulator)
    at(simulator, t0)
    partner = _partner(url, 61)
    sync_partner(partner)
    simulator.bump_version()  # Glance's records of recent sessions change (durations)
    try:
        served = {
            s["id"]: s["duration"]
            for s in simulator.completed_sessions(61, t0 - timedelta(hours=1), t0)
        }
        stored = dict(
            Session.objects.filter(glance_id__in=served).values_list("glance_id", "duration")
        )
        changed = {i for i in served if stored.get(i) != served[i]}
        assert changed, "the simulator changed no recent session: the test would prove nothing"
        run = quick_sync(Partner.objects.get(pk=partner.pk))
        assert run.sessions_updated == len(changed)
        assert (
            dict(Session.objects.filter(glance_id__in=served).values_list("glance_id", "duration"))
            == served
        )
    finally:
        simulator.reset()
        simulator.version = 0


def test_the_quick_pass_waits_for_the_first_full_pass(sim, at):
    simulator, url = sim
    at(simulator, sim_helpers.SIM_NOW)
    simulator.reset()
    assert quick_sync(_partner(url, 61)) is None
    assert simulator.request_log == [] and not SyncRun.objects.exists()


def test_each_enabled_partner_has_a_quick_schedule_beside_its_full_one(sim, settings):
    partner = _partner(sim[1], 61)
    names = {schedules.schedule_name(partner.pk), schedules.quick_schedule_name(partner.pk)}
    assert set(Schedule.objects.values_list("name", flat=True)) >= names
    quick = Schedule.objects.get(name=schedules.quick_schedule_name(partner.pk))
    assert (quick.func, quick.minutes) == (schedules.QUICK_SYNC_TASK, 1)
    assert Schedule.objects.get(name=schedules.schedule_name(partner.pk)).minutes == 60
    partner.enabled = False
    partner.save()
    assert not Schedule.objects.filter(name__in=names).exists()
    settings.GLANCE_QUICK_SYNC_MINUTES = 0  # switched off: the full pass alone
    partner.enabled = True
    partner.save()
    assert set(Schedule.objects.filter(name__in=names).values_list("name", flat=True)) == {
        schedules.schedule_name(partner.pk)
    }


def test_glance_calls_an_hour_at_a_million_sessions_a_year(sim, at, settings, capsys):
    """The old schedule: the full pass every 15 minutes. The new: the full pass every hour and
    the quick one every minute. At most twice the calls, for sessions minutes old, not 15."""
    settings.GLANCE_PAGE_SIZE = 500  # the production default, not the suite's small pages
    simulator, url = sim
    t0 = sim_helpers.SIM_NOW
    at(simulator, t0)
    partner = _partner(url, 62, days=3)
    sync_partner(partner)  # the backfill, before the hour counted

    def hour(full_every: int, quick_every: int | None) -> int:
        simulator.reset()
        for minute in range(1, 61):
            at(simulator, t0 + timedelta(minutes=minute))
            current = Partner.objects.get(pk=partner.pk)
            if minute % full_every == 0:
                sync_partner(current, trigger=SyncRun.Trigger.SCHEDULE)
            elif quick_every and minute % quick_every == 0:
                quick_sync(current)
        return simulator.calls

    before = hour(15, None)
    Partner.objects.filter(pk=partner.pk).update(sync_watermark=t0)  # the same hour again
    at(simulator, t0)
    after = hour(60, 1)
    with capsys.disabled():
        print(f"\n  Glance calls an hour, a million sessions a year: {before} every 15 min, "
              f"{after} hourly + quick every minute")  # fmt: skip
    assert 60 <= after <= 2 * before


def test_the_partner_page_says_how_often_each_pass_runs(sim, client, django_user_model):
    from sessions_app.models import Membership, Role

    partner = _partner(sim[1], 61)
    admin = django_user_model.objects.create_user("quick-admin", password="x-pass-123456789")
    Membership.objects.create(user=admin, partner=partner, role=Role.ADMIN)
    client.force_login(admin)
    page = client.get(f"/partners/{partner.pk}/", secure=True).content.decode()
    assert "new sessions every 1 min; the last 48 hours again every 60 min" in page


def test_a_reread_that_changed_only_a_guest_is_written_and_counted(partner):
    from django.utils import timezone

    from sessions_app.models import Guest
    from sessions_app.sync.ingest import store_sessions
    from tests.factories import guest, record, store

    start = timezone.now() - timedelta(minutes=30)
    store(partner, record(1, start, guests=[guest("agent"), guest(city="Cork")]))
    assert (
        store_sessions(
            partner, [record(1, start, guests=[guest("agent"), guest(city="Cork")])]
        ).updated
        == 0
    )
    moved = store_sessions(
        partner, [record(1, start, guests=[guest("agent"), guest(city="Dublin")])]
    )
    assert moved.updated == 1
    assert Guest.objects.get(guest_type="visitor").city == "Dublin"


def test_a_longer_contact_retention_writes_recent_sessions_again(partner):
    from django.utils import timezone

    from sessions_app.models import Guest
    from sessions_app.sync.ingest import store_sessions
    from tests.factories import guest, record

    start = timezone.now() - timedelta(minutes=30)
    named = record(1, start, guests=[guest("agent"), guest(name="Ana Visitor")])
    Partner.objects.filter(pk=partner.pk).update(retain_contact_days=0)
    partner.refresh_from_db()
    store_sessions(partner, [named])
    assert Guest.objects.get(guest_type="visitor").name is None
    Partner.objects.filter(pk=partner.pk).update(retain_contact_days=180)
    partner.refresh_from_db()
    store_sessions(partner, [named])
    assert Guest.objects.get(guest_type="visitor").name == "Ana Visitor"


def test_a_quick_pass_that_succeeds_does_not_hide_a_failing_full_pass(partner):
    from django.utils import timezone

    from sessions_app.models import AlertRule
    from sessions_app.notify import alerts
    from sessions_app.sync.status import sync_status

    now = timezone.now()
    for hours in (3, 2, 1):
        SyncRun.objects.create(partner=partner, trigger=SyncRun.Trigger.SCHEDULE,
                               state=SyncRun.State.FAILED, started_at=now - timedelta(hours=hours),
                               error="the partner id or API key was refused")  # fmt: skip
    quick = SyncRun.Trigger.QUICK
    SyncRun.objects.create(partner=partner, trigger=quick, state=SyncRun.State.SUCCEEDED,
                           started_at=now - timedelta(minutes=1))  # fmt: skip
    rule = AlertRule(partner=partner, kind=AlertRule.Kind.SYNC_FAILING, hours=1)
    assert alerts.sync_failing(rule, now).holds
    assert sync_status(partner).failing


def test_the_full_pass_waits_while_a_quick_pass_holds_the_claim(sim, at):
    from sessions_app.sync import run as sync_run

    simulator, url = sim
    at(simulator, sim_helpers.SIM_NOW)
    partner = _partner(url, 61)
    token = sync_run.claim(partner)  # a quick pass, mid-way
    SyncRun.objects.create(partner=partner, trigger=SyncRun.Trigger.QUICK)
    waits = []

    def quick_pass_ends(seconds):
        waits.append(seconds)
        sync_run.release(partner, token)

    run = sync_run.full_sync(partner, trigger=SyncRun.Trigger.SCHEDULE, sleep=quick_pass_ends)
    assert waits == [sync_run.QUICK_PASS_WAIT]
    assert run.state == SyncRun.State.SUCCEEDED and run.sessions_created > 0


def test_the_full_pass_gives_way_at_once_to_another_full_pass(sim, at):
    from sessions_app.sync import run as sync_run

    simulator, url = sim
    at(simulator, sim_helpers.SIM_NOW)
    partner = _partner(url, 61)
    sync_run.claim(partner)
    SyncRun.objects.create(partner=partner, trigger=SyncRun.Trigger.SCHEDULE)
    waits = []
    with pytest.raises(sync_run.SyncBusy):
        sync_run.full_sync(partner, trigger=SyncRun.Trigger.SCHEDULE, sleep=waits.append)
    assert waits == []


@pytest.mark.parametrize(("minute", "evaluated"), [(7, False), (15, True), (30, True)])
def test_a_quiet_quick_pass_evaluates_alerts_every_quarter_hour(partner, minute, evaluated):
    """The clock moves alerts (a sync failing for N hours) even when no data does."""
    from sessions_app.models import AlertRule
    from sessions_app.sync.run import sync_finished

    moment = sim_helpers.SIM_NOW.replace(minute=minute)
    with time_machine.travel(moment, tick=False):
        for hours in (3, 2):
            SyncRun.objects.create(partner=partner, trigger=SyncRun.Trigger.SCHEDULE,
                                   state=SyncRun.State.FAILED, error="refused",
                                   started_at=moment - timedelta(hours=hours))  # fmt: skip
        rule = AlertRule.objects.create(partner=partner, kind=AlertRule.Kind.SYNC_FAILING, hours=1)
        quiet = SyncRun.objects.create(partner=partner, trigger=SyncRun.Trigger.QUICK,
                                       state=SyncRun.State.SUCCEEDED)  # fmt: skip
        sync_finished.send(sender=SyncRun, partner=partner, run=quiet)
    rule.refresh_from_db()
    assert (rule.firing_since is not None) is evaluated


def test_quick_runs_that_wrote_are_kept_for_a_day(sim, at):
    simulator, url = sim
    t0 = sim_helpers.SIM_NOW
    at(simulator, t0)
    partner = _partner(url, 61)
    sync_partner(partner)
    kept = {
        "wrote, an hour ago": (timedelta(hours=1), SyncRun.State.SUCCEEDED, 3),
        "failed, an hour ago": (timedelta(hours=1), SyncRun.State.FAILED, 0),
        "wrote, two days ago": (timedelta(days=2), SyncRun.State.SUCCEEDED, 3),
        "failed, two days ago": (timedelta(days=2), SyncRun.State.FAILED, 0),
    }
    for error, (ago, state, created) in kept.items():
        SyncRun.objects.create(
            partner=partner, trigger=SyncRun.Trigger.QUICK, state=state, started_at=t0 - ago,
            sessions_created=created, error=error,
        )  # fmt: skip
    run = quick_sync(Partner.objects.get(pk=partner.pk))
    quick = partner.sync_runs.filter(trigger=SyncRun.Trigger.QUICK).exclude(pk=run.pk)
    assert sorted(quick.values_list("error", flat=True)) == [
        "failed, an hour ago",
        "wrote, an hour ago",
    ]
    assert partner.sync_runs.filter(trigger=SyncRun.Trigger.COMMAND).count() == 1  # the full one
