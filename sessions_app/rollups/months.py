"""Month rows: a partner's day rows summed by month, so that a long period reads a dozen rows per
key where it read a year of days (figures.selection picks them for the whole months inside a
period).

A month row is written here only, as the sum of its month's day rows, once the month is over.
Every change to a month's days marks the month stale in the same transaction
(write.mark_stale): ingest, retention, a rebuild, the migration that introduced month rows. A
stale month is read by its days until `compact` sums it again, so a read is exact whether or not
compaction has run. `compact` runs after a sync or import that wrote sessions, after retention,
and after a rebuild; each month in its own transaction, holding the partner's row as ingest
does, so no write of that partner's days interleaves.
"""

from collections import defaultdict
from datetime import UTC, date, datetime

import numpy as np
import orjson
from django.db import transaction
from django.utils import timezone

from sessions_app.db import fetch_rows, insert_many
from sessions_app.models import Partner, StaleRollupMonth
from sessions_app.rollups import write

# Each day table beside its month table.
PARTNER_MONTHS = write.Table("SessionRollupMonth", ())
AGENT_MONTHS = write.Table("AgentRollupMonth", ("agent",))
PAIRS = ((write.PARTNER_ROWS, PARTNER_MONTHS), (write.AGENT_ROWS, AGENT_MONTHS))
TABLES = (PARTNER_MONTHS, AGENT_MONTHS)


def compact(partner_id: int, now: datetime | None = None) -> int:
    """Sums each of the partner's stale months that is over (the current month changes every
    minute; it is read by its days); returns how many months were summed."""
    first_open = write.day_number(write.month_start((now or timezone.now()).astimezone(UTC).date()))
    months = StaleRollupMonth.objects.filter(partner_id=partner_id, day__lt=first_open)
    summed = 0
    for month in months.order_by("day").values_list("day", flat=True):
        with transaction.atomic():
            # Holds the partner's row as ingest does: no change to these days meanwhile.
            list(Partner.objects.select_for_update().filter(pk=partner_id).values_list("pk"))
            claimed = StaleRollupMonth.objects.filter(partner_id=partner_id, day=month).delete()
            if not claimed[0]:
                continue  # another compaction summed it meanwhile
            for days, months_table in PAIRS:
                sum_month(days, months_table, partner_id, write.day_of(month))
            summed += 1
    return summed


def sum_month(days: write.Table, months: write.Table, partner_id: int, first: date) -> None:
    """Replaces the partner's month rows of `first`'s month by the sums of its day rows."""
    day_model, month_model = days.model(), months.model()
    measures = write.measures_of(month_model)
    span = {"day__gte": write.day_number(first),
            "day__lt": write.day_number(write.next_month(first))}  # fmt: skip
    prefix = list(days.prefix)
    rows = fetch_rows(
        day_model.objects.filter(partner_id=partner_id, **span)
        .order_by()
        .values_list(*prefix, "session_type", "status", *measures)
    )
    width = len(prefix) + 2
    group_of: dict[tuple, int] = {}
    group = np.fromiter((group_of.setdefault(row[:width], len(group_of)) for row in rows),
                        np.int64, len(rows))  # fmt: skip
    columns = {name: [row[width + i] for row in rows] for i, name in enumerate(measures)}
    to_db = write._db_values_of(month_model, measures)
    month = write.day_number(first)
    created = [
        (partner_id, *key[: len(prefix)], month, *key[len(prefix) :], *to_db(summed))
        for key, summed in zip(group_of, _summed(columns, group, len(group_of)), strict=True)
    ]
    month_model.objects.filter(partner_id=partner_id, day=month).delete()
    insert_many(
        month_model, ["partner", *prefix, "day", "session_type", "status", *measures], created
    )


def _summed(columns: dict[str, list], group: np.ndarray, size: int) -> list["write._Measures"]:
    """The sums of day rows' measures by group (`group` numbers each row's), in the forms a row
    stores: each measure summed over every group at once. Summed a group at a time, the month
    rows were a sixth of a backfill's time."""
    ints = {
        name: _add_ints(columns[name], group, size) for name in ("sessions", "guests", "seconds")
    }
    agents = _add_dicts(columns["agents"], group, size)
    countries = _add_dicts(columns["countries"], group, size)
    quarters = _add_arrays(columns["quarters"], group, size)
    durations = _add_records(columns["durations"], group, size, write.SPARSE, "band")
    places = _add_records(columns["places"], group, size, write.PLACE_PAIR, "place")
    place_sessions = _add_records(columns["place_sessions"], group, size, write.PLACE_PAIR, "place")
    # By wait alone, under quarter 0: a month row serves the service figures, which read waits
    # and counts, never the quarter hour (the service-level chart cuts days into local hours
    # from day rows). By quarter, a month row held up to 96 times the pairs, and reading them
    # was most of the overview at ten million sessions.
    waits = _add_records(columns["waits"], group, size, write.WAIT, "wait")
    return [
        write._Measures(
            sessions=ints["sessions"][g],
            guests=ints["guests"][g],
            seconds=ints["seconds"][g],
            quarters=quarters[g],
            durations=durations[g],
            agents=agents[g],
            countries=countries[g],
            agent_ids=write._int64s(sorted(int(i) for i in agents[g])),
            country_codes=orjson.dumps(sorted(countries[g])).decode(),
            places=places[g],
            place_sessions=place_sessions[g],
            waits=waits[g],
        )
        for g in range(size)
    ]


def _add_ints(values: list[int], group: np.ndarray, size: int) -> list[int]:
    totals = np.bincount(group, weights=np.array(values, np.float64), minlength=size)
    return np.rint(totals).astype(np.int64).tolist()  # exact: sums stay far below 2^53


def _add_dicts(values: list, group: np.ndarray, size: int) -> list[dict]:
    out: list[dict] = [defaultdict(int) for _ in range(size)]
    for g, counts in zip(group.tolist(), values, strict=True):
        if isinstance(counts, str | bytes):
            counts = orjson.loads(counts)
        total = out[g]
        for key, n in (counts or {}).items():
            total[key] += n
    return [{key: n for key, n in total.items() if n} for total in out]


def _blobs(values: list) -> tuple[bytes, np.ndarray]:
    """The values' bytes joined, and each value's length in bytes."""
    parts = [bytes(value) if value else b"" for value in values]
    return b"".join(parts), np.fromiter(map(len, parts), np.int64, len(parts))


def _add_arrays(values: list, group: np.ndarray, size: int) -> list[bytes]:
    """Quarter-hour arrays summed by group; a row's empty array counts as zeros."""
    joined, lengths = _blobs(values)
    full = lengths > 0
    arrays = np.frombuffer(joined, write.DTYPE).reshape(-1, write.QUARTERS)
    # One bincount over (group, quarter) cells; np.add.at took ten times as long.
    cells = (group[full][:, None] * write.QUARTERS + np.arange(write.QUARTERS)).ravel()
    totals = np.bincount(cells, weights=arrays.ravel(), minlength=size * write.QUARTERS)
    totals = np.rint(totals).astype(write.DTYPE).reshape(size, write.QUARTERS)
    return [row.tobytes() for row in totals]


def _add_records(values: list, group: np.ndarray, size: int, dtype: np.dtype,
                 key: str) -> list[bytes]:  # fmt: skip
    """Records of (key, n) summed by group and key, each group's sorted by key, zero counts
    dropped; a record's other fields (a wait's quarter) are left 0."""
    joined, lengths = _blobs(values)
    records = np.frombuffer(joined, dtype)
    owner = np.repeat(group, lengths // dtype.itemsize)
    # One key for (group, record key): the record keys are below 2^32.
    combined = owner * (1 << 32) + records[key].astype(np.int64)
    distinct, inverse = np.unique(combined, return_inverse=True)
    counts = np.rint(np.bincount(inverse, weights=records["n"])).astype(np.int64)
    kept = counts != 0
    distinct, counts = distinct[kept], counts[kept]
    out = np.zeros(len(distinct), dtype)
    out[key], out["n"] = distinct & 0xFFFFFFFF, counts
    ends = np.searchsorted(distinct >> 32, np.arange(size), side="right")
    starts = np.concatenate(([0], ends))[:-1]
    return [out[a:b].tobytes() for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
