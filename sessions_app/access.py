"""Who may see what: the one place that scopes querysets to a user's partners.

Every view, export and chart fetches through these helpers, so a permission check cannot be
forgotten. Until per-partner grants exist (roles and memberships), superusers see every partner
and everyone else sees none.
"""

from django.db.models import QuerySet

from sessions_app.models import Agent, Guest, Partner, Session, SyncRun


def partners_for(user) -> QuerySet[Partner]:
    if not user.is_authenticated or not user.is_active:
        return Partner.objects.none()
    if user.is_superuser:
        return Partner.objects.all()
    return Partner.objects.none()


def sessions_for(user) -> QuerySet[Session]:
    return Session.objects.filter(partner__in=partners_for(user))


def guests_for(user) -> QuerySet[Guest]:
    return Guest.objects.filter(session__partner__in=partners_for(user))


def agents_for(user) -> QuerySet[Agent]:
    return Agent.objects.filter(partner__in=partners_for(user))


def sync_runs_for(user) -> QuerySet[SyncRun]:
    return SyncRun.objects.filter(partner__in=partners_for(user))
