from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from sessions_app.accounts import access
from sessions_app.models import AuditEvent

EVENTS_PER_PAGE = 100


@login_required
def audit_list(request):
    if not access.is_any_admin(request.user):
        raise PermissionDenied("only admins read the audit trail")
    events = access.audit_events_for(request.user).select_related("partner")
    action = request.GET.get("action", "")
    if action in AuditEvent.Action.values:
        events = events.filter(action=action)
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "actions": AuditEvent.Action.choices, "action": action}
    return render(request, "sessions_app/audit_list.html", context)
