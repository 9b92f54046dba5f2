"""How a partner's syncing is going: last success, last failure, the next run and a running
sync's progress, for the partner page and its progress poller; and an admin's connection test,
asked for in the web request and run by the background worker."""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_q.models import Schedule

from sessions_app import crypto
from sessions_app.accounts import audit
from sessions_app.glance.client import GlanceAuthError, GlanceClient, GlanceError, GlanceUnavailable
from sessions_app.glance.records import SessionCount
from sessions_app.models import AuditEvent, Partner, SyncRun
from sessions_app.queueing import queue_in_transaction
from sessions_app.sync.schedules import schedule_name

log = logging.getLogger(__name__)


@dataclass
class SyncStatus:
    last_success: SyncRun | None
    last_failure: SyncRun | None
    running: SyncRun | None
    next_run: datetime | None

    @property
    def failing(self) -> bool:
        """The latest finished sync failed."""
        if not self.last_failure:
            return False
        return not self.last_success or self.last_failure.started_at > self.last_success.started_at


def sync_status(partner: Partner) -> SyncStatus:
    # Full passes: the quick pass every minute would hide a full pass failing for days, and
    # flicker as "running" on the partner page.
    runs = partner.sync_runs.exclude(trigger__in=[SyncRun.Trigger.IMPORT, SyncRun.Trigger.QUICK])
    schedule = Schedule.objects.filter(name=schedule_name(partner.pk)).only("next_run").first()
    return SyncStatus(
        last_success=runs.filter(state=SyncRun.State.SUCCEEDED).first(),
        last_failure=runs.filter(state=SyncRun.State.FAILED).first(),
        running=runs.filter(state=SyncRun.State.RUNNING).first(),
        next_run=schedule.next_run if schedule and partner.enabled else None,
    )


@dataclass
class ConnectionResult:
    ok: bool
    message: str
    counts: list[SessionCount]


# The connection test is kept in the audit trail, which both the web and the worker processes
# read (the cache is per process unless Redis is configured): the admin's request is one event,
# the worker's answer another that names it (details["answers"]) and carries what the page shows.
TEST_SHOWN = timedelta(days=1)  # the partner page shows a test's answer this long
# Longer than a test can take (one retry of the connect and read timeouts): a test asked for
# longer ago without an answer never ran (no worker, or the task was lost), and may be asked again.
TEST_LOST = timedelta(minutes=10)
TEST_EVENTS = 20  # the latest test and its answer are among a partner's latest test events


@dataclass
class ConnectionTest:
    """A partner's latest connection test, as its page shows it."""

    state: str  # queued | lost (asked for, never ran) | passed | failed | stale (older key)
    at: datetime  # asked for (queued, lost) or answered
    by: str  # who asked for it
    token: str  # changes whenever what the page shows changes: its poller reloads on it
    message: str = ""  # the answer in our words (passed, failed)
    counts: list[list] | None = None  # [type, status, sessions, average s] (passed only)
    today: bool = False  # the counts are of the current UTC day

    @property
    def counted_day(self) -> date:
        return self.at.astimezone(UTC).date()


def connection_test(partner: Partner, now: datetime | None = None) -> ConnectionTest | None:
    """The latest connection test of the partner within TEST_SHOWN, or None."""
    now = now or timezone.now()
    events = list(
        AuditEvent.objects.filter(
            partner=partner, action=audit.Action.CONNECTION_TESTED, at__gte=now - TEST_SHOWN
        ).only("pk", "at", "actor_name", "details")[:TEST_EVENTS]
    )
    asked = next((event for event in events if event.details.get("queued")), None)
    if asked is None:
        return None
    answer = next((e for e in events if e.details.get("answers") == asked.pk), None)
    if answer is None:
        state = "queued" if asked.at > now - TEST_LOST else "lost"
        return ConnectionTest(state, asked.at, asked.actor_name, f"{state}:{asked.pk}")
    if answer.details.get("credential") != _credential(partner):
        return ConnectionTest("stale", answer.at, asked.actor_name, f"stale:{answer.pk}")
    ok = answer.details.get("ok") is True
    return ConnectionTest(
        "passed" if ok else "failed",
        answer.at,
        asked.actor_name,
        f"{'passed' if ok else 'failed'}:{answer.pk}",
        message=answer.details.get("message", ""),
        counts=answer.details.get("counts") if ok else None,
        today=answer.at.astimezone(UTC).date() == now.astimezone(UTC).date(),
    )


def request_connection_test(partner: Partner, *, request: HttpRequest) -> bool:
    """Queues an admin's connection test for the background worker, audited in the same
    transaction; False, queuing nothing, while one of the partner is queued already (a double
    click, or another admin's). The partner's row lock makes two requests at once take turns."""
    with transaction.atomic():
        list(Partner.objects.select_for_update().filter(pk=partner.pk).values_list("pk"))
        latest = connection_test(partner)
        if latest is not None and latest.state == "queued":
            return False
        asked = audit.record(
            audit.Action.CONNECTION_TESTED,
            f"{partner.name}: connection test requested",
            request=request,
            partner=partner,
            queued=True,
        )
        queue_in_transaction("sessions_app.tasks.connection_test_task", partner.pk, asked.pk)
    return True


def run_connection_test(partner: Partner, request_pk: int) -> ConnectionResult:
    """The worker's half: the check, and its answer in the audit trail for the partner page,
    in the name of the admin who asked. The answer names the credential it was given (a digest
    of the encrypted key and where it goes, never the key), so an answer about an older key or
    endpoint is not shown as the current one's."""
    asked = AuditEvent.objects.filter(pk=request_pk, partner=partner).first()
    credential = _credential(partner)
    try:
        result = check_connection(partner)
    except Exception:
        log.exception("connection test of %s stopped", partner)
        result = ConnectionResult(
            False,
            "The connection test stopped on an unexpected error; the background worker's log "
            "has the details.",
            [],
        )
        _record_answer(partner, asked, request_pk, credential, result)
        raise
    _record_answer(partner, asked, request_pk, credential, result)
    return result


def _record_answer(partner, asked, request_pk, credential, result: ConnectionResult) -> None:
    audit.record(
        audit.Action.CONNECTION_TESTED,
        f"{partner.name}: connection test {'passed' if result.ok else 'failed'}",
        user=asked.actor if asked else None,
        actor_name=asked.actor_name if asked else "",
        partner=partner,
        ok=result.ok,
        answers=request_pk,
        credential=credential,
        message=result.message,
        counts=[[c.session_type, c.status, c.count, c.average_duration] for c in result.counts],
    )


def _credential(partner: Partner) -> str:
    """Which key, for which partner id and endpoint: a digest of the encrypted key (random per
    encryption, so it tells nothing of the key) with the id and the address."""
    return crypto.digest(
        f"{partner.glance_partner_id} {partner.api_url} {partner.api_key_encrypted}"
    )[:16]


def check_connection(partner: Partner) -> ConnectionResult:
    """Asks Glance for today's session counts; says what happened in an admin's words."""
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        client = GlanceClient.for_partner(partner, max_retries=1)  # an admin is waiting
    except crypto.DecryptionError as exc:
        return ConnectionResult(False, f"{exc} Enter the API key again.", [])
    try:
        counts = client.session_counts(today, today + timedelta(days=1))
    except GlanceAuthError:
        return ConnectionResult(
            False,
            (
                f"Glance refused partner id {partner.glance_partner_id} or its API key. Check both "
                "under Settings in Glance's My Account, then save the key here again."
            ),
            [],
        )
    except GlanceUnavailable as exc:
        return ConnectionResult(False, f"Glance could not be reached: {exc.detail}", [])
    except GlanceError as exc:
        return ConnectionResult(False, f"Glance answered with an error: {exc.detail}", [])
    total = sum(count.count for count in counts)
    return ConnectionResult(
        True, f"Connected. Glance counts {total} ended sessions started today (UTC).", counts
    )
