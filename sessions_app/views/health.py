from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from sessions_app.http import json_response
from sessions_app.models import Partner
from sessions_app.sync.completeness import completeness_of
from sessions_app.sync.status import sync_status


@require_GET
def healthz(request):
    """For load balancers and uptime checks: answers without touching any data."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
@require_GET
def healthz_json(request):
    """For monitoring: the database, and each partner's sync and completeness, by our partner
    number only (no names, no Glance ids), since it answers without a login. "status" is "ok",
    "warning" (a sync failing, or months that still differ from Glance's counts after a re-sync)
    or "error" (no database: answered with 503)."""
    try:
        partners = list(Partner.objects.order_by("pk"))
    except DatabaseError as exc:
        body = {"status": "error", "database": f"unavailable: {type(exc).__name__}"}
        return json_response(body, status=503)
    badges = completeness_of(partners)
    rows = []
    for partner in partners:
        status = sync_status(partner)
        sync_state = (
            "disabled"
            if not partner.enabled
            else "running"
            if status.running
            else "failing"
            if status.failing
            else "ok"
            if status.last_success
            else "not synced yet"
        )
        rows.append(
            {
                "id": partner.pk,
                "sync": sync_state,
                "last_success": status.last_success.finished_at.isoformat()
                if status.last_success and status.last_success.finished_at
                else None,
                "completeness": badges[partner.pk].as_json(),
            }
        )
    warning = any(
        row["sync"] == "failing" or row["completeness"]["persisting_mismatches"] for row in rows
    )
    body = {
        "status": "warning" if warning else "ok",
        "database": connection.vendor,
        "partners": rows,
    }
    return json_response(body)


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; resolved per request, since the
    static manifest exists only after collectstatic."""
    return redirect(static("favicon.svg"))
