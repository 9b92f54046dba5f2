"""API tokens: made and revoked by their user, each with its audit record in one transaction.
Only a token's SHA-256 is stored; its secret is shown once, when it is made."""

import secrets

from django.db import transaction
from django.utils import timezone

from sessions_app import crypto
from sessions_app.accounts import audit
from sessions_app.models import ApiToken


def new_token(user, name: str) -> tuple[ApiToken, str]:
    """The token and its secret; the secret is not kept, so this is the only time it is seen."""
    secret = "gd_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, token_sha256=crypto.digest(secret), prefix=secret[:8]
    )
    return token, secret


def create_token(user, name: str, *, request) -> tuple[ApiToken, str]:
    with transaction.atomic():
        token, secret = new_token(user, name)
        audit.record(
            audit.Action.API_TOKEN_CREATED,
            f"API token “{token.name}” ({token.prefix}…) made",  # never the secret itself
            request=request,
            token=token.pk,
        )
    return token, secret


def revoke_token(token: ApiToken, *, request) -> None:
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            audit.Action.API_TOKEN_REVOKED,
            f"API token “{token.name}” ({token.prefix}…) revoked",
            request=request,
            token=token.pk,
        )
