"""The audit trail: what is recorded, who may read it, and that it cannot be edited."""

import pytest

from sessions_app.models import AuditEvent


def login(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_logins_failed_logins_and_logouts_are_recorded(client, world):
    login(client, "viewer", "wrong-password")
    login(client, "viewer", "pw-viewer-Xy9!")
    client.post("/logout/")
    events = list(AuditEvent.objects.order_by("pk").values_list("action", "actor_name"))
    assert events == [("login_failed", ""), ("login", "viewer"), ("logout", "viewer")]
    failed = AuditEvent.objects.get(action="login_failed")
    assert failed.ip == "127.0.0.1" and failed.details == {"typed": "viewer"}
    assert "wrong-password" not in str(failed.details) + failed.summary


def test_a_password_change_is_recorded(client, world):
    client.force_login(world.users["analyst"])
    client.post(
        "/account/password/",
        {
            "old_password": "pw-analyst-Xy9!",
            "new_password1": "a-much-better-one-42",
            "new_password2": "a-much-better-one-42",
        },
    )
    assert AuditEvent.objects.filter(action="password_changed", actor_name="analyst").exists()


def test_an_admin_reads_their_partners_events_only(client, world):
    AuditEvent.objects.create(action="export", summary="export of A", partner=world.a)
    AuditEvent.objects.create(action="export", summary="export of B", partner=world.b)
    client.force_login(world.users["admin"])
    body = client.get("/audit/").content.decode()
    assert "export of A" in body and "export of B" not in body


def test_a_superuser_reads_every_event_and_filters_by_action(client, world):
    AuditEvent.objects.create(action="export", summary="export of B", partner=world.b)
    client.force_login(world.users["superuser"])
    assert "export of B" in client.get("/audit/").content.decode()
    assert "export of B" not in client.get("/audit/?action=login").content.decode()


def test_an_event_cannot_be_edited(db):
    event = AuditEvent.objects.create(action="login", summary="someone logged in")
    event.summary = "nothing happened"
    with pytest.raises(ValueError, match="never edited"):
        event.save()
    assert AuditEvent.objects.get().summary == "someone logged in"


def test_the_audit_trail_is_read_only_in_the_django_admin(client, world):
    event = AuditEvent.objects.create(action="login", summary="x")
    client.force_login(world.users["superuser"])
    page = client.get(f"/admin/sessions_app/auditevent/{event.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert (
        client.post(
            f"/admin/sessions_app/auditevent/{event.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )


def test_django_admin_grants_and_user_changes_are_audited(client, world):
    client.force_login(world.users["superuser"])
    outsider = world.users["outsider"]
    response = client.post(
        "/admin/sessions_app/membership/add/",
        {"user": outsider.pk, "partner": world.a.pk, "role": "viewer"},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="access_granted", details__member="outsider").exists()
    data = {
        "username": "outsider",
        "email": "o@example.com",
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    client.post(f"/admin/auth/user/{outsider.pk}/change/", data)
    event = AuditEvent.objects.get(action="user_changed")
    assert "is_staff" in event.details["fields"] and event.actor_name == "superuser"
