"""The live wallboard's figures for a set of partners, in one time zone.

- Sessions active and waiting now come from Glance itself (PartnerSessionCounts with status A,
  over the last day), not from our database, which only holds ended sessions. A web request never
  calls Glance: it reads the counts the background worker last cached, and while any wall or
  kiosk is watching, asks the worker for fresh ones at most every LIVE_SECONDS per partner (the
  worker calls with short timeouts and caches a failure with its message, so a hanging endpoint
  holds up neither the board nor anything else the web workers serve).
- Today so far is compared with the same weekday last week up to the same time of day.
- Kiosk links: a token in the URL opens one partner's board without a login; only its SHA-256
  is stored, and revoking it ends it at once.
"""

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone
from django_q.tasks import async_task

from sessions_app import crypto, stats
from sessions_app.glance_client import GlanceClient, GlanceError
from sessions_app.models import KioskLink, Partner, Session

LIVE_SECONDS = 30  # each partner is asked at most this often, however many walls watch
KEEP_SECONDS = 300  # a cached answer (or failure) is shown this long; then "asking…" again
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


def board(
    partners: list[Partner], tz: ZoneInfo, now: datetime | None = None, *, detail: bool = True
) -> Board:
    """The board's figures; `detail` False (a kiosk, no login) says that live counts failed,
    not why."""
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
    active, waiting, note = live_counts(partners, detail=detail)
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


def live_counts(
    partners: list[Partner], *, detail: bool = True
) -> tuple[int | None, int | None, str]:
    """The counts the worker last cached, summed; asks it for fresh ones where they are due. Never
    calls Glance itself."""
    active = waiting = 0
    missing = failed = ""
    for partner in partners:
        counts = cache.get(_live_key(partner))
        _ask_for_fresh(partner)
        if counts is None:
            missing = "Live counts: asking Glance…"
        elif "error" in counts:
            failed = (
                f"Live counts unavailable: {counts['error']}"
                if detail
                else ("Live counts unavailable")
            )
        else:
            active, waiting = active + counts["A"], waiting + counts["W"]
    if failed or missing:
        return None, None, failed or missing
    return active, waiting, "Live from Glance"


def _ask_for_fresh(partner: Partner) -> None:
    """Queues one refresh per partner per LIVE_SECONDS, whichever wall asks first."""
    if cache.add(_asked_key(partner), True, LIVE_SECONDS):
        async_task("sessions_app.tasks.refresh_live_counts_task", partner.pk)


def refresh_live_counts(partner: Partner, now: datetime | None = None) -> dict:
    """The worker's half: asks Glance with short timeouts and no retries, and caches the answer
    or the failure in words (ours: the outbound policy never passes on a foreign answer)."""
    now = now or timezone.now()
    client = GlanceClient.for_partner(
        partner, max_retries=0, timeout=(settings.LIVE_COUNTS_TIMEOUT, settings.LIVE_COUNTS_TIMEOUT)
    )
    try:
        answer = client.session_counts(
            now - timedelta(days=1), now + timedelta(minutes=1), status="A"
        )
    except GlanceError as exc:
        counts = {"error": exc.detail}
    else:
        counts = {"A": 0, "W": 0}
        for count in answer:
            counts["W" if count.status == "W" else "A"] += count.count
    cache.set(_live_key(partner), counts, KEEP_SECONDS)
    return counts


def _live_key(partner: Partner) -> str:
    return f"wallboard-live-{partner.pk}-{partner.glance_partner_id}"


def _asked_key(partner: Partner) -> str:
    return f"wallboard-asked-{partner.pk}"


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
