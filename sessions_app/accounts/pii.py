"""Guest personal data (name, email, phone, IP address): shown in full only to roles allowed to
see it, masked for everyone else. Pages, chart hover text and exports all mask through here."""

from sessions_app.accounts import access

PII_FIELDS = ("name", "email", "phone", "ip")
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
