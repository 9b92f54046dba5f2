"""Completeness: each synced month against Glance's own counts, the badge and table users see,
the warning for a mismatch that survives a re-sync, /healthz.json and `verify_glance`."""

import io
import json
import re
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from sessions_app.models import CompletenessCheck, Membership, Session
from sessions_app.sync import completeness
from sessions_app.sync.run import sync_partner
from tests.helpers.glance import SIM_NOW, make_partner

State = CompletenessCheck.State


def origin(partner):
    return datetime.combine(partner.backfill_start, time.min, tzinfo=UTC)


def truth(glance, partner, start=None, end=None):
    start, end = start or origin(partner), end or SIM_NOW + timedelta(days=1)
    return glance.served(partner.glance_partner_id, start, end)


def checks(partner):
    return list(partner.completeness_checks.order_by("month"))


def hide_some(glance, partner, n):
    """Hides n ended sessions of one UTC day three days ago from Glance's listing (its counts
    still count them); returns the month they are in."""
    day = (SIM_NOW - timedelta(days=3)).replace(hour=0)
    ids = sorted(truth(glance, partner, day, day + timedelta(days=1)))
    assert len(ids) >= n
    glance.sim.faults.hidden_sessions = set(ids[:n])
    return day.replace(day=1).date()


def month_check(partner, month):
    return partner.completeness_checks.get(month=month)


def admin_client(client, django_user_model, partner):
    user = django_user_model.objects.create_user("lead", "lead@example.com", "pw-lead-Xy9!")
    Membership.objects.create(user=user, partner=partner, role="admin")
    client.force_login(user)
    return client


# --- months ---------------------------------------------------------------------------------


def test_months_are_cut_at_utc_month_boundaries_across_a_year_end():
    start = datetime(2025, 11, 20, 7, 30, tzinfo=UTC)
    end = datetime(2026, 2, 3, tzinfo=UTC)
    assert completeness.month_ranges(start, end) == [
        (start, datetime(2025, 12, 1, tzinfo=UTC)),
        (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
        (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)),
        (datetime(2026, 2, 1, tzinfo=UTC), end),
    ]
    assert all(b - a <= timedelta(days=31) for a, b in completeness.month_ranges(start, end))


# --- during the sync ------------------------------------------------------------------------


def test_a_sync_checks_every_month_it_wrote_and_finds_them_complete(glance, db):
    partner = make_partner(glance, backfill_days=70)
    run = sync_partner(partner)
    assert run.state == "succeeded"
    months = checks(partner)
    expected_months = completeness.month_ranges(origin(partner), run.window_end)
    assert [c.month for c in months] == [
        completeness.month_start(m[0]).date() for m in expected_months
    ]
    assert months[0].range_start == origin(partner)  # not before the first synced instant
    assert months[-1].range_end == run.window_end
    assert all(c.state == State.COMPLETE and not c.rechecked for c in months)
    # The counts came from Glance: every ended session the simulator serves, by type and status.
    served = truth(glance, partner, origin(partner), run.window_end)
    assert sum(c.expected for c in months) == len(served) == Session.objects.count()
    badge = completeness.completeness(partner)
    assert (badge.state, badge.label, badge.missing) == ("complete", "complete", 0)
    by_group = {(g["type"], g["status"]): g["stored"] for g in badge.groups}
    for session in served.values():
        by_group[(session["type"], session["status"])] -= 1
    assert set(by_group.values()) == {0}
    assert len(glance.calls("PartnerSessionCounts")) == len(expected_months)


def test_a_month_is_checked_only_from_the_partners_retention_limit(glance, db):
    # The sync keeps no session older than retention, so Glance's older ones are not "missing".
    partner = make_partner(glance, backfill_days=40, retain_sessions_days=12)
    assert sync_partner(partner).state == "succeeded"
    months = checks(partner)
    assert all(c.state == State.COMPLETE for c in months), [(c.month, c.missing) for c in months]
    assert months[0].range_start >= SIM_NOW - timedelta(days=12, hours=1)


def test_a_mismatch_resyncs_the_month_once_and_a_late_listing_is_then_complete(glance, db):
    partner = make_partner(glance, backfill_days=10)
    month = hide_some(glance, partner, 4)
    hidden = set(glance.sim.faults.hidden_sessions)

    def listing_catches_up(progress):
        if progress.windows_done == progress.windows_total:  # the window is written; check next
            glance.sim.faults.hidden_sessions = set()

    run = sync_partner(partner, on_progress=listing_catches_up)
    assert run.state == "succeeded"
    check = month_check(partner, month)
    assert (check.state, check.rechecked, check.missing) == (State.COMPLETE, True, 0)
    assert hidden <= set(Session.objects.values_list("glance_id", flat=True))
    assert Session.objects.count() == len(truth(glance, partner))
    assert len(glance.calls("PartnerSessionCounts")) == len(checks(partner)) + 1


def test_a_mismatch_that_survives_the_resync_is_a_warning_everywhere(
    glance, db, client, django_user_model
):
    partner = make_partner(glance, backfill_days=10)
    month = hide_some(glance, partner, 3)
    run = sync_partner(partner)
    assert run.state == "succeeded"  # the data it could get is stored; the gap is reported
    check = month_check(partner, month)
    assert (check.state, check.rechecked, check.missing, check.extra) == (
        State.MISMATCH,
        True,
        3,
        0,
    )
    assert check.persisting
    # Re-queued once: the month's listing was read twice, and counted twice.
    assert len(glance.calls("PartnerSessionCounts")) == len(checks(partner)) + 1
    badge = completeness.completeness(partner)
    assert badge.label == "3 sessions missing"
    assert sum(-g["difference"] for g in badge.groups if g["difference"]) == 3

    client = admin_client(client, django_user_model, partner)
    page = client.get("/sync/").content.decode()
    assert "3 sessions missing" in page and 'id="completeness-warnings"' in page
    assert "after a re-sync" in page
    detail = client.get(f"/partners/{partner.pk}/").content.decode()
    assert "3 sessions missing" in detail and 'class="mismatch"' in detail
    assert (
        f"Glance counts {badge.expected:,} ended sessions and glancedash stores "
        f"{badge.expected - 3:,}." in detail
    )
    assert "<details open>" in detail  # a table that differs is shown, not folded away
    listing = client.get("/partners/").content.decode()
    assert "3 sessions missing" in listing

    client.logout()
    health = client.get("/healthz.json")
    body = health.json()
    assert health.status_code == 200 and body["status"] == "warning"
    (row,) = body["partners"]
    assert row["id"] == partner.pk and row["completeness"]["missing"] == 3
    assert row["completeness"]["persisting_mismatches"][0]["missing"] == 3
    text = health.content.decode()
    assert partner.name not in text and str(partner.glance_partner_id) not in text


def test_a_later_sync_that_gets_the_sessions_clears_the_warning(glance, db):
    partner = make_partner(glance, backfill_days=10)
    hide_some(glance, partner, 2)
    sync_partner(partner)
    assert completeness.completeness(partner).persisting
    glance.sim.faults.hidden_sessions = set()
    sync_partner(partner, since=origin(partner))
    badge = completeness.completeness(partner)
    assert (badge.state, badge.persisting) == ("complete", [])


def test_counts_that_cannot_be_read_leave_the_sync_good_and_the_month_unchecked(glance, db):
    partner = make_partner(glance, backfill_days=5)

    def counts_refused(progress):
        if progress.windows_done == progress.windows_total:
            glance.sim.faults.auth_failure = True

    run = sync_partner(partner, on_progress=counts_refused)
    assert run.state == "succeeded"
    month = checks(partner)[-1]
    assert month.state == State.FAILED and "API key was refused" in month.error
    assert completeness.completeness(partner).label == "check failed"


def test_no_check_before_any_sync_and_none_when_switched_off(glance, db, settings, client):
    partner = make_partner(glance, backfill_days=5)
    assert completeness.completeness(partner).label == "not yet checked"
    assert client.get("/healthz.json").json()["partners"][0]["completeness"]["state"] == (
        "unchecked"
    )
    settings.GLANCE_COMPLETENESS_CHECKS = False
    sync_partner(partner)
    assert not checks(partner) and not glance.calls("PartnerSessionCounts")


def test_healthz_json_is_ok_after_complete_syncs(glance, db, client):
    partner = make_partner(glance, backfill_days=5)
    sync_partner(partner)
    body = client.get("/healthz.json").json()
    assert body["status"] == "ok" and body["partners"][0]["sync"] == "ok"
    assert body["partners"][0]["completeness"]["state"] == "complete"


# --- by hand --------------------------------------------------------------------------------


def run_verify(*args):
    out = io.StringIO()
    call_command("verify_glance", *args, stdout=out)
    return out.getvalue()


def test_verify_glance_passes_on_a_complete_partner(glance, db):
    partner = make_partner(glance, backfill_days=40)
    sync_partner(partner)
    # The check runs up to the wall clock: from a minute past a month's start, that month too.
    before = timezone.now()
    output = run_verify("--partner", str(partner.glance_partner_id))
    months = {
        len(completeness.month_ranges(origin(partner), end)) for end in (before, timezone.now())
    }
    assert output.count("complete: ") in months
    assert "MISMATCH" not in output


def test_verify_glance_names_what_is_missing_and_exits_non_zero(glance, db):
    partner = make_partner(glance, backfill_days=5)
    sync_partner(partner)
    since = origin(partner) - timedelta(days=3)  # three days never synced
    unsynced = truth(glance, partner, since, origin(partner))
    assert unsynced
    out = io.StringIO()
    with pytest.raises(CommandError, match="not complete"):
        call_command(
            "verify_glance",
            "--partner",
            str(partner.glance_partner_id),
            "--since",
            since.isoformat(),
            stdout=out,
        )
    output = out.getvalue()
    # The three days may straddle a month's start: each month says its own missing sessions.
    by_month = Counter(s["startTime"][:7] for s in unsynced.values())
    for month, missing in by_month.items():
        assert re.search(rf"{month}  MISMATCH: .*\({missing:,} missing", output), (month, output)
    assert "Cobrowse / Completed: Glance" in output or "Screen share / Completed" in output
    # The result is the month's answer for the badge too.
    assert completeness.completeness(partner).missing == len(unsynced)


def test_verify_glance_refuses_a_bad_range_and_an_unknown_partner(glance, db):
    partner = make_partner(glance, backfill_days=5)
    with pytest.raises(CommandError, match="no partner with Glance id 999"):
        run_verify("--partner", "999")
    with pytest.raises(CommandError, match="must be before"):
        run_verify(
            "--partner",
            str(partner.glance_partner_id),
            "--since",
            "2030-01-01",
            "--until",
            "2029-01-01",
        )


def test_health_json_hides_the_api_key(glance, db, client):
    partner = make_partner(glance, backfill_days=3)
    sync_partner(partner)
    text = client.get("/healthz.json").content.decode()
    assert partner.api_key not in text and json.loads(text)["database"] in ("sqlite", "postgresql")
