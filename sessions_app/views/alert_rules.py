"""A partner's alert rules, managed by its admins on the partner page. Every partner is fetched
through access.get_partner_for(…, Role.ADMIN), every rule through that partner."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from sessions_app.accounts import access
from sessions_app.forms import AlertRuleForm
from sessions_app.models import Role
from sessions_app.notify import alerts


@login_required
@require_POST
def alert_create(request, pk):
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    form = AlertRuleForm(request.POST, partner=partner)
    if not form.is_valid():
        errors = "; ".join(" ".join(errors) for errors in form.errors.values())
        messages.error(request, f"The alert was not added: {errors}")
        return redirect(_alerts_of(partner))
    rule = alerts.add_rule(partner, form.save(commit=False), request=request)
    messages.success(request, f"Alert added: {rule.describe()}. It is checked after each sync.")
    return redirect(_alerts_of(partner))


@login_required
@require_POST
def alert_delete(request, pk, rule_pk):
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    rule = get_object_or_404(partner.alert_rules, pk=rule_pk)
    alerts.remove_rule(rule, request=request)
    messages.success(request, f"Alert removed: {rule.describe()}.")
    return redirect(_alerts_of(partner))


@login_required
@require_POST
def alert_check(request, pk):
    """Checks the partner's rules now, as a sync would (for an admin who just added one)."""
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    sent = alerts.evaluate_partner(partner)
    messages.info(
        request,
        f"Checked: {len(sent)} message{'s' if len(sent) != 1 else ''} sent."
        if sent
        else "Checked: nothing changed, nothing sent.",
    )
    return redirect(_alerts_of(partner))


def _alerts_of(partner) -> str:
    return reverse("partner_detail", args=[partner.pk]) + "#alerts"
