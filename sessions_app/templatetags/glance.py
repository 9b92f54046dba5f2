"""Template filters for Glance's codes and durations."""

from django import template

from sessions_app import codes

register = template.Library()


@register.filter
def duration(seconds):
    return codes.format_duration(seconds)


@register.filter
def session_type(code):
    return codes.label(codes.SESSION_TYPES, code)


@register.filter
def session_status(code):
    return codes.label(codes.SESSION_STATUSES, code)


@register.filter
def minutes(delta):
    """A timedelta in whole minutes."""
    return int(delta.total_seconds() // 60) if delta else 0


@register.filter
def get(mapping, key):
    """mapping[key] in a template, for lookups by a variable."""
    return mapping.get(key, "")
