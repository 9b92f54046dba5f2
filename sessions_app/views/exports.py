"""Downloads of the current filter: CSV and NDJSON streamed as they are read, Excel built in a
write-only workbook, or by a background job when it is large."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import (
    FileResponse,
    Http404,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from sessions_app.exports import copy_csv, formats, jobs, sqlite_csv
from sessions_app.exports.jobs import (
    Counter,
    audited,
    exportable_sessions,
    record_export,
    row_count,
    start_job,
    xlsx_file,
)
from sessions_app.http import json_response
from sessions_app.models import ExportJob
from sessions_app.views.dashboard import session_filter


@login_required
@require_http_methods(["GET", "POST"])
def export(request, file_format):
    """The filter comes from the query string either way; a POST (CSRF-checked) is only how a
    large Excel export is confirmed, since it starts a background job."""
    if file_format not in formats.FORMATS:
        raise Http404("no such format")
    rows = request.GET.get("rows", "sessions")
    if rows not in formats.ROW_KINDS:
        return HttpResponseBadRequest(
            "rows must be 'sessions' or 'guests'", content_type="text/plain"
        )
    visible = exportable_sessions(request.user)
    flt = session_filter(request)
    if not flt.data_ok:
        errors = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in flt.errors.items())
        return HttpResponseBadRequest(
            f"The filters have errors: {errors}", content_type="text/plain"
        )
    sessions = flt.filter_qs(visible)
    when = timezone.now()
    name = formats.file_name(flt, rows, file_format, when)
    if file_format == "xlsx":
        return _xlsx(request, flt, sessions, rows, name, when)
    counter = Counter()
    exporter = formats.EXPORTERS[rows](flt, sessions)
    if file_format == "csv":
        # The database writes the file itself (SQLite the sessions' file, PostgreSQL both), the
        # same in every value as the csv module's and several times faster.
        writer = copy_csv if connection.vendor == "postgresql" else sqlite_csv
        lines = writer.csv_lines(exporter, counter)
    else:
        lines = formats.ndjson_lines(exporter, counter)
    on_end = lambda n, complete: record_export(request, flt, file_format, rows, n, complete)  # noqa: E731
    response = StreamingHttpResponse(
        audited(lines, counter, on_end), content_type=formats.FORMATS[file_format]
    )
    return _with_headers(response, flt, name, when)


def _xlsx(request, flt, sessions, rows, name, when):
    total = row_count(flt, sessions, rows)
    if total > settings.EXPORT_XLSX_INLINE_ROWS:
        if request.method != "POST":
            # A link alone (another site's, say) must not start work that runs for minutes.
            context = {"total": total, "rows": rows, "name": name, "query": request.GET}
            return render(request, "dashboard/export_confirm.html", context)
        job = start_job(request, flt, rows, total)
        return redirect("export_job", pk=job.pk)
    counter = Counter()
    path = xlsx_file(flt, sessions, rows, request.user, counter)
    record_export(request, flt, "xlsx", rows, counter.n)
    response = FileResponse(_read_then_delete(path), content_type=formats.FORMATS["xlsx"])
    return _with_headers(response, flt, name, when)


def _read_then_delete(path: Path):
    handle = path.open("rb")
    path.unlink()  # the open handle keeps the data until the response has been sent
    return handle


def _with_headers(response, flt, name, when):
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    for header, value in formats.response_headers(flt, when).items():
        response[header] = value
    return response


@login_required
@require_GET
def export_job(request, pk):
    job = get_object_or_404(ExportJob, pk=pk, user=request.user)
    return render(request, "dashboard/export_job.html", {"job": job})


@login_required
@require_GET
def export_job_status(request, pk):
    job = get_object_or_404(ExportJob, pk=pk, user=request.user)
    return json_response(
        {
            "state": job.state,
            "percent": job.percent,
            "rows_done": job.rows_done,
            "rows_total": job.rows_total,
            "error": job.error,
        }
    )


@login_required
@require_GET
def export_job_download(request, pk):
    job = get_object_or_404(ExportJob, pk=pk, user=request.user, state=ExportJob.State.DONE)
    exportable_sessions(request.user)  # access may have been revoked since the job ran
    if not jobs.may_download(request.user, job):
        raise PermissionDenied("you no longer have access to all the data in this export")
    path = Path(job.path)
    if not path.is_file():
        raise Http404("this export has been cleaned up; run it again")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=job.file_name,
        content_type=formats.FORMATS["xlsx"],
    )
