"""Session records made to order, written through the real ingest path."""

from datetime import UTC, datetime

from sessions_app.glance_records import AgentRecord, GuestRecord, SessionRecord
from sessions_app.ingest import store_sessions


def guest(
    guest_type="visitor",
    *,
    country="US",
    region="MA",
    city="Boston",
    name=None,
    error=None,
    ip="203.0.113.7",
    duration=60,
):
    return GuestRecord(
        guest_type,
        "C",
        None,
        duration,
        1,
        ip,
        "Chrome 120",
        "4",
        city,
        region,
        country,
        name,
        None,
        None,
        error,
    )


def record(
    glance_id,
    start,
    *,
    type="C",
    status="C",
    duration=300,
    agent="jane.acme.glance.net",
    guests=None,
):
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return SessionRecord(
        glance_id,
        type,
        status,
        start,
        str(glance_id),
        0,
        0,
        duration,
        10,
        False,
        guests if guests is not None else [guest("agent", city="Austin", region="TX"), guest()],
        AgentRecord(agent, agent.split(".")[0].upper()) if agent else None,
    )


def store(partner, *records):
    partner.retain_ip_days = partner.retain_contact_days = partner.retain_sessions_days = 10_000
    partner.save()
    store_sessions(partner, list(records))
