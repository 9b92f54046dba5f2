"""Login hardening: throttling, redirects, CSRF and session fixation."""

from django.test import Client


def login(client, password, **extra):
    return client.post("/login/", {"username": "viewer", "password": password, **extra})


def test_repeated_failures_lock_out_even_the_right_password(client, world, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "guess")
    response = login(client, "pw-viewer-Xy9!")
    assert response.status_code == 429 and b"Too many failed logins" in response.content
    assert "_auth_user_id" not in client.session


def test_another_user_is_not_locked_out_by_them(client, world, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "guess")
    response = client.post("/login/", {"username": "analyst", "password": "pw-analyst-Xy9!"})
    assert response.status_code == 302


def test_next_never_redirects_off_site(client, world):
    response = login(client, "pw-viewer-Xy9!", next="https://evil.example.com/phish")
    assert response.status_code == 302 and response["Location"] == "/"


def test_next_within_the_site_is_followed(client, world):
    response = login(client, "pw-viewer-Xy9!", next="/sessions/?page=2")
    assert response["Location"] == "/sessions/?page=2"


def test_login_without_a_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "viewer", "password": "pw-viewer-Xy9!"})
    assert response.status_code == 403 and "_auth_user_id" not in client.session


def test_logging_in_gives_a_new_session_key(client, world):
    client.get("/login/")
    client.cookies["sessionid"] = "attacker-chosen-session-key"
    login(client, "pw-viewer-Xy9!")
    assert client.cookies["sessionid"].value != "attacker-chosen-session-key"


def test_logout_needs_a_post(client, world):
    client.force_login(world.users["viewer"])
    assert client.get("/logout/").status_code == 405
    assert "_auth_user_id" in client.session
