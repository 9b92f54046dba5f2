"""Keeping the rollup tables in step with the sessions they sum.

Every write of sessions goes through ingest.store_sessions, which hands this module the sessions
as they were before (if stored) and as they are now; the difference is added to the rollup rows
of their days in the same transaction: the partner's (SessionRollup) and each agent's
(AgentRollup), which sum the same measures under a longer key. Retention deletes whole days
and rebuilds the day it cuts through. `rebuild` recomputes any days from the raw tables: the
migrations that introduced rollups, the retention cut and the tests use it.
"""

import struct
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np
import orjson
from django.apps import apps as installed_apps
from django.apps.registry import Apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Max, Min, Model, QuerySet

from sessions_app.codes import SUBSCRIBER_GUEST_TYPES
from sessions_app.db import insert_many, select_in, update_many
from sessions_app.models import Guest, Place

QUARTERS = 96  # quarter hours in a UTC day

Place3 = tuple[str | None, str | None, str | None]  # (country, region, city)
Blob = bytes | memoryview  # a binary column's value, as a database driver returns it


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
    places: tuple[Place3, ...]  # (country, region, city) of each of its visitors
    wait: int | None = None  # its time to join (waiting.time_to_join), where known


def visitor_places(guests: Iterable[Sequence[str | None]]) -> tuple[Place3, ...]:
    """(country, region, city) of each guest the geography counts: visitors, not the agent's or
    host's own seat, located or not. `guests` are (guest_type, country, region, city) tuples."""
    return tuple(tuple(guest[1:]) for guest in guests if guest[0] not in SUBSCRIBER_GUEST_TYPES)


@lru_cache(maxsize=4096)
def place_levels(places: tuple[Place3, ...]) -> frozenset[Place3]:
    """The places a session counts once at, keyed as the filter matches them (upper-cased, since
    country=, region= and city= ignore case): what a click on a map or a city opens. Each country
    its visitors were in (COUNTRY, None, None); each region (COUNTRY, REGION, None); each city in
    its region (COUNTRY, REGION, CITY); and each city in any region (COUNTRY, None, CITY), which
    a city without a region links to. A level is left out where its name is missing, so the four
    kinds of key never meet."""
    levels = set()
    for country, region, city in places:
        if not country:
            continue
        country = country.upper()
        levels.add((country, None, None))
        if region:
            levels.add((country, region.upper(), None))
        if city:
            levels.add((country, None, city.upper()))
            if region:
                levels.add((country, region.upper(), city.upper()))
    return frozenset(levels)


@dataclass
class Delta:
    """The change to one rollup row."""

    sessions: int = 0
    guests: int = 0
    seconds: int = 0
    # Sparse, as dicts: a delta of an agent's day touches a few quarters and bands, and numpy
    # arrays of all of them cost more to make and add than the dicts do.
    quarters: dict = field(default_factory=lambda: defaultdict(int))  # {quarter: n}
    durations: dict = field(default_factory=lambda: defaultdict(int))  # {band: n}
    agents: dict = field(default_factory=lambda: defaultdict(int))
    countries: dict = field(default_factory=lambda: defaultdict(int))
    places: dict = field(default_factory=lambda: defaultdict(int))  # {(country, region, city): n}
    place_sessions: dict = field(default_factory=lambda: defaultdict(int))  # {level key: n}
    waits: dict = field(default_factory=lambda: defaultdict(int))  # {(quarter, wait): n}

    def add(self, p: "Prepared", sign: int) -> None:
        c, quarter = p.contribution, p.quarter
        self.sessions += sign
        self.guests += sign * c.guest_count
        self.seconds += sign * c.duration
        self.quarters[quarter] += sign
        self.durations[p.band] += sign
        if c.agent_id is not None:
            self.agents[str(c.agent_id)] += sign
        for place in c.places:
            self.places[place] += sign
            if place[0]:
                self.countries[place[0]] += sign
        for level in p.levels:
            self.place_sessions[level] += sign
        if c.wait is not None:
            self.waits[(quarter, c.wait)] += sign


@dataclass(frozen=True)
class Table:
    """A rollup table: its model's name and the key fields it has before (day, type, status)."""

    model_name: str
    prefix: tuple[str, ...]

    def model(self, apps: Apps | None = None) -> type[Model]:
        return (apps or installed_apps).get_model("sessions_app", self.model_name)

    @property
    def key_fields(self) -> list[str]:
        return [*self.prefix, "day", "session_type", "status"]

    def prefix_of(self, c: Contribution) -> tuple | None:
        """The contribution's key prefix here, or None if it has no row here."""
        if not self.prefix:
            return ()
        return None if c.agent_id is None else (c.agent_id,)


PARTNER_ROWS = Table("SessionRollup", ())
AGENT_ROWS = Table("AgentRollup", ("agent",))
TABLES = (PARTNER_ROWS, AGENT_ROWS)


def tables_in(apps: Apps) -> tuple[Table, ...]:
    """The rollup tables a (migration's historical) app registry has."""
    present = []
    for table in TABLES:
        try:
            table.model(apps)
        except LookupError:
            continue
        present.append(table)
    return tuple(present)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A contribution with what every rollup table derives from it, derived once for them all."""

    contribution: Contribution
    day: date
    quarter: int
    band: int
    levels: frozenset[Place3]


def prepare(contributions: Iterable[Contribution]) -> list[Prepared]:
    return [
        Prepared(c, *quarter_of(c.start_time), band_of(c.duration), place_levels(c.places))
        for c in contributions
    ]


def deltas(removed: list[Prepared], added: list[Prepared],
           table: Table = PARTNER_ROWS) -> dict[tuple, Delta]:  # fmt: skip
    """{(*prefix, day, session_type, status): Delta} for sessions replaced by others."""
    out: dict[tuple, Delta] = defaultdict(Delta)
    for sign, prepared in ((-1, removed), (1, added)):
        for p in prepared:
            c = p.contribution
            prefix = table.prefix_of(c)
            if prefix is None:
                continue
            out[(*prefix, p.day, c.session_type, c.status)].add(p, sign)
    return out


# --- writing --------------------------------------------------------------------------------


def apply(partner_id: int, removed: list[Contribution], added: list[Contribution]) -> None:
    """Adds the difference to the partner's rollup rows, by partner and by agent. Call inside the
    transaction that writes the sessions; the caller holds the partner's row lock, so no other
    write interleaves."""
    removed, added = prepare(removed), prepare(added)
    for table in TABLES:
        _apply_to(table, table.model(), partner_id, removed, added, Place)
    mark_stale(partner_id, {p.day for p in (*removed, *added)})


# --- months ---------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def mark_stale(partner_id: int, days: Iterable[date], apps: Apps | None = None) -> None:
    """Marks the months of these days stale: their month rows (rollups.months) no longer sum
    their days, so a read takes the days until the month is summed again. In the transaction
    that changed the days."""
    try:
        model = (apps or installed_apps).get_model("sessions_app", "StaleRollupMonth")
    except LookupError:  # a migration's registry from before month rows
        return
    months = sorted({month_start(day) for day in days})
    rows = [(partner_id, day_number(m), day_number(next_month(m))) for m in months]
    insert_many(model, ["partner", "day", "end"], rows, conflict=["partner", "day"])


def _apply_to(table: Table, model, partner_id: int, removed: list[Prepared],
              added: list[Prepared], place_model) -> None:  # fmt: skip
    """Plain statements, not the ORM's bulk_update (a CASE per column per row), which was a
    large part of every sync page (docs/performance-notes.md). `model` and `place_model` may be a
    migration's historical ones."""
    changes = {key: d for key, d in deltas(removed, added, table).items() if not _is_zero(d)}
    if not changes:
        return
    measures = measures_of(model)
    for delta in changes.values():  # a migration's model from before a measure
        for name in ("place_sessions", "waits"):
            if name not in measures:
                getattr(delta, name).clear()
    ids = _place_ids_of(changes, place_model)
    width = len(table.prefix)
    days = sorted({key[width] for key in changes})
    key_fields = table.key_fields
    stored = {}
    for pk, *key, rest in _grouped(select_in(
        model, ["id", *key_fields, *measures], where={"partner": partner_id}, key="day",
        values=[day_number(day) for day in days],
    ), len(key_fields)):  # fmt: skip
        key[width] = day_of(key[width])
        stored[tuple(key)] = (pk, rest)
    create, update, delete = [], [], []
    to_db = _db_values_of(model, measures)
    for key, delta in changes.items():
        pk, values = stored.get(key, (None, None))
        row = (
            _Measures(**{name: _from_db(name, v) for name, v in zip(measures, values, strict=True)})
            if values
            else _Measures()
        )
        _merge(row, delta, ids)
        if row.sessions <= 0:
            if pk:
                delete.append(pk)
        elif pk:
            update.append((*to_db(row), pk))
        else:
            create.append((partner_id, *_db_key(key, width), *to_db(row)))
    retired = retired_of(model)
    create = [(*row, *(b"" for _ in retired)) for row in create]
    insert_many(model, ["partner", *key_fields, *measures, *retired], create)
    update_many(model, measures, update)
    if delete:
        model.objects.filter(pk__in=delete).delete()


def _db_key(key: tuple, width: int) -> tuple:
    """A delta's key as stored: its day as a day number."""
    return (*key[:width], day_number(key[width]), *key[width + 1 :])


def _grouped(rows, key_size: int):
    """(pk, *key, [measures]) of each selected row."""
    for row in rows:
        yield (row[0], *row[1 : 1 + key_size], list(row[1 + key_size :]))


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
    "place_sessions",
    "waits",
]


def measures_of(model: type[Model]) -> list[str]:
    """The MEASURES a rollup model has: a migration's historical model may predate some (its
    rebuild then fills the ones it has, and the migration that adds a measure rebuilds again)."""
    return _fields_of(model, MEASURES)


def _fields_of(model: type[Model], names) -> list[str]:
    """Those of `names` that the (perhaps historical) model has, in their order."""
    present = {f.name for f in model._meta.concrete_fields}
    return [name for name in names if name in present]


# Measures that rollup rows no longer keep, which the historical models of the migrations
# before 0032 still have (NOT NULL, no database default): their rebuilds write them empty. Each
# session's (agent, duration) and (agent, wait), which the scorecards' medians once read: a list
# that grew with the data and was rewritten whole at every sync (figures.scorecards now reads
# the rows' bands and waits, and the sessions of one band).
RETIRED = ("agent_durations", "agent_waits")


def retired_of(model: type[Model]) -> list[str]:
    return _fields_of(model, RETIRED)


def _from_db(name: str, value):
    if name in ("agents", "countries") and isinstance(value, str | bytes):
        return orjson.loads(value)
    binary = ("quarters", "durations", "agent_ids", "places", "place_sessions", "waits")
    if name in binary and value:
        return bytes(value)
    return value


@dataclass(slots=True)
class _Measures:
    """A rollup row's MEASURES, in that order, as Python values."""

    sessions: int = 0
    guests: int = 0
    seconds: int = 0
    quarters: bytes = b""
    durations: bytes = b""
    agents: dict = field(default_factory=dict)
    countries: dict = field(default_factory=dict)
    agent_ids: bytes = b""
    country_codes: str = "[]"
    places: bytes = b""
    place_sessions: bytes = b""
    waits: bytes = b""


def _db_values_of(model, measures: list[str]):
    """A function giving a _Measures' `measures` as the database takes them. Only the JSON
    fields need their field's conversion (PostgreSQL takes them wrapped); the rest go as they
    are. The connection is looked up once: through django.db.connection's proxy, each conversion
    looked it up again, a large part of writing a sync page's rollups
    (docs/performance-notes.md)."""
    conn = connections[DEFAULT_DB_ALIAS]
    sqlite = conn.vendor == "sqlite"  # JSON is text there: orjson's, far faster than json.dumps
    json_fields = {name: model._meta.get_field(name) for name in ("agents", "countries")}

    def value(row: _Measures, name: str):
        v = getattr(row, name)
        if name not in json_fields:
            return v
        return orjson.dumps(v).decode() if sqlite else json_fields[name].get_db_prep_save(v, conn)

    def to_db(row: _Measures) -> tuple:
        return tuple(value(row, name) for name in measures)

    return to_db


def _is_zero(d: Delta) -> bool:
    return (
        d.sessions == 0
        and d.guests == 0
        and d.seconds == 0
        and not any(d.quarters.values())
        and not any(d.durations.values())
        and not any(d.agents.values())
        and not any(d.countries.values())
        and not any(d.places.values())
        and not any(d.place_sessions.values())
        and not any(d.waits.values())
    )


def _merge(row, delta: Delta, place_ids: dict) -> None:
    row.sessions += delta.sessions
    row.guests += delta.guests
    row.seconds += delta.seconds
    row.quarters = _add_array(row.quarters, delta.quarters, QUARTERS)
    row.durations = _add_records(row.durations, delta.durations, SPARSE_RECORD)
    row.agents = _add_counts(row.agents, delta.agents)
    row.countries = _add_counts(row.countries, delta.countries)
    row.agent_ids = _int64s(sorted(int(i) for i in row.agents))
    row.country_codes = orjson.dumps(sorted(row.countries)).decode()
    row.places = _add_places(row.places, delta.places, place_ids)
    row.place_sessions = _add_places(row.place_sessions, delta.place_sessions, place_ids)
    row.waits = _add_records(row.waits, delta.waits, WAIT_RECORD)


def _add_array(stored, change: dict, size: int) -> bytes:
    """A full array of `size` counts (DTYPE) plus {index: n}."""
    counts = list(struct.unpack(f"<{size}I", bytes(stored))) if stored else [0] * size
    for index, n in change.items():
        counts[index] += n
    return struct.pack(f"<{size}I", *counts)


def _int64s(values: list[int]) -> bytes:
    """As np.array(values, np.int64).tobytes(), for a few values at a fraction of its cost."""
    return struct.pack(f"<{len(values)}q", *values)


# Durations by band are mostly zeros (a day's sessions of one type and status touch a few dozen
# of 297 bands): stored as (band, count) pairs they are a quarter of the size, and reading a
# year of them is most of what the overview's percentiles cost.
SPARSE = np.dtype([("band", "<u2"), ("n", "<u4")])


def sum_sparse(blobs: Iterable[Blob | None], size: int) -> np.ndarray:
    """The sum of many sparse arrays, in one numpy operation."""
    pairs = np.frombuffer(b"".join(bytes(blob) for blob in blobs if blob), SPARSE)
    return np.bincount(pairs["band"], weights=pairs["n"], minlength=size).astype(np.int64)


# Visitors by place: (Place id, count) pairs, sorted by id.
PLACE_PAIR = np.dtype([("place", "<u4"), ("n", "<u4")])


def _add_places(stored, change: dict, place_ids: dict) -> bytes:
    by_id: dict = defaultdict(int)
    for place, n in change.items():
        by_id[place_ids[place]] += n
    return _add_records(stored, by_id, PLACE_RECORD)


NO_AGENT = 0  # no Agent row has id 0: the scorecards' group of sessions with no agent


# Sessions by (UTC quarter hour, exact wait in seconds): exact percentiles and the service level
# against any target, by any time zone's hour or day. A day's waits are mostly a few dozen
# distinct seconds, so the triples stay few however busy the day is.
WAIT = np.dtype([("quarter", "<u1"), ("wait", "<u4"), ("n", "<u4")])


# The same records as struct formats: a row of an agent's day holds a handful of records, and
# packing a handful with struct costs a fraction of building a numpy array of them (merging
# rows was most of a sync page's rollup work). Little-endian, unpadded: numpy's bytes exactly.
SPARSE_RECORD = struct.Struct("<HI")
PLACE_RECORD = struct.Struct("<II")
WAIT_RECORD = struct.Struct("<BII")


def _add_records(stored, change: dict, record: struct.Struct) -> bytes:
    """Stored records (key fields, then n) plus {key: n}, as records sorted by key, zero counts
    dropped; a key is a number, or a tuple where the record has several key fields."""
    single = len(record.format) == 3  # "<", one key field, then n
    if stored:
        counts = {(r[0] if single else r[:-1]): r[-1] for r in record.iter_unpack(bytes(stored))}
        for key, n in change.items():
            counts[key] = counts.get(key, 0) + n
    else:
        counts = change
    kept = sorted(item for item in counts.items() if item[1])
    pack = record.pack
    if single:
        return b"".join([pack(key, n) for key, n in kept])
    return b"".join([pack(*key, n) for key, n in kept])


def sum_places(blobs: Iterable[Blob | None]) -> dict[int, int]:
    """{Place id: visitors} summed over many rows' `places`, in one numpy operation."""
    pairs = np.frombuffer(b"".join(bytes(blob) for blob in blobs if blob), PLACE_PAIR)
    if not len(pairs):
        return {}
    totals = np.bincount(pairs["place"], weights=pairs["n"]).astype(np.int64)
    present = np.flatnonzero(totals)
    return dict(zip(present.tolist(), totals[present].tolist(), strict=True))


def place_key(place: Place3) -> str:
    return orjson.dumps(list(place)).decode()


def place_ids(places: set[Place3], place_model: type[Model]) -> dict[Place3, int]:
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
    places = {place for d in changes.values() for place in (*d.places, *d.place_sessions)}
    return place_ids(places, place_model)


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


def rebuild(partner_id: int, first_day: date, last_day: date, *, apps: Apps | None = None,
            tables: tuple[Table, ...] | None = None) -> int:  # fmt: skip
    """Recomputes the partner's rollup rows for [first_day, last_day] from its sessions; returns
    the number of sessions summed. A migration passes its historical `apps`: the tables it has
    are rebuilt; `tables` narrows that."""
    apps = apps or installed_apps
    tables = tables_in(apps) if tables is None else tables
    session_model = apps.get_model("sessions_app", "Session")
    guest_model = apps.get_model("sessions_app", "Guest")
    place_model = apps.get_model("sessions_app", "Place")
    total = 0
    with transaction.atomic():
        # Holds the partner's row as ingest does: a compaction of these months waits for this
        # rebuild's days and stale marks (rollups.months).
        partner_model = apps.get_model("sessions_app", "Partner")
        list(partner_model.objects.select_for_update().filter(pk=partner_id).values_list("pk"))
        for table in tables:
            table.model(apps).objects.filter(
                partner_id=partner_id,
                day__gte=day_number(first_day),
                day__lte=day_number(last_day),
            ).delete()
        day = first_day
        while day <= last_day:  # a month at a time keeps memory flat
            chunk_end = min(day + timedelta(days=31), last_day + timedelta(days=1))
            sessions = session_model.objects.filter(
                partner_id=partner_id,
                start_time__gte=day_start(day),
                start_time__lt=day_start(chunk_end),
            )
            contributions = stored_contributions(sessions, guest_model)
            prepared = prepare(contributions)
            for table in tables:  # days just emptied: every row is a new one
                _apply_to(table, table.model(apps), partner_id, [], prepared, place_model)
            total += len(contributions)
            day = chunk_end
        month = month_start(first_day)
        months = []
        while month <= last_day:
            months.append(month)
            month = next_month(month)
        mark_stale(partner_id, months, apps)
    return total


def rebuild_everything(apps: Apps | None = None, tables: tuple[Table, ...] | None = None) -> None:
    """Every partner's rollup rows over the span of its sessions: what a migration that adds a
    rollup table runs, so the dashboard reads the same figures before and after it."""
    session_model = (apps or installed_apps).get_model("sessions_app", "Session")
    spans = session_model.objects.values("partner_id").annotate(
        first=Min("start_time"), last=Max("start_time")
    )
    for span in spans.order_by():
        rebuild(span["partner_id"], span["first"].date(), span["last"].date(),
                apps=apps, tables=tables)  # fmt: skip


def stored_contributions(
    sessions: QuerySet, guest_model: type[Model] | None = None
) -> list[Contribution]:
    """The contributions of stored sessions (a queryset), as they are now."""
    guest_model = guest_model or Guest
    # A migration's historical model may be from before the wait was stored.
    has_wait = any(f.name == "wait_seconds" for f in sessions.model._meta.concrete_fields)
    rows = list(
        sessions.order_by().values_list(
            "pk", "start_time", "session_type", "status", "duration", "guest_count", "agent_id",
            "wait_seconds" if has_wait else "guest_count",
        )
    )  # fmt: skip
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
        Contribution(
            start, kind, status, duration, count, agent, visitor_places(guests[pk]),
            wait if has_wait else None,
        )
        for pk, start, kind, status, duration, count, agent, wait in rows
    ]  # fmt: skip
