"""Each user's display time zone: dates are stored in UTC and shown, filtered and bucketed in it."""

import zoneinfo
from functools import cache

from django.conf import settings
from django.utils import timezone


@cache
def choices() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})
    return [(name, name.replace("_", " ")) for name in names]


def for_user(user) -> zoneinfo.ZoneInfo:
    name = ""
    if user.is_authenticated:
        profile = getattr(user, "glance_profile", None)
        name = profile.time_zone if profile else ""
    return named(name)


def named(name: str) -> zoneinfo.ZoneInfo:
    """The zone of that name; the site's own for an empty or unknown one."""
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


class UserTimezoneMiddleware:
    """Activates the user's zone, so templates show times in it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.activate(for_user(request.user))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
