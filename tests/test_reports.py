"""Emailed reports of saved views: set up from Views, scheduled by django-q2, the email's
content against the live page, who may receive one, preview, send now and stop."""

import re
from datetime import datetime

import pytest
from django.core import mail
from django_q.models import Schedule

from sessions_app.models import AuditEvent, Membership, ReportSchedule, SavedView
from sessions_app.notify import reports as report_mail
from sessions_app.sync.schedules import first_report_run, report_schedule_name
from sessions_app.tasks import send_report_task
from tests.helpers.queue import run_queued


@pytest.fixture
def analyst(client, world):
    client.force_login(world.users["analyst"])
    return client


@pytest.fixture
def view(world):
    return SavedView.objects.create(
        owner=world.users["analyst"], name="Cobrowse this week", path="/", query="preset=7d&type=C"
    )


def set_up(client, view, **fields):
    data = {"frequency": "weekly", "send_hour": "7", "recipients": "analyst@example.com", **fields}
    return client.post(f"/views/{view.pk}/reports/", data)


def test_a_report_is_set_up_from_views_and_given_a_django_q_schedule(analyst, view):
    response = set_up(analyst, view, recipients="analyst@example.com, viewer@example.com")
    assert response.status_code == 302
    report = ReportSchedule.objects.get()
    assert (report.frequency, report.send_hour, report.time_zone) == ("weekly", 7, "UTC")
    schedule = Schedule.objects.get(name=report_schedule_name(report.pk))
    assert schedule.func == "sessions_app.tasks.send_report_task"
    assert schedule.schedule_type == Schedule.WEEKLY and schedule.args == f"({report.pk},)"
    assert schedule.next_run.weekday() == 0 and schedule.next_run.hour == 7  # Monday 07:00
    page = analyst.get("/views/").content.decode()
    assert "Emailed weekly (mondays) at 7:00 (UTC) to analyst@example.com" in page
    event = AuditEvent.objects.get(action="report_changed")
    assert event.summary == (
        "“Cobrowse this week” to be emailed weekly to analyst@example.com, viewer@example.com"
    )


def test_the_first_send_falls_on_the_hour_in_the_reports_zone():
    report = ReportSchedule(frequency="monthly", send_hour=8, time_zone="Asia/Kolkata")
    now = datetime.fromisoformat("2026-11-29T12:00:00+00:00")
    assert first_report_run(report, now).isoformat() == "2026-12-01T08:00:00+05:30"
    report.frequency = "daily"
    assert first_report_run(report, now).isoformat() == "2026-11-30T08:00:00+05:30"


def test_the_email_states_its_filters_and_shows_what_the_live_page_shows(analyst, view, settings):
    settings.SITE_URL = "https://dash.example.com"
    set_up(analyst, view, recipients="analyst@example.com, admin@example.com")
    report = ReportSchedule.objects.get()
    assert send_report_task(report.pk).endswith("sent to 2 recipients")
    (email,) = mail.outbox
    assert email.to == ["analyst@example.com", "admin@example.com"]
    assert email.subject.startswith("glancedash: Cobrowse this week, ")
    text = email.body
    assert "Filters: preset=7d, type=C" in text and "times in UTC" in text
    page = analyst.get("/?preset=7d&type=C").content.decode()
    sessions = re.search(r'Sessions(?:</a>)?</div>\s*<div class="kpi-value">([^<]+)<', page).group(
        1
    )
    assert f"Sessions: {sessions}" in text  # the same figure as the live page
    agents = analyst.get("/agents/?preset=7d&type=C").content.decode()  # busiest first
    top = re.search(r'<td><a href="[^"]*">([^<]+)</a>', agents.split("</tr>", 2)[2]).group(1)
    assert text.split("Top agents")[1].strip().startswith(f"{top}: ")
    assert "Open it live: https://dash.example.com/?preset=7d&type=C" in text
    html = email.alternatives[0][0]
    assert 'href="https://dash.example.com/?preset=7d&amp;type=C"' in html
    assert "Top countries" in html and "United States (US)" in html


def test_recipients_must_see_all_of_the_views_data(analyst, view, world):
    response = set_up(analyst, view, recipients="outsider@example.com")
    assert response.status_code == 302 and not ReportSchedule.objects.exists()
    assert "outsider@example.com cannot" in analyst.get("/views/").content.decode()
    # A superuser's view covers both partners: the analyst, who sees only A, may not get it.
    everything = SavedView.objects.create(owner=world.users["superuser"], name="All", path="/")
    analyst.force_login(world.users["superuser"])
    set_up(analyst, everything, recipients="analyst@example.com")
    assert not ReportSchedule.objects.exists()


def test_a_recipient_who_lost_access_is_left_out_and_told(analyst, view, world):
    set_up(analyst, view, recipients="analyst@example.com, viewer@example.com")
    Membership.objects.filter(user=world.users["viewer"]).delete()
    report = ReportSchedule.objects.get()
    send_report_task(report.pk)
    assert mail.outbox[0].to == ["analyst@example.com"]
    report.refresh_from_db()
    assert report.last_error == "not sent to viewer@example.com: no longer allowed"


def test_preview_send_now_and_stop_are_the_owners(analyst, view, client, world):
    set_up(analyst, view)
    report = ReportSchedule.objects.get()
    preview = analyst.get(f"/reports/{report.pk}/preview/").content.decode()
    assert "<h1" in preview and "Cobrowse this week" in preview and "Top agents" in preview
    assert analyst.post(f"/reports/{report.pk}/send/").status_code == 302
    assert len(mail.outbox) == 1
    client.force_login(world.users["admin"])
    assert client.get(f"/reports/{report.pk}/preview/").status_code == 404
    assert client.post(f"/reports/{report.pk}/delete/").status_code == 404
    client.force_login(world.users["analyst"])
    assert client.post(f"/reports/{report.pk}/delete/").status_code == 302
    assert not Schedule.objects.filter(name=report_schedule_name(report.pk)).exists()


def test_deleting_the_view_stops_its_reports(analyst, view):
    set_up(analyst, view)
    report = ReportSchedule.objects.get()
    analyst.post(f"/views/{view.pk}/delete/")
    assert not ReportSchedule.objects.exists()
    assert not Schedule.objects.filter(name=report_schedule_name(report.pk)).exists()


def test_a_report_of_a_view_whose_filters_no_longer_apply_says_so(analyst, world):
    broken = SavedView.objects.create(
        owner=world.users["analyst"], name="Old", path="/", query="min_duration=soon"
    )
    set_up(analyst, broken)
    send_report_task(ReportSchedule.objects.get().pk)
    assert "Some saved filters could not be used, so the defaults are shown." in mail.outbox[0].body


def test_a_report_that_searches_guests_goes_only_to_those_who_may_search(analyst, world):
    view = SavedView.objects.create(
        owner=world.users["analyst"], name="One guest", path="/sessions/",
        query="preset=7d&q=zoe.secret%40example.com", partner=world.a,
    )  # fmt: skip
    refused = set_up(analyst, view, recipients="analyst@example.com, viewer@example.com")
    assert refused.status_code == 302 and not ReportSchedule.objects.exists()
    body = analyst.get("/views/").content.decode()
    assert "and search its guests: viewer@example.com cannot" in body
    assert set_up(analyst, view, recipients="analyst@example.com, admin@example.com").status_code
    report = ReportSchedule.objects.get()
    Membership.objects.filter(user=world.users["admin"]).update(role="viewer")  # demoted
    send_report_task(report.pk)
    (sent,) = mail.outbox
    assert sent.to == ["analyst@example.com"]
    report.refresh_from_db()
    assert "admin@example.com" in report.last_error


def test_a_report_of_someone_elses_guest_search_leaves_the_search_out(client, world):
    """A viewer may email a shared view to someone, but a guest search in it that the viewer may
    not read stays out of the report: its preview and its figures are those without it."""
    view = SavedView.objects.create(
        owner=world.users["analyst"], name="One guest", path="/sessions/",
        query="preset=7d&q=zoe.secret%40example.com", partner=world.a,
    )  # fmt: skip
    client.force_login(world.users["viewer"])
    client.post(
        f"/views/{view.pk}/reports/",
        {"frequency": "weekly", "send_hour": "7", "recipients": "viewer@example.com"},
    )
    report = ReportSchedule.objects.get(owner=world.users["viewer"])
    preview = client.get(f"/reports/{report.pk}/preview/").content.decode()
    assert "zoe.secret" not in preview
    send_report_task(report.pk)
    assert all("zoe.secret" not in m.body for m in mail.outbox) and mail.outbox


def test_a_report_to_oneself_waits_for_an_email_address_and_says_so(client, world):
    """Choosing "send it to me" works without an address on file: the page says so and links
    to the preferences, where the address is added (with the password); then it is sent."""
    user = world.users["viewer"]
    type(user).objects.filter(pk=user.pk).update(email="")
    view = SavedView.objects.create(owner=user, name="Mine", path="/", query="preset=7d")
    client.force_login(user)
    page = client.get("/views/").content.decode()
    assert "You have no email address on file" in page and 'href="/account/"' in page
    to_me = {"frequency": "weekly", "send_hour": 7, "send_to_owner": "on", "recipients": ""}
    client.post(f"/views/{view.pk}/reports/", to_me)
    report = ReportSchedule.objects.get(saved_view=view)
    assert report.send_to_owner and report.recipients == ""
    assert report_mail.send(report) == 0
    report.refresh_from_db()
    assert report.last_error == "not sent to you: you have no email address on file"
    refused = client.post("/account/", {"time_zone": "", "email": "viewer@example.com"})
    assert "Your current password, to change your email." in refused.content.decode()
    asked = client.post(
        "/account/",
        {"time_zone": "", "email": "viewer@example.com", "current_password": "pw-viewer-Xy9!"},
        follow=True,
    ).content.decode()
    assert "A link is on its way to viewer@example.com" in asked
    user.refresh_from_db()
    assert user.email == ""  # not until the mailbox confirms it: no report goes there before
    run_queued("sessions_app.tasks.send_email_confirmation_task")
    (confirmation,) = [m for m in mail.outbox if m.to == ["viewer@example.com"]]
    link = re.search(r"https?://[^/]+(/account/email/\S+/)", confirmation.body).group(1)
    client.get(link)
    user.refresh_from_db()
    assert user.email == "viewer@example.com"
    report.refresh_from_db()
    assert report_mail.send(report) == 1 and mail.outbox[-1].to == ["viewer@example.com"]
    assert AuditEvent.objects.filter(summary="user viewer: changed email").exists()
    # The link is spent: it named the address the account had then.
    again = client.get(link, follow=True).content.decode()
    assert "This link is for another change, or another account." in again
