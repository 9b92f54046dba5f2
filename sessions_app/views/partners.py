"""Partner administration for admins: credentials, sync health, sync now, connection test, and
who has access. Every partner is fetched through access.get_partner_for(…, Role.ADMIN)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from sessions_app import timezones
from sessions_app.accounts import access, members
from sessions_app.accounts.partners import request_sync, save_partner
from sessions_app.forms import AlertRuleForm, GrantAccessForm, PartnerForm
from sessions_app.http import json_response
from sessions_app.models import Role, SyncRun
from sessions_app.sync import completeness
from sessions_app.sync.status import connection_test, request_connection_test, sync_status


def _require_any_admin(user):
    if not access.is_any_admin(user):
        raise PermissionDenied("only admins manage partners")


@login_required
def partner_list(request):
    _require_any_admin(request.user)
    partners = access.partners_for(request.user, Role.ADMIN)
    badges = completeness.completeness_of(partners)
    rows = [(partner, sync_status(partner), badges[partner.pk]) for partner in partners]
    return render(request, "sessions_app/partner_list.html", {"rows": rows})


@login_required
def partner_create(request):
    # An operator's act: a partner admin who could name any Glance partner id could claim a
    # company that is onboarded later, and would see its data once its real key is entered.
    if not request.user.is_superuser:
        raise PermissionDenied("only operators (superusers) add partners")
    form = PartnerForm(request.POST or None, operator=True)
    if request.method == "POST" and form.is_valid():
        partner = save_partner(form, request=request)
        messages.success(
            request,
            f"{partner.name} added; its first sync starts within a minute. "
            "Test the connection to check the key.",
        )
        return redirect("partner_detail", pk=partner.pk)
    return render(request, "sessions_app/partner_form.html", {"form": form, "partner": None})


@login_required
def partner_detail(request, pk):
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    context = {
        "partner": partner,
        "status": sync_status(partner),
        "completeness": completeness.completeness(partner),
        "alert_rules": partner.alert_rules.all(),
        "kiosk_links": partner.kiosk_links.select_related("created_by"),
        "alert_form": AlertRuleForm(
            partner=partner, time_zone=timezones.for_user(request.user).key
        ),
        "memberships": partner.memberships.select_related("user"),
        "grant_form": GrantAccessForm(),
        "recent_runs": partner.sync_runs.all()[:10],
        "connection_test": connection_test(partner),
        "quick_sync_minutes": settings.GLANCE_QUICK_SYNC_MINUTES,
        "lookback_hours": settings.GLANCE_LOOKBACK_HOURS,
    }
    return render(request, "sessions_app/partner_detail.html", context)


@login_required
def partner_edit(request, pk):
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    form = PartnerForm(request.POST or None, instance=partner, operator=request.user.is_superuser)
    if request.method == "POST" and form.is_valid():
        save_partner(form, request=request)
        messages.success(request, f"{partner.name} saved.")
        return redirect("partner_detail", pk=partner.pk)
    return render(request, "sessions_app/partner_form.html", {"form": form, "partner": partner})


@login_required
@require_POST
def partner_test(request, pk):
    """Queues the test: the worker asks Glance, and the partner page shows its answer."""
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    if request_connection_test(partner, request=request):
        messages.success(request, "Connection test queued; its answer shows below in a moment.")
    else:
        messages.info(
            request,
            "A connection test of this partner is queued already; its answer shows below when "
            "it is ready.",
        )
    return redirect("partner_detail", pk=partner.pk)


@login_required
@require_POST
def partner_sync(request, pk):
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    if not partner.enabled:
        messages.error(request, f"{partner.name} is disabled: enable it to sync.")
        return redirect("partner_detail", pk=partner.pk)
    if sync_status(partner).running:
        messages.info(request, "A sync of this partner is running already; see its progress below.")
        return redirect("partner_detail", pk=partner.pk)
    request_sync(partner, request=request)
    messages.success(request, "Sync queued; the background worker starts it in a moment.")
    return redirect("partner_detail", pk=partner.pk)


@login_required
@require_GET
def partner_status(request, pk):
    """The partner page polls this, to move a running sync's progress bar, and to reload when a
    sync or a connection test has ended."""
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    status = sync_status(partner)
    test = connection_test(partner)
    run = status.running
    # Not the quick pass's runs: each would reload the page, losing a half-typed form.
    latest = partner.sync_runs.exclude(trigger=SyncRun.Trigger.QUICK).only("pk", "state").first()
    return json_response(
        {
            "latest": f"{latest.pk}:{latest.state}" if latest else "",
            "running": run is not None,
            "windows_done": run.windows_done if run else 0,
            "windows_total": run.windows_total if run else 0,
            "pages": run.pages if run else 0,
            "sessions": (run.sessions_created + run.sessions_updated) if run else 0,
            "percent": run.progress_percent if run else 100,
            "finishing": run.finishing if run else False,
            "failing": status.failing,
            "connection_test": test.token if test else "",
        }
    )


@login_required
@require_POST
def access_grant(request, pk):
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    form = GrantAccessForm(request.POST, partner=partner)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("partner_detail", pk=partner.pk)
    data = form.cleaned_data
    role = Role(data["role"]).label.lower()
    if data["member"] is None:
        members.invite(partner, data["email"], data["role"], request=request)
        messages.success(
            request,
            f"Invitation sent to {data['email']}: they join {partner.name} as {role} when they "
            f"accept it (within {settings.INVITATION_DAYS} days).",
        )
        return redirect("partner_detail", pk=partner.pk)
    try:
        members.grant(partner, data["member"], data["role"], request=request)
    except members.LastAdmin as refusal:
        messages.error(request, f"{refusal}; make someone else admin first.")
        return redirect("partner_detail", pk=partner.pk)
    messages.success(request, f"{data['member'].get_username()} is now {role} of {partner.name}.")
    return redirect("partner_detail", pk=partner.pk)


@login_required
@require_POST
def access_revoke(request, pk, membership_pk):
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    membership = get_object_or_404(partner.memberships.select_related("user"), pk=membership_pk)
    try:
        members.revoke(partner, membership.user, request=request)
    except members.LastAdmin as refusal:
        messages.error(request, f"{refusal}; make someone else admin first.")
    else:
        messages.success(
            request, f"{membership.user.get_username()} no longer sees {partner.name}."
        )
    return redirect("partner_detail", pk=partner.pk)
