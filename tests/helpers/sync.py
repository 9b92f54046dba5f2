"""What the simulator serves against what a sync stored."""

from datetime import UTC, datetime, time, timedelta

from sessions_app.models import Session
from tests.helpers import glance


def origin(partner):
    return datetime.combine(partner.backfill_start, time.min, tzinfo=UTC)


def served(glance_, partner):
    """The simulator's sessions from the partner's backfill start on, by Glance id."""
    return glance_.served(
        partner.glance_partner_id, origin(partner), glance.SIM_NOW + timedelta(days=1)
    )


def stored(partner):
    return {s.glance_id: s for s in Session.objects.filter(partner=partner).select_related("agent")}
