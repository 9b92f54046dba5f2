"""The live wallboard's figures for a set of partners, in one time zone.

- Sessions active and waiting now come from Glance itself (PartnerSessionCounts with status A,
  over the last day), not from our sessions, which only hold ended ones. A web request never
  calls Glance: it reads the counts the background worker last stored (LiveCounts), and while
  any wall or kiosk is watching, asks the worker for fresh ones at most every LIVE_SECONDS per
  partner (the worker calls with short timeouts and stores a failure with its reason, so a
  hanging endpoint holds up neither the board nor anything else the web workers serve).
- Today so far is compared with the same weekday last week up to the same time of day.
- Kiosk links: a token in the URL opens one partner's board without a login; only its SHA-256
  is stored, and revoking it ends it at once.
"""

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django_q.tasks import async_task

from sessions_app import crypto, figures
from sessions_app import waiting as waiting_rules  # `waiting` here is Glance's live count
from sessions_app.accounts import audit
from sessions_app.glance.client import GlanceClient, GlanceError
from sessions_app.models import Agent, KioskLink, LiveCounts, Partner, Session

LIVE_SECONDS = 30  # each partner is asked at most this often, however many walls watch
KEEP = timedelta(minutes=5)  # a stored answer (or failure) is shown this long; then "asking…"
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
    ended: int = 0  # what the connected rate is "of"
    service_level: float | None = None
    service_counted: int = 0  # answered with a known wait, and abandoned: what it is "of"
    service_known: bool = True  # False: too few known waits for a service level
    service_target: str = ""  # "80% in 30 s", or "" where the partners' targets differ
    service_state: str = ""  # met | near | missed: green, amber, red against the target
    abandoned_rate: float | None = None
    offered: int = 0
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
    ended, connected = figures.ended_and_connected(today)
    agents = (
        today.exclude(agent__isnull=True)
        .values("agent")
        .annotate(sessions=Count("pk"))
        .order_by("-sessions", "agent__user_name")[:TOP_AGENTS]
    )
    named = Agent.objects.in_bulk([row["agent"] for row in agents])
    active, waiting, note = live_counts(partners, detail=detail)
    targets = waiting_rules.targets_of(partners)
    service = figures.service(today, targets)
    target = waiting_rules.common_target(targets.values())
    return Board(
        partners=[partner.name for partner in partners],
        time_zone=tz.key,
        active=active,
        waiting=waiting,
        live_note=note,
        today=today.count(),
        same_day_last_week=week_ago.count(),
        connected_rate=round(100 * connected / ended, 1) if ended else None,
        ended=ended,
        service_level=_rounded(service.service_level),
        service_counted=service.offered - service.unknown,
        service_known=service.known_enough,
        service_target=str(target) if target else "",
        service_state=_state(service.service_level, target),
        abandoned_rate=_rounded(service.abandoned_rate),
        offered=service.offered,
        top_agents=[{"agent": named[a["agent"]].name, "sessions": a["sessions"]} for a in agents],
        updated=now.astimezone(tz).strftime("%H:%M:%S"),
    )


NEAR_POINTS = 5  # within this many points below the target: amber, not red


def _state(level: float | None, target) -> str:
    if level is None or target is None:
        return ""
    if level >= target.percent:
        return "met"
    return "near" if level >= target.percent - NEAR_POINTS else "missed"


def _rounded(percent: float | None) -> float | None:
    return None if percent is None else round(percent, 1)


def live_counts(
    partners: list[Partner], *, detail: bool = True
) -> tuple[int | None, int | None, str]:
    """The counts the worker last stored, summed; asks it for fresh ones where they are due.
    Never calls Glance itself."""
    now = timezone.now()
    stored = {row.partner_id: row for row in LiveCounts.objects.filter(partner__in=partners)}
    active = waiting = 0
    missing = failed = ""
    for partner in partners:
        row = stored.get(partner.pk)
        _ask_for_fresh(partner, now)
        if row is None or row.fetched_at is None or row.fetched_at < now - KEEP:
            missing = "Live counts: asking Glance…"
        elif row.error:
            failed = "Live counts unavailable" + (f": {row.error}" if detail else "")
        else:
            active, waiting = active + row.active, waiting + row.waiting
    if failed or missing:
        return None, None, failed or missing
    return active, waiting, "Live from Glance"


def _ask_for_fresh(partner: Partner, now: datetime) -> None:
    """Queues one refresh per partner per LIVE_SECONDS, whichever wall (in whichever process)
    asks first: a conditional UPDATE is the claim."""
    LiveCounts.objects.get_or_create(partner=partner)
    due = Q(asked_at__isnull=True) | Q(asked_at__lt=now - timedelta(seconds=LIVE_SECONDS))
    if LiveCounts.objects.filter(due, partner=partner).update(asked_at=now):
        async_task("sessions_app.tasks.refresh_live_counts_task", partner.pk)


def refresh_live_counts(partner: Partner, now: datetime | None = None) -> LiveCounts:
    """The worker's half: asks Glance with short timeouts and no retries, and stores the answer
    or the failure in words (ours: the outbound policy never passes on a foreign answer)."""
    now = now or timezone.now()
    wait = settings.GLANCE_LIVE_COUNTS_TIMEOUT
    client = GlanceClient.for_partner(partner, max_retries=0, timeout=(wait, wait))
    found = {"active": None, "waiting": None, "error": ""}
    try:
        answer = client.session_counts(
            now - timedelta(days=1), now + timedelta(minutes=1), status="A"
        )
    except GlanceError as exc:
        found["error"] = exc.detail
    else:
        found["active"] = sum(c.count for c in answer if c.status != "W")
        found["waiting"] = sum(c.count for c in answer if c.status == "W")
    row, _ = LiveCounts.objects.update_or_create(
        partner=partner, defaults={**found, "fetched_at": timezone.now()}
    )
    return row


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


def create_kiosk_link(
    partner: Partner, name: str, time_zone: str, *, request
) -> tuple[KioskLink, str]:
    """A new link, made by the request's user; the audit record never holds the link, which
    opens the board."""
    with transaction.atomic():
        link, token = new_kiosk_link(partner, name, time_zone, request.user)
        audit.record(
            audit.Action.KIOSK_LINK_CREATED,
            f"{partner.name}: kiosk link “{link.name}” made",
            request=request,
            partner=partner,
            link=link.pk,
        )
    return link, token


def revoke_kiosk_link(link: KioskLink, *, request) -> None:
    with transaction.atomic():
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit.record(
            audit.Action.KIOSK_LINK_REVOKED,
            f"{link.partner.name}: kiosk link “{link.name}” revoked",
            request=request,
            partner=link.partner,
            link=link.pk,
        )


def kiosk_link_for(token: str) -> KioskLink | None:
    return (
        KioskLink.objects.filter(token_sha256=crypto.digest(token), revoked_at__isnull=True)
        .select_related("partner")
        .first()
    )
