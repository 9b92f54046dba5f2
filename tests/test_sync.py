"""The sync against the simulator over real HTTP: exact, idempotent, resumable, exclusive."""

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sessions_app.glance.client import GlanceClient
from sessions_app.models import Agent, Guest, Partner, Session, SyncRun
from sessions_app.sync import run as sync_run
from sessions_app.sync.run import SyncBusy, claim, sync_partner
from tests.helpers.glance import OTHER_ID, OTHER_KEY, PARTNER_ID, SIM_NOW, make_partner
from tests.helpers.sync import origin, served, stored


def test_it_stores_exactly_what_the_simulator_serves(glance, partner):
    run = sync_partner(partner)
    truth, rows = served(glance, partner), stored(partner)
    assert run.state == "succeeded" and len(truth) > 300
    assert rows.keys() == truth.keys()
    assert run.sessions_created == len(truth) and run.sessions_updated == 0
    assert Guest.objects.filter(session__partner=partner).count() == sum(
        len(s["guests"]) for s in truth.values()
    )
    for glance_id in list(truth)[::37]:
        source, row = truth[glance_id], rows[glance_id]
        assert (row.session_type, row.status, row.key, row.duration) == (
            source["type"],
            source["status"],
            source["key"],
            source["duration"],
        )
        assert row.agent.user_name == source["_user"]["userName"]
        assert row.end_time == row.start_time + timedelta(seconds=source["duration"])


def test_it_stores_guests_in_order_with_their_locations(glance, partner):
    sync_partner(partner)
    truth = served(glance, partner)
    glance_id = next(i for i, s in truth.items() if len(s["guests"]) >= 3)
    guests = list(Guest.objects.filter(session__glance_id=glance_id).order_by("position"))
    for guest, source in zip(guests, truth[glance_id]["guests"], strict=True):
        location = source["location"] or {}
        assert (guest.guest_type, guest.status, guest.ip, guest.name) == (
            source["type"],
            source["status"],
            source["ip"],
            source["name"],
        )
        assert (guest.city, guest.country_code) == (
            location.get("city"),
            location.get("countryCode"),
        )


def test_it_merges_an_agent_whose_sessions_span_pages(glance, partner):
    client = GlanceClient.for_partner(partner)
    pages = list(client.completed_session_pages(origin(partner), SIM_NOW))
    pages_of = {}
    for number, page in enumerate(pages):
        for session in page.sessions:
            pages_of.setdefault(session.agent.user_name, set()).add(number)
    spanning = next(name for name, numbers in pages_of.items() if len(numbers) > 1)
    sync_partner(partner)
    agent = Agent.objects.get(partner=partner, user_name=spanning)
    expected = sum(1 for p in pages for s in p.sessions if s.agent.user_name == spanning)
    assert agent.sessions.count() == expected
    assert Agent.objects.filter(partner=partner).count() == len(pages_of)


def test_it_cuts_a_100_day_backfill_into_windows_of_31_days(glance, db):
    partner = make_partner(glance, backfill_days=100)
    run = sync_partner(partner)
    ranges = sorted({(c.params["startRange"], c.params["endRange"]) for c in glance.calls()})
    bounds = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in ranges]
    assert run.windows_total == len(bounds) == 4 and run.windows_done == 4
    assert bounds[0][0] == origin(partner)
    assert all(end - start <= timedelta(days=31) for start, end in bounds)
    assert all(bounds[i][1] == bounds[i + 1][0] for i in range(3))  # no gap, no overlap
    assert stored(partner).keys() == served(glance, partner).keys()


def test_it_retries_after_injected_server_errors(glance, partner):
    glance.sim.faults.fail_next = 2
    run = sync_partner(partner)
    statuses = [c.status for c in glance.calls()]
    assert statuses[:3] == [503, 503, 200]
    assert run.state == "succeeded"
    assert stored(partner).keys() == served(glance, partner).keys()


def test_it_honours_retry_after_on_429(glance, partner, settings):
    settings.GLANCE_BACKOFF_MAX = 1.0
    glance.sim.faults.fail_next, glance.sim.faults.error_status, glance.sim.faults.retry_after = (
        1,
        429,
        1,
    )
    started = timezone.now()
    run = sync_partner(partner)
    assert run.state == "succeeded"
    assert (timezone.now() - started).total_seconds() >= 1.0  # waited as told, not 10 ms
    assert [c.status for c in glance.calls()][:2] == [429, 200]


def test_it_fails_clearly_on_a_bad_key_and_changes_nothing(glance, db):
    partner = make_partner(glance, key="wrong-key-123")
    run = sync_partner(partner)
    partner.refresh_from_db()
    assert run.state == "failed"
    assert "API key was refused (HTTP 500, server error)" in run.error
    assert "Invalid partnerId or apiKey" not in run.error  # the answer's own words: never shown
    assert str(PARTNER_ID) in run.error and "PartnerCompletedSessions" in run.error
    assert "wrong-key-123" not in run.error
    assert len(glance.calls()) == 1  # an authentication failure is not retried
    assert not Session.objects.exists() and partner.sync_watermark is None


def test_it_keeps_pages_before_a_malformed_one_and_resumes(glance, partner):
    glance.sim.faults.malformed_calls = {3}
    first = sync_partner(partner)
    partner.refresh_from_db()
    assert first.state == "failed" and "malformed answer" in first.error
    assert Session.objects.count() == 100 and first.pages == 2  # two pages of 50 kept
    assert partner.sync_watermark is None
    glance.sim.faults.malformed_calls = set()
    second = sync_partner(partner)
    assert second.state == "succeeded"
    assert stored(partner).keys() == served(glance, partner).keys()


def test_it_resumes_after_the_endpoint_goes_away_between_pages(glance, partner):
    glance.sim.faults.fail_after_calls = 2
    first = sync_partner(partner)
    assert first.state == "failed" and "gave up after 4 tries" in first.error
    assert Session.objects.count() == 100
    glance.sim.faults.fail_after_calls = None
    assert sync_partner(partner).state == "succeeded"
    assert stored(partner).keys() == served(glance, partner).keys()


def test_a_second_run_changes_nothing_and_duplicates_nothing(glance, partner):
    sync_partner(partner)
    before = (Session.objects.count(), Guest.objects.count(), Agent.objects.count())
    again = sync_partner(partner, since=origin(partner))
    assert again.sessions_created == 0 and again.sessions_updated == 0  # re-read, unchanged
    assert (Session.objects.count(), Guest.objects.count(), Agent.objects.count()) == before


def test_a_session_that_changes_status_is_updated_not_duplicated(glance, partner):
    sync_partner(partner)
    count = Session.objects.count()
    statuses = dict(Session.objects.values_list("glance_id", "status"))
    glance.sim.bump_version()
    rerun = sync_partner(partner, since=origin(partner))
    changed = {
        i
        for i, status in Session.objects.values_list("glance_id", "status")
        if status != statuses[i]
    }
    truth = served(glance, partner)
    assert changed and all(stored(partner)[i].status == truth[i]["status"] for i in changed)
    assert Session.objects.count() == count and rerun.sessions_updated == len(changed)


def test_the_look_back_picks_up_sessions_that_completed_late(glance, partner):
    glance.sim.now = SIM_NOW - timedelta(hours=40)  # inside the 48 h look-back
    sync_partner(partner)
    early = Session.objects.count()
    glance.sim.now = SIM_NOW
    run = sync_partner(partner)  # from the watermark less the 48 h look-back
    assert run.window_start >= timezone.now() - timedelta(hours=49)
    assert Session.objects.count() > early
    assert stored(partner).keys() == served(glance, partner).keys()


def test_the_watermark_moves_only_past_complete_windows(glance, db):
    partner = make_partner(glance, backfill_days=70)
    first_window_calls = len(
        list(
            GlanceClient.for_partner(partner).completed_session_pages(
                origin(partner), origin(partner) + timedelta(days=31)
            )
        )
    )
    glance.sim.reset()
    glance.sim.faults.malformed_calls = {first_window_calls + 1}  # first page of window two
    run = sync_partner(partner)
    partner.refresh_from_db()
    assert run.state == "failed" and run.windows_done == 1
    assert partner.sync_watermark == origin(partner) + timedelta(days=31)


@pytest.mark.django_db(transaction=True)
def test_two_syncs_of_one_partner_never_run_at_once(glance):
    partner = make_partner(glance)
    glance.sim.faults.latency = 0.05
    outcomes = []

    def attempt():
        try:
            outcomes.append(sync_partner(Partner.objects.get(pk=partner.pk)).state)
        except SyncBusy:
            outcomes.append("busy")
        finally:
            connection.close()  # the thread's own connection, or the test database stays in use

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["busy", "succeeded"]
    assert SyncRun.objects.count() == 1
    assert stored(partner).keys() == served(glance, partner).keys()


def test_an_expired_claim_is_taken_over_and_its_run_closed(glance, partner):
    claim(partner)
    SyncRun.objects.create(partner=partner, trigger="schedule")  # left by a killed worker
    with pytest.raises(SyncBusy):
        sync_partner(partner)
    Partner.objects.filter(pk=partner.pk).update(
        sync_claimed_until=timezone.now() - timedelta(seconds=1)
    )
    run = sync_partner(partner)
    abandoned = SyncRun.objects.exclude(pk=run.pk).get()
    assert run.state == "succeeded"
    assert abandoned.state == "failed" and "interrupted" in abandoned.error


def _planner_row_count(table: str) -> int | None:
    """How many rows the query planner believes `table` holds, from its statistics."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if not cursor.fetchone():
                return None
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s LIMIT 1", [table])
            row = cursor.fetchone()
            return int(row[0].split()[0]) if row else None
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return int(cursor.fetchone()[0])


def test_a_big_sync_leaves_the_planner_fresh_statistics(glance, partner, monkeypatch):
    """Without them SQLite and PostgreSQL chose sorts and sequential scans after a backfill."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
    monkeypatch.setattr(sync_run, "ANALYZE_AFTER", 100)  # the test's backfill is a few hundred
    run = sync_partner(partner)
    assert run.sessions_created >= 100
    for model in (Session, Guest):
        assert _planner_row_count(model._meta.db_table) == model.objects.count()


def test_agents_are_added_once_and_updated_only_when_their_validity_changes(db):
    from sessions_app.glance.records import AgentRecord
    from tests.factories import record, store

    partner = Partner.objects.create(name="p", glance_partner_id=77)
    for page in range(5):  # five pages naming the same two agents
        jane = [record(page * 10 + i, "2026-03-19T10:00:00") for i in range(3)]
        store(partner, *jane, record(page * 10 + 5, "2026-03-19T11:00", agent="bob.acme.glance"))
    store(partner, record(90, "2026-03-19T12:00:00", agent="carol.acme.glance.net"))
    agents = {a.user_name: a for a in Agent.objects.filter(partner=partner)}
    assert set(agents) == {"jane.acme.glance.net", "bob.acme.glance", "carol.acme.glance.net"}
    # The ids follow on: re-reading an agent takes no new one from the table's sequence.
    pks = sorted(a.pk for a in agents.values())
    assert pks == [pks[0], pks[0] + 1, pks[0] + 2] and agents["carol.acme.glance.net"].pk == pks[2]
    jane, bob = agents["jane.acme.glance.net"], agents["bob.acme.glance"]
    before = bob.updated_at

    invalid = record(99, "2026-03-19T12:00:00", agent="bob.acme.glance")
    invalid.agent = AgentRecord("bob.acme.glance", "BOB", False, "user deleted")
    store(partner, invalid)
    bob.refresh_from_db()
    assert (bob.valid_user, bob.invalid_reason) == (False, "user deleted")
    assert bob.updated_at > before
    assert Agent.objects.get(pk=jane.pk).updated_at == jane.updated_at  # unchanged, not rewritten


@pytest.mark.skipif(connection.vendor != "postgresql", reason="refreshed mid-sync on PostgreSQL")
def test_postgresql_statistics_keep_up_with_a_long_backfill(glance, partner, monkeypatch,
                                                           settings):  # fmt: skip
    """Statistics taken before a backfill describe an empty partner; the sync refreshes them
    each time its new sessions double, so the planner knows the rows while the sync runs."""

    monkeypatch.setattr(sync_run, "ANALYZE_AFTER", 50)
    settings.GLANCE_WRITE_BATCH = 1  # a write per page: the refreshes between them are seen
    seen = []  # (sessions stored, sessions the planner knows of), after each page
    sync_partner(
        partner,
        on_progress=lambda _: seen.append(
            (Session.objects.count(), _planner_row_count(Session._meta.db_table))
        ),
    )
    stored = seen[-1][0]
    assert stored > 200
    middle = [known for count, known in seen if count < stored // 2]
    assert middle and max(middle) >= 50  # refreshed before the sync was half done
    assert all(known * 2 >= count for count, known in seen if count >= 100)  # never half stale


def _planner_partner_rows(partner) -> int:
    """How many of the partner's sessions the planner expects a query by partner to find."""
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (FORMAT JSON) SELECT id FROM sessions_app_session WHERE partner_id = %s",
            [partner.pk],
        )
        return int(cursor.fetchone()[0][0]["Plan"]["Plan Rows"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="refreshed mid-sync on PostgreSQL")
def test_a_second_partners_backfill_keeps_its_own_statistics_fresh(glance, partner, monkeypatch):
    """A partner backfilled after another filled the table: the planner must learn its rows as
    they come, not when the table as a whole has doubled. Thought a partner of no rows, each
    page's lookup by Glance id read every row of it so far (a few hundred sessions/s)."""
    monkeypatch.setattr(sync_run, "ANALYZE_AFTER", 50)
    first = sync_partner(partner)
    assert first.sessions_created > 200  # the table the second partner joins
    second = make_partner(glance, glance_id=OTHER_ID, key=OTHER_KEY, backfill_days=120)
    seen = []  # (the second partner's sessions stored, the planner's estimate), after each page
    sync_partner(
        second,
        on_progress=lambda _: seen.append(
            (Session.objects.filter(partner=second).count(), _planner_partner_rows(second))
        ),
    )
    assert seen[-1][0] > 400
    late = [(count, known) for count, known in seen if count >= 100]
    assert late and all(known * 2 >= count for count, known in late), late
