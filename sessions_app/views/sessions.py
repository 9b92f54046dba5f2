"""The session list (filtered, sortable, paginated) and one session's page with its guests."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET

from sessions_app import figures, waiting
from sessions_app.accounts import access, pii
from sessions_app.figures import charts, selection
from sessions_app.figures.timeline import guest_timeline
from sessions_app.http import json_response
from sessions_app.views.dashboard import page_context, session_filter

SESSIONS_PER_PAGE = 50


class CountedPaginator(Paginator):
    """A paginator told its count by a cheaper way than COUNT(*) over the list's query."""

    def __init__(self, object_list, per_page, *, count):
        super().__init__(object_list, per_page)
        self._count = count

    @cached_property
    def count(self) -> int:
        return self._count()


SORTS = {
    "start": "start_time",
    "duration": "duration",
    "type": "session_type",
    "status": "status",
    "guests": "guest_count",
    "agent": "agent__user_name",
    "wait": "wait_seconds",
    "partner": "partner__name",
}
DEFAULT_SORT = "-start"


@login_required
@require_GET
def session_list(request):
    flt = session_filter(request)
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort.lstrip("-") not in SORTS:
        sort = DEFAULT_SORT
    column = SORTS[sort.lstrip("-")]
    direction = "-" if sort.startswith("-") else ""
    chosen = selection.select(flt)
    sessions = (
        chosen.sessions.select_related("partner", "agent")
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
            "agent__display_name",
            "wait_seconds",
        )
        .order_by(f"{direction}{column}", f"{direction}glance_id")
    )
    paginator = CountedPaginator(
        sessions, SESSIONS_PER_PAGE, count=lambda: figures.session_count(chosen)
    )
    page = paginator.get_page(request.GET.get("page"))
    context = page_context(
        request,
        flt,
        "sessions",
        page=page,
        sort=sort,
        sort_query=flt.query(sort=sort),
        # Asked only when the page is empty: is it the filter, or is there no data at all?
        has_any_sessions=lambda: access.sessions_for(request.user).exists(),
    )
    return render(request, "sessions_app/session_list.html", context)


@login_required
@require_GET
def session_detail(request, pk):
    session = access.get_session_for(request.user, pk)
    guests, reveal = pii.guests_of(session, request=request)
    context = {
        "session": session,
        "guests": guests,
        "pii_masked": not reveal,
        "section": "sessions",
        "waiting_outcome": waiting.waiting_outcome(
            session.status, session.wait_seconds, session.partner.service_level_seconds
        ),
    }
    return render(request, "sessions_app/session_detail.html", context)


@login_required
@require_GET
def session_timeline(request, pk):
    """Chart data: who was in the session when, from where, with which client."""
    session = access.get_session_for(request.user, pk)
    reveal = pii.reveal_for(request.user, session.partner)
    return json_response(charts.Chart(guest_timeline(session, reveal)).as_json())
