"""Reading the date/time arguments of the sync commands."""

from argparse import ArgumentTypeError
from datetime import UTC, datetime


def iso_moment(value: str) -> datetime:
    """`2026-03-01`, `2026-03-01T12:00`, `…Z` or `…+01:00`; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"not an ISO date or date-time: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
