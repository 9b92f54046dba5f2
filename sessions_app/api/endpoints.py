"""The read-only JSON API for BI tools and scripts (/api/v1/…, schema at /api/openapi.json).

- A request carries `Authorization: Bearer <token>`: a token its user made under their account
  (only its SHA-256 is stored). It reads exactly what that user may see, through the same access
  helper as the pages, and guest personal data only for partners where the user may see it.
- Every endpoint takes the pages' filter parameters (preset, start, end, partner, type, status,
  outcome, agent, country, region, city, min_duration, max_duration, min_wait, max_wait, key,
  has_error, q, weekday, hour). A wrong value is a 400 naming it, as JSON.
- /api/v1/aggregates?by=day|type|status|agent|team|country: sessions, connected sessions, guests and
  seconds per group (by country: visitors per country, as the geography map counts them, and the
  sessions a visitor from there was in, which `country=` selects; a session with visitors from two
  countries is in both rows, so these sessions can add up to more than the total; the row with no
  country has `sessions` null).
- /api/v1/sessions: sessions with their guests, newest first, a page at a time; `next` is the
  URL of the following page (a keyset cursor, so a page never shifts as new sessions arrive).
"""

import base64
import logging
from datetime import datetime
from functools import wraps

import orjson
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from sessions_app import crypto, figures, timezones, waiting
from sessions_app.accounts import access, pii
from sessions_app.api.tokens import new_token  # noqa: F401  (where tests and scripts make tokens)
from sessions_app.figures import from_sessions
from sessions_app.figures.filters import FIRST_DATE, LAST_DATE, SessionFilter
from sessions_app.figures.kinds import CONNECTED
from sessions_app.http import json_response
from sessions_app.models import ApiToken, Guest, Role, Session, Team

log = logging.getLogger(__name__)

PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
GROUPINGS = ("day", "type", "status", "agent", "team", "country")


class ApiError(Exception):
    def __init__(self, status: int, message: str, **details):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


# --- authentication -------------------------------------------------------------------------


def user_for(request):
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "Send your API token as 'Authorization: Bearer <token>'.")
    token = (
        ApiToken.objects.filter(token_sha256=crypto.digest(secret.strip()), revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if token is None or not token.user.is_active:
        raise ApiError(401, "This API token is unknown or revoked.")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def endpoint(view):
    """Token authentication, GET only, errors as JSON; no cookies, so no CSRF to check."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            if request.method != "GET":
                raise ApiError(405, "This API only reads: use GET.")
            return view(request, user_for(request), *args, **kwargs)
        except ApiError as exc:
            response = json_response({"error": exc.message, **exc.details}, status=exc.status)
            if exc.status == 401:
                response["WWW-Authenticate"] = 'Bearer realm="glancedash"'
            if exc.status == 405:
                response["Allow"] = "GET"  # RFC 9110: a 405 names the methods that work
            return response
        except Exception:  # a script reads JSON: even our own fault answers in JSON
            log.exception("API request %s failed", request.get_full_path())
            return json_response(
                {"error": "The server failed to answer; this is logged."}, status=500
            )

    wrapped.csrf_exempt = True
    return wrapped


# --- what a request selects -----------------------------------------------------------------


def session_filter(request, user) -> SessionFilter:
    flt = SessionFilter(request.GET, user=user, tz=timezones.for_user(user))
    if not flt.data_ok:
        errors = {field: list(messages) for field, messages in flt.errors.items()}
        raise ApiError(400, "Some filter parameters are wrong.", fields=errors)
    return flt


def selected(flt: SessionFilter, user):
    return flt.filter_qs(access.sessions_for(user))


def filter_echo(flt: SessionFilter) -> dict:
    return {
        "parameters": dict(flt.params()),
        "time_zone": flt.tz.key,
        "first_day": flt.period.first_day.isoformat(),
        "last_day": flt.period.last_day.isoformat(),
    }


# --- aggregates -----------------------------------------------------------------------------


def visitors_by_country(flt: SessionFilter, sessions) -> list[dict]:
    """Visitors by upper-case country code (None: no location), and how many sessions had a
    visitor there (what country=X selects): the geography map's own numbers."""
    places = figures.visitor_places(sessions, flt.guest_q())
    visitors, per_country = places.by_country(), places.sessions_by_country()
    rows = [
        {"key": code, "guests": n, "sessions": per_country.get(code, 0)}
        for code, n in sorted(visitors.items())
    ]
    unlocated = places.coverage()["unlocated"]
    if unlocated:
        rows.append({"key": None, "guests": unlocated, "sessions": None})  # nothing to select
    return rows


def aggregates(flt: SessionFilter, user, by: str) -> list[dict]:
    if by not in GROUPINGS:
        raise ApiError(400, f"'by' must be one of {', '.join(GROUPINGS)}.", fields={"by": [by]})
    sessions = selected(flt, user)
    if by == "country":
        return visitors_by_country(flt, sessions)
    column = {
        "day": TruncDate("start_time", tzinfo=flt.tz),
        "type": F("session_type"),
        "status": F("status"),
        "agent": F("agent__user_name"),
        # By id: two partners may each have a "Tier 1". Null: agents in no team, or no agent.
        "team": F("agent__team"),
    }[by]
    rows = (
        sessions.annotate(group=column)
        .values("group")
        .annotate(
            sessions=Count("pk"),
            connected=Count("pk", filter=CONNECTED),
            guests=Sum("guest_count"),
            seconds=Sum("duration"),
        )
        .order_by("group")
    )
    targets = waiting.targets_of(flt.shown_partners())
    service = from_sessions.service_by_group(sessions, column, targets)
    teams = (
        Team.objects.select_related("partner").in_bulk(
            [row["group"] for row in rows if row["group"]]
        )
        if by == "team"
        else {}
    )
    return [
        {
            "key": _key(by, row["group"], teams),
            **(_team_members(teams.get(row["group"])) if by == "team" else {}),
            "sessions": row["sessions"],
            "connected": row["connected"],
            "guests": row["guests"] or 0,
            "seconds": row["seconds"] or 0,
            **_waiting_members(service.get(row["group"], figures.Service())),
        }
        for row in rows
    ]


def _key(by: str, group, teams: dict):
    if by == "day":
        return group.isoformat()
    if by == "team":
        return teams[group].name if group else None
    return group


def _team_members(team) -> dict:
    return {"team_id": team.pk if team else None, "partner": team.partner.name if team else None}


def _waiting_members(service: figures.Service) -> dict:
    """A group's waiting figures (sessions_app/waiting.py defines each)."""
    return {
        "answered": service.answered,
        "abandoned": service.abandoned,
        "answered_in_time": service.met,
        "answered_wait_unknown": service.unknown,
        "service_level": _rounded(service.service_level),
        "abandoned_rate": _rounded(service.abandoned_rate),
        "median_time_to_join": service.median_wait,
        "p90_time_to_join": service.p90_wait,
    }


def _rounded(percent: float | None) -> float | None:
    return None if percent is None else round(percent, 2)


# --- sessions -------------------------------------------------------------------------------


def session_page(flt: SessionFilter, user, cursor: str, limit: int) -> tuple[list[dict], str]:
    """One page of sessions, newest first, and the cursor of the next ('' at the end)."""
    sessions = selected(flt, user).select_related("partner", "agent__team")
    if cursor:
        start, pk = _read_cursor(cursor)
        sessions = sessions.filter(Q(start_time__lt=start) | Q(start_time=start, pk__lt=pk))
    page = list(sessions.order_by("-start_time", "-pk")[: limit + 1])
    more, page = len(page) > limit, page[:limit]
    reveal = {p.pk for p in access.partners_for(user, Role.ANALYST)}
    guests = {}
    for guest in Guest.objects.filter(session__in=[s.pk for s in page]).order_by("position"):
        guests.setdefault(guest.session_id, []).append(guest)
    rows = [_session(s, guests.get(s.pk, []), s.partner_id in reveal) for s in page]
    return rows, (_write_cursor(page[-1]) if more else "")


def _session(session: Session, guests: list[Guest], reveal: bool) -> dict:
    return {
        "id": session.pk,
        "partner": session.partner.name,
        "glance_id": session.glance_id,
        "type": session.session_type,
        "status": session.status,
        "start": session.start_time.isoformat(),
        "end": session.end_time.isoformat(),
        "duration": session.duration,
        "time_to_join": session.wait_seconds,
        "waiting_outcome": waiting.waiting_outcome(
            session.status, session.wait_seconds, session.partner.service_level_seconds
        ),
        "key": session.key,
        "agent": session.agent.user_name if session.agent else None,
        "agent_name": session.agent.name if session.agent else None,
        "team": session.agent.team.name if session.agent and session.agent.team else None,
        "guests": [
            {
                "type": guest.guest_type,
                "status": guest.status,
                "duration": guest.duration,
                "city": guest.city,
                "region": guest.region,
                "country": guest.country_code,
                "client": guest.client_version,
                "error": guest.error,
                **pii.guest_pii(guest, reveal),
            }
            for guest in guests
        ],
    }


def _write_cursor(session: Session) -> str:
    raw = orjson.dumps([session.start_time.isoformat(), session.pk])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        start, pk = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(start)
        if moment.tzinfo is None or not FIRST_DATE <= moment.date() <= LAST_DATE:
            raise ValueError("not a moment this API gives out")
        return moment, int(pk)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise ApiError(
            400, "This cursor is not one the API gave out.", fields={"cursor": [cursor]}
        ) from None


def page_size(text: str) -> int:
    if not text:
        return PAGE_SIZE
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise ApiError(
            400, f"'limit' is a whole number from 1 to {MAX_PAGE_SIZE}.", fields={"limit": [text]}
        )
    return int(text)
