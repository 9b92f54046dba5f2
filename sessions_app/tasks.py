"""Background tasks run by the django-q2 cluster. They take ids, not objects, so a queued task
always works on the partner as it is when the task runs."""

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm

from sessions_app.accounts import members
from sessions_app.exports.jobs import build_job, clean_old_exports
from sessions_app.models import ExportJob, Partner, ReportSchedule, SyncRun
from sessions_app.notify import reports
from sessions_app.notify.wallboard import refresh_live_counts
from sessions_app.sync.retention import apply_retention
from sessions_app.sync.run import SyncBusy, full_sync, quick_sync
from sessions_app.sync.status import run_connection_test

log = logging.getLogger(__name__)


def sync_partner_task(partner_pk: int, trigger: str = SyncRun.Trigger.SCHEDULE) -> str:
    """The full pass (or one an admin or a command asked for)."""
    return _sync_task(partner_pk, lambda partner: full_sync(partner, trigger=trigger))


def quick_sync_partner_task(partner_pk: int) -> str:
    """The quick pass: sessions started in the last GLANCE_QUICK_LOOKBACK_MINUTES, so one that
    just ended is on the dashboard within a couple of minutes. The full pass catches the rest."""
    return _sync_task(partner_pk, quick_sync)


def _sync_task(partner_pk: int, sync) -> str:
    """Runs `sync` on an enabled partner; the worker's one-line summary of what came of it."""
    partner = Partner.objects.filter(pk=partner_pk, enabled=True).first()
    if partner is None:
        return f"partner {partner_pk}: not found or disabled, nothing to do"
    try:
        run = sync(partner)
    except SyncBusy as busy:
        return f"skipped: {busy}"
    if run is None:
        return f"{partner}: waiting for its first full sync"
    summary = sync_summary(run)
    if run.state == SyncRun.State.FAILED:
        log.error(summary)
    return summary


def refresh_live_counts_task(partner_pk: int) -> str:
    """The wallboard's live counts of one partner, asked of Glance here, never in a web request."""
    partner = Partner.objects.filter(pk=partner_pk).first()
    if partner is None:
        return f"partner {partner_pk}: not found"
    row = refresh_live_counts(partner)
    return f"{partner}: live counts {row.error or f'{row.active} active, {row.waiting} waiting'}"


def connection_test_task(partner_pk: int, request_pk: int) -> str:
    """An admin's connection test (`request_pk`: the audit event of their asking), run here so
    the web request never waits on Glance; the partner page shows the answer it stores."""
    partner = Partner.objects.filter(pk=partner_pk).first()
    if partner is None:
        return f"partner {partner_pk}: not found, nothing to test"
    result = run_connection_test(partner, request_pk)
    return f"{partner}: connection test {'passed' if result.ok else 'failed'}: {result.message}"


def send_password_reset_task(email: str, domain: str, use_https: bool) -> str:
    """The password-reset mail, built and sent here so the web answer takes the same time for an
    unknown address as for a known one. Says nothing of which it was."""
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(domain_override=domain, use_https=use_https)
    return "password reset handled"


def send_email_confirmation_task(user_pk: int, email: str, link: str) -> str:
    """The confirmation link of a change of address, sent by the worker (the web answer does
    not wait on the mail server)."""
    user = get_user_model().objects.filter(pk=user_pk).first()
    if user is None:
        return "email confirmation: no such user"
    members.send_email_confirmation(user, email, link)
    return f"email confirmation sent for user {user_pk}"


def sync_summary(run: SyncRun) -> str:
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
    text = (
        f"{run.partner}: {run.state}: {run.sessions_created} new, {run.sessions_updated} updated "
        f"in {run.pages} pages, {run.windows_done}/{run.windows_total} windows, {seconds:.1f}s"
    )
    return f"{text}: {run.error}" if run.error else text


def apply_retention_task() -> str:
    results = "; ".join(str(result) for result in apply_retention()) or "no partners"
    return f"{results}; {clean_old_exports()} old export files removed"


def build_export_task(job_pk: int) -> str:
    job = ExportJob.objects.get(pk=job_pk)
    build_job(job)
    return f"export {job.pk}: {job.rows_done} rows"


def send_report_task(report_pk: int) -> str:
    schedule = ReportSchedule.objects.select_related("saved_view", "owner").filter(pk=report_pk)
    report = schedule.first()
    if report is None:
        return f"report {report_pk}: gone, nothing to send"
    sent = reports.send(report)
    return f"report {report_pk} ({report.saved_view.name}): sent to {sent} recipients"
