"""API keys never leak: not in the database dump, logs, errors, sync records, audit or pages."""

import io
import logging

from django.core.management import call_command
from django.db import connection

from sessions_app.models import AuditEvent, Partner, SyncRun
from sessions_app.sync.run import sync_partner
from tests.helpers.glance import PARTNER_KEY, make_partner


def test_the_raw_column_is_not_the_key(partner):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_key_encrypted FROM sessions_app_partner WHERE id = %s", [partner.pk]
        )
        (raw,) = cursor.fetchone()
    assert PARTNER_KEY not in raw and raw.startswith("gAAAA")  # a Fernet token
    assert Partner.objects.get().api_key == PARTNER_KEY


def test_no_log_line_error_or_record_holds_a_key(glance, db, caplog):
    caplog.set_level(logging.DEBUG)
    good = make_partner(glance)
    bad = make_partner(glance, glance_id=5151, key="the-wrong-secret-key")
    glance.sim.faults.fail_next = 1  # a retried error is logged too
    sync_partner(good)
    sync_partner(bad)
    everything = caplog.text + " ".join(SyncRun.objects.values_list("error", flat=True))
    everything += " ".join(str(e.details) + e.summary for e in AuditEvent.objects.all())
    assert "refused" in everything
    assert PARTNER_KEY not in everything and "the-wrong-secret-key" not in everything


def test_rotating_the_encryption_key_keeps_every_api_key(partner, settings):
    from cryptography.fernet import Fernet

    old_token = Partner.objects.get().api_key_encrypted
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    out = io.StringIO()
    call_command("rotate_encryption_key", stdout=out)
    assert "Re-encrypted 1 API keys" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # the old key retired
    rotated = Partner.objects.get()
    assert rotated.api_key_encrypted != old_token and rotated.api_key == PARTNER_KEY


def test_the_django_admin_never_renders_the_key(client, world):
    client.force_login(world.users["superuser"])
    page = client.get(f"/admin/sessions_app/partner/{world.a.pk}/change/").content.decode()
    assert world.a.api_key not in page and world.a.api_key_encrypted not in page
    assert "••••" in page


def test_saving_a_key_in_the_django_admin_is_audited_without_it(client, world):
    client.force_login(world.users["superuser"])
    data = {
        "name": "Acme",
        "glance_partner_id": world.a.glance_partner_id,
        "api_url": world.a.api_url,
        "enabled": "on",
        "sync_interval_minutes": 15,
        "retain_ip_days": 90,
        "retain_contact_days": 180,
        "retain_sessions_days": 730,
        "service_level_percent": 80,
        "service_level_seconds": 30,
        "api_key": "admin-typed-key-5555",
    }
    response = client.post(f"/admin/sessions_app/partner/{world.a.pk}/change/", data)
    assert response.status_code == 302
    assert Partner.objects.get(pk=world.a.pk).api_key == "admin-typed-key-5555"
    event = AuditEvent.objects.get(action="api_key_changed")
    assert event.actor_name == "superuser" and "admin-typed-key" not in event.summary + str(
        event.details
    )
