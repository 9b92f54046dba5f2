"""Partner administration in the browser: credentials, connection test, sync now, access."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ

from sessions_app.models import AuditEvent, Membership, Partner
from sessions_app.sync.status import TEST_LOST
from tests.helpers.glance import OTHER_ID, OTHER_KEY
from tests.helpers.queue import queued, run_queued
from tests.helpers.servers import LocalServer

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.users["admin"])
    return client


def form_data(glance, **changes):
    data = {
        "name": "Globex",
        "glance_partner_id": OTHER_ID + 1,
        "api_url": glance.url,
        "enabled": "on",
        "sync_interval_minutes": 15,
        "backfill_start": "",
        "retain_ip_days": 90,
        "retain_contact_days": 180,
        "retain_sessions_days": 730,
        "service_level_percent": 80,
        "service_level_seconds": 30,
        "api_key": "globex-key-7788",
    }
    data.update(changes)
    return data


def test_an_operator_adds_a_partner_that_nobody_else_sees_yet(client, world, glance):
    client.force_login(world.users["superuser"])
    response = client.post("/partners/new/", form_data(glance), follow=True)
    partner = Partner.objects.get(name="Globex")
    assert response.redirect_chain[-1][0] == f"/partners/{partner.pk}/"
    assert (
        partner.api_key == "globex-key-7788" and "globex-key-7788" not in partner.api_key_encrypted
    )
    assert not Membership.objects.filter(partner=partner).exists()  # access is granted after
    body = response.content.decode()
    assert "••••7788" in body and "globex-key-7788" not in body
    assert AuditEvent.objects.filter(action="partner_created", partner=partner).exists()


def test_a_new_partner_needs_a_key(client, world, glance):
    client.force_login(world.users["superuser"])
    response = client.post("/partners/new/", form_data(glance, api_key=""))
    assert b"A new partner needs its API key." in response.content
    assert not Partner.objects.filter(name="Globex").exists()


def test_the_key_is_never_rendered_and_a_blank_field_keeps_it(admin_client, world, glance):
    page = admin_client.get(f"/partners/{world.a.pk}/edit/").content.decode()
    assert world.a.api_key not in page and 'name="api_key"' in page
    data = form_data(
        glance, name="Acme renamed", glance_partner_id=world.a.glance_partner_id, api_key=""
    )
    admin_client.post(f"/partners/{world.a.pk}/edit/", data)
    world.a.refresh_from_db()
    assert world.a.name == "Acme renamed" and world.a.api_key.startswith("test-key")
    event = AuditEvent.objects.get(action="partner_changed")
    assert (
        "name" in event.details["fields"]
        and not AuditEvent.objects.filter(action="api_key_changed").exists()
    )


def test_replacing_the_key_is_audited_without_the_key(admin_client, world, glance):
    data = form_data(
        glance, glance_partner_id=world.a.glance_partner_id, api_key="brand-new-key-4321"
    )
    admin_client.post(f"/partners/{world.a.pk}/edit/", data)
    world.a.refresh_from_db()
    assert world.a.api_key == "brand-new-key-4321"
    event = AuditEvent.objects.get(action="api_key_changed")
    assert "brand-new-key-4321" not in str(event.details) + event.summary


TEST_TASK = "sessions_app.tasks.connection_test_task"


def test_the_connection_test_is_queued_and_its_answer_shown(admin_client, world, glance):
    body = admin_client.post(f"/partners/{world.a.pk}/test/", follow=True).content.decode()
    assert "Connection test queued" in body and "Testing the connection" in body
    assert glance.calls("PartnerSessionCounts") == []  # the web request did not call Glance
    ((partner_pk, asked_pk),) = queued(TEST_TASK)
    assert partner_pk == world.a.pk
    run_queued(TEST_TASK)
    body = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    assert "Connected. Glance counts" in body and "Today at Glance (UTC)" in body
    assert "Testing the connection" not in body
    answer = AuditEvent.objects.get(action="connection_tested", details__answers=asked_pk)
    assert answer.details["ok"] is True and answer.actor == world.users["admin"]
    assert sum(count for _, _, count, _ in answer.details["counts"]) == int(
        re.search(r"Glance counts (\d+) ended sessions", body).group(1)
    )


def test_the_connection_test_explains_a_refused_key(admin_client, world, settings):
    settings.GLANCE_MAX_RETRIES = 0
    world.a.set_api_key("wrong-key")
    world.a.save()
    admin_client.post(f"/partners/{world.a.pk}/test/")
    run_queued(TEST_TASK)
    body = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    assert f"Glance refused partner id {world.a.glance_partner_id} or its API key" in body
    assert "Today at Glance" not in body and "wrong-key" not in body
    answer = AuditEvent.objects.filter(action="connection_tested").first()
    assert answer.details["ok"] is False and answer.details["counts"] == []


def test_the_connection_test_explains_an_unreachable_service(admin_client, world):
    world.a.api_url = "http://127.0.0.1:9/services/activityservice.asmx"
    world.a.save()
    admin_client.post(f"/partners/{world.a.pk}/test/")
    run_queued(TEST_TASK)
    body = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    assert "Glance could not be reached: cannot connect to http://127.0.0.1:9/" in body


def test_the_connection_test_explains_a_malformed_answer(admin_client, world):
    broken = LocalServer(status=200, body=b'{"d": [{"type": "C", "cou', headers=JSON)
    try:
        world.a.api_url = broken.url + "/services/activityservice.asmx"
        world.a.save(update_fields=["api_url"])
        admin_client.post(f"/partners/{world.a.pk}/test/")
        run_queued(TEST_TASK)
    finally:
        broken.stop()
    body = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    assert "Glance answered with an error: " in body and "malformed answer" in body
    assert "Today at Glance" not in body and '"cou' not in body


def test_the_connection_test_explains_a_key_that_cannot_be_decrypted(admin_client, world):
    Partner.objects.filter(pk=world.a.pk).update(api_key_encrypted="made-with-another-key")
    admin_client.post(f"/partners/{world.a.pk}/test/")
    run_queued(TEST_TASK)
    body = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    assert "cannot be decrypted with FIELD_ENCRYPTION_KEY" in body
    assert "Enter the API key again." in body


def test_a_connection_test_that_breaks_still_answers_the_admin(admin_client, world, monkeypatch):
    def broken(partner):
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr("sessions_app.sync.status.check_connection", broken)
    admin_client.post(f"/partners/{world.a.pk}/test/")
    with pytest.raises(RuntimeError):  # the worker records the task as failed, too
        run_queued(TEST_TASK)
    body = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    assert "The connection test stopped on an unexpected error" in body
    assert "a bug of ours" not in body


def test_a_double_click_queues_one_connection_test(admin_client, world):
    admin_client.post(f"/partners/{world.a.pk}/test/")
    body = admin_client.post(f"/partners/{world.a.pk}/test/", follow=True).content.decode()
    assert "A connection test of this partner is queued already" in body
    assert len(queued(TEST_TASK)) == 1
    assert AuditEvent.objects.filter(action="connection_tested").count() == 1


def test_a_connection_test_that_never_ran_may_be_asked_again(admin_client, world):
    admin_client.post(f"/partners/{world.a.pk}/test/")
    OrmQ.objects.all().delete()  # the task is lost: no worker ever runs it
    AuditEvent.objects.filter(action="connection_tested").update(
        at=timezone.now() - TEST_LOST - timedelta(seconds=1)
    )
    body = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    assert "has had no answer for 10 minutes: is the background worker (manage.py qcluster)" in body
    admin_client.post(f"/partners/{world.a.pk}/test/")
    assert len(queued(TEST_TASK)) == 1


def test_an_answer_about_the_old_key_is_not_shown_once_the_key_changed(admin_client, world, glance):
    admin_client.post(f"/partners/{world.a.pk}/test/")
    run_queued(TEST_TASK)
    data = form_data(
        glance, glance_partner_id=world.a.glance_partner_id, api_key="brand-new-key-4321"
    )
    admin_client.post(f"/partners/{world.a.pk}/edit/", data)
    body = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    assert "Connected. Glance counts" not in body and "Today at Glance" not in body
    assert "The API key or endpoint has changed since the last connection test" in body


def test_a_test_queued_before_a_key_change_tests_the_new_key(admin_client, world, glance):
    admin_client.post(f"/partners/{world.a.pk}/test/")
    data = form_data(glance, glance_partner_id=world.a.glance_partner_id, api_key="wrong-key-99")
    admin_client.post(f"/partners/{world.a.pk}/edit/", data)
    run_queued(TEST_TASK)  # the worker reads the partner as it is when the task runs
    body = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    assert "Glance refused partner id" in body and "Connected. Glance counts" not in body


def test_the_connection_test_never_stores_or_shows_the_key(admin_client, world):
    key = world.a.api_key
    admin_client.post(f"/partners/{world.a.pk}/test/")
    assert key not in str(queued(TEST_TASK))
    (summary,) = run_queued(TEST_TASK)
    body = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    feed = admin_client.get(f"/partners/{world.a.pk}/status.json").content.decode()
    events = AuditEvent.objects.filter(action="connection_tested")
    stored = [str(event.details) + event.summary for event in events]
    assert len(stored) == 2 and not [text for text in [*stored, summary, body, feed] if key in text]


def test_another_partners_admin_neither_starts_nor_sees_its_connection_test(client, world):
    client.force_login(world.users["superuser"])
    client.post(f"/partners/{world.b.pk}/test/")
    run_queued(TEST_TASK)
    client.force_login(world.users["admin"])  # admin of A only
    assert client.post(f"/partners/{world.b.pk}/test/").status_code == 404
    assert client.get(f"/partners/{world.b.pk}/status.json").status_code == 404
    assert queued(TEST_TASK) == []
    assert "Connection test" not in client.get(f"/partners/{world.a.pk}/").content.decode()


def test_the_status_feed_tells_the_page_when_the_answer_is_in(admin_client, world):
    feed = f"/partners/{world.a.pk}/status.json"
    assert admin_client.get(feed).json()["connection_test"] == ""
    admin_client.post(f"/partners/{world.a.pk}/test/")
    waiting = admin_client.get(feed).json()["connection_test"]
    page = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    assert waiting.startswith("queued:") and f'data-connection-test="{waiting}"' in page
    run_queued(TEST_TASK)
    assert admin_client.get(feed).json()["connection_test"].startswith("passed:")


def test_sync_now_queues_a_manual_sync(admin_client, world):
    body = admin_client.post(f"/partners/{world.a.pk}/sync/", follow=True).content.decode()
    (task,) = OrmQ.objects.all()
    assert task.task["func"] == "sessions_app.tasks.sync_partner_task"
    assert task.task["args"] == (world.a.pk, "manual")
    assert "Sync queued" in body


def test_the_status_feed_reports_a_running_sync(admin_client, world):
    run = world.a.sync_runs.create(trigger="manual", windows_total=4, windows_done=1, pages=7)
    status = admin_client.get(f"/partners/{world.a.pk}/status.json").json()
    assert status == {
        "latest": f"{run.pk}:running",
        "running": True,
        "windows_done": 1,
        "windows_total": 4,
        "pages": 7,
        "sessions": 0,
        "percent": 25,
        "finishing": False,
        "failing": False,
        "connection_test": "",
    }
    page = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    assert 'data-running="1"' in page and "window 1 of 4 · 7 pages" in page
    run.delete()


def test_the_progress_bar_reaches_100_only_when_the_sync_has_ended(admin_client, world):
    run = world.a.sync_runs.create(trigger="manual", windows_total=200, windows_done=199)
    feed = f"/partners/{world.a.pk}/status.json"
    assert admin_client.get(feed).json()["percent"] == 99  # 99.5% is not done
    run.windows_done = 200
    run.save(update_fields=["windows_done"])
    status = admin_client.get(feed).json()
    assert (status["percent"], status["finishing"], status["running"]) == (99, True, True)
    page = admin_client.get(f"/partners/{world.a.pk}/").content.decode()
    assert '<progress max="100" value="99">' in page and "finishing" in page
    run.state = "succeeded"
    run.save(update_fields=["state"])
    status = admin_client.get(feed).json()
    assert (status["percent"], status["running"]) == (100, False)


def invitation_link(message) -> str:
    return re.search(r"https?://\S+/invitations/[\w-]+/", message.body).group(0)


def test_inviting_someone_new_lets_them_make_an_account_and_join(admin_client, world):
    client = Client()  # the invited person's own browser
    data = {"email": "dana@example.com", "role": "analyst"}
    body = admin_client.post(f"/partners/{world.a.pk}/access/", data, follow=True).content.decode()
    assert "Invitation sent to dana@example.com" in body
    assert not Membership.objects.filter(user__email="dana@example.com").exists()  # not yet
    (message,) = mail.outbox
    assert message.to == ["dana@example.com"] and world.a.name in message.body
    link = invitation_link(message)
    joined = client.post(
        link, {"username": "dana", "password1": "Long-pass-9!x", "password2": "Long-pass-9!x"}
    )
    assert joined.status_code == 302
    member = Membership.objects.get(user__username="dana")
    assert (member.role, member.user.email) == ("analyst", "dana@example.com")
    assert client.get(link).status_code == 404  # a link works once
    assert {"invitation_sent", "user_created", "access_granted", "invitation_accepted"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


def test_an_existing_user_joins_only_by_accepting_while_logged_in(admin_client, world):
    client = Client()
    admin_client.post(
        f"/partners/{world.a.pk}/access/", {"email": "outsider@example.com", "role": "viewer"}
    )
    assert not Membership.objects.filter(user=world.users["outsider"]).exists()
    link = invitation_link(mail.outbox[0])
    client.force_login(world.users["outsider"])
    assert "Join as outsider" in client.get(link).content.decode()
    client.post(link)
    assert Membership.objects.get(user=world.users["outsider"]).role == "viewer"


def test_naming_someone_who_is_not_a_member_asks_for_an_invitation(admin_client, world):
    for name in ("ghost", "outsider"):  # one nobody has, one of another tenant: the same answer
        data = {"username": name, "role": "viewer"}
        body = admin_client.post(f"/partners/{world.a.pk}/access/", data, follow=True)
        assert "Invite them by email" in body.content.decode()
    assert not Membership.objects.filter(user=world.users["outsider"]).exists()


def test_an_admin_changes_a_role_and_revokes_access(admin_client, world):
    viewer = world.users["viewer"]
    admin_client.post(f"/partners/{world.a.pk}/access/", {"username": "viewer", "role": "analyst"})
    membership = Membership.objects.get(user=viewer)
    assert membership.role == "analyst"
    admin_client.post(f"/partners/{world.a.pk}/access/{membership.pk}/revoke/")
    assert not Membership.objects.filter(user=viewer).exists()
    assert AuditEvent.objects.filter(action="access_revoked", details__member="viewer").exists()


def test_the_last_admin_cannot_remove_themselves(admin_client, world):
    own = Membership.objects.get(user=world.users["admin"], partner=world.a)
    body = admin_client.post(
        f"/partners/{world.a.pk}/access/{own.pk}/revoke/", follow=True
    ).content.decode()
    assert "is the last admin of" in body
    assert Membership.objects.filter(pk=own.pk, role="admin").exists()


def test_an_admin_cannot_touch_a_membership_of_another_partner(admin_client, world):
    other_user = world.users["outsider"]
    foreign = Membership.objects.create(user=other_user, partner=world.b, role="viewer")
    response = admin_client.post(f"/partners/{world.a.pk}/access/{foreign.pk}/revoke/")
    assert response.status_code == 404 and Membership.objects.filter(pk=foreign.pk).exists()


def test_the_partner_list_shows_health_of_administered_partners_only(admin_client, world):
    world.b.name = "Initech"
    world.b.save()
    body = admin_client.get("/partners/").content.decode()
    assert world.a.name in body and "Initech" not in body and "ok" in body


def test_a_duplicate_glance_id_is_a_form_error_for_the_operator(client, glance, world):
    # Only an operator may add partners, so only an operator learns that an id is taken.
    client.force_login(world.users["superuser"])
    response = client.post(
        "/partners/new/", form_data(glance, glance_partner_id=OTHER_ID, api_key=OTHER_KEY)
    )
    assert b"already exists" in response.content


def test_sync_now_during_a_running_sync_queues_nothing(admin_client, world):
    world.a.sync_runs.create(trigger="schedule")
    body = admin_client.post(f"/partners/{world.a.pk}/sync/", follow=True).content.decode()
    assert "running already" in body and not OrmQ.objects.exists()


def test_a_new_endpoint_needs_the_key_typed_again(admin_client, world, glance):
    data = form_data(
        glance,
        glance_partner_id=world.a.glance_partner_id,
        api_key="",
        api_url="https://collector.example.com/steal",
    )
    body = admin_client.post(f"/partners/{world.a.pk}/edit/", data).content.decode()
    world.a.refresh_from_db()
    assert "Enter the API key again to use it with a new endpoint." in body
    assert world.a.api_url == glance.url


def test_plain_http_endpoints_are_refused_outside_development(
    admin_client, world, glance, settings
):
    settings.GLANCE_ALLOW_HTTP = False
    data = form_data(
        glance,
        glance_partner_id=world.a.glance_partner_id,
        api_key="new-key-1234",
        api_url="http://www.glance.net/services/activityservice.asmx",
    )
    body = admin_client.post(f"/partners/{world.a.pk}/edit/", data).content.decode()
    assert "use https://" in body
    world.a.refresh_from_db()
    assert world.a.api_url == glance.url


def test_the_django_admin_is_for_superusers_only(client, world):
    staff = world.users["admin"]
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get("/admin/sessions_app/membership/add/").status_code == 302


def test_saving_the_partner_form_during_a_sync_leaves_the_syncs_fields_alone(world):
    from django.db.models import F

    from sessions_app.forms import PartnerForm
    from sessions_app.sync.run import claim

    loaded = Partner.objects.get(pk=world.a.pk)  # the admin opens the form...
    token = claim(world.a)  # ...a sync starts and writes
    Partner.objects.filter(pk=world.a.pk).update(data_generation=F("data_generation") + 5)
    data = {
        "name": "Renamed",
        "glance_partner_id": loaded.glance_partner_id,
        "api_url": loaded.api_url,
        "enabled": "on",
        "sync_interval_minutes": 30,
        "retain_ip_days": 90,
        "retain_contact_days": 180,
        "retain_sessions_days": 730,
        "service_level_percent": 80,
        "service_level_seconds": 30,
    }
    form = PartnerForm(data, instance=loaded)
    assert form.is_valid(), form.errors
    form.save()  # ...and the admin saves
    saved = Partner.objects.get(pk=world.a.pk)
    assert (saved.name, saved.sync_interval_minutes) == ("Renamed", 30)
    assert saved.sync_claim_token == token and saved.sync_claimed_until is not None
    assert saved.data_generation == loaded.data_generation + 5


def test_saving_a_stale_partner_instance_moves_no_claim_watermark_or_generation(world):
    from django.db.models import F

    from sessions_app.sync.run import claim

    stale = Partner.objects.get(pk=world.a.pk)  # read before the sync's writes below
    token = claim(world.a)
    Partner.objects.filter(pk=world.a.pk).update(data_generation=F("data_generation") + 3)
    before = Partner.objects.get(pk=world.a.pk)
    stale.name = "Renamed in the shell"
    stale.save()
    after = Partner.objects.get(pk=world.a.pk)
    assert after.name == "Renamed in the shell"
    assert after.data_generation == before.data_generation == stale.data_generation + 3
    assert (after.sync_claim_token, after.sync_claimed_until) == (token, before.sync_claimed_until)
    assert after.sync_watermark == before.sync_watermark is not None


# --- who may create a partner (the takeover a security review found) --------------------------


def test_a_partner_admin_cannot_create_a_partner(client, world):
    client.force_login(world.users["admin"])
    answer = client.post(
        "/partners/new/",
        {"name": "Not mine", "glance_partner_id": 44444, "api_url": world.a.api_url,
         "api_key": "guess", "enabled": "on", "sync_interval_minutes": 15,
         "retain_ip_days": 90, "retain_contact_days": 180, "retain_sessions_days": 730,
         "service_level_percent": 80, "service_level_seconds": 30},
    )  # fmt: skip
    assert answer.status_code == 403
    assert not Partner.objects.filter(glance_partner_id=44444).exists()
    assert "Add a partner" not in client.get("/partners/").content.decode()


def test_a_partner_admin_cannot_move_their_partner_to_another_glance_id(client, world):
    client.force_login(world.users["admin"])
    form = client.get(f"/partners/{world.a.pk}/edit/").content.decode()
    assert re.search(r'name="glance_partner_id"[^>]*disabled', form)
    client.post(
        f"/partners/{world.a.pk}/edit/",
        {"name": "A", "glance_partner_id": 44444, "api_url": world.a.api_url, "enabled": "on",
         "sync_interval_minutes": 15, "retain_ip_days": 90, "retain_contact_days": 180,
         "retain_sessions_days": 730,
         "service_level_percent": 80, "service_level_seconds": 30},
    )  # fmt: skip
    world.a.refresh_from_db()
    assert world.a.glance_partner_id == 4242 and world.a.name == "A"


# --- usernames: one per name whatever its case, from a safe set, and no tenant enumeration -----


def grant(client, partner, **data) -> str:
    """The messages the grant form's answer shows."""
    body = client.post(f"/partners/{partner.pk}/access/", {"role": "viewer", **data}, follow=True)
    return " ".join(re.findall(r'<p class="message[^"]*">(.*?)</p>', body.content.decode()))


def join(client, link, username) -> str:
    data = {"username": username, "password1": "Long-pass-9!x", "password2": "Long-pass-9!x"}
    return client.post(link, data).content.decode()


@pytest.mark.parametrize(
    "username",
    ["Outsider", "OUTSIDER", "ｏｕｔｓｉｄｅｒ", "rооt", "<b>x</b>", "a b", "-lead"],
)  # fmt: skip
def test_a_look_alike_or_unsafe_username_is_refused_when_joining(admin_client, world, username):
    client = Client()
    from django.contrib.auth.models import User

    grant(admin_client, world.a, email="new@example.com")
    before = User.objects.count()
    page = join(client, invitation_link(mail.outbox[0]), username)
    assert User.objects.count() == before
    assert "cannot be used" in page or "letters, digits" in page
    assert "<b>x</b>" not in page


def test_a_full_width_username_is_stored_as_its_plain_form(admin_client, world):
    client = Client()
    from django.contrib.auth.models import User

    grant(admin_client, world.a, email="dana@example.com")
    join(client, invitation_link(mail.outbox[0]), "ｄａｎａ")
    assert User.objects.filter(username="dana").exists()


def test_the_grant_form_answers_alike_for_any_address(admin_client, world):
    """Another tenant's user, and an address nobody has: the same words, the same mail."""
    known = grant(admin_client, world.a, email="outsider@example.com")
    unknown = grant(admin_client, world.a, email="nobody99@example.com")
    assert known.replace("outsider", "X") == unknown.replace("nobody99", "X")
    assert [m.to for m in mail.outbox] == [["outsider@example.com"], ["nobody99@example.com"]]
    assert (
        mail.outbox[0].body.replace("outsider", "X").split("/invitations/")[0]
        == (mail.outbox[1].body.replace("nobody99", "X").split("/invitations/")[0])
    )


def test_a_member_changes_role_by_name_whatever_its_case(admin_client, world):
    grant(admin_client, world.a, username="VIEWER", role="analyst")
    assert Membership.objects.get(user=world.users["viewer"]).role == "analyst"


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_a_username_differing_only_in_case():
    from django.contrib.auth.models import User
    from django.db import IntegrityError

    User.objects.create_user("casey")
    with pytest.raises(IntegrityError):
        User.objects.create_user("Casey")
