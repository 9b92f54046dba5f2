"""A sync process killed between pages: what it committed stays, its claim runs out on its own,
and the next sync completes the data exactly."""

import os
import signal
import subprocess
import sys
import time

import pytest

from sessions_app.models import Guest, Session, SyncRun
from sessions_app.sync.run import sync_partner
from tests.helpers.glance import make_partner
from tests.helpers.processes import ROOT, database_url
from tests.helpers.sync import served, stored


def wait_for_pages(pages, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if SyncRun.objects.filter(pages__gte=pages).exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"the sync did not reach {pages} pages in {seconds}s")


@pytest.mark.django_db(transaction=True)
def test_a_sync_killed_between_pages_is_completed_by_the_next(glance):
    partner = make_partner(glance)
    glance.sim.faults.latency = 0.3  # slow pages, so the kill lands mid-window
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "GLANCE_PAGE_SIZE": "50",
        "GLANCE_WRITE_BATCH": "1",  # each page written as it arrives: a kill between pages
        "GLANCE_SYNC_LEASE_SECONDS": "2",
    }
    proc = subprocess.Popen([sys.executable, "manage.py", "sync_glance"], cwd=ROOT, env=env)
    wait_for_pages(2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partner.refresh_from_db()
    killed = SyncRun.objects.get()
    assert killed.state == "running" and partner.sync_watermark is None
    assert 100 <= Session.objects.count() < len(served(glance, partner))
    time.sleep(2.1)  # the dead worker's lease runs out; nobody releases it by hand
    glance.sim.faults.latency = 0
    run = sync_partner(partner)
    killed.refresh_from_db()
    assert run.state == "succeeded" and killed.state == "failed"
    truth = served(glance, partner)
    assert stored(partner).keys() == truth.keys()
    assert Guest.objects.count() == sum(len(s["guests"]) for s in truth.values())
