"""Each audited write is one domain function that writes its row and its audit event in one
transaction: both are there afterwards, and when the audit event cannot be written, neither is."""

from datetime import UTC, datetime
from functools import partial

import pytest
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.test import RequestFactory
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from sessions_app.accounts import members, partners, pii
from sessions_app.api import tokens
from sessions_app.forms import PartnerForm
from sessions_app.models import (
    AlertRule,
    ApiToken,
    AuditEvent,
    Invitation,
    KioskLink,
    Membership,
    Partner,
    ReportSchedule,
    SavedView,
)
from sessions_app.notify import alerts, reports, wallboard
from sessions_app.sync import status
from sessions_app.sync.retention import apply_retention
from tests.factories import record, store
from tests.helpers.queue import queued


class AuditDown(Exception):
    pass


def _refuse(self, *args, **kwargs):
    raise AuditDown("the audit trail cannot be written")


@pytest.fixture
def rows(db):
    """Plain rows: partner A, its admin alice, and bob, who is not a member yet."""
    partner = Partner.objects.create(name="Acme", glance_partner_id=4242)
    alice = User.objects.create_user("alice", "alice@example.com", "pw-alice-Xy9!")
    bob = User.objects.create_user("bob", "bob@example.com", "pw-bob-Xy9!")
    Membership.objects.create(user=alice, partner=partner, role="admin")
    request = RequestFactory().post("/")
    request.user = alice
    return partner, alice, bob, request


def both_or_neither(monkeypatch, act, written, action, *, removes=False):
    """With the audit write failing, `act` leaves no trace; then it writes its row (or removes
    it) and one event. `written`: a query for the row written, or a test of it."""
    done = (lambda: not written.exists()) if removes else getattr(written, "exists", written)
    events = AuditEvent.objects.count()
    with monkeypatch.context() as patched:
        patched.setattr(AuditEvent, "save", _refuse)
        with pytest.raises(AuditDown):
            act()
    assert not done(), "the write happened although its audit event was not written"
    assert AuditEvent.objects.count() == events
    act()
    assert done()
    assert AuditEvent.objects.filter(action=action).count() == 1


def test_an_api_token_and_its_event(rows, monkeypatch):
    _, alice, _, request = rows
    act = partial(tokens.create_token, alice, "BI", request=request)
    both_or_neither(monkeypatch, act, alice.api_tokens.all(), "api_token_created")


def test_a_token_revocation_and_its_event(rows, monkeypatch):
    _, alice, _, request = rows
    token, _ = tokens.new_token(alice, "BI")
    act = lambda: tokens.revoke_token(ApiToken.objects.get(pk=token.pk), request=request)  # noqa: E731
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=False)
    both_or_neither(monkeypatch, act, revoked, "api_token_revoked")


def test_a_kiosk_link_and_its_event(rows, monkeypatch):
    partner, _, _, request = rows
    act = partial(wallboard.create_kiosk_link, partner, "TV", "UTC", request=request)
    both_or_neither(monkeypatch, act, partner.kiosk_links.all(), "kiosk_link_created")


def test_a_kiosk_link_revocation_and_its_event(rows, monkeypatch):
    partner, alice, _, request = rows
    link, _ = wallboard.new_kiosk_link(partner, "TV", "UTC", alice)
    act = lambda: wallboard.revoke_kiosk_link(KioskLink.objects.get(pk=link.pk), request=request)  # noqa: E731
    revoked = KioskLink.objects.filter(pk=link.pk, revoked_at__isnull=False)
    both_or_neither(monkeypatch, act, revoked, "kiosk_link_revoked")


def test_an_alert_rule_and_its_event(rows, monkeypatch):
    partner, _, _, request = rows
    rule = partial(AlertRule, kind="sync_failing", hours=2, emails="alice@example.com")
    act = lambda: alerts.add_rule(partner, rule(), request=request)  # noqa: E731
    both_or_neither(monkeypatch, act, partner.alert_rules.all(), "alert_changed")
    assert AuditEvent.objects.get().details["emails"] == "alice@example.com"


def test_an_alert_rules_removal_and_its_event(rows, monkeypatch):
    partner, _, _, request = rows
    rule = AlertRule.objects.create(partner=partner, kind="sync_failing", emails="a@example.com")
    act = lambda: alerts.remove_rule(AlertRule.objects.get(pk=rule.pk), request=request)  # noqa: E731
    rules = AlertRule.objects.filter(pk=rule.pk)
    both_or_neither(monkeypatch, act, rules, "alert_changed", removes=True)


def test_a_report_schedule_and_its_event(rows, monkeypatch):
    partner, alice, _, request = rows
    view = SavedView.objects.create(name="Week", owner=alice, path="/", partner=partner)
    schedule = partial(ReportSchedule, frequency="daily", recipients="alice@example.com")
    act = lambda: reports.add_schedule(schedule(), view, request=request)  # noqa: E731
    both_or_neither(monkeypatch, act, view.reports.all(), "report_changed")


def test_a_stopped_report_and_its_event(rows, monkeypatch):
    partner, alice, _, request = rows
    view = SavedView.objects.create(name="Week", owner=alice, path="/", partner=partner)
    report = ReportSchedule.objects.create(
        saved_view=view, owner=alice, frequency="daily", recipients="alice@example.com"
    )
    act = lambda: reports.stop_schedule(ReportSchedule.objects.get(pk=report.pk), request=request)  # noqa: E731
    both_or_neither(monkeypatch, act, view.reports.all(), "report_changed", removes=True)


def test_a_partners_credentials_and_their_events(rows, monkeypatch):
    partner, _, _, request = rows
    data = {
        "name": "Acme",
        "glance_partner_id": 4242,
        "api_url": "https://glance.example.com/services/activityservice.asmx",
        "api_key": "a-new-key",
        "enabled": True,
        "sync_interval_minutes": 15,
        "retain_ip_days": 30,
        "retain_contact_days": 30,
        "retain_sessions_days": 365,
        "service_level_percent": 80,
        "service_level_seconds": 30,
    }

    def act():
        form = PartnerForm(data, instance=Partner.objects.get(pk=partner.pk), operator=True)
        assert form.is_valid(), form.errors
        partners.save_partner(form, request=request)

    replaced = lambda: Partner.objects.get(pk=partner.pk).api_key == "a-new-key"  # noqa: E731
    both_or_neither(monkeypatch, act, replaced, "api_key_changed")
    assert AuditEvent.objects.filter(action="partner_changed").exists()


def test_a_partner_from_the_command_line_and_its_event(db, monkeypatch):
    def act():
        partner = Partner(name="Initech", glance_partner_id=99)
        partner.set_api_key("its-key")
        partners.save_by_operator(partner, created=True, key_changed=True)

    made = Partner.objects.filter(glance_partner_id=99)
    both_or_neither(monkeypatch, act, made, "partner_created")
    assert AuditEvent.objects.get().actor_name == "manage.py"


def test_a_requested_sync_and_its_event(rows, monkeypatch):
    partner, _, _, request = rows
    act = partial(partners.request_sync, partner, request=request)
    asked = lambda: bool(queued("sessions_app.tasks.sync_partner_task"))  # noqa: E731
    both_or_neither(monkeypatch, act, asked, "sync_requested")


def test_a_requested_connection_test_and_its_event(rows, monkeypatch):
    partner, _, _, request = rows
    act = partial(status.request_connection_test, partner, request=request)
    asked = lambda: bool(queued("sessions_app.tasks.connection_test_task"))  # noqa: E731
    both_or_neither(monkeypatch, act, asked, "connection_tested")


def test_a_new_user_and_its_event(rows, monkeypatch):
    *_, request = rows
    act = partial(members.create_user, "carol", "carol@example.com", request=request)
    both_or_neither(monkeypatch, act, User.objects.filter(username="carol"), "user_created")


def test_a_grant_and_its_event(rows, monkeypatch):
    partner, _, bob, request = rows
    act = partial(members.grant, partner, bob, "viewer", request=request)
    both_or_neither(monkeypatch, act, bob.memberships.all(), "access_granted")


def test_a_revocation_and_its_event(rows, monkeypatch):
    partner, _, bob, request = rows
    Membership.objects.create(user=bob, partner=partner, role="viewer")
    act = partial(members.revoke, partner, bob, request=request)
    both_or_neither(monkeypatch, act, bob.memberships.all(), "access_revoked", removes=True)


def test_an_invitation_and_its_event(rows, monkeypatch):
    partner, _, _, request = rows
    act = partial(members.invite, partner, "dave@example.com", "viewer", request=request)
    both_or_neither(monkeypatch, act, Invitation.objects.all(), "invitation_sent")


def test_an_accepted_invitation_and_its_events(rows, monkeypatch):
    partner, _, bob, request = rows
    invitation = members.invite(partner, "bob@example.com", "analyst", request=request)
    request.user = bob
    act = lambda: members.accept(Invitation.objects.get(pk=invitation.pk), bob, request=request)  # noqa: E731
    joined = bob.memberships.filter(partner=partner, role="analyst")
    both_or_neither(monkeypatch, act, joined, "invitation_accepted")
    assert AuditEvent.objects.filter(action="access_granted").count() == 1


def test_a_users_changed_flags_and_their_event(rows, monkeypatch):
    _, _, bob, request = rows

    def act():
        user = User.objects.get(pk=bob.pk)
        user.is_staff = True
        members.save_user(user, ["is_staff"], request=request, created=False)

    staff = lambda: User.objects.get(pk=bob.pk).is_staff  # noqa: E731
    both_or_neither(monkeypatch, act, staff, "user_changed")
    assert AuditEvent.objects.get().details == {"member": "bob", "fields": ["is_staff"]}


def test_a_new_password_and_its_event(rows, monkeypatch):
    _, _, bob, request = rows
    data = {"new_password1": "a-much-better-one-42", "new_password2": "a-much-better-one-42"}

    def act():
        form = SetPasswordForm(User.objects.get(pk=bob.pk), data)
        assert form.is_valid(), form.errors
        with members.password_change(form.user, request=request, by_email=True):
            form.save()

    changed = lambda: User.objects.get(pk=bob.pk).check_password("a-much-better-one-42")  # noqa: E731
    both_or_neither(monkeypatch, act, changed, "password_changed")
    assert AuditEvent.objects.get().summary == "bob set a password by email link"


def test_an_admins_look_at_guest_details_is_audited(rows):
    partner, _, _, request = rows
    store(partner, record(7, "2026-03-02T10:00:00"))
    guests, reveal = pii.guests_of(partner.sessions.get(), request=request)
    assert reveal and len(guests) == 2
    event = AuditEvent.objects.get(action="pii_viewed")
    assert event.summary == "viewed guest details of session 7" and event.partner == partner


def test_retention_and_its_event(rows, monkeypatch):
    partner, *_ = rows
    store(partner, record(8, "2026-03-02T10:00:00"))
    Partner.objects.filter(pk=partner.pk).update(retain_sessions_days=30)
    act = partial(apply_retention, now=datetime(2026, 6, 1, tzinfo=UTC))
    both_or_neither(monkeypatch, act, partner.sessions.all(), "retention_applied", removes=True)


def test_a_password_set_by_email_link_and_its_event(rows, client):
    """Through Django's own reset view, which saves the password inside members.password_change."""
    _, _, bob, _ = rows
    uid = urlsafe_base64_encode(force_bytes(bob.pk))
    link = reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(bob)])
    form_page = client.get(link, follow=True)
    new = "a-much-better-one-42"
    client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    bob.refresh_from_db()
    assert bob.check_password(new)
    event = AuditEvent.objects.get(action="password_changed")
    assert event.summary == "bob set a password by email link"
