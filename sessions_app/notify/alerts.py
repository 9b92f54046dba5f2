"""Alerts: conditions on a partner's data, checked after each of its syncs.

A rule that starts to hold says so once ("FIRING"), and once more when it clears ("RESOLVED"),
by email to the partner's users it names and by webhook: a JSON POST with a "text" member, which
Slack's and Microsoft Teams' incoming webhooks both accept. Nothing is sent while the state
stays the same, so a condition that holds for a day is one message, not ninety-six. A delivery
that fails is recorded on the rule and never fails the sync.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from sessions_app import figures, outbound, waiting
from sessions_app.accounts import access, audit
from sessions_app.models import AlertRule, Partner, Session, SyncRun
from sessions_app.sync import completeness
from sessions_app.sync.run import sync_finished

log = logging.getLogger(__name__)

Kind = AlertRule.Kind
WEBHOOK_TIMEOUT = 10  # seconds; a slow chat service must not hold up the sync for long
MIN_SESSIONS_FOR_A_RATE = 5  # below this, a rate says more about chance than about the team


@dataclass
class Condition:
    holds: bool
    detail: str  # what was measured, in words, for the message either way


# --- the conditions -------------------------------------------------------------------------


def low_connected_rate(rule: AlertRule, now: datetime) -> Condition:
    since = now - timedelta(hours=rule.hours)
    total, connected = figures.ended_and_connected(
        Session.objects.filter(partner=rule.partner, start_time__gte=since, start_time__lt=now)
    )
    if total < MIN_SESSIONS_FOR_A_RATE:
        return Condition(False, f"{total} sessions in the last {rule.hours} h, too few to judge")
    rate = 100 * connected / total
    return Condition(
        rate < rule.threshold,
        f"{rate:.1f}% connected ({connected} of {total} sessions in the last {rule.hours} h)",
    )


def low_service_level(rule: AlertRule, now: datetime) -> Condition:
    """The partner's service level over the window (waiting.py defines it) below the rule's
    threshold, or the partner's own target where the rule sets none."""
    since = now - timedelta(hours=rule.hours)
    target = waiting.target_of(rule.partner)
    service = figures.service(
        Session.objects.filter(partner=rule.partner, start_time__gte=since, start_time__lt=now),
        {rule.partner.pk: target},
    )
    counted = service.offered - service.unknown
    if not service.known_enough:
        known = service.answered - service.unknown
        return Condition(
            False, f"too few known waits to judge ({known} of {service.answered} answered "
            f"sessions in the last {rule.hours} h)",
        )  # fmt: skip
    if counted < MIN_SESSIONS_FOR_A_RATE:
        return Condition(
            False, f"{counted} answered or abandoned sessions in the last {rule.hours} h, too few "
            "to judge",
        )  # fmt: skip
    floor = rule.threshold if rule.threshold is not None else target.percent
    return Condition(
        service.service_level < floor,
        f"service level {service.service_level:.1f}% against {floor:g}% "
        f"({service.met} of {counted} joined within {target.seconds} s in the last "
        f"{rule.hours} h; {service.abandoned} abandoned)",
    )


def no_sessions(rule: AlertRule, now: datetime) -> Condition:
    local = now.astimezone(ZoneInfo(rule.time_zone))
    opened = local.replace(hour=rule.business_start, minute=0, second=0, microsecond=0)
    in_hours = (
        str(local.isoweekday()) in rule.business_days
        and rule.business_start <= local.hour < rule.business_end
    )
    if not in_hours:
        return Condition(False, f"outside business hours ({local:%a %H:%M} {rule.time_zone})")
    since = max(now - timedelta(hours=rule.hours), opened)
    if now - since < timedelta(hours=rule.hours):
        return Condition(False, f"business hours began less than {rule.hours} h ago")
    latest = (
        Session.objects.filter(partner=rule.partner, start_time__lt=now)
        .order_by("-start_time")
        .values_list("start_time", flat=True)
        .first()
    )
    quiet = latest is None or latest < since
    last = f"the last started {latest:%Y-%m-%d %H:%M} UTC" if latest else "none stored"
    return Condition(quiet, f"no session started in the last {rule.hours} h ({last})")


def sync_failing(rule: AlertRule, now: datetime) -> Condition:
    # Full passes only: a quick pass succeeding every minute would hide one failing for days.
    runs = rule.partner.sync_runs.exclude(
        trigger__in=[SyncRun.Trigger.IMPORT, SyncRun.Trigger.QUICK]
    ).exclude(state=SyncRun.State.RUNNING)
    latest = runs.order_by("-started_at").first()
    if latest is None or latest.state == SyncRun.State.SUCCEEDED:
        return Condition(False, "the latest sync succeeded")
    success = runs.filter(state=SyncRun.State.SUCCEEDED).order_by("-started_at").first()
    first_failure = runs.filter(state=SyncRun.State.FAILED)
    if success:
        first_failure = first_failure.filter(started_at__gt=success.started_at)
    failing_since = first_failure.order_by("started_at").values_list("started_at", flat=True)[0]
    hours = (now - failing_since).total_seconds() / 3600
    return Condition(
        hours > rule.hours,
        f"syncs failing for {hours:.1f} h (since {failing_since:%Y-%m-%d %H:%M} UTC): "
        f"{latest.error}",
    )


def missing_sessions(rule: AlertRule, now: datetime) -> Condition:
    badge = completeness.completeness(rule.partner)
    persisting = badge.persisting
    if not persisting:
        return Condition(False, f"completeness: {badge.label}")
    months = ", ".join(f"{check.month:%Y-%m}" for check in persisting)
    missing = sum(check.missing for check in persisting)
    return Condition(True, f"{missing} sessions Glance counts are still missing ({months})")


CONDITIONS = {
    Kind.LOW_CONNECTED_RATE: low_connected_rate,
    Kind.NO_SESSIONS: no_sessions,
    Kind.SYNC_FAILING: sync_failing,
    Kind.COMPLETENESS: missing_sessions,
    Kind.LOW_SERVICE_LEVEL: low_service_level,
}


# --- adding and removing rules (audited) ----------------------------------------------------


def add_rule(partner: Partner, rule: AlertRule, *, request) -> AlertRule:
    """Stores a new rule (unsaved, as its form made it) for the partner."""
    with transaction.atomic():
        rule.partner = partner
        rule.save()
        audit.record(
            audit.Action.ALERT_CHANGED,
            f"{partner.name}: alert added: {rule.describe()}",
            request=request,
            partner=partner,
            emails=rule.emails,
            webhook=audit.webhook_origin(rule.webhook_url),
        )
    return rule


def remove_rule(rule: AlertRule, *, request) -> None:
    partner = rule.partner
    with transaction.atomic():
        rule.delete()
        audit.record(
            audit.Action.ALERT_CHANGED,
            f"{partner.name}: alert removed: {rule.describe()}",
            request=request,
            partner=partner,
            webhook=audit.webhook_origin(rule.webhook_url),
        )


# --- evaluating and telling -----------------------------------------------------------------


def evaluate_partner(partner: Partner, now: datetime | None = None) -> list[str]:
    """Checks every enabled rule of the partner; returns the messages sent."""
    now = now or timezone.now()
    sent = []
    for rule in partner.alert_rules.filter(enabled=True).select_related("partner"):
        condition = CONDITIONS[rule.kind](rule, now)
        firing = rule.firing_since is not None
        if condition.holds == firing:
            continue  # no change: nothing to say
        rule.firing_since = now if condition.holds else None
        state = "FIRING" if condition.holds else "RESOLVED"
        message = f"[glancedash] {state}: {partner.name}: {rule.describe()} — {condition.detail}"
        rule.last_message, rule.last_notified_at = message, now
        rule.last_error = "; ".join(deliver(rule, message))
        rule.save(update_fields=["firing_since", "last_message", "last_notified_at", "last_error"])
        sent.append(message)
    return sent


# A quick pass that found nothing changed no figure, but the clock moved on (a quiet spell, a
# rate over the last hours): such passes evaluate the rules every this many minutes, as the old
# 15-minute full pass did, not every minute.
QUIET_PASS_EVERY_MINUTES = 15


@receiver(sync_finished)
def evaluate_after_sync(sender, partner: Partner, run: SyncRun, **kwargs) -> None:
    """After each sync: an alert that cannot be evaluated is logged, and the sync goes on."""
    quiet = (
        run.trigger == SyncRun.Trigger.QUICK
        and run.state == SyncRun.State.SUCCEEDED
        and not (run.sessions_created or run.sessions_updated)
    )
    if quiet and timezone.now().minute % QUIET_PASS_EVERY_MINUTES:
        return
    try:
        evaluate_partner(partner)
    except Exception:
        log.exception("alerts of %s could not be evaluated", partner)


def deliver(rule: AlertRule, message: str) -> list[str]:
    """Sends the message by email and webhook; returns what went wrong, in words."""
    problems = []
    # Checked again at each send, as reports are: an address may since have left the partner
    # or its account.
    gone = set(access.emails_outside(rule.recipients, [rule.partner]))
    allowed = [email for email in rule.recipients if email not in gone]
    if gone:
        problems.append(f"email: not sent to {', '.join(sorted(gone))}: no longer allowed")
    if allowed:
        try:
            send_mail(message[:150], message, settings.DEFAULT_FROM_EMAIL, allowed)
        except Exception as exc:  # any mail backend's failure
            problems.append(f"email: {type(exc).__name__}: {exc}")
    if rule.webhook_url:
        problems += _post_webhook(rule.webhook_url, message)
    for problem in problems:
        log.warning("alert %s of %s: %s", rule.pk, rule.partner, problem)
    return problems


def _post_webhook(url: str, message: str) -> list[str]:
    """Under the outbound policy; what failed in our words (the answer's body is never read)."""
    try:
        with outbound.session() as http:
            response = http.post(url, json={"text": message}, timeout=WEBHOOK_TIMEOUT)
    except outbound.OutboundRefused as exc:
        return [f"webhook: {exc}"]
    except requests.Timeout:
        return [f"webhook: no answer within {WEBHOOK_TIMEOUT} s"]
    except requests.RequestException as exc:
        return [f"webhook: could not connect ({type(exc).__name__})"]
    if response.status_code >= 400:
        return [f"webhook: {outbound.status_words(response.status_code)}"]
    return []
