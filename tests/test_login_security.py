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


# --- password reset: throttled, and the same answer for a known and an unknown address ---------

RESET = "sessions_app.tasks.send_password_reset_task"


def ask_reset(client, email, **extra):
    return client.post("/account/reset/", {"email": email}, **extra)


def test_a_reset_answers_alike_for_known_and_unknown_addresses_and_mails_later(client, world):
    from django.core import mail

    from tests.helpers.queue import queued, run_queued

    known, unknown = (
        ask_reset(client, "viewer@example.com"),
        ask_reset(client, "nobody@example.com"),
    )
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert mail.outbox == []  # nothing built or sent while the visitor waits
    assert [args[0] for args in queued(RESET)] == ["viewer@example.com", "nobody@example.com"]
    run_queued(RESET)
    (sent,) = mail.outbox
    assert sent.to == ["viewer@example.com"] and "/account/reset/" in sent.body


def test_resets_are_throttled_per_email_without_saying_so(client, world, settings):
    from tests.helpers.queue import queued

    settings.PASSWORD_RESETS_PER_EMAIL = 2
    answers = [ask_reset(client, "viewer@example.com") for _ in range(4)]
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, "/account/reset/sent/")}
    assert len(queued(RESET)) == 2


def test_resets_are_throttled_per_client_address(client, world, settings):
    settings.PASSWORD_RESETS_PER_ADDRESS = 3
    answers = [ask_reset(client, f"someone{i}@example.com").status_code for i in range(5)]
    assert answers == [302, 302, 302, 429, 429]
    other = Client(REMOTE_ADDR="198.51.100.7")  # another address is not held back
    assert ask_reset(other, "someone9@example.com").status_code == 302


# --- behind a reverse proxy -------------------------------------------------------------------


def fail_from(client, address, times):
    for _ in range(times):
        login(client, "guess", HTTP_X_FORWARDED_FOR=address)


def test_behind_a_trusted_proxy_one_clients_failures_lock_out_only_that_client(
    client, world, settings
):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's REMOTE_ADDR: the proxy
    fail_from(client, "203.0.113.5", settings.AXES_FAILURE_LIMIT)
    locked = login(client, "pw-viewer-Xy9!", HTTP_X_FORWARDED_FOR="203.0.113.5")
    elsewhere = Client().post(
        "/login/",
        {"username": "viewer", "password": "pw-viewer-Xy9!"},
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )
    assert locked.status_code == 429 and elsewhere.status_code == 302


def test_a_forwarded_header_from_an_untrusted_address_is_ignored(client, world, settings):
    settings.TRUSTED_PROXIES = []
    # A client cannot dodge the throttle by claiming a new address on each try.
    for i in range(settings.AXES_FAILURE_LIMIT):
        login(client, "guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    answer = login(client, "pw-viewer-Xy9!", HTTP_X_FORWARDED_FOR="203.0.113.200")
    assert answer.status_code == 429


def test_one_address_cannot_use_up_someone_elses_resets(client, world, settings):
    from tests.helpers.queue import queued

    settings.PASSWORD_RESETS_PER_EMAIL = 2
    for _ in range(3):
        ask_reset(client, "Viewer@Example.com")  # another spelling is the same address
    assert len(queued(RESET)) == 2
    own = Client(REMOTE_ADDR="198.51.100.8")
    ask_reset(own, "viewer@example.com")  # the user, from their own address, still gets one
    assert len(queued(RESET)) == 3


def test_the_client_address_is_read_right_to_left_past_trusted_proxies(client, world, settings):
    """A client writes what it likes at the left of X-Forwarded-For; the proxies append the
    address they saw. Only that one counts."""
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    for i in range(settings.AXES_FAILURE_LIMIT):
        login(client, "guess", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 203.0.113.5, 10.0.0.2")
    answer = login(client, "pw-viewer-Xy9!", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5")
    assert answer.status_code == 429  # the same client, whatever it wrote first


def test_an_email_change_says_nothing_of_other_accounts_and_cannot_take_their_address(
    client, world
):
    from django.core import mail

    from sessions_app.accounts import members
    from tests.helpers.queue import run_queued

    viewer, admin = world.users["viewer"], world.users["admin"]
    type(admin).objects.filter(pk=admin.pk).update(email="boss@example.com")
    client.force_login(viewer)
    form = {"time_zone": "", "email": "BOSS@example.com", "current_password": "pw-viewer-Xy9!"}
    page = client.post("/account/", form, follow=True).content.decode()
    assert "A link is on its way to BOSS@example.com" in page  # as for any other address
    run_queued("sessions_app.tasks.send_email_confirmation_task")
    token = members.email_change_token(viewer, "BOSS@example.com")
    refused = client.get(f"/account/email/{token}/", follow=True).content.decode()
    assert "BOSS@example.com belongs to another account here." in refused
    viewer.refresh_from_db()
    assert viewer.email != "BOSS@example.com"
    assert any(m.to == ["BOSS@example.com"] for m in mail.outbox)  # only that mailbox can say
    # Guessing the password here is throttled like the login page.
    wrong = {"time_zone": "", "email": "x@example.com", "current_password": "guess"}
    answers = [client.post("/account/", wrong).content.decode() for _ in range(6)]
    assert "Too many tries: wait an hour." in answers[-1]
