"""The audit trail: one function writes every event, and the auth signals feed it logins.

Never pass secrets in: events hold what changed ("the API key was replaced"), not values."""

import logging
from urllib.parse import urlsplit

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from sessions_app.accounts.client_address import client_address
from sessions_app.models import AuditEvent

log = logging.getLogger(__name__)
Action = AuditEvent.Action


def record(
    action, summary, *, request=None, user=None, partner=None, actor_name="", **details
) -> AuditEvent:
    """`user` (or the request's user) did it; `actor_name` names an actor with no account, such
    as the name typed in a failed login. Commands run by an operator have neither."""
    actor = user if user is not None else getattr(request, "user", None)
    if actor is not None and not actor.is_authenticated:
        actor = None
    event = AuditEvent.objects.create(
        action=action,
        summary=summary[:500],
        actor=actor,
        actor_name=actor.get_username() if actor else actor_name,
        partner=partner,
        details=details,
        ip=_client_ip(request),
    )
    log.info("audit: %s", event)
    return event


def partner_saved(request, partner, form, *, created: bool) -> None:
    """A partner saved through a PartnerForm (our pages or the Django admin): what changed,
    and whether the API key was replaced, never the key itself."""
    if created:
        record(
            Action.PARTNER_CREATED, f"partner {partner} created", request=request, partner=partner
        )
        return
    changed = [name for name in form.changed_data if name != "api_key"]
    stored_url = getattr(form, "_stored_url", None)
    if "api_url" in changed and form.cleaned_data.get("api_url") == stored_url:
        changed.remove("api_url")  # a callable default makes Django report it changed
    if changed:
        moved = {}
        summary = f"{partner.name}: changed {', '.join(changed)}"
        if "api_url" in changed:  # where the key now goes: both addresses, for whoever audits
            moved = {"api_url_from": stored_url, "api_url_to": partner.api_url}
            summary += f" (API endpoint {stored_url} → {partner.api_url})"
        record(
            Action.PARTNER_CHANGED,
            summary,
            request=request,
            partner=partner,
            fields=changed,
            **moved,
        )
    if form.key_changed:
        record(
            Action.API_KEY_CHANGED,
            f"{partner.name}: API key replaced",
            request=request,
            partner=partner,
        )


def webhook_origin(url: str) -> str:
    """Where a webhook goes, for the audit trail: its scheme, host and port. Its path is left
    out: a chat service's webhook path is the secret that lets anyone post to it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def _client_ip(request):
    return client_address(request)  # X-Forwarded-For only from a trusted proxy


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record(Action.LOGIN, f"{user.get_username()} logged in", request=request, user=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(Action.LOGOUT, f"{user.get_username()} logged out", request=request, user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]  # never the password
    record(
        # Nobody is proven to have acted, so no actor: the name typed goes in summary and details.
        Action.LOGIN_FAILED,
        f"failed login as {username!r}",
        request=request,
        typed=username,
    )
