"""Keeping SessionRollup in step with the sessions it sums.

Every write of sessions goes through ingest.store_sessions, which hands this module the sessions
as they were before (if stored) and as they are now; the difference is added to the rollup rows
of their days in the same transaction. Retention deletes whole days and rebuilds the day it cuts
through. `rebuild` recomputes any days from the raw tables: the migration that introduced
rollups, the retention cut and the tests use it.
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import orjson
from django.db import connection, transaction

from sessions_app.bulk_sql import insert_many, select_in, update_many

QUARTERS = 96  # quarter hours in a UTC day
SUBSCRIBER_GUEST_TYPES = ("agent", "host")  # the Glance user's own seat: not a visitor


def _band_edges() -> list[int]:
    """Lower edges of the duration bands: 5 s up to 10 min, 30 s up to an hour, 5 min up to 4
    hours, 30 min up to a day, then one band. Every edge of stats.DURATION_BINS is among them."""
    edges = list(range(5, 600, 5))
    edges += range(600, 3600, 30)
    edges += range(3600, 14400, 300)
    edges += range(14400, 86400 + 1, 1800)
    return edges


# Band i holds durations in [EDGES[i-1], EDGES[i]); band 0 everything below 5 s (negatives
# included), the last band everything from a day up.
BAND_EDGES = _band_edges()
BANDS = len(BAND_EDGES) + 1
DTYPE = np.dtype("<u4")


def band_of(duration: int) -> int:
    return bisect_right(BAND_EDGES, duration)


def band_bounds(band: int) -> tuple[int | None, int | None]:
    """[low, high) of a band; None where it is open."""
    low = BAND_EDGES[band - 1] if band > 0 else None
    high = BAND_EDGES[band] if band < len(BAND_EDGES) else None
    return low, high


def quarter_of(moment: datetime) -> tuple[date, int]:
    moment = moment.astimezone(UTC)
    return moment.date(), moment.hour * 4 + moment.minute // 15


_EPOCH = date(1970, 1, 1).toordinal()


def day_number(day: date) -> int:
    """SessionRollup.day of a UTC date."""
    return day.toordinal() - _EPOCH


def day_of(number: int) -> date:
    return date.fromordinal(number + _EPOCH)


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- what one session contributes -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contribution:
    """One session as the rollups see it."""

    start_time: datetime
    session_type: str
    status: str
    duration: int
    guest_count: int
    agent_id: int | None
    places: tuple[tuple, ...]  # (country, region, city) of each of its visitors


def visitor_places(guests) -> tuple[tuple, ...]:
    """(country, region, city) of each guest the geography counts: visitors, not the agent's or
    host's own seat, located or not. `guests` are (guest_type, country, region, city) tuples."""
    return tuple(tuple(guest[1:]) for guest in guests if guest[0] not in SUBSCRIBER_GUEST_TYPES)


@dataclass
class Delta:
    """The change to one rollup row."""

    sessions: int = 0
    guests: int = 0
    seconds: int = 0
    quarters: np.ndarray = field(default_factory=lambda: np.zeros(QUARTERS, np.int64))
    durations: np.ndarray = field(default_factory=lambda: np.zeros(BANDS, np.int64))
    agents: dict = field(default_factory=lambda: defaultdict(int))
    countries: dict = field(default_factory=lambda: defaultdict(int))
    places: dict = field(default_factory=lambda: defaultdict(int))  # {(country, region, city): n}
    agent_durations: dict = field(default_factory=lambda: defaultdict(int))  # {(agent, s): n}

    def add(self, c: Contribution, sign: int, quarter: int) -> None:
        self.sessions += sign
        self.guests += sign * c.guest_count
        self.seconds += sign * c.duration
        self.quarters[quarter] += sign
        self.durations[band_of(c.duration)] += sign
        if c.agent_id is not None:
            self.agents[str(c.agent_id)] += sign
        self.agent_durations[(c.agent_id or NO_AGENT, c.duration)] += sign
        for place in c.places:
            self.places[place] += sign
            if place[0]:
                self.countries[place[0]] += sign


def deltas(removed: list[Contribution], added: list[Contribution]) -> dict[tuple, Delta]:
    """{(day, session_type, status): Delta} for sessions replaced by others."""
    out: dict[tuple, Delta] = defaultdict(Delta)
    for sign, contributions in ((-1, removed), (1, added)):
        for c in contributions:
            day, quarter = quarter_of(c.start_time)
            out[(day, c.session_type, c.status)].add(c, sign, quarter)
    return out


# --- writing --------------------------------------------------------------------------------


def apply(partner_id: int, removed: list[Contribution], added: list[Contribution]) -> None:
    """Adds the difference to the partner's rollup rows. Call inside the transaction that writes
    the sessions; the caller holds the partner's row lock, so no other write interleaves.

    Plain statements, not the ORM's bulk_update (a CASE per column per row), which took 30 ms of
    every sync page."""
    from sessions_app.models import Place, SessionRollup

    changes = {key: d for key, d in deltas(removed, added).items() if not _is_zero(d)}
    if not changes:
        return
    ids = _place_ids_of(changes, Place)
    days = sorted({day for day, _, _ in changes})
    stored = {
        (day_of(day), kind, status): (pk, rest)
        for pk, day, kind, status, *rest in select_in(
            SessionRollup,
            ["id", "day", "session_type", "status", *MEASURES],
            where={"partner": partner_id},
            key="day",
            values=[day_number(day) for day in days],
        )
    }
    create, update, delete = [], [], []
    for key, delta in changes.items():
        pk, values = stored.get(key, (None, None))
        row = _empty_row(SessionRollup, partner_id, key)
        if values:
            for name, value in zip(MEASURES, values, strict=True):
                setattr(row, name, _from_db(name, value))
        _merge(row, delta, ids)
        if row.sessions <= 0:
            if pk:
                delete.append(pk)
        elif pk:
            update.append((*_db_values(row), pk))
        else:
            create.append((partner_id, day_number(key[0]), key[1],
                           key[2], *_db_values(row)))  # fmt: skip
    insert_many(SessionRollup, ["partner", "day", "session_type", "status", *MEASURES], create)
    update_many(SessionRollup, MEASURES, update)
    if delete:
        SessionRollup.objects.filter(pk__in=delete).delete()


MEASURES = [
    "sessions",
    "guests",
    "seconds",
    "quarters",
    "durations",
    "agents",
    "countries",
    "agent_ids",
    "country_codes",
    "places",
    "agent_durations",
]


def _from_db(name: str, value):
    if name in ("agents", "countries") and isinstance(value, str | bytes):
        return orjson.loads(value)
    if name in ("quarters", "durations", "agent_ids", "places", "agent_durations") and value:
        return bytes(value)
    return value


def _db_values(row) -> tuple:
    from sessions_app.models import SessionRollup

    meta = SessionRollup._meta
    return tuple(
        meta.get_field(name).get_db_prep_save(getattr(row, name), connection) for name in MEASURES
    )


def _empty_row(rollup_model, partner_id: int, key: tuple):
    day, session_type, status = key
    return rollup_model(
        partner_id=partner_id,
        day=day_number(day),
        session_type=session_type,
        status=status,
        sessions=0,
        guests=0,
        seconds=0,
        quarters=b"",
        durations=b"",
        agents={},
        countries={},
        agent_ids=b"",
        country_codes="[]",
        places=b"",
        agent_durations=b"",
    )


def _is_zero(d: Delta) -> bool:
    return (
        d.sessions == 0
        and d.guests == 0
        and d.seconds == 0
        and not d.quarters.any()
        and not d.durations.any()
        and not any(d.agents.values())
        and not any(d.countries.values())
        and not any(d.places.values())
        and not any(d.agent_durations.values())
    )


def _merge(row, delta: Delta, place_ids: dict) -> None:
    row.sessions += delta.sessions
    row.guests += delta.guests
    row.seconds += delta.seconds
    row.quarters = _add_array(row.quarters, delta.quarters, QUARTERS)
    row.durations = encode_sparse(decode_sparse(row.durations, BANDS) + delta.durations)
    row.agents = _add_counts(row.agents, delta.agents)
    row.countries = _add_counts(row.countries, delta.countries)
    row.agent_ids = np.array(sorted(int(i) for i in row.agents), np.int64).tobytes()
    row.country_codes = orjson.dumps(sorted(row.countries)).decode()
    row.places = _add_places(row.places, delta.places, place_ids)
    row.agent_durations = _add_agent_durations(row.agent_durations, delta.agent_durations)


def _add_array(stored, change: np.ndarray, size: int) -> bytes:
    base = array_of(stored, size).astype(np.int64)
    return (base + change).astype(DTYPE).tobytes()


# Durations by band are mostly zeros (a day's sessions of one type and status touch a few dozen
# of 297 bands): stored as (band, count) pairs they are a quarter of the size, and reading a
# year of them is most of what the overview's percentiles cost.
SPARSE = np.dtype([("band", "<u2"), ("n", "<u4")])


def encode_sparse(counts: np.ndarray) -> bytes:
    bands = np.flatnonzero(counts)
    pairs = np.empty(len(bands), SPARSE)
    pairs["band"], pairs["n"] = bands, counts[bands]
    return pairs.tobytes()


def decode_sparse(stored, size: int) -> np.ndarray:
    counts = np.zeros(size, np.int64)
    if stored:
        pairs = np.frombuffer(bytes(stored), SPARSE)
        counts[pairs["band"]] = pairs["n"]
    return counts


def sum_sparse(blobs, size: int) -> np.ndarray:
    """The sum of many sparse arrays, in one numpy operation."""
    pairs = np.frombuffer(b"".join(bytes(blob) for blob in blobs if blob), SPARSE)
    return np.bincount(pairs["band"], weights=pairs["n"], minlength=size).astype(np.int64)


def array_of(stored, size: int) -> np.ndarray:
    if not stored:
        return np.zeros(size, DTYPE)
    return np.frombuffer(bytes(stored), DTYPE)


# Visitors by place: (Place id, count) pairs, sorted by id.
PLACE_PAIR = np.dtype([("place", "<u4"), ("n", "<u4")])


def _add_places(stored, change: dict, place_ids: dict) -> bytes:
    counts = defaultdict(int)
    if stored:
        for place, n in np.frombuffer(bytes(stored), PLACE_PAIR).tolist():
            counts[place] = n
    for place, n in change.items():
        counts[place_ids[place]] += n
    kept = sorted((place, n) for place, n in counts.items() if n)
    return np.array(kept, PLACE_PAIR).tobytes()


# Each session's (agent, duration), sorted: what the agent scorecard's exact per-agent medians
# need. Four bytes each: Session.duration is a 32-bit column, and agent ids stay far below 2**32.
AGENT_DURATION = np.dtype([("agent", "<u4"), ("duration", "<i4")])
NO_AGENT = 0  # no Agent row has id 0


def _add_agent_durations(stored, change: dict) -> bytes:
    counts = defaultdict(int)
    if stored:
        for pair in np.frombuffer(bytes(stored), AGENT_DURATION).tolist():
            counts[pair] += 1
    for pair, n in change.items():
        counts[pair] += n
    pairs = [pair for pair, n in sorted(counts.items()) for _ in range(n)]
    return np.array(pairs, AGENT_DURATION).tobytes()


def sum_places(blobs) -> dict[int, int]:
    """{Place id: visitors} summed over many rows' `places`, in one numpy operation."""
    pairs = np.frombuffer(b"".join(bytes(blob) for blob in blobs if blob), PLACE_PAIR)
    if not len(pairs):
        return {}
    totals = np.bincount(pairs["place"], weights=pairs["n"]).astype(np.int64)
    present = np.flatnonzero(totals)
    return dict(zip(present.tolist(), totals[present].tolist(), strict=True))


def place_key(place: tuple) -> str:
    return orjson.dumps(list(place)).decode()


def place_ids(places: set, place_model) -> dict[tuple, int]:
    """{(country, region, city): Place id}, numbering the places not seen before. Concurrent
    syncs may number the same new place: the loser's insert does nothing and reads the id."""
    if not places:
        return {}
    keys = {place_key(place): place for place in places}

    def lookup():
        rows = select_in(place_model, ["key", "id"], where={}, key="key", values=list(keys))
        return {keys[key]: pk for key, pk in rows}

    found = lookup()
    if len(found) < len(places):
        missing = [(key, *place) for key, place in keys.items() if place not in found]
        insert_many(
            place_model, ["key", "country_code", "region", "city"], missing, conflict=["key"]
        )
        found = lookup()
    return found


def _place_ids_of(changes: dict[tuple, Delta], place_model) -> dict[tuple, int]:
    return place_ids({place for d in changes.values() for place in d.places}, place_model)


def _add_counts(stored: dict, change: dict) -> dict:
    out = dict(stored or {})
    for name, n in change.items():
        total = out.get(name, 0) + n
        if total:
            out[name] = total
        else:
            out.pop(name, None)
    return out


# --- rebuilding from the raw tables ---------------------------------------------------------


def rebuild(partner_id: int, first_day: date, last_day: date, *, models=None) -> int:
    """Recomputes the partner's rollup rows for [first_day, last_day] from its sessions; returns
    the number of sessions summed. `models` (Session, Guest, SessionRollup) lets a migration
    pass its historical models."""
    if models is None:
        from sessions_app.models import Guest, Place, Session, SessionRollup

        models = (Session, Guest, SessionRollup, Place)
    session_model, _, rollup_model, place_model = models
    total = 0
    with transaction.atomic():
        rollup_model.objects.filter(
            partner_id=partner_id, day__gte=day_number(first_day), day__lte=day_number(last_day)
        ).delete()
        day = first_day
        while day <= last_day:  # a month at a time keeps memory flat
            chunk_end = min(day + timedelta(days=31), last_day + timedelta(days=1))
            sessions = session_model.objects.filter(
                partner_id=partner_id,
                start_time__gte=day_start(day),
                start_time__lt=day_start(chunk_end),
            )
            contributions = stored_contributions(sessions, models)
            apply_rows(partner_id, contributions, rollup_model, place_model)
            total += len(contributions)
            day = chunk_end
    return total


def stored_contributions(sessions, models=None) -> list[Contribution]:
    """The contributions of stored sessions (a queryset), as they are now."""
    if models is None:
        from sessions_app.models import Guest

        guest_model = Guest
    else:
        guest_model = models[1]
    rows = list(
        sessions.order_by().values_list(
            "pk", "start_time", "session_type", "status", "duration", "guest_count", "agent_id"
        )
    )
    ids = [row[0] for row in rows]
    # A month's ids are too many for one IN (…): select its guests by the same session filter.
    of_sessions = ids if len(ids) <= 2000 else sessions.order_by().values("pk")
    guest_rows = guest_model.objects.filter(session__in=of_sessions).values_list(
        "session_id", "guest_type", "country_code", "region", "city"
    )
    guests = defaultdict(list)
    for session_id, *guest in guest_rows.iterator(chunk_size=5000):
        guests[session_id].append(guest)
    return [
        Contribution(start, kind, status, duration, count, agent, visitor_places(guests[pk]))
        for pk, start, kind, status, duration, count, agent in rows
    ]


def apply_rows(partner_id: int, contributions: list[Contribution], rollup_model,
               place_model) -> None:  # fmt: skip
    """Writes fresh rows for contributions whose days have none yet (rebuild's path)."""
    rows = []
    changes = deltas([], contributions)
    ids = _place_ids_of(changes, place_model)
    for key, delta in changes.items():
        row = _empty_row(rollup_model, partner_id, key)
        _merge(row, delta, ids)
        rows.append(row)
    rollup_model.objects.bulk_create(rows, batch_size=500)
