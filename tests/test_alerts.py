"""Alerts, checked after each sync: each rule's condition on real synced data, one message when
it starts to hold and one when it clears, by email (captured by Django's test mail outbox) and by
webhook (a real HTTP receiver on loopback), and a failed delivery that never fails the sync."""

import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from sessions_app.models import AlertRule, AuditEvent, Membership, Profile, Session
from sessions_app.notify import alerts
from sessions_app.sync.run import sync_partner
from tests.helpers.glance import make_partner

Kind = AlertRule.Kind


class Receiver:
    """An incoming-webhook endpoint: records each POSTed JSON body, answers `status`."""

    def __init__(self):
        self.bodies, self.status = [], 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(
                    (self.headers["Content-Type"], json.loads(self.rfile.read(length)))
                )
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/abc"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def texts(self):
        return [body["text"] for _, body in self.bodies]


@pytest.fixture
def webhook():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def lead(django_user_model):
    return django_user_model.objects.create_user("lead", "lead@example.com", "pw-lead-Xy9!")


def rule_for(partner, lead, webhook, **fields):
    Membership.objects.get_or_create(user=lead, partner=partner, defaults={"role": "admin"})
    return AlertRule.objects.create(
        partner=partner, emails=lead.email, webhook_url=webhook.url, **fields
    )


def test_a_low_connected_rate_is_told_once_and_its_end_once(glance, db, lead, webhook):
    partner = make_partner(glance, backfill_days=10)
    rule = rule_for(partner, lead, webhook, kind=Kind.LOW_CONNECTED_RATE, threshold=100, hours=720)
    sync_partner(partner)  # the sync's own hook evaluates
    total = Session.objects.exclude(status__in=("A", "W", "J")).count()
    connected = Session.objects.filter(status__in=("C", "X")).count()
    assert len(mail.outbox) == 1 and len(webhook.bodies) == 1
    text = webhook.texts[0]
    assert text.startswith(f"[glancedash] FIRING: {partner.name}: connected rate below 100%")
    assert f"({connected} of {total} sessions in the last 720 h" in text
    assert webhook.bodies[0][0] == "application/json"
    assert mail.outbox[0].to == ["lead@example.com"] and mail.outbox[0].body == text
    rule.refresh_from_db()
    assert rule.firing_since is not None and rule.last_error == ""

    sync_partner(partner)  # still holds: nothing more is said
    assert len(mail.outbox) == 1 and len(webhook.bodies) == 1

    AlertRule.objects.filter(pk=rule.pk).update(threshold=1)
    sync_partner(partner)
    assert len(webhook.bodies) == 2 and len(mail.outbox) == 2
    assert webhook.texts[1].startswith(f"[glancedash] RESOLVED: {partner.name}")
    rule.refresh_from_db()
    assert rule.firing_since is None


def test_a_sync_failing_for_longer_than_allowed(glance, db, lead, webhook):
    partner = make_partner(glance, key="wrong-key-123", backfill_days=3)
    rule_for(partner, lead, webhook, kind=Kind.SYNC_FAILING, hours=1)
    assert sync_partner(partner).state == "failed"
    assert webhook.bodies == []  # failing, but not for an hour yet
    later = timezone.now() + timedelta(hours=2)
    (text,) = alerts.evaluate_partner(partner, now=later)
    assert "FIRING" in text and "syncs failing for 2.0 h" in text and "API key was refused" in text
    assert "wrong-key-123" not in text
    partner.refresh_from_db()
    partner.set_api_key("test-key-4242-secret")
    partner.save()
    assert sync_partner(partner).state == "succeeded"
    assert "RESOLVED" in webhook.texts[-1] and "the latest sync succeeded" in webhook.texts[-1]


def test_sessions_still_missing_after_a_resync(glance, db, lead, webhook):
    partner = make_partner(glance, backfill_days=10)
    rule_for(partner, lead, webhook, kind=Kind.COMPLETENESS)
    day = (timezone.now() - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    hidden = sorted(glance.served(partner.glance_partner_id, day, day + timedelta(days=1)))[:2]
    glance.sim.faults.hidden_sessions = set(hidden)
    sync_partner(partner)
    (text,) = webhook.texts
    assert "FIRING" in text and f"2 sessions Glance counts are still missing ({day:%Y-%m})" in text
    glance.sim.faults.hidden_sessions = set()
    sync_partner(partner, since=day - timedelta(days=2))
    assert "RESOLVED" in webhook.texts[-1]


def test_no_sessions_during_business_hours(glance, db, lead, webhook):
    partner = make_partner(glance, backfill_days=5)
    sync_partner(partner)
    rule = rule_for(
        partner, lead, webhook, kind=Kind.NO_SESSIONS, hours=2, business_days="1234567",
        business_start=0, business_end=24,
    )  # fmt: skip
    latest = Session.objects.order_by("-start_time").first().start_time
    assert alerts.evaluate_partner(partner, now=latest + timedelta(hours=1)) == []
    quiet = latest + timedelta(hours=3)
    quiet += timedelta(hours=3) if quiet.hour < 3 else timedelta(0)  # hours began long enough ago
    (text,) = alerts.evaluate_partner(partner, now=quiet)
    assert "FIRING" in text and "no session started in the last 2 h" in text
    other_days = "".join(d for d in "1234567" if d != str(quiet.isoweekday()))
    AlertRule.objects.filter(pk=rule.pk).update(business_days=other_days)
    (text,) = alerts.evaluate_partner(partner, now=quiet)
    assert "RESOLVED" in text and "outside business hours" in text


def test_a_failed_delivery_is_recorded_and_the_sync_goes_on(glance, db, lead, webhook):
    partner = make_partner(glance, backfill_days=5)
    webhook.status = 500
    rule = rule_for(partner, lead, webhook, kind=Kind.LOW_CONNECTED_RATE, threshold=100, hours=720)
    assert sync_partner(partner).state == "succeeded"
    rule.refresh_from_db()
    assert rule.last_error == "webhook: HTTP 500, server error" and rule.firing_since is not None
    assert len(mail.outbox) == 1  # the email still went


# --- managing rules -------------------------------------------------------------------------


def test_an_admin_adds_a_rule_on_the_partner_page(client, world, settings):
    settings.ALERT_WEBHOOK_ALLOW_HTTP = False
    client.force_login(world.users["admin"])
    form = {
        "kind": "low_connected_rate",
        "threshold": "80",
        "hours": "4",
        "business_days": "12345",
        "business_start": "9",
        "business_end": "17",
        "time_zone": "Europe/Berlin",
        "emails": "analyst@example.com",
        "webhook_url": "https://hooks.slack.example/T000/B000",
    }
    assert client.post(f"/partners/{world.a.pk}/alerts/", form).status_code == 302
    rule = AlertRule.objects.get()
    page = client.get(f"/partners/{world.a.pk}/").content.decode()
    assert "connected rate below 80% over the last 4 h" in page and "analyst@example.com" in page
    # Refused: someone who cannot see the partner, plain http, a rate rule without a threshold.
    for change, words in [
        ({"emails": "stranger@example.com"}, "Alerts go only to users who can see"),
        ({"webhook_url": "http://hooks.example/x"}, "must start with https://"),
        ({"threshold": ""}, "needs a threshold"),
        ({"time_zone": "Mars/Olympus"}, "is not a time zone name"),
    ]:
        response = client.post(f"/partners/{world.a.pk}/alerts/", {**form, **change}, follow=True)
        assert words in response.content.decode(), change
    assert AlertRule.objects.count() == 1
    assert client.post(f"/partners/{world.a.pk}/alerts/{rule.pk}/delete/").status_code == 302
    assert not AlertRule.objects.exists()
    summaries = AuditEvent.objects.filter(action="alert_changed", partner=world.a).values_list(
        "summary", flat=True
    )
    assert sorted(summaries) == [
        f"{world.a.name}: alert added: connected rate below 80% over the last 4 h",
        f"{world.a.name}: alert removed: connected rate below 80% over the last 4 h",
    ]


def test_the_alert_form_ticks_weekdays_and_starts_in_the_admins_time_zone(client, world):
    admin = world.users["admin"]
    Profile.objects.update_or_create(user=admin, defaults={"time_zone": "Asia/Tokyo"})
    client.force_login(admin)
    page = client.get(f"/partners/{world.a.pk}/").content.decode()
    form = page.split('class="inline-form alert-form"', 1)[1].split("</form>", 1)[0]
    assert "---------" not in form
    ticked = re.findall(
        r'<input type="checkbox" name="business_days" value="(\d)"[^>]*checked', form
    )
    assert ticked == ["1", "2", "3", "4", "5"]
    assert re.search(r'<option value="Asia/Tokyo"[^>]*selected', form)
    # A Saturday-only rule, by its checkbox: stored as the weekday digit.
    answer = client.post(
        f"/partners/{world.a.pk}/alerts/",
        {"kind": "no_sessions", "hours": "2", "business_days": ["6"], "business_start": "9",
         "business_end": "17", "time_zone": "Asia/Tokyo", "emails": "analyst@example.com"},
    )  # fmt: skip
    assert answer.status_code == 302
    assert AlertRule.objects.get().business_days == "6"
