"""Template filters for Glance's codes and durations."""

from decimal import ROUND_HALF_UP, Decimal

from django import template

from sessions_app import codes
from sessions_app.accounts import access
from sessions_app.figures import geo
from sessions_app.models import Role

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


@register.filter
def number(value, digits=0):
    """A number as floatformat and intcomma write it in English ("12,345", "97.5", half up),
    without their per-call locale lookups: a scorecard of hundreds of agents spent a third of
    its time in them."""
    if value is None or value == "":
        return ""
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-int(digits)), ROUND_HALF_UP)
    return f"{rounded:,}"


@register.simple_tag(takes_context=True)
def share_partners(context):
    """The partners the user may share a saved view with: those they are an analyst of."""
    return access.partners_for(context["request"].user, Role.ANALYST)


@register.filter
def country_name(code):
    """A country's name from its ISO code ("US" is "United States"); a code ISO lacks as is."""
    return geo.country_name(code) if code else ""
