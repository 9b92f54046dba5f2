"""The pages of this first capability: login, the plain session list, the health check."""

import pytest
from django.contrib.auth.models import User

from sessions_app.glance.records import AgentRecord
from sessions_app.sync.ingest import store_sessions
from sessions_app.sync.run import sync_partner
from tests.helpers.seed import seed_page


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("alice", "alice@example.com", "pw-alice-123")


@pytest.fixture
def outsider(db):
    return User.objects.create_user("charlie", "charlie@example.com", "pw-charlie-123")


def test_the_login_page_is_public(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"Log in" in response.content and b'name="password"' in response.content


def test_pages_send_anonymous_users_to_login(client, db):
    response = client.get("/sessions/")
    assert response.status_code == 302 and response["Location"].startswith(
        "/login/?next=/sessions/"
    )


def test_logging_in_leads_to_the_sessions(client, admin_user):
    response = client.post(
        "/login/", {"username": "alice", "password": "pw-alice-123"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert b"No Glance partner is set up yet" in response.content


def test_the_session_list_shows_stored_sessions_newest_first(client, admin_user, glance, partner):
    sync_partner(partner)
    newest = partner.sessions.order_by("-start_time").first()
    client.force_login(admin_user)
    body = client.get("/sessions/").content.decode()
    assert f"{partner.sessions.count():,} sessions" in body
    assert body.index(str(newest.glance_id)) < body.index("</tbody>")
    assert newest.agent.name in body  # "Jane Allen", from jane.allen.acme.glance.net


def test_an_admin_is_told_when_nothing_has_synced_yet(client, admin_user, partner):
    client.force_login(admin_user)
    assert b"No sessions stored yet" in client.get("/sessions/").content


def test_a_user_without_partners_sees_no_sessions(client, outsider, glance, partner):
    sync_partner(partner)
    client.force_login(outsider)
    body = client.get("/sessions/").content.decode()
    assert "You have no partners yet" in body
    assert str(partner.sessions.first().glance_id) not in body


def test_guest_names_from_outside_are_escaped(client, admin_user, archive_partner):
    page = seed_page()
    page.sessions[0].agent = AgentRecord("<script>alert(1)</script>", "p")
    store_sessions(archive_partner, page.sessions)
    client.force_login(admin_user)
    body = client.get("/sessions/?start=2020-01-01&end=2020-12-31").content.decode()
    assert (
        "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    )


def test_the_health_check_answers_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


def test_every_answer_carries_a_policy_that_forbids_inline_scripts(client, admin_user):
    client.force_login(admin_user)
    for url in ("/", "/login/", "/healthz", "/admin/"):
        policy = client.get(url).headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'", url  # no 'unsafe-inline', no other origin
        assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "http" not in policy  # no origin but our own


def test_no_select_offers_an_empty_dashed_choice(client, world):
    """A select reads its choices in words; Django's "---------" placeholder is no choice."""
    from sessions_app.models import SavedView

    SavedView.objects.create(owner=world.users["superuser"], name="v", path="/", query="")
    client.force_login(world.users["superuser"])
    partner = f"/partners/{world.a.pk}"
    pages = ["/", "/views/", "/account/", f"{partner}/", f"{partner}/agents/"]
    for path in pages:
        body = client.get(path).content.decode()
        assert "<select" in body, path  # there is a select to read
        assert "---------" not in body, path
