"""The live wallboard's figures for a set of partners, in one time zone.

- Sessions active and waiting now come from Glance itself (PartnerSessionCounts with status A,
  over the last day), not from our database, which only holds ended sessions. Each partner's
  answer is cached for LIVE_SECONDS, so any number of walls polling costs Glance one call per
  partner per period; when Glance cannot be reached the board says so and shows the rest.
- Today so far is compared with the same weekday last week up to the same time of day.
- Kiosk links: a token in the URL opens one partner's board without a login; only its SHA-256
  is stored, and revoking it ends it at once.
"""

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from sessions_app import crypto, stats
from sessions_app.glance_client import GlanceClient, GlanceError
from sessions_app.models import KioskLink, Partner, Session

LIVE_SECONDS = 30
TOP_AGENTS = 5


@dataclass
class Board:
    partners: list[str]
    time_zone: str
    active: int | None  # None: Glance's live counts could not be read
    waiting: int | None
    live_note: str
    today: int
    same_day_last_week: int
    connected_rate: float | None
    top_agents: list[dict] = field(default_factory=list)
    updated: str = ""

    def as_json(self) -> dict:
        return asdict(self)


def board(partners: list[Partner], tz: ZoneInfo, now: datetime | None = None) -> Board:
    now = now or timezone.now()
    midnight = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    today = Session.objects.filter(
        partner__in=partners, start_time__gte=midnight, start_time__lt=now
    )
    week_ago = Session.objects.filter(
        partner__in=partners,
        start_time__gte=midnight - timedelta(days=7),
        start_time__lt=now - timedelta(days=7),
    )
    ended, connected = stats.ended_and_connected(today)
    agents = (
        today.exclude(agent__isnull=True)
        .values("agent__user_name")
        .annotate(sessions=Count("pk"))
        .order_by("-sessions", "agent__user_name")[:TOP_AGENTS]
    )
    active, waiting, note = live_counts(partners, now)
    return Board(
        partners=[partner.name for partner in partners],
        time_zone=tz.key,
        active=active,
        waiting=waiting,
        live_note=note,
        today=today.count(),
        same_day_last_week=week_ago.count(),
        connected_rate=round(100 * connected / ended, 1) if ended else None,
        top_agents=[{"agent": a["agent__user_name"], "sessions": a["sessions"]} for a in agents],
        updated=now.astimezone(tz).strftime("%H:%M:%S"),
    )


def live_counts(partners: list[Partner], now: datetime) -> tuple[int | None, int | None, str]:
    active = waiting = 0
    for partner in partners:
        counts = cache.get(_live_key(partner))
        if counts is None:
            try:
                answer = GlanceClient.for_partner(partner, max_retries=0).session_counts(
                    now - timedelta(days=1), now + timedelta(minutes=1), status="A"
                )
            except GlanceError as exc:
                return None, None, f"Live counts unavailable: {exc.detail}"
            counts = {"A": 0, "W": 0}
            for count in answer:
                key = "W" if count.status == "W" else "A"
                counts[key] += count.count
            cache.set(_live_key(partner), counts, LIVE_SECONDS)
        active, waiting = active + counts["A"], waiting + counts["W"]
    return active, waiting, "Live from Glance"


def _live_key(partner: Partner) -> str:
    return f"wallboard-live-{partner.pk}-{partner.glance_partner_id}"


# --- kiosk links ----------------------------------------------------------------------------


def new_kiosk_link(partner: Partner, name: str, time_zone: str, user) -> tuple[KioskLink, str]:
    """The link and its token; the token is not kept, so this is the only time it is seen."""
    token = secrets.token_urlsafe(32)
    link = KioskLink.objects.create(
        partner=partner,
        name=name,
        time_zone=time_zone,
        token_sha256=crypto.digest(token),
        created_by=user,
    )
    return link, token


def kiosk_link_for(token: str) -> KioskLink | None:
    return (
        KioskLink.objects.filter(token_sha256=crypto.digest(token), revoked_at__isnull=True)
        .select_related("partner")
        .first()
    )
