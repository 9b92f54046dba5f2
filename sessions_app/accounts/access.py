"""Who may see what: the one place that scopes querysets to a user's partners.

Every view, export, chart and admin list fetches through these helpers, so a permission check
cannot be forgotten. A user sees the partners granted to them (Membership), each with its role;
superusers see everything, as admins. Objects of partners a user cannot see are a 404, never a
403 that would confirm they exist.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.shortcuts import get_object_or_404

from sessions_app.models import (
    Agent,
    AgentRollup,
    AgentRollupMonth,
    AuditEvent,
    Membership,
    Partner,
    ReportSchedule,
    Role,
    SavedView,
    Session,
    SessionRollup,
    SessionRollupMonth,
    StaleRollupMonth,
    Team,
)

# Each role may do everything the roles after it may.
_AT_LEAST = {
    Role.VIEWER: [Role.VIEWER, Role.ANALYST, Role.ADMIN],
    Role.ANALYST: [Role.ANALYST, Role.ADMIN],
    Role.ADMIN: [Role.ADMIN],
}


def partners_for(user, role: str = Role.VIEWER) -> QuerySet[Partner]:
    """The partners `user` holds at least `role` for."""
    if not user.is_authenticated or not user.is_active:
        return Partner.objects.none()
    if user.is_superuser:
        return Partner.objects.all()
    return Partner.objects.filter(memberships__user=user, memberships__role__in=_AT_LEAST[role])


def data_scope(user) -> list[tuple]:
    """(partner, its data generation, the user's role) for every partner the user sees: what a
    cached chart depends on, in one query."""
    if user.is_superuser and user.is_active:
        rows = Partner.objects.values_list("pk", "data_generation")
        return [(pk, generation, Role.ADMIN) for pk, generation in rows.order_by("pk")]
    partners = partners_for(user)
    return list(partners.order_by("pk").values_list("pk", "data_generation", "memberships__role"))


def role_for(user, partner: Partner) -> str | None:
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    membership = Membership.objects.filter(user=user, partner=partner).only("role").first()
    return membership.role if membership else None


def has_role(user, partner: Partner, role: str) -> bool:
    return role_at_least(role_for(user, partner), role)


def role_at_least(role: str | None, minimum: str) -> bool:
    """Whether `role` may do everything `minimum` may."""
    return role in _AT_LEAST[minimum]


def can_see_pii(user, partner: Partner) -> bool:
    return has_role(user, partner, Role.ANALYST)


def is_any_admin(user) -> bool:
    return partners_for(user, Role.ADMIN).exists() or (user.is_active and user.is_superuser)


def sessions_for(user, role: str = Role.VIEWER) -> QuerySet[Session]:
    """The sessions of the user's partners (at least `role`): Scope's, the one way of scoping."""
    return scope_for(user, role).sessions()


@dataclass(frozen=True)
class Scope:
    """sessions_for(), and the rollup rows summing exactly those sessions, with the user's
    partners read once for a page that makes several queries of them. The ids go into each
    query as a list: PostgreSQL guessed that the membership subquery yields one partner, and
    sorted a year of sessions for the session list instead of walking the newest-first index
    (docs/performance-notes.md)."""

    partner_ids: tuple[int, ...] | None  # None: every partner (a superuser)

    def sessions(self) -> QuerySet[Session]:
        return self._scoped(Session)

    def rollups(self) -> QuerySet[SessionRollup]:
        return self._scoped(SessionRollup)

    def agent_rollups(self) -> QuerySet[AgentRollup]:
        return self._scoped(AgentRollup)

    def month_rollups(self, by_agent: bool = False) -> QuerySet:
        return self._scoped(AgentRollupMonth if by_agent else SessionRollupMonth)

    def stale_months(self) -> QuerySet[StaleRollupMonth]:
        return self._scoped(StaleRollupMonth)

    def _scoped(self, model) -> QuerySet:
        if self.partner_ids is None:
            return model.objects.all()
        if not self.partner_ids:
            # Matches nothing, and unlike `partner__in=()` still compiles to SQL.
            return model.objects.filter(partner__isnull=True)
        return model.objects.filter(partner__in=self.partner_ids)


def scope_for(user, role: str = Role.VIEWER) -> Scope:
    if user.is_authenticated and user.is_active and user.is_superuser:
        return Scope(None)
    return Scope(tuple(partners_for(user, role).values_list("pk", flat=True)))


def agents_for(user, role: str = Role.VIEWER) -> QuerySet[Agent]:
    return Agent.objects.filter(partner__in=partners_for(user, role))


def teams_for(user, role: str = Role.VIEWER) -> QuerySet[Team]:
    return Team.objects.filter(partner__in=partners_for(user, role))


def emails_outside(emails: list[str], partners, role: str = Role.VIEWER) -> list[str]:
    """Of these addresses, those that are not active users with at least `role` on every one of
    `partners`: who may not be sent those partners' figures (alerts, emailed reports)."""
    fit = set()
    for user in get_user_model().objects.filter(is_active=True, email__in=emails):
        if all(has_role(user, partner, role) for partner in partners):
            fit.add(user.email.lower())
    return [email for email in emails if email.lower() not in fit]


def saved_views_for(user) -> QuerySet[SavedView]:
    """The user's own saved views, and those shared with a partner they can see."""
    if not user.is_authenticated or not user.is_active:
        return SavedView.objects.none()
    return SavedView.objects.filter(Q(owner=user) | Q(partner__in=partners_for(user)))


def may_see_guest_search(user, view: SavedView) -> bool:
    """Whether the user may read what a saved view searched guests for: its owner, who typed
    it, and whoever may search the guests of the partner it is shared with."""
    if view.owner_id == user.pk:
        return True
    return view.partner is not None and can_see_pii(user, view.partner)


def view_query(view: SavedView, user, *, masked: bool = True) -> str:
    """The view's query as this user may see it: a guest search (`q`, a guest's name, email or
    phone) only for its owner and those who may search the shared partner's guests; for anyone
    else it is masked, or left out where the view is opened."""
    if "q" not in QueryDict(view.query) or may_see_guest_search(user, view):
        return view.query
    params = QueryDict(view.query, mutable=True)
    if masked:
        params["q"] = "••••"
    else:
        params.pop("q")
    return params.urlencode()


def reports_for(user) -> QuerySet[ReportSchedule]:
    """The emailed reports a user set up: only their owner sees or changes one."""
    if not user.is_authenticated or not user.is_active:
        return ReportSchedule.objects.none()
    return ReportSchedule.objects.filter(owner=user)


def audit_events_for(user) -> QuerySet[AuditEvent]:
    """Superusers read every event; a partner's admins read that partner's events."""
    if user.is_authenticated and user.is_active and user.is_superuser:
        return AuditEvent.objects.all()
    return AuditEvent.objects.filter(partner__in=partners_for(user, Role.ADMIN))


def get_partner_for(user, pk, role: str = Role.VIEWER) -> Partner:
    """The partner, or 404 if the user cannot see it, or 403 if their role is too low."""
    partner = get_object_or_404(partners_for(user), pk=pk)
    if not has_role(user, partner, role):
        raise PermissionDenied(f"this needs the {role} role for {partner.name}")
    return partner


def get_session_for(user, pk) -> Session:
    return get_object_or_404(sessions_for(user).select_related("partner", "agent"), pk=pk)
