"""Scheduled email reports: a saved view, computed as its report's owner sees it, emailed to
users who may see that data.

The email states the filters and time zone it used and the period, shows the overview's KPI
cards with their change against the previous period, the top agents and countries, and links
back to the live page. The same content renders in the browser as the preview. Who may receive
it: active users who can see every partner the report covers (the view's partner filter, or all
the owner's partners), so a report never carries one partner's figures to another's users.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pycountry
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import timezone

from sessions_app import figures, timezones
from sessions_app.accounts import access, audit
from sessions_app.figures import kpis, selection
from sessions_app.figures.filters import SessionFilter
from sessions_app.models import Partner, ReportSchedule, Role, SavedView

TOP = 5  # agents and countries in a report


@dataclass
class Report:
    schedule: ReportSchedule
    filter: SessionFilter
    kpis: list[kpis.Kpi]
    agents: list[figures.AgentRow]
    countries: list[tuple[str, int]]
    link: str
    subject: str
    comparison_gap: str = ""


def report_filter(schedule: ReportSchedule, today=None) -> SessionFilter:
    # As its owner may see the view: a guest search they may not read is left out.
    query = access.view_query(schedule.saved_view, schedule.owner, masked=False)
    return SessionFilter(
        QueryDict(query),
        user=schedule.owner,
        tz=ZoneInfo(schedule.time_zone),
        today=today,
    )


def _view_url(schedule: ReportSchedule) -> str:
    """The view's page as its owner may see it (a guest search they may not read left out)."""
    query = access.view_query(schedule.saved_view, schedule.owner, masked=False)
    return f"{schedule.saved_view.path}?{query}" if query else schedule.saved_view.path


def covered_partners(schedule: ReportSchedule) -> list[Partner]:
    """The partners whose figures the report holds."""
    flt = report_filter(schedule)
    chosen = flt.values.get("partner") if flt.data_ok else None
    return list(chosen) if chosen else list(access.partners_for(schedule.owner))


def unfit_recipients(schedule: ReportSchedule, emails: list[str]) -> list[str]:
    """The addresses that are not active users able to see every partner the report covers, or,
    for a view that searches guests (its filter names one), to search their guests."""
    searches = "q" in QueryDict(
        access.view_query(schedule.saved_view, schedule.owner, masked=False)
    )
    role = Role.ANALYST if searches else Role.VIEWER
    return access.emails_outside(emails, covered_partners(schedule), role)


# --- setting up and stopping (audited) --------------------------------------------------------


def add_schedule(schedule: ReportSchedule, view: SavedView, *, request) -> ReportSchedule:
    """Stores a new schedule (unsaved, as its form made it) of the view, owned by the request's
    user and sent in their time zone."""
    with transaction.atomic():
        schedule.saved_view, schedule.owner = view, request.user
        schedule.time_zone = timezones.for_user(request.user).key
        schedule.save()
        audit.record(
            audit.Action.REPORT_CHANGED,
            f"“{view.name}” to be emailed {schedule.frequency} to {schedule.recipients_in_words}",
            request=request,
            partner=view.partner,
            report=schedule.pk,
        )
    return schedule


def stop_schedule(schedule: ReportSchedule, *, request) -> None:
    pk, view = schedule.pk, schedule.saved_view
    with transaction.atomic():
        schedule.delete()
        audit.record(
            audit.Action.REPORT_CHANGED,
            f"emailed report of “{view.name}” stopped",
            request=request,
            partner=view.partner,
            report=pk,
        )


# --- building and sending ----------------------------------------------------------------------


def build(schedule: ReportSchedule, now: datetime | None = None) -> Report:
    now = now or timezone.now()
    flt = report_filter(schedule, today=now.astimezone(ZoneInfo(schedule.time_zone)).date())
    cards = kpis.compared(flt, flt.shown_partners())
    agents = sorted(figures.agent_scorecard(selection.select(flt)), key=lambda row: -row.sessions)[
        :TOP
    ]
    places = figures.visitor_places(selection.select(flt), flt.guest_q())
    countries = sorted(places.by_country().items(), key=lambda item: -item[1])[:TOP]
    period = f"{flt.period.first_day:%b %-d, %Y} – {flt.period.last_day:%b %-d, %Y}"
    return Report(
        schedule=schedule,
        filter=flt,
        kpis=cards.kpis,
        comparison_gap=cards.gap,
        agents=agents,
        countries=[(_country_name(code), n) for code, n in countries],
        link=f"{settings.SITE_URL}{_view_url(schedule)}",
        subject=f"glancedash: {schedule.saved_view.name}, {period}",
    )


def render(report: Report) -> tuple[str, str]:
    """(text, html) of the email; the html is also the browser preview."""
    context = {"report": report, "view": report.schedule.saved_view, "flt": report.filter}
    text = render_to_string("reports/report_email.txt", context)
    html = render_to_string("reports/report_email.html", context)
    return text, html


def send(schedule: ReportSchedule, now: datetime | None = None) -> int:
    """Emails the report to its recipients who may still see its data; returns how many."""
    emails = schedule.recipient_list
    allowed = [e for e in emails if e not in unfit_recipients(schedule, emails)]
    dropped = sorted(set(emails) - set(allowed))
    report = build(schedule, now)
    text, html = render(report)
    if allowed:
        message = EmailMultiAlternatives(report.subject, text, settings.DEFAULT_FROM_EMAIL, allowed)
        message.attach_alternative(html, "text/html")
        message.send()
    schedule.last_sent_at = timezone.now()
    problems = [f"not sent to {', '.join(dropped)}: no longer allowed"] if dropped else []
    if schedule.send_to_owner and not schedule.owner.email:
        problems.append("not sent to you: you have no email address on file")
    schedule.last_error = "; ".join(problems)
    schedule.save(update_fields=["last_sent_at", "last_error"])
    return len(allowed)


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return f"{country.name} ({code})" if country else (code or "Unknown")
