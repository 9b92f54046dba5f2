"""Running an export for a user: who may, how it is audited, and the background job that builds
a large Excel file."""

import tempfile
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils import timezone
from django_q.tasks import async_task

from sessions_app.accounts import access, audit
from sessions_app.exports import formats
from sessions_app.figures.filters import SessionFilter
from sessions_app.models import Agent, ExportJob, Guest, Role
from sessions_app.models.sessions import name_from_user_name


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1


def may_export(user) -> set:
    """The partners whose rows the user may export (guest details: the analyst role)."""
    return set(access.partners_for(user, Role.ANALYST))


def may_download(user, job) -> bool:
    """A built file holds its partners' rows as they were: the user must still be allowed all."""
    if not job.partner_ids:  # nothing recorded: nothing can be checked
        return False
    return set(job.partner_ids) <= {partner.pk for partner in may_export(user)}


def exportable_sessions(user):
    """Exports hold guest details, so they need the analyst role: a viewer exports nothing."""
    if not access.partners_for(user, Role.ANALYST).exists():
        raise PermissionDenied("exports need the analyst or admin role")
    return access.sessions_for(user, Role.ANALYST)


def exportable_partners(flt: SessionFilter):
    """The partners whose sessions an export of this filter may hold: those the user may export,
    narrowed to the ones the filter names. Not only the partners the filter shows (by its agents
    and teams): a team of one partner may hold another partner's agent."""
    partners = access.partners_for(flt.user, Role.ANALYST)
    if flt.values.get("partner"):
        partners = partners.filter(pk__in=[partner.pk for partner in flt.values["partner"]])
    return partners


def export_people(flt: SessionFilter) -> tuple[list[tuple], list[tuple]]:
    """The names an export's sessions may carry (exportable_partners), each guarded as formats
    guards CSV text, None for none: [(partner id, name)] and [(agent id, user name, name, team,
    partnerUserId)], an agent's name its display name or one made from its Glance user name. What
    the databases' CSV writers join by id instead of guarding a name per row."""
    guard = lambda value: formats.neutralise_csv(value) if value else None  # noqa: E731
    partners = list(exportable_partners(flt))
    agents = Agent.objects.filter(partner__in=partners).values_list(
        "pk", "user_name", "display_name", "team__name", "partner_user_id"
    )

    def named(user_name, display):
        return (display or name_from_user_name(user_name)) if user_name else None

    people = [
        (pk, guard(user_name), guard(named(user_name, display)), guard(team), guard(puid))
        for pk, user_name, display, team, puid in agents
    ]
    return [(p.pk, guard(p.name)) for p in partners], people


def row_count(flt: SessionFilter, sessions, rows: str) -> int:
    if rows == "sessions":
        return sessions.count()
    with_guests = Guest.objects.filter(session__in=sessions.values("pk")).count()
    without = sessions.filter(guest_count=0).count()
    return with_guests + without


def record_export(request_or_user, flt, file_format, rows, count, complete=True) -> None:
    """One audit event per partner the export covered, so each partner's admins see it. A guest
    search term is personal data that would outlive retention here: only its use is noted."""
    user = getattr(request_or_user, "user", request_or_user)
    partners = list(flt.values.get("partner") or access.partners_for(user, Role.ANALYST))
    kind = "participant" if rows == "guests" else "session"
    stopped = "" if complete else " (stopped before the end)"
    for partner in partners:
        audit.record(
            audit.Action.EXPORT,
            f"{file_format.upper()} export of {count} {kind} rows{stopped}",
            request=request_or_user if hasattr(request_or_user, "META") else None,
            user=user,
            partner=partner,
            format=file_format,
            rows=rows,
            filters=flt.query(q=None),
            guest_search=bool(flt.values.get("q")),
            row_count=count,
            complete=complete,
        )


def audited(lines, counter: Counter, on_end):
    """Passes a streamed export through, and records it however it ends."""
    complete = False
    try:
        yield from lines
        complete = True
    finally:
        on_end(counter.n, complete)


# --- Excel ---------------------------------------------------------------------------------


def exports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def xlsx_file(flt, sessions, rows, user, on_row) -> Path:
    exporter = formats.EXPORTERS[rows](flt, sessions)
    when = timezone.now()
    with tempfile.NamedTemporaryFile(dir=exports_dir(), suffix=".xlsx", delete=False) as handle:
        name = handle.name  # openpyxl writes the file itself, by name
    try:
        formats.write_xlsx(
            exporter, name, formats.about(flt, rows, user.get_username(), when), on_row
        )
    except BaseException:
        Path(name).unlink(missing_ok=True)  # no half-written file of guest data left behind
        raise
    return Path(name)


def start_job(request, flt: SessionFilter, rows: str, total: int) -> ExportJob:
    period = flt.period  # fixed now, so "last 7 days" means the same days when the job runs
    job = ExportJob.objects.create(
        user=request.user,
        rows=rows,
        query=flt.query(preset="custom", start=period.first_day, end=period.last_day),
        time_zone=flt.tz.key,
        rows_total=total,
        file_name=formats.file_name(flt, rows, "xlsx", timezone.now()),
    )
    async_task("sessions_app.tasks.build_export_task", job.pk)
    return job


def build_job(job: ExportJob) -> None:
    job.state = ExportJob.State.RUNNING
    job.save(update_fields=["state"])
    flt = SessionFilter(QueryDict(job.query), user=job.user, tz=ZoneInfo(job.time_zone))
    if not flt.data_ok:  # e.g. access changed since: never fall back to another selection
        job.state, job.error = (
            ExportJob.State.FAILED,
            f"the filter is no longer valid: {flt.errors}",
        )
        job.finished_at = timezone.now()
        job.save()
        return
    sessions = flt.filter_qs(exportable_sessions(job.user))
    job.partner_ids = sorted(p.pk for p in flt.shown_partners() if p in may_export(job.user))
    counter = Counter()

    def progress():
        counter()
        if counter.n % 5000 == 0:
            ExportJob.objects.filter(pk=job.pk).update(rows_done=counter.n)

    try:
        path = xlsx_file(flt, sessions, job.rows, job.user, progress)
    except Exception as exc:
        job.state, job.error = ExportJob.State.FAILED, f"{type(exc).__name__}: {exc}"
        job.finished_at = timezone.now()
        job.save()
        raise
    job.path, job.rows_done, job.state = str(path), counter.n, ExportJob.State.DONE
    job.rows_total = max(job.rows_total, counter.n)
    job.finished_at = timezone.now()
    job.save()
    record_export(job.user, flt, "xlsx", job.rows, counter.n)


def clean_old_exports(now=None) -> int:
    """Deletes finished export files after EXPORT_KEEP_DAYS; the daily retention task runs it."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EXPORT_KEEP_DAYS)
    old = ExportJob.objects.filter(created_at__lt=cutoff)
    for job in old.exclude(path=""):
        Path(job.path).unlink(missing_ok=True)
    return old.delete()[0]
