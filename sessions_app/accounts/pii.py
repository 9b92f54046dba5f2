"""Guest personal data (name, email, phone, IP address): shown in full only to roles allowed to
see it, masked for everyone else. Pages, chart hover text and exports all mask through here."""

from sessions_app.accounts import access, audit
from sessions_app.glance import fields
from sessions_app.models import Role

# Contacts first, as the pages show them: ("name", "email", "phone", "ip").
PII_FIELDS = fields.pii_attrs(fields.GUEST, fields.CONTACT) + fields.pii_attrs(
    fields.GUEST, fields.IP
)
MASK = "•••"


def mask(value):
    """A present value becomes the mask; an absent one stays absent, so 'none given' still shows."""
    return MASK if value else value


def guest_pii(guest, reveal: bool) -> dict:
    return {
        field: getattr(guest, field) if reveal else mask(getattr(guest, field))
        for field in PII_FIELDS
    }


def reveal_for(user, partner) -> bool:
    return access.can_see_pii(user, partner)


def guests_of(session, *, request) -> tuple[list[tuple], bool]:
    """The session's guests, each with its personal data as the request's user may see it, and
    whether it is shown unmasked. An admin's look at unmasked details is audited."""
    reveal = reveal_for(request.user, session.partner)
    guests = [(guest, guest_pii(guest, reveal)) for guest in session.guests.all()]
    if reveal and access.has_role(request.user, session.partner, Role.ADMIN):
        audit.record(
            audit.Action.PII_VIEWED,
            f"viewed guest details of session {session.glance_id}",
            request=request,
            partner=session.partner,
            session=session.glance_id,
        )
    return guests, reveal
