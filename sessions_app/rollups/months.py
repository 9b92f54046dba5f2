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
    groups: dict[tuple, list] = defaultdict(list)
    width = len(prefix) + 2
    for row in rows:
        groups[row[:width]].append(row[width:])
    to_db = write._db_values_of(month_model, measures)
    month = write.day_number(first)
    created = [
        (partner_id, *key[: len(prefix)], month, *key[len(prefix) :],
         *to_db(_summed(measures, values)))
        for key, values in groups.items()
    ]  # fmt: skip
    month_model.objects.filter(partner_id=partner_id, day=month).delete()
    insert_many(
        month_model, ["partner", *prefix, "day", "session_type", "status", *measures], created
    )


def _summed(measures: list[str], rows: list[tuple]) -> "write._Measures":
    """The sum of day rows' measures (in `measures` order), in the forms a row stores."""
    column = {name: [write._from_db(name, row[i]) for row in rows]
              for i, name in enumerate(measures)}  # fmt: skip
    agents = _add_dicts(column["agents"])
    countries = _add_dicts(column["countries"])
    return write._Measures(
        sessions=sum(column["sessions"]),
        guests=sum(column["guests"]),
        seconds=sum(column["seconds"]),
        quarters=_add_arrays(column["quarters"]),
        durations=_add_records(column["durations"], write.SPARSE, "band"),
        agents=agents,
        countries=countries,
        agent_ids=np.array(sorted(int(i) for i in agents), np.int64).tobytes(),
        country_codes=orjson.dumps(sorted(countries)).decode(),
        places=_add_records(column["places"], write.PLACE_PAIR, "place"),
        place_sessions=_add_records(column["place_sessions"], write.PLACE_PAIR, "place"),
        # By wait alone, under quarter 0: a month row serves the service figures, which read
        # waits and counts, never the quarter hour (the service-level chart cuts days into local
        # hours from day rows). By quarter, a month row held up to 96 times the pairs, and
        # reading them was most of the overview at ten million sessions.
        waits=_add_records(column["waits"], write.WAIT, "wait"),
    )


def _add_dicts(dicts: list[dict]) -> dict:
    out: dict = defaultdict(int)
    for counts in dicts:
        for key, n in (counts or {}).items():
            out[key] += n
    return {key: n for key, n in out.items() if n}


def _add_arrays(blobs: list[bytes]) -> bytes:
    total = np.zeros(write.QUARTERS, np.int64)
    for blob in blobs:
        total += write.array_of(blob, write.QUARTERS)
    return total.astype(write.DTYPE).tobytes()


def _add_records(blobs: list[bytes], dtype: np.dtype, key: str) -> bytes:
    """Records of (key, n) summed by key, sorted by key, zero counts dropped; a record's other
    fields (a wait's quarter) are left 0."""
    records = np.frombuffer(b"".join(blob for blob in blobs if blob), dtype)
    if not len(records):
        return b""
    distinct, inverse = np.unique(records[key], return_inverse=True)
    counts = np.rint(np.bincount(inverse, weights=records["n"])).astype(np.int64)
    kept = counts != 0
    out = np.zeros(int(kept.sum()), dtype)
    out[key], out["n"] = distinct[kept], counts[kept]
    return out.tobytes()
