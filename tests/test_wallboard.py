"""The live wallboard: live counts from Glance itself, today against the same weekday last week,
the connected rate and top agents today; for logged-in users over their partners, and by a
revocable kiosk link that needs no login and shows nothing else."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from sessions_app.models import AuditEvent, KioskLink, Partner, Session
from sessions_app.notify import wallboard
from tests.helpers.queue import queued, run_queued
from tests.helpers.servers import LocalServer

REFRESH = "sessions_app.tasks.refresh_live_counts_task"


def live_truth(glance, partner):
    now = timezone.now()
    counts = glance.sim.session_counts(
        partner.glance_partner_id, now - timedelta(days=1), now + timedelta(minutes=1), status="A"
    )
    active = sum(c["count"] for c in counts if c["status"] != "W")
    return active, sum(c["count"] for c in counts if c["status"] == "W")


def watched(client, url="/wallboard/data.json"):
    """A wall's first poll (which asks the worker), the worker's run, and the next poll."""
    first = client.get(url).json()
    assert first["active"] is None and first["live_note"] == "Live counts: asking Glance…"
    run_queued(REFRESH)
    return client.get(url).json()


def test_the_board_holds_live_counts_today_last_week_and_top_agents(client, world, glance):
    client.force_login(world.users["viewer"])
    data = watched(client)
    assert data["partners"] == [world.a.name]  # the viewer's partners only
    assert (data["active"], data["waiting"]) == live_truth(glance, world.a)
    assert data["live_note"] == "Live from Glance"
    now = timezone.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)  # the viewer's zone: UTC
    today = Session.objects.filter(partner=world.a, start_time__gte=midnight, start_time__lt=now)
    assert data["today"] == today.count()
    ended = today.exclude(status__in=("A", "W", "J"))
    if ended:
        connected = ended.filter(status__in=("C", "X")).count()
        assert data["connected_rate"] == round(100 * connected / ended.count(), 1)
    names = [row["agent"] for row in data["top_agents"]]
    assert names == sorted(names, key=lambda n: -today.filter(agent__user_name=n).count())[:5]


def test_live_counts_are_asked_of_glance_once_per_period_for_any_number_of_walls(
    client, world, glance
):
    cache.clear()
    client.force_login(world.users["viewer"])
    for _ in range(4):
        client.get("/wallboard/data.json")
    assert queued(REFRESH) == [(world.a.pk,)]  # four polls, one request to the worker
    run_queued(REFRESH)
    for _ in range(4):
        assert client.get("/wallboard/data.json").json()["live_note"] == "Live from Glance"
    assert queued(REFRESH) == []  # asked less than LIVE_SECONDS ago
    live = [c for c in glance.calls("PartnerSessionCounts") if c.params["status"] == "A"]
    assert len(live) == 1


def test_the_board_says_when_glance_cannot_be_reached_and_shows_the_rest(client, world, glance):
    cache.clear()
    glance.sim.faults.auth_failure = True
    client.force_login(world.users["admin"])
    data = watched(client)
    assert data["active"] is None
    assert data["live_note"].startswith("Live counts unavailable: the partner id or API key")
    assert isinstance(data["today"], int)
    client.force_login(world.users["viewer"])  # why is for the admins, who can fix it
    assert client.get("/wallboard/data.json").json()["live_note"] == "Live counts unavailable"


@pytest.mark.django_db(transaction=True)  # the worker's thread writes what the board reads
def test_a_hanging_endpoint_holds_up_no_web_request(client, world, settings):
    """The web side never calls Glance: while the worker waits on an endpoint that hangs, the
    board and /healthz answer at once, and the failure is cached in words for the next poll."""
    import threading
    import time

    hanging = LocalServer(hang=10)
    settings.GLANCE_LIVE_COUNTS_TIMEOUT = 3
    world.a.api_url = hanging.url + "/services/activityservice.asmx"
    world.a.save(update_fields=["api_url"])
    client.force_login(world.users["admin"])
    try:
        assert client.get("/wallboard/data.json").json()["live_note"].endswith("asking Glance…")
        assert queued(REFRESH) == [(world.a.pk,)]
        # The worker's half, in a thread as the cluster would run it (the partner as loaded: a
        # thread's own connection would not see this test's uncommitted rows).
        partner = Partner.objects.get(pk=world.a.pk)
        worker = threading.Thread(target=wallboard.refresh_live_counts, args=(partner,))
        worker.start()
        deadline = time.monotonic() + 10
        while not hanging.requests:  # the worker's call has reached the endpoint, and waits
            assert time.monotonic() < deadline, "the worker never called the endpoint"
            time.sleep(0.01)
        started = time.monotonic()
        board = client.get("/wallboard/data.json").json()
        health = client.get("/healthz")
        answered = time.monotonic() - started
        assert worker.is_alive() and len(hanging.requests) == 1  # only the worker called
        assert health.status_code == 200 and board["active"] is None
        assert answered < 3  # far inside the endpoint's hang: nothing here waited on it
        worker.join()
    finally:
        hanging.stop()
    data = client.get("/wallboard/data.json").json()
    assert data["live_note"] == "Live counts unavailable: no answer within 3s (timeout)"


def test_a_user_sees_only_their_partners_on_the_board(client, world):
    client.force_login(world.users["viewer"])
    assert client.get(f"/wallboard/data.json?partner={world.b.pk}").status_code == 404
    assert client.get("/wallboard/data.json?partner=x").status_code == 404
    client.logout()
    assert client.get("/wallboard/data.json").status_code == 302  # to the login page


def make_link(client, world, name="Floor TV"):
    client.force_login(world.users["admin"])
    response = client.post(f"/partners/{world.a.pk}/kiosk/", {"name": name}, follow=True)
    page = response.content.decode()
    token = re.search(r"/kiosk/([\w-]+)/", page).group(1)
    client.logout()
    return token


def test_a_kiosk_link_opens_the_partners_board_without_a_login_and_nothing_else(client, world):
    token = make_link(client, world)
    link = KioskLink.objects.get()
    assert token not in link.token_sha256  # only its digest is kept
    event = AuditEvent.objects.get(action="kiosk_link_created")
    assert event.partner == world.a and token not in event.summary + str(event.details)
    page = client.get(f"/kiosk/{token}/")
    html = page.content.decode()
    assert page.status_code == 200 and world.a.name in html
    assert f'data-src="/kiosk/{token}/data.json"' in html
    assert (
        "Log out" not in html and "/sessions/" not in html and "Back to the dashboard" not in html
    )
    assert "sessionid" not in page.cookies  # nobody is logged in by it
    data = client.get(f"/kiosk/{token}/data.json").json()
    assert data["partners"] == [world.a.name]
    assert client.get("/sessions/").status_code == 302  # the link opens nothing else


def test_a_revoked_or_unknown_kiosk_link_opens_nothing(client, world):
    token = make_link(client, world)
    link = KioskLink.objects.get()
    client.force_login(world.users["admin"])
    client.post(f"/partners/{world.a.pk}/kiosk/{link.pk}/revoke/")
    client.logout()
    assert AuditEvent.objects.filter(action="kiosk_link_revoked", partner=world.a).exists()
    assert client.get(f"/kiosk/{token}/").status_code == 404
    assert client.get(f"/kiosk/{token}/data.json").status_code == 404
    assert client.get("/kiosk/not-a-token/").status_code == 404


def test_only_a_partners_admin_makes_or_revokes_kiosk_links(client, world):
    for persona, status in (("analyst", 403), ("viewer", 403), ("outsider", 404)):
        client.force_login(world.users[persona])
        assert client.post(f"/partners/{world.a.pk}/kiosk/", {"name": "x"}).status_code == status
    assert not KioskLink.objects.exists()


def test_a_kiosk_says_live_counts_failed_but_not_why(client, world, glance):
    """The kiosk has no login: an endpoint's trouble is for the partner's admins, not the TV."""
    glance.sim.faults.auth_failure = True
    token = make_link(client, world)
    data = watched(client, f"/kiosk/{token}/data.json")
    assert data["active"] is None and data["live_note"] == "Live counts unavailable"
    client.force_login(world.users["admin"])
    board = client.get("/wallboard/data.json").json()  # the same stored failure, with its reason
    assert board["live_note"].startswith("Live counts unavailable: the partner id or API key")


def test_a_new_kiosk_link_is_shown_in_the_answers_body_never_in_a_cookie(client, world):
    client.force_login(world.users["admin"])
    made = client.post(f"/partners/{world.a.pk}/kiosk/", {"name": "Floor TV"})
    page = made.content.decode()
    token = re.search(r"/kiosk/([\w-]+)/", page).group(1)
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    assert all(token not in morsel.value for morsel in made.cookies.values())
    assert token not in client.get(f"/partners/{world.a.pk}/").content.decode()  # shown once


@pytest.mark.django_db(transaction=True)
def test_the_counts_a_worker_process_stores_reach_the_web_process(client, world, glance):
    """The worker is another process (qcluster): what it stores must reach every web process,
    which a per-process cache would not do."""
    import os
    import subprocess
    import sys

    from tests.helpers.processes import ROOT, database_url

    client.force_login(world.users["viewer"])
    assert client.get("/wallboard/data.json").json()["live_note"].endswith("asking Glance…")
    (args,) = queued(REFRESH)
    code = f"from sessions_app.tasks import refresh_live_counts_task as t; print(t({args[0]}))"
    env = {**os.environ, "DATABASE_URL": database_url()}
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = client.get("/wallboard/data.json").json()
    assert data["live_note"] == "Live from Glance"
    assert (data["active"], data["waiting"]) == live_truth(glance, world.a)
