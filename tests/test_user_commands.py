"""add_user and grant_access, the commands operators script."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from sessions_app.models import AuditEvent, Membership
from tests.helpers.glance import OTHER_ID, PARTNER_ID, make_partner


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def partners(glance, db):
    return make_partner(glance), make_partner(glance, glance_id=OTHER_ID)


def test_add_user_creates_a_user_with_a_role_on_several_partners(partners, monkeypatch):
    monkeypatch.setenv("NEW_PW", "correct-horse-battery-9")
    output = run(
        "add_user",
        "erin",
        "--role",
        "analyst",
        "--partners",
        f"{PARTNER_ID},{OTHER_ID}",
        "--email",
        "erin@example.com",
        "--password-env",
        "NEW_PW",
    )
    erin = User.objects.get(username="erin")
    assert "Created user erin: analyst of" in output
    assert erin.email == "erin@example.com" and erin.check_password("correct-horse-battery-9")
    assert (
        sorted(Membership.objects.filter(user=erin).values_list("role", flat=True))
        == ["analyst"] * 2
    )
    assert AuditEvent.objects.filter(action="user_created").count() == 1


def test_add_user_without_a_terminal_needs_the_password_variable(partners):
    with pytest.raises(CommandError, match="--password-env"):
        run("add_user", "erin", "--role", "viewer", "--partners", str(PARTNER_ID))
    assert not User.objects.filter(username="erin").exists()


def test_add_user_refuses_a_weak_password_and_an_unknown_partner(partners, monkeypatch):
    monkeypatch.setenv("WEAK", "123")
    with pytest.raises(CommandError, match="too short"):
        run(
            "add_user",
            "erin",
            "--role",
            "viewer",
            "--partners",
            str(PARTNER_ID),
            "--password-env",
            "WEAK",
        )
    monkeypatch.setenv("GOOD", "correct-horse-battery-9")
    with pytest.raises(CommandError, match="no partner with Glance id 999"):
        run("add_user", "erin", "--role", "viewer", "--partners", "999", "--password-env", "GOOD")
    assert not User.objects.filter(username="erin").exists()


def test_add_user_updates_an_existing_user(partners):
    User.objects.create_user("erin", password="old-password-77")
    output = run("add_user", "erin", "--role", "admin", "--partners", str(PARTNER_ID))
    assert "Updated user erin: admin of" in output
    assert Membership.objects.get(user__username="erin").role == "admin"
    assert User.objects.get(username="erin").check_password("old-password-77")


def test_grant_access_grants_changes_and_revokes(partners):
    User.objects.create_user("erin")
    assert "erin is now viewer of" in run(
        "grant_access", "erin", "--partner", str(PARTNER_ID), "--role", "viewer"
    )
    run("grant_access", "erin", "--partner", str(PARTNER_ID), "--role", "analyst")
    assert Membership.objects.get().role == "analyst"
    assert "no longer has access" in run(
        "grant_access", "erin", "--partner", str(PARTNER_ID), "--revoke"
    )
    assert not Membership.objects.exists()
    assert "nothing changed" in run(
        "grant_access", "erin", "--partner", str(PARTNER_ID), "--revoke"
    )


def test_grant_access_names_an_unknown_user(partners):
    with pytest.raises(CommandError, match="no user 'nobody'"):
        run("grant_access", "nobody", "--partner", str(PARTNER_ID), "--role", "viewer")
