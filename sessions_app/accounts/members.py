"""Users and their access to partners: the one place that grants, revokes and creates, for the
admin pages and the commands alike, each change written to the audit trail in the same
transaction; and users' own password changes."""

import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from sessions_app import crypto
from sessions_app.accounts import access, audit
from sessions_app.models import Invitation, Membership, Partner, Role

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
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=username, email=email, password=password
        )
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


def save_user(user, changed: list[str], *, request, created: bool):
    """A user saved by a superuser in the Django admin, where the staff and superuser flags are
    set, or by themselves (their email address, in their preferences): every change audited
    (which fields, never a password)."""
    with transaction.atomic():
        user.save()
        if created:
            audit.record(
                Action.USER_CREATED,
                f"user {user} created",
                request=request,
                new_user=user.get_username(),
            )
        elif changed:
            fields = [name for name in changed if "password" not in name]
            audit.record(
                Action.USER_CHANGED,
                f"user {user}: changed {', '.join(fields)}",
                request=request,
                member=user.get_username(),
                fields=fields,
            )
    return user


@contextmanager
def password_change(user, *, request, by_email: bool = False) -> Iterator[None]:
    """The password change the block makes (Django's own views save it) and its audit record, in
    one transaction; `by_email`: set through an emailed reset link, by someone not logged in."""
    with transaction.atomic():
        yield
        if by_email:
            audit.record(
                Action.PASSWORD_CHANGED,
                f"{user} set a password by email link",
                request=request,
                user=user,
            )
        else:
            audit.record(
                Action.PASSWORD_CHANGED, f"{request.user} changed their password", request=request
            )


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


# --- invitations ------------------------------------------------------------------------------


def invite(partner: Partner, email: str, role: str, *, request) -> Invitation:
    """Invites whoever reads `email` to the partner in `role`, and mails them the link. The same
    happens whether or not anyone with that address has an account here."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            partner=partner, email=email, role=role, token_sha256=crypto.digest(token),
            invited_by=request.user,
        )  # fmt: skip
        audit.record(
            Action.INVITATION_SENT,
            f"{email} invited to {partner.name} as {role}",
            request=request,
            partner=partner,
            email=email,
            role=role,
        )
    link = request.build_absolute_uri(reverse("invitation_accept", args=[token]))
    context = {
        "partner": partner,
        "role": Role(role).label.lower(),
        "link": link,
        "days": settings.INVITATION_DAYS,
        "inviter": request.user.get_username(),
    }
    send_mail(
        render_to_string("registration/invitation_subject.txt", context).strip(),
        render_to_string("registration/invitation_email.txt", context),
        None,
        [email],
    )
    return invitation


def invitation_for(token: str) -> Invitation | None:
    """The open invitation of a link: not used, not expired."""
    since = timezone.now() - timedelta(days=settings.INVITATION_DAYS)
    return (
        Invitation.objects.filter(
            token_sha256=crypto.digest(token), accepted_at__isnull=True, created_at__gte=since
        )
        .select_related("partner")
        .first()
    )


def accept(invitation: Invitation, user, *, request) -> Membership:
    """The invited person says yes: they get the role, and the link is spent (a conditional
    UPDATE, so a link clicked twice at once grants once)."""
    with transaction.atomic():
        spent = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        if not spent:
            raise InvitationUsed("this invitation has been used already")
        current = Membership.objects.filter(user=user, partner=invitation.partner).first()
        if current and access.role_at_least(current.role, invitation.role):
            membership = current  # an invitation never lowers a role someone has
        else:
            membership = grant(invitation.partner, user, invitation.role, request=request)
        audit.record(
            Action.INVITATION_ACCEPTED,
            f"{user.get_username()} accepted the invitation to {invitation.partner.name}",
            request=request,
            user=user,
            partner=invitation.partner,
            email=invitation.email,
        )
    return membership


class InvitationUsed(Exception):
    """The link was used (or is being used) already."""


# --- a user's own email address, confirmed from the new mailbox ------------------------------

EMAIL_SALT = "glancedash.email-change"
EMAIL_LINK_DAYS = 3


class EmailChangeError(ValueError):
    """A confirmation link that cannot change the address, in words for its user."""


def email_change_token(user, email: str) -> str:
    """A signed, expiring token naming the user and the new address: no row to store, and it
    is no longer valid once the address has changed (the old one is part of it)."""
    return signing.dumps({"u": user.pk, "e": email, "was": user.email}, salt=EMAIL_SALT)


def confirm_email(user, token: str, *, request) -> str:
    """Makes the token's address the user's, audited; returns it. Reports, alerts and password
    resets go to an address only once its mailbox has shown it is the user's."""
    try:
        claim = signing.loads(token, salt=EMAIL_SALT, max_age=EMAIL_LINK_DAYS * 86400)
    except signing.SignatureExpired:
        raise EmailChangeError("This link has expired: change your address again.") from None
    except signing.BadSignature:
        raise EmailChangeError("This is not a link glancedash sent.") from None
    if claim.get("u") != user.pk or claim.get("was") != user.email:
        raise EmailChangeError("This link is for another change, or another account.")
    email = claim["e"]
    others = get_user_model().objects.exclude(pk=user.pk)
    if others.filter(email__iexact=email).exists():
        raise EmailChangeError(f"{email} belongs to another account here.")
    user.email = email
    save_user(user, ["email"], request=request, created=False)
    return email


def send_email_confirmation(user, email: str, link: str) -> None:
    """The link to the new mailbox, and a word to the old one that a change was asked for."""
    name = user.get_username()
    send_mail(
        "glancedash: confirm your email address",
        f"{name}, open this link to make {email} your address on glancedash "
        f"(it works for {EMAIL_LINK_DAYS} days):\n\n{link}\n\n"
        "If you did not ask for this, ignore this email: nothing changes.",
        settings.DEFAULT_FROM_EMAIL,
        [email],
    )
    if user.email:
        send_mail(
            "glancedash: a change of your email address was asked for",
            f"{name}, someone signed in as you asked to change your glancedash address to "
            f"{email}. It changes only if that mailbox confirms it. If this was not you, change "
            "your password.",
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
