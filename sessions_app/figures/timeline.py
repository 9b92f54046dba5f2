"""A session's guest timeline: one bar per guest from joining to leaving, on the session's clock."""

from datetime import timedelta

import plotly.graph_objects as go
from django.utils import timezone
from django.utils.html import escape

from sessions_app import codes
from sessions_app.accounts import pii
from sessions_app.figures.charts import layout
from sessions_app.models import Session


def guest_timeline(session: Session, reveal: bool) -> go.Figure | None:
    guests = list(session.guests.all())
    if not guests:
        return None
    tz = timezone.get_current_timezone()
    labels, starts, lengths, hovers = [], [], [], []
    for guest in guests:
        joined = guest.start_time or session.start_time
        seconds = guest.duration or 0
        labels.append(f"#{guest.position + 1} {escape(guest.guest_type or '(no type)')}")
        starts.append(joined.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"))
        lengths.append(max(seconds, 1) * 1000)  # a date axis counts milliseconds
        hovers.append(_hover(guest, joined, seconds, reveal, tz))
    fig = go.Figure(
        go.Bar(
            y=labels,
            base=starts,
            x=lengths,
            orientation="h",
            marker_color=[
                "#2563eb" if g.guest_type in codes.SUBSCRIBER_GUEST_TYPES else "#059669"
                for g in guests
            ],
            hovertext=hovers,
            hoverinfo="text",
        )
    )
    end = (session.end_time + timedelta(seconds=1)).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    xaxis = {
        "type": "date",
        "title": {"text": f"Times in {tz.key}"},
        "range": [session.start_time.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), end],
    }
    return fig.update_layout(
        layout(
            xaxis=xaxis,
            yaxis={"autorange": "reversed"},
            showlegend=False,
            height=120 + 40 * len(guests),
        )
    )


def _hover(guest, joined, seconds, reveal, tz) -> str:
    personal = pii.guest_pii(guest, reveal)
    place = ", ".join(part for part in (guest.city, guest.region, guest.country_code) if part)
    lines = [
        f"<b>{escape(guest.guest_type or '(no type)')}</b> · status {escape(guest.status or '—')}",
        f"joined {joined.astimezone(tz):%H:%M:%S}, for {codes.format_duration(seconds)}",
        f"name: {escape(personal['name'] or '—')} · ip: {escape(personal['ip'] or '—')}",
        f"from: {escape(place or 'unknown')} · client: {escape(guest.client_version or '—')}",
    ]
    if guest.error:
        lines.append(f"error: {escape(guest.error)}")
    return "<br>".join(lines)
