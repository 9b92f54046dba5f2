"""Every fault the simulator can inject, one sync through it and one after it: the data ends
equal to the simulator's ground truth, with no duplicates and no gaps, and the first sync says
what happened in words.

The partner's backfill is two days, inside the 48-hour look-back, so the second sync re-reads
all of it whatever the first left behind; pages of ten sessions give each fault several pages
to land in."""

from datetime import timedelta

import pytest

from glance_sim import Faults
from sessions_app.models import Guest, Session
from sessions_app.sync import completeness
from sessions_app.sync.run import sync_partner
from tests.helpers.glance import SIM_NOW, make_partner
from tests.helpers.sync import origin

# name: (fault switches, settings, the first sync's state, words its error must hold)
FAULTS = {
    "timeouts": ({"latency": 0.5}, {"GLANCE_READ_TIMEOUT": 0.2}, "failed", "no answer within"),
    "a burst of 503s": ({"fail_next": 6}, {}, "failed", "503"),
    "429 with Retry-After": (
        {"fail_next": 2, "error_status": 429, "retry_after": 0},
        {},
        "succeeded",
        "",
    ),
    "truncated JSON": (
        {"malformed_calls": {2}, "malformed_kind": "truncated"},
        {},
        "failed",
        "malformed answer",
    ),
    "an HTML page instead of JSON": (
        {"malformed_calls": {2}, "malformed_kind": "not_json"},
        {},
        "failed",
        "malformed answer",
    ),
    "JSON of the wrong shape": (
        {"malformed_calls": {3}, "malformed_kind": "wrong_shape"},
        {},
        "failed",
        "malformed answer",
    ),
    # The body is right: it is read, whatever the label says.
    "the wrong content type": (
        {"malformed_calls": {2}, "malformed_kind": "wrong_content_type"},
        {},
        "succeeded",
        "",
    ),
    # Its sessions are lost to the listing; the month's completeness check finds the gap and
    # re-syncs the month within the same run.
    "an empty page with a non-zero nextId": (
        {"malformed_calls": {2}, "malformed_kind": "empty_page"},
        {},
        "succeeded",
        "",
    ),
    "the same session on two pages": (
        {"malformed_calls": {1, 2, 3}, "malformed_kind": "repeat_last"},
        {},
        "succeeded",
        "",
    ),
    "sessions changing status between calls": (
        {"mutate_between_calls": True},
        {},
        "succeeded",
        "",
    ),
    "the endpoint going away mid-sync": (
        {"fail_after_calls": 2},
        {},
        "failed",
        "gave up after",
    ),
}


def truth(glance, partner):
    return glance.served(partner.glance_partner_id, origin(partner), SIM_NOW + timedelta(days=1))


@pytest.mark.parametrize("name", FAULTS)
def test_after_a_fault_the_next_good_sync_leaves_exactly_the_truth(glance, db, settings, name):
    switches, overrides, first_state, words = FAULTS[name]
    settings.GLANCE_PAGE_SIZE = 10
    for setting, value in overrides.items():
        setattr(settings, setting, value)
    partner = make_partner(glance, backfill_days=2)
    glance.sim.faults.update(switches)

    first = sync_partner(partner)
    assert first.state == first_state, first.error
    assert words in first.error

    glance.sim.faults = Faults()
    settings.GLANCE_READ_TIMEOUT = 5
    second = sync_partner(partner)
    assert second.state == "succeeded", second.error

    served = truth(glance, partner)
    rows = {s.glance_id: s for s in Session.objects.filter(partner=partner)}
    assert len(served) > 20
    assert Session.objects.filter(partner=partner).count() == len(rows)  # no duplicates
    assert rows.keys() == served.keys()  # no gaps, nothing extra
    assert {i: (r.session_type, r.status, r.duration) for i, r in rows.items()} == {
        i: (s["type"], s["status"], s["duration"]) for i, s in served.items()
    }
    assert Guest.objects.filter(session__partner=partner).count() == sum(
        len(s["guests"]) for s in served.values()
    )
    assert completeness.completeness(partner).state == "complete"


def test_an_empty_page_is_caught_by_the_completeness_check_in_the_same_run(glance, db, settings):
    settings.GLANCE_PAGE_SIZE = 10
    partner = make_partner(glance, backfill_days=2)
    glance.sim.faults.update({"malformed_calls": {2}, "malformed_kind": "empty_page"})
    run = sync_partner(partner)
    checks = list(partner.completeness_checks.all())
    assert run.state == "succeeded"
    assert any(check.rechecked for check in checks)  # found short, re-synced, found whole
    assert all(check.state == "complete" for check in checks)
    assert set(Session.objects.values_list("glance_id", flat=True)) == truth(glance, partner).keys()
