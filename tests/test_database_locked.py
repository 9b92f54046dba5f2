"""SQLite busy or locked: another connection holds the write lock (a second writer, a backup
tool) while a sync writes and while pages are read. Writers wait for it (the busy timeout) and
go on; past the timeout the sync stops in words, keeping whole pages only; readers are never
blocked and never see a half-written page."""

import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from sessions_app.models import Guest, Session, SyncRun
from sessions_app.sync.run import sync_partner
from tests.helpers.glance import make_partner
from tests.helpers.processes import ROOT, database_url
from tests.helpers.sync import served, stored

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="SQLite's file lock; PostgreSQL locks rows, and its writers never lock readers out",
    ),
]


class WriteLock:
    """Another process's view of the database file: BEGIN IMMEDIATE takes SQLite's write lock,
    and it is held until release() (as a long write transaction elsewhere would hold it)."""

    def __init__(self):
        self.db = sqlite3.connect(
            connection.settings_dict["NAME"], isolation_level=None, check_same_thread=False
        )
        self.db.execute("BEGIN IMMEDIATE")

    def write_uncommitted_session(self, partner):
        """A copy of the partner's newest session under a new Glance id, not committed."""
        columns = [row[1] for row in self.db.execute("PRAGMA table_info(sessions_app_session)")]
        columns.remove("id")
        values = ", ".join("999999999" if c == "glance_id" else c for c in columns)
        self.db.execute(
            f"INSERT INTO sessions_app_session ({', '.join(columns)}) SELECT {values}"
            " FROM sessions_app_session WHERE partner_id = ? ORDER BY start_time DESC LIMIT 1",
            (partner.pk,),
        )

    def release(self):
        self.db.execute("ROLLBACK")
        self.db.close()

    def release_after(self, seconds):
        timer = threading.Timer(seconds, self.release)
        timer.start()
        return timer


def test_a_sync_waits_for_a_lock_taken_mid_sync_and_ends_exact(glance, settings):
    settings.GLANCE_WRITE_BATCH = 1  # each page written as it arrives: a lock between pages
    partner = make_partner(glance)
    held = []

    def lock_once(progress):
        if progress.pages == 2 and not held:  # after the second page is committed
            lock = WriteLock()
            held.append(time.monotonic())
            lock.release_after(1.5)

    started = time.monotonic()
    run = sync_partner(partner, on_progress=lock_once)
    assert held and time.monotonic() - started >= 1.5  # it waited for the lock...
    assert run.state == "succeeded"  # ...and went on
    truth = served(glance, partner)
    assert stored(partner).keys() == truth.keys()
    assert Guest.objects.count() == sum(len(s["guests"]) for s in truth.values())


def test_a_lock_held_past_the_busy_timeout_stops_the_sync_in_words(glance):
    partner = make_partner(glance)
    lock = WriteLock()
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "sync_glance"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url(), "SQLITE_BUSY_TIMEOUT": "0.5"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        lock.release()
    assert result.returncode != 0
    assert "the database is busy or locked (database is locked)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not Session.objects.exists() and not SyncRun.objects.exists()
    # Once the lock is gone, the next sync completes the data.
    assert sync_partner(partner).state == "succeeded"
    assert stored(partner).keys() == served(glance, partner).keys()


def test_pages_are_read_while_a_writer_holds_the_lock_and_show_only_committed_rows(
    glance, client, django_user_model
):
    from sessions_app.models import Membership

    partner = make_partner(glance, backfill_days=3)
    sync_partner(partner)
    user = django_user_model.objects.create_user("lead", "", "pw-lead-Xy9!")
    Membership.objects.create(user=user, partner=partner, role="analyst")
    client.force_login(user)
    committed = Session.objects.count()
    lock = WriteLock()
    try:
        lock.write_uncommitted_session(partner)
        started = time.monotonic()
        for path in ("/", "/sessions/", "/agents/", "/charts/sessions-over-time/"):
            assert client.get(path).status_code == 200, path
        listing = client.get("/sessions/").content.decode()  # newest first: the copy's place
        assert time.monotonic() - started < 10  # not held up by the writer
        assert "999999999" not in listing  # the writer's uncommitted row is not shown
        assert Session.objects.count() == committed
    finally:
        lock.release()
    assert not Session.objects.filter(glance_id=999999999).exists()
