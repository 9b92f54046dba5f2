"""The UTC quarter hours of a rollup row, grouped by the hours, days and weeks of a time zone.

Every offset a zone has used since the 1970s is a whole number of quarter hours (India +5:30,
Nepal +5:45, Chatham +12:45), and zones change offset on a quarter hour, so each quarter hour of
a UTC day falls wholly inside one local hour: counts by quarter hour give any zone's buckets
exactly. Where that does not hold (a zone's old local mean time, say) `pieces` answers None and
the caller reads the raw sessions instead.
"""

from collections.abc import Hashable, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.utils import timezone

from sessions_app.rollups.write import QUARTERS, day_start

QUARTER = timedelta(minutes=15)
_QUARTER_SECONDS = 900


def pieces(day: date, tz: ZoneInfo, unit: str) -> list[tuple[int, int, object]] | None:
    """[(first quarter, end quarter, key)] covering the UTC day's 96 quarters, one piece per
    local `unit` ("hour", "day", "week" or "weekday_hour") it touches. Keys: the bucket's start
    as an aware datetime in tz (hour, day, week; as Django's Trunc gives them), or (ISO weekday,
    hour) for weekday_hour."""
    return _pieces(day, tz.key, unit)


@lru_cache(maxsize=8192)
def _pieces(day: date, tz_key: str, unit: str):
    tz = ZoneInfo(tz_key)
    runs = _runs(day, tz)
    if runs is None:
        return None
    out: list[tuple[int, int, object]] = []
    for first, end, local_first in runs:
        q = first
        while q < end:
            local = local_first + (q - first) * QUARTER
            key, left = _bucket(local, unit, tz)
            stop = min(end, q + left)
            if out and out[-1][2] == key and out[-1][1] == q:
                out[-1] = (out[-1][0], stop, key)  # a bucket continuing across runs
            else:
                out.append((q, stop, key))
            q = stop
    return tuple(out)


def count_by_bucket(
    rows: Iterable[tuple[datetime, Hashable]], tz: ZoneInfo, unit: str
) -> dict[tuple, int] | None:
    """{(bucket key, extra): sessions} for rows of (UTC start time, extra): the same buckets
    as `pieces` gives rollups, for raw sessions counted in Python. None where `pieces` is."""
    counts: dict[tuple, int] = {}
    keys_by_day: dict[date, list] = {}
    for start, extra in rows:
        day = start.date()
        keys = keys_by_day.get(day)
        if keys is None:
            found = pieces(day, tz, unit)
            if found is None:
                return None
            keys = keys_by_day[day] = [k for first, end, k in found for _ in range(first, end)]
        key = (keys[start.hour * 4 + start.minute // 15], extra)
        counts[key] = counts.get(key, 0) + 1
    return counts


def bucket_of(start: datetime, tz: ZoneInfo, unit: str) -> object:
    """The `pieces` key of one moment (aware, or naive UTC as SQLite returns it)."""
    aware = start if start.tzinfo else start.replace(tzinfo=UTC)
    local = aware.astimezone(tz)
    return _bucket(local.replace(tzinfo=None, second=0, microsecond=0, fold=0), unit, tz)[0]


def _bucket(local: datetime, unit: str, tz) -> tuple[object, int]:
    """The bucket key of a local naive time, and how many quarters remain in it from there."""
    minutes = local.hour * 60 + local.minute
    if unit == "hour":
        return timezone.make_aware(local.replace(minute=0), tz), (60 - local.minute) // 15
    if unit == "weekday_hour":
        return (local.isoweekday(), local.hour), (60 - local.minute) // 15
    midnight = local.replace(hour=0, minute=0)
    left = (1440 - minutes) // 15
    if unit == "day":
        return timezone.make_aware(midnight, tz), left
    if unit == "week":
        return timezone.make_aware(midnight - timedelta(days=local.weekday()), tz), left
    raise ValueError(unit)


def _runs(day: date, tz: ZoneInfo) -> list[tuple[int, int, datetime]] | None:
    """[(first quarter, end quarter, local naive time of the first)] of constant UTC offset."""
    start = day_start(day)
    offsets = [_offset(start + q * QUARTER, tz) for q in (0, QUARTERS // 2, QUARTERS)]
    if offsets[0] == offsets[1] == offsets[2]:
        change_points = []
    else:  # an offset change today (twice a year in most zones): find its quarter
        offsets = [_offset(start + q * QUARTER, tz) for q in range(QUARTERS + 1)]
        change_points = [q for q in range(1, QUARTERS) if offsets[q] != offsets[q - 1]]
    runs, first = [], 0
    for q in [*change_points, QUARTERS]:
        offset = offsets[first] if len(offsets) > 3 else offsets[0]
        if offset % _QUARTER_SECONDS:
            return None
        # The change must fall exactly on the quarter: the last second before it is unchanged.
        if q < QUARTERS and _offset(start + q * QUARTER - timedelta(seconds=1), tz) != offset:
            return None
        local = (start + first * QUARTER + timedelta(seconds=offset)).replace(tzinfo=None)
        runs.append((first, q, local))
        first = q
    return runs


def _offset(moment: datetime, tz: ZoneInfo) -> int:
    return int(moment.astimezone(tz).utcoffset().total_seconds())
