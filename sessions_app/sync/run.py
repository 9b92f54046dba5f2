"""Syncing one partner: claim it, walk from its watermark to now in windows the service accepts,
write each page as it arrives, and move the watermark only past windows that completed.

- Re-reading `GLANCE_LOOKBACK_HOURS` before the watermark picks up sessions that completed late.
- Every page is committed on its own, so a failure keeps what was written; the next run starts
  again at the watermark, which never moved past the failed window, and the upsert makes the
  repeated pages harmless.
- A conditional UPDATE claims the partner with a lease; a second sync of the same partner finds
  the claim taken and stops (SyncBusy). A killed worker's lease simply runs out.
- Each UTC month the sync finishes is checked against Glance's own counts (completeness.py).
- Beside that full pass, a quick pass (quick_sync) reads only the last minutes, so a session
  that just ended is on the dashboard at once; one that finds nothing new writes nothing.
"""

import logging
import time as time_module
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from sessions_app.glance.client import GlanceClient, GlanceError, split_windows
from sessions_app.models import (
    Agent,
    AgentRollup,
    Guest,
    Partner,
    Session,
    SessionRollup,
    SyncRun,
)
from sessions_app.rollups import months
from sessions_app.sync import completeness, pipeline
from sessions_app.sync.ingest import store_sessions

log = logging.getLogger(__name__)

# Sent after every sync, whatever its outcome, with `partner` and `run`: the layers above (alert
# rules, in notify.alerts) listen, so the sync knows nothing of them.
sync_finished = Signal()


class SyncBusy(Exception):
    """Another sync of this partner holds the claim."""


@dataclass
class Progress:
    windows_total: int
    windows_done: int
    pages: int
    sessions: int
    window: tuple[datetime, datetime]


# --- the claim ------------------------------------------------------------------------------


def claim(partner: Partner) -> str:
    now = timezone.now()
    token = uuid.uuid4().hex
    free = Q(sync_claimed_until__isnull=True) | Q(sync_claimed_until__lt=now)
    claimed = Partner.objects.filter(free, pk=partner.pk).update(
        sync_claimed_until=now + timedelta(seconds=settings.GLANCE_SYNC_LEASE_SECONDS),
        sync_claim_token=token,
    )
    if not claimed:
        raise SyncBusy(f"{partner}: another sync is running")
    # Runs still marked running were left by a worker that died: the claim says none is alive.
    partner.sync_runs.filter(state=SyncRun.State.RUNNING).update(
        state=SyncRun.State.FAILED, finished_at=now, error="interrupted: the worker stopped"
    )
    return token


def renew(partner: Partner, token: str) -> None:
    until = timezone.now() + timedelta(seconds=settings.GLANCE_SYNC_LEASE_SECONDS)
    if not Partner.objects.filter(pk=partner.pk, sync_claim_token=token).update(
        sync_claimed_until=until
    ):
        raise SyncBusy(f"{partner}: the sync's claim expired and was taken by another sync")


def release(partner: Partner, token: str) -> None:
    Partner.objects.filter(pk=partner.pk, sync_claim_token=token).update(
        sync_claimed_until=None, sync_claim_token=""
    )


# --- the range ------------------------------------------------------------------------------


def backfill_origin(partner: Partner, now: datetime) -> datetime:
    if partner.backfill_start:
        return datetime.combine(partner.backfill_start, time.min, tzinfo=UTC)
    return now - timedelta(days=settings.GLANCE_DEFAULT_BACKFILL_DAYS)


def plan_range(
    partner: Partner,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> tuple[datetime, datetime]:
    now = now or timezone.now()
    end = min(until or now, now)
    if since is not None:
        start = since
    elif partner.sync_watermark:
        start = partner.sync_watermark - timedelta(hours=settings.GLANCE_LOOKBACK_HOURS)
    else:
        start = backfill_origin(partner, now)
    return min(start, end), end


def advance_watermark(
    partner: Partner, token: str, window_start: datetime, window_end: datetime
) -> None:
    """Moves the watermark to the end of a completed window if it leaves no gap behind it, and
    only while this sync still holds the claim."""
    mark = partner.sync_watermark or backfill_origin(partner, timezone.now())
    if window_start <= mark < window_end:
        Partner.objects.filter(pk=partner.pk, sync_claim_token=token).update(
            sync_watermark=window_end
        )
        partner.sync_watermark = window_end


# --- the sync -------------------------------------------------------------------------------


def sync_partner(
    partner: Partner,
    *,
    trigger: str = SyncRun.Trigger.COMMAND,
    since: datetime | None = None,
    until: datetime | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    client: GlanceClient | None = None,
    checks: bool = True,
) -> SyncRun:
    """Runs one sync and returns its SyncRun (succeeded or failed). Raises SyncBusy if claimed.
    `checks` False leaves out the completeness checks (the quick pass: the full one makes them)."""
    token = claim(partner)
    partner.refresh_from_db()
    start, end = plan_range(partner, since, until)
    windows = split_windows(start, end, settings.GLANCE_WINDOW_DAYS)
    run = SyncRun.objects.create(
        partner=partner,
        trigger=trigger,
        window_start=start,
        window_end=end,
        windows_total=len(windows),
    )
    try:
        _run_windows(
            partner,
            token,
            run,
            windows,
            client or GlanceClient.for_partner(partner),
            on_progress,
            checks=checks,
        )
        run.state = SyncRun.State.SUCCEEDED
    except (GlanceError, SyncBusy) as exc:
        run.state, run.error = SyncRun.State.FAILED, str(exc)
        log.debug("sync failed: %s", exc)  # the caller reports it: task log or command error
    except Exception as exc:
        run.state, run.error = SyncRun.State.FAILED, f"internal error: {type(exc).__name__}: {exc}"
        raise
    finally:
        run.finished_at = timezone.now()
        run.save()
        release(partner, token)
    if run.sessions_created >= ANALYZE_AFTER:
        refresh_planner_statistics()
    if run.sessions_created or run.sessions_updated:
        months.compact(partner.pk)  # the months this sync changed that are over
    sync_finished.send(sender=SyncRun, partner=partner, run=run)
    return run


QUICK_RUNS_KEPT = timedelta(days=1)  # up to 1,440 a day a partner: the full passes are kept
QUICK_PASS_WAIT = 5  # seconds between tries while a quick pass holds the claim
QUICK_PASS_TRIES = 12  # a minute; a quick pass takes a second or so, and retries Glance once


def full_sync(partner: Partner, *, trigger: str, sleep=time_module.sleep) -> SyncRun:
    """sync_partner, waiting up to a minute while a quick pass holds the partner's claim: both
    schedules can come due in the same scheduler tick, and the full pass must not lose its hour
    to one. Any other holder (another full pass, an import) means SyncBusy at once."""
    for attempt in range(QUICK_PASS_TRIES):
        try:
            return sync_partner(partner, trigger=trigger)
        except SyncBusy:
            quick_running = partner.sync_runs.filter(
                trigger=SyncRun.Trigger.QUICK, state=SyncRun.State.RUNNING
            ).exists()
            if attempt == QUICK_PASS_TRIES - 1 or not quick_running:
                raise
            sleep(QUICK_PASS_WAIT)
    raise AssertionError("unreachable")


def quick_sync(partner: Partner, now: datetime | None = None) -> SyncRun | None:
    """The quick pass: sessions started in the last GLANCE_QUICK_LOOKBACK_MINUTES, without
    completeness checks. A session is listed once it has ended, with its start time, so one
    that ran longer than the look-back waits for the full pass, which re-reads 48 hours. None,
    doing nothing, until the partner's first full pass has completed a window: the quick pass
    must not be the first sync on record (completeness counts from the first).

    Of the quick runs that found nothing, only the latest is kept (the partner page can say it
    was checked a minute ago without a row for every minute), and the others for a day."""
    if partner.sync_watermark is None:
        return None
    now = now or timezone.now()
    since = now - timedelta(minutes=settings.GLANCE_QUICK_LOOKBACK_MINUTES)
    # One retry, not five: the next minute's pass is the retry, and a pass waiting out a slow
    # Glance would hold the claim the hourly pass needs.
    client = GlanceClient.for_partner(partner, max_retries=1)
    run = sync_partner(partner, trigger=SyncRun.Trigger.QUICK, since=since, until=now,
                       client=client, checks=False)  # fmt: skip
    empty = Q(state=SyncRun.State.SUCCEEDED, sessions_created=0, sessions_updated=0)
    partner.sync_runs.filter(
        empty | Q(started_at__lt=now - QUICK_RUNS_KEPT), trigger=SyncRun.Trigger.QUICK
    ).exclude(state=SyncRun.State.RUNNING).exclude(pk=run.pk).delete()
    return run


ANALYZE_AFTER = 1000  # new sessions in one sync that make the planner's statistics stale


def refresh_planner_statistics() -> None:
    """Fresh planner statistics after a sync that changed the tables' size a lot.

    SQLite keeps none unless told to: without them it reads the session list of several
    partners by partner and sorts a year of rows instead of walking the newest-first index.
    PostgreSQL's autovacuum analyzes in its own time, up to minutes later; until then a first
    backfill's guests looked like a fifth of their number, and each export chunk's guest lookup
    became a sequential scan instead of an index lookup (docs/performance-notes.md)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
        elif connection.vendor == "postgresql":
            tables = (Session, Guest, SessionRollup, AgentRollup, Agent)
            names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables)
            cursor.execute(f"ANALYZE {names}")


def refresh_partner_statistics() -> None:
    """PostgreSQL's statistics of the sessions' partner column alone: what a backfill's lookups
    by (partner, Glance id) are planned by. A sample of the one column, some 35 ms at 100,000
    sessions, where the sessions' and guests' whole statistics took 550 ms, and a backfill of
    three partners refreshed them 18 times (a fifth of its time)."""
    table = connection.ops.quote_name(Session._meta.db_table)
    column = connection.ops.quote_name(Session._meta.get_field("partner").column)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table} ({column})")


def _run_windows(partner, token, run, windows, client, on_progress, *, checks=True) -> None:
    writer = _PageWriter(partner, token, run, client)
    checker = None
    if checks and settings.GLANCE_COMPLETENESS_CHECKS and windows:
        checker = completeness.SyncChecker(
            partner, client, windows[0][0], windows[-1][1], resync=writer.write_range
        )
    for window_start, window_end in windows:
        writer.write_window(window_start, window_end, on_progress)
        advance_watermark(partner, token, window_start, window_end)
        run.windows_done += 1
        run.save(update_fields=["windows_done"])
        if on_progress:
            on_progress(_progress(run, (window_start, window_end)))
        if checker:
            checker.after_window(window_end)


class _PageWriter:
    """Writes every page of a window as it arrives, keeping the run's counts and the claim."""

    def __init__(self, partner, token, run, client):
        self.partner, self.token, self.run, self.client = partner, token, run, client
        self.analyze_at = ANALYZE_AFTER
        self.partner_rows_before: int | None = None  # counted when first needed

    def write_range(self, start: datetime, end: datetime) -> None:
        for window_start, window_end in split_windows(start, end, settings.GLANCE_WINDOW_DAYS):
            self.write_window(window_start, window_end)

    def write_window(
        self,
        window_start: datetime,
        window_end: datetime,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        batch = _Batch()
        try:
            for answer in pipeline.ahead(
                self.client.completed_session_answers(window_start, window_end)
            ):
                batch.add(answer.page().sessions)
                if batch.size >= settings.GLANCE_WRITE_BATCH:
                    self._store(batch, window_start, window_end, on_progress)
        finally:  # a page that fails to arrive or parse loses none of the pages before it
            self._store(batch, window_start, window_end, on_progress)

    def _store(self, batch, window_start, window_end, on_progress) -> None:
        if not batch.pages:
            return
        run = self.run
        records, pages = batch.take()
        with transaction.atomic():
            written = store_sessions(self.partner, records)
            run.pages += pages
            run.sessions_created += written.created
            run.sessions_updated += written.updated
            run.save(update_fields=["pages", "sessions_created", "sessions_updated"])
            renew(self.partner, self.token)
        if run.sessions_created >= self.analyze_at and connection.vendor == "postgresql":
            self._refresh_statistics()
        if on_progress:
            on_progress(_progress(run, (window_start, window_end)))

    def _refresh_statistics(self) -> None:
        """A backfill outgrows PostgreSQL's statistics of its partner's rows within minutes,
        and autovacuum may not catch up: each page's lookup by Glance id then reads all the
        partner's rows so far, slower with every page. So the statistics of the sessions'
        partner column are refreshed each time the partner's own rows double. Its own, not the
        table's: a second partner's backfill, begun when the first's filled the table, looked to
        the planner like a partner of no rows until the table doubled, and each page's lookup read
        every row of it so far (a 1,000,000-session PostgreSQL backfill fell to a few hundred
        sessions/s). Only the sessions' partner column: the rest waits for the end of the run
        (docs/performance-notes.md)."""
        created = self.run.sessions_created
        if self.partner_rows_before is None:
            stored = Session.objects.filter(partner=self.partner).count()
            self.partner_rows_before = stored - created
            self.analyze_at = max(ANALYZE_AFTER, self.partner_rows_before)
            if created < self.analyze_at:  # a partner with many rows already: not yet
                return
        refresh_partner_statistics()
        while self.analyze_at <= created:
            self.analyze_at *= 2


class _Batch:
    """Pages read but not yet written: a backfill writes several pages at once, so a write's
    fixed costs (its statements, its commit, the rollup rows it reads and rewrites) are paid
    once for them all."""

    def __init__(self):
        self.records, self.pages = [], 0

    @property
    def size(self) -> int:
        return len(self.records)

    def add(self, records) -> None:
        self.records += records
        self.pages += 1

    def take(self):
        taken = self.records, self.pages
        self.records, self.pages = [], 0
        return taken


def _progress(run: SyncRun, window) -> Progress:
    return Progress(
        windows_total=run.windows_total,
        windows_done=run.windows_done,
        pages=run.pages,
        sessions=run.sessions_created + run.sessions_updated,
        window=window,
    )
