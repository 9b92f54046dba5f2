"""Finding partners by their Glance ids, for the commands."""

from django.core.management.base import CommandError

from sessions_app.models import Partner


def partners_by_glance_ids(text: str) -> list[Partner]:
    """`12345` or `12345,67890`: every id must name a partner."""
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CommandError(f"partner ids are numbers, comma-separated: {text!r}") from None
    found = {p.glance_partner_id: p for p in Partner.objects.filter(glance_partner_id__in=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise CommandError(f"no partner with Glance id {', '.join(missing)}")
    return [found[i] for i in ids]
