"""Emailed reports of saved views: set up from the Views page by anyone who can open the view,
previewed in the browser, sent now or on their schedule. Views are fetched through
access.saved_views_for(), reports through access.reports_for() (their owner's only)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from sessions_app.accounts import access
from sessions_app.forms import ReportScheduleForm
from sessions_app.notify import reports


@login_required
@require_POST
def report_create(request, pk):
    view = get_object_or_404(access.saved_views_for(request.user), pk=pk)
    form = ReportScheduleForm(request.POST, user=request.user, view=view)
    if not form.is_valid():
        errors = "; ".join(" ".join(errors) for errors in form.errors.values())
        messages.error(request, f"The report was not set up: {errors}")
        return redirect("saved_view_list")
    report = reports.add_schedule(form.save(commit=False), view, request=request)
    messages.success(
        request,
        f"“{view.name}” will be emailed {report.get_frequency_display().lower()} at "
        f"{report.send_hour}:00 ({report.time_zone}) to {report.recipients_in_words}.",
    )
    return redirect("saved_view_list")


@login_required
@require_GET
def report_preview(request, pk):
    report = get_object_or_404(access.reports_for(request.user).select_related("saved_view"), pk=pk)
    _, html = reports.render(reports.build(report))
    return HttpResponse(html)


@login_required
@require_POST
def report_send(request, pk):
    report = get_object_or_404(access.reports_for(request.user).select_related("saved_view"), pk=pk)
    sent = reports.send(report)
    messages.success(request, f"“{report.saved_view.name}” sent to {sent} recipient(s).")
    if report.last_error:
        messages.warning(request, report.last_error)
    return redirect("saved_view_list")


@login_required
@require_POST
def report_delete(request, pk):
    report = get_object_or_404(access.reports_for(request.user).select_related("saved_view"), pk=pk)
    reports.stop_schedule(report, request=request)
    messages.success(request, "The emailed report is stopped.")
    return redirect("saved_view_list")
