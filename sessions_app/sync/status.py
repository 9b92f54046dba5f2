"""How a partner's syncing is going: last success, last failure, the next run and a running
sync's progress, for the partner page and its progress poller."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.http import HttpRequest
from django.utils import timezone
from django_q.models import Schedule

from sessions_app.accounts import audit
from sessions_app.glance.client import GlanceAuthError, GlanceClient, GlanceError, GlanceUnavailable
from sessions_app.glance.records import SessionCount
from sessions_app.models import Partner, SyncRun
from sessions_app.sync.schedules import schedule_name


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


def run_connection_test(partner: Partner, *, request: HttpRequest) -> ConnectionResult:
    """An admin's connection test: the check, and its outcome in the audit trail."""
    result = check_connection(partner)
    outcome = "passed" if result.ok else "failed"
    audit.record(
        audit.Action.CONNECTION_TESTED,
        f"{partner.name}: connection test {outcome}",
        request=request,
        partner=partner,
        ok=result.ok,
    )
    return result


def check_connection(partner: Partner) -> ConnectionResult:
    """Asks Glance for today's session counts; says what happened in an admin's words."""
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    client = GlanceClient.for_partner(partner, max_retries=1)  # an admin is waiting
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
