"""Guest names, emails, phones and IPs: shown to analysts and admins, masked for viewers."""

import pytest

from sessions_app.models import AuditEvent, Guest


@pytest.fixture
def guest_with_pii(world):
    # One with a city too, whose showing proves the rest of the guest is still there.
    guest = (
        Guest.objects.filter(session__partner=world.a, name__isnull=False, ip__isnull=False)
        .exclude(city__isnull=True)
        .exclude(city="")
        .first()
    )
    guest.name, guest.email, guest.phone = (
        "Zoë <b>Brontë</b>",
        "zoe@example.com",
        "+44 20 7946 0958",
    )
    guest.save()
    return guest


def page(client, world, persona, guest):
    client.force_login(world.users[persona])
    return client.get(f"/sessions/{guest.session_id}/").content.decode()


@pytest.mark.parametrize("persona", ["analyst", "admin", "superuser"])
def test_roles_allowed_pii_see_it(client, world, guest_with_pii, persona):
    body = page(client, world, persona, guest_with_pii)
    assert "Zoë &lt;b&gt;Brontë&lt;/b&gt;" in body and "zoe@example.com" in body
    assert "+44 20 7946 0958" in body and guest_with_pii.ip in body


def test_a_viewer_sees_the_session_with_pii_masked(client, world, guest_with_pii):
    body = page(client, world, "viewer", guest_with_pii)
    assert "Brontë" not in body and "zoe@example.com" not in body and "7946" not in body
    assert guest_with_pii.ip not in body
    assert "hidden for your role" in body and "•••" in body
    assert guest_with_pii.city in body  # the rest of the guest is still there


def test_an_admin_viewing_pii_is_audited_an_analyst_is_not(client, world, guest_with_pii):
    page(client, world, "analyst", guest_with_pii)
    assert not AuditEvent.objects.filter(action="pii_viewed").exists()
    page(client, world, "admin", guest_with_pii)
    event = AuditEvent.objects.get(action="pii_viewed")
    assert event.actor_name == "admin" and event.partner == world.a
