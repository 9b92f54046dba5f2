from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sessions_app.access import partners_for, sessions_for

SESSIONS_PER_PAGE = 50


@require_GET
def healthz(request):
    """For load balancers and uptime checks: answers without touching any data."""
    return HttpResponse("ok", content_type="text/plain")


@login_required
def session_list(request):
    sessions = (
        sessions_for(request.user)
        .select_related("partner", "agent")
        .only(
            "glance_id",
            "session_type",
            "status",
            "start_time",
            "duration",
            "guest_count",
            "partner__name",
            "agent__user_name",
            "agent__partner_user_id",
        )
    )
    page = Paginator(sessions, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "partners": partners_for(request.user)}
    return render(request, "sessions_app/session_list.html", context)
