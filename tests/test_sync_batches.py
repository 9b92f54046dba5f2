"""A sync writes several pages at once (GLANCE_WRITE_BATCH sessions), so a write's fixed costs
are paid once for them all; a page that fails to arrive loses none of the pages read before it."""

import pytest

from sessions_app.models import Guest, Session, SyncRun
from sessions_app.sync.run import sync_partner
from tests.helpers.glance import make_partner
from tests.helpers.sync import served, stored

pytestmark = pytest.mark.django_db


def test_pages_are_written_in_batches_and_the_data_is_exact(glance, settings):
    settings.GLANCE_PAGE_SIZE = 10
    settings.GLANCE_WRITE_BATCH = 25  # a write every third page
    settings.GLANCE_WINDOW_DAYS = 31
    partner = make_partner(glance, backfill_days=5)
    written = []

    def progress(p):
        written.append((p.pages, Session.objects.filter(partner=partner).count()))

    run = sync_partner(partner, on_progress=progress)
    assert run.state == "succeeded", run.error
    truth = served(glance, partner)
    assert run.pages == -(-len(truth) // 10) >= 7
    # One report per write of three pages (the last what is left), then the window's own.
    writes = -(-run.pages // 3)
    assert written == [
        (min(3 * (i + 1), run.pages), min(30 * (i + 1), len(truth))) for i in range(writes)
    ] + [(run.pages, len(truth))]
    assert stored(partner).keys() == truth.keys()
    assert Guest.objects.filter(session__partner=partner).count() == sum(
        len(s["guests"]) for s in truth.values()
    )


def test_a_malformed_page_keeps_the_pages_read_before_it(glance, settings):
    settings.GLANCE_PAGE_SIZE = 10
    settings.GLANCE_WRITE_BATCH = 5000  # all of the window's pages in one write, had it ended
    partner = make_partner(glance, backfill_days=5)
    glance.sim.faults.update({"malformed_calls": {4}, "malformed_kind": "truncated"})

    run = sync_partner(partner)
    assert run.state == "failed" and "malformed answer" in run.error
    kept = stored(partner)
    truth = served(glance, partner)
    assert run.pages == 3 and len(kept) == 30  # the three good pages, written though it failed
    assert kept.keys() <= truth.keys()
    assert SyncRun.objects.get(pk=run.pk).pages == 3
