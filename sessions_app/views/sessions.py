"""The session list and one session's page with its guests."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from sessions_app import access, audit, pii
from sessions_app.models import Role

SESSIONS_PER_PAGE = 50


@login_required
def session_list(request):
    sessions = (
        access.sessions_for(request.user)
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
    context = {"page": page, "partners": access.partners_for(request.user)}
    return render(request, "sessions_app/session_list.html", context)


@login_required
def session_detail(request, pk):
    session = access.get_session_for(request.user, pk)
    reveal = pii.reveal_for(request.user, session.partner)
    guests = [(guest, pii.guest_pii(guest, reveal)) for guest in session.guests.all()]
    if reveal and access.has_role(request.user, session.partner, Role.ADMIN):
        audit.record(
            audit.Action.PII_VIEWED,
            f"viewed guest details of session {session.glance_id}",
            request=request,
            partner=session.partner,
            session=session.glance_id,
        )
    context = {"session": session, "guests": guests, "pii_masked": not reveal}
    return render(request, "sessions_app/session_detail.html", context)
