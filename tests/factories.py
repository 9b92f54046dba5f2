"""Session records made to order, written through the real ingest path."""

from datetime import UTC, datetime

from sessions_app.glance.records import AgentRecord, GuestRecord, SessionRecord
from sessions_app.models import Partner
from sessions_app.sync.ingest import store_sessions


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
    start=None,
):
    return GuestRecord(
        guest_type,
        "C",
        start,
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


def keep_everything(partner):
    """Retention that keeps the records at any age, written to the named fields only (saving the
    instance whole would write back the data generation it was read with)."""
    forever = {f"retain_{what}_days": 10_000 for what in ("ip", "contact", "sessions")}
    Partner.objects.filter(pk=partner.pk).update(**forever)
    for name, days in forever.items():
        setattr(partner, name, days)


def store(partner, *records):
    keep_everything(partner)
    store_sessions(partner, list(records))
