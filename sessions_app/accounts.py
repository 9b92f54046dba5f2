"""Users and their access to partners: the one place that grants, revokes and creates, for the
admin pages and the commands alike, each change written to the audit trail."""

import re
import unicodedata

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from sessions_app import audit
from sessions_app.models import Membership, Partner, Role

Action = audit.Action


class LastAdmin(Exception):
    """Revoking this would leave the partner with no admin."""


class BadUsername(ValueError):
    """A username outside the safe set, or one that another user's differs from only in case."""


# Plain ASCII letters, digits and . _ @ + -: no look-alike from another script (a "root" spelt with
# Cyrillic o's), no markup. Checked after NFKC, so full-width letters count as the plain ones.
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,149}$")


def normal_username(text: str) -> str:
    """The username as it is stored and compared: NFKC-normalised, from the safe set."""
    name = unicodedata.normalize("NFKC", text or "").strip()
    if not _USERNAME.match(name):
        raise BadUsername(
            "A username is letters, digits and . _ @ + - only (no spaces, no other scripts), "
            "starting with a letter or digit."
        )
    return name


def user_named(username: str):
    """The user of that name, whatever its case (usernames are unique without case)."""
    return get_user_model().objects.filter(username__iexact=username).first()


def create_user(username, email="", *, password=None, request=None, actor=None):
    """A new user; without a password it has an unusable one until they set theirs. The name is
    normalised, and refused where another user's differs from it only in case."""
    username = normal_username(username)
    if user_named(username) is not None:
        raise BadUsername("That username cannot be used: choose another.")
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    audit.record(
        Action.USER_CREATED,
        f"user {username} created",
        request=request,
        user=actor,
        actor_name=_operator(request, actor),
        new_user=username,
    )
    return user


def send_set_password_email(user, request):
    """Emails a new user a link to set their password. It is Django's password-reset link, sent
    directly: the reset form itself skips users who have no usable password yet."""
    context = {
        "user": user,
        "domain": request.get_host(),
        "protocol": "https" if request.is_secure() else "http",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    PasswordResetForm().send_mail(
        "registration/welcome_subject.txt",
        "registration/welcome_email.txt",
        context,
        None,
        user.email,
    )


def grant(partner: Partner, user, role: str, *, request=None, actor=None) -> Membership:
    actor = actor or getattr(request, "user", None)
    with transaction.atomic():
        previous = Membership.objects.filter(user=user, partner=partner).first()
        if previous and previous.role == Role.ADMIN and role != Role.ADMIN:
            _refuse_if_last_admin(partner, user, actor)
        membership, _ = Membership.objects.update_or_create(
            user=user, partner=partner, defaults={"role": role}
        )
    was = f" (was {previous.role})" if previous and previous.role != role else ""
    audit.record(
        Action.ACCESS_GRANTED,
        f"{user.get_username()} is {role} of {partner.name}{was}",
        request=request,
        user=actor,
        actor_name=_operator(request, actor),
        partner=partner,
        member=user.get_username(),
        role=role,
    )
    return membership


def revoke(partner: Partner, user, *, request=None, actor=None) -> bool:
    actor = actor or getattr(request, "user", None)
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().filter(user=user, partner=partner).first()
        )
        if membership is None:
            return False
        if membership.role == Role.ADMIN:
            _refuse_if_last_admin(partner, user, actor)
        membership.delete()
    audit.record(
        Action.ACCESS_REVOKED,
        f"{user.get_username()} no longer has access to {partner.name}",
        request=request,
        user=actor,
        actor_name=_operator(request, actor),
        partner=partner,
        member=user.get_username(),
    )
    return True


def _operator(request, actor) -> str:
    """Who to name when there is no user: the operator at the command line."""
    return "" if request is not None or actor is not None else "manage.py"


def _refuse_if_last_admin(partner, user, actor):
    """A partner admin cannot lock the partner's admins out; superusers and operators at the
    command line (no actor) can always fix things, so they may."""
    if actor is None or actor.is_superuser:
        return
    others = Membership.objects.filter(partner=partner, role=Role.ADMIN).exclude(user=user)
    if not others.exists():
        raise LastAdmin(f"{user.get_username()} is the last admin of {partner.name}")
