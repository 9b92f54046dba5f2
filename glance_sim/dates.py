"""Date input per §3.3 of the API notes, and fast UTC output formatting."""

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from . import defaults

UTC = UTC
EASTERN = ZoneInfo(defaults.LOCAL_TZ)
_ISO = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?)?"
    r"\s*(Z|[+-]\d{1,2}(?::?\d{2})?)?\s*$",
    re.IGNORECASE,
)
_MSDATE = re.compile(r"^\s*\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/\s*$")


def parse_date(value):
    """Return an aware UTC datetime, or raise ValueError."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=EASTERN)).astimezone(UTC)
    if not isinstance(value, str):
        raise ValueError(value)
    m = _MSDATE.match(value)  # clients may echo the classic ASP.NET form back
    if m:
        return datetime.fromtimestamp(int(m.group(1)) / 1000, UTC)
    m = _ISO.match(value)
    if not m:
        raise ValueError(value)
    y, mo, d, hh, mi, ss, frac, zone = m.groups()
    micro = int((frac or "0").ljust(6, "0")[:6])
    dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro)
    if zone is None:
        tz = EASTERN  # the docs: no zone means US Eastern wall-clock time
    elif zone.upper() == "Z":
        tz = UTC
    else:
        sign = -1 if zone[0] == "-" else 1
        body = zone[1:].replace(":", "")
        hours, minutes = (body, "0") if len(body) <= 2 else (body[:-2], body[-2:])
        if int(hours) > 14 or int(minutes) > 59:
            raise ValueError(value)
        tz = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    return dt.replace(tzinfo=tz).astimezone(UTC)


_MMSS = [f"{m:02d}:{s:02d}Z" for m in range(60) for s in range(60)]


@lru_cache(maxsize=8192)
def _hour_prefix(hour):
    return datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%dT%H:")


def iso(ts):
    """Epoch seconds -> 'YYYY-MM-DDTHH:MM:SSZ' without strftime on the hot path."""
    hour, rest = divmod(int(ts), 3600)
    return _hour_prefix(hour) + _MMSS[rest]
