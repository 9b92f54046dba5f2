"""`make bench … --direct`: the simulator's sessions loaded straight into PostgreSQL by COPY, not
through HTTP and the sync, then the rollups built from them, so that ten million sessions take
minutes and the pages can be timed at that size.

The sessions are the ones a sync would store: each page is rendered as Glance's JSON and read
back by our own parser (glance.records), and its rows are made by ingest's own row builders;
only the writing differs (one COPY per table per page, ids numbered here, no upsert, no
rollup upkeep per page). Rollups are then rebuilt a month at a time (rollups.write.rebuild), and
the planner's statistics refreshed. Called by scripts/bench_worker.py on a fresh database.
"""

import sys
import time
from datetime import UTC, datetime

import orjson


def load(partners, since: datetime, until: datetime, sessions: int, days: int, agents: int):
    """Loads about `sessions` sessions over the partners (Partner rows of the simulator's ids),
    spread evenly over `days` days ending at `until`; returns what was loaded and how long each
    step took."""
    from django.db import connection

    from glance_sim import Simulator, render
    from glance_sim.simulator import PartnerSpec

    if connection.vendor != "postgresql":
        raise SystemExit("--direct loads by PostgreSQL's COPY: give --postgres-url")
    per_day = sessions / days / len(partners)
    specs = [
        PartnerSpec(p.glance_partner_id, p.api_key, sessions_per_day=per_day, agents=agents)
        for p in partners
    ]
    sim = Simulator(specs, now=until, history_days=days + 2)
    started = time.perf_counter()
    writer = _Writer()
    for partner in partners:
        next_id = 0
        while True:
            following, groups = sim.page(
                partner.glance_partner_id, since.timestamp(), until.timestamp(), "", 5000, next_id
            )
            body = orjson.loads(render.json_page(following, groups))["d"]
            writer.page(partner, body)
            if not following:
                break
            next_id = following
            if writer.sessions % 500_000 < 5000:
                print(f"  {writer.sessions:,} sessions loaded", file=sys.stderr)
    writer.finish()
    loaded = time.perf_counter() - started
    rolled = _rebuild(partners, since, until)
    with connection.cursor() as cursor:
        # What autovacuum does to a table that has had its inserts, in its own time: statistics,
        # and the visibility map without which no index-only scan (the percentiles' and the
        # scorecards' duration bands) skips the table.
        cursor.execute("VACUUM (ANALYZE)")
    return {
        "sessions": writer.sessions,
        "guests": writer.guests,
        "load_seconds": round(loaded, 1),
        "rollup_seconds": round(rolled, 1),
    }


class _Writer:
    """Writes pages of sessions and guests by COPY, numbering the sessions itself (a guest row
    names its session's id)."""

    def __init__(self):
        from django.db import connection

        from sessions_app.models import Guest, Session
        from sessions_app.sync import ingest

        connection.ensure_connection()
        self.cursor = connection.connection.cursor()
        self.session_sql = _copy_sql(Session, ["id", "partner", "glance_id",
                                               *ingest.SESSION_FIELDS])  # fmt: skip
        self.guest_sql = _copy_sql(Guest, ["session", "position", *ingest.GUEST_FIELDS])
        last = Session.objects.order_by("-pk").values_list("pk", flat=True).first()
        self.next_pk = 1 + (last or 0)
        self.sessions = self.guests = 0

    def page(self, partner, body: dict) -> None:
        from django.utils import timezone

        from sessions_app.db import datetime_adapter
        from sessions_app.glance.records import page_from_group
        from sessions_app.sync import ingest
        from sessions_app.sync.retention import Cutoffs

        cut = Cutoffs.for_partner(partner)  # what a sync would skip as past retention
        records = {
            r.glance_id: r for r in page_from_group(body).sessions if r.start_time >= cut.sessions
        }
        agents = ingest._upsert_agents(partner, ingest.latest_agents(records.values()))
        to_db = datetime_adapter()
        now = to_db(timezone.now())
        pks = {}
        with self.cursor.copy(self.session_sql) as copy:
            for glance_id, record in records.items():
                pks[glance_id] = self.next_pk
                row = ingest._session_row(partner, record, agents, now, to_db)
                copy.write_row((self.next_pk, *row, None))  # no fingerprint: never re-read
                self.next_pk += 1
        guests = ingest._guest_rows(records, pks, cut, to_db)
        with self.cursor.copy(self.guest_sql) as copy:
            for row in guests:
                copy.write_row(row)
        self.sessions += len(records)
        self.guests += len(guests)

    def finish(self) -> None:
        self.cursor.execute(
            "SELECT setval(pg_get_serial_sequence('sessions_app_session', 'id'), %s)",
            [self.next_pk - 1],
        )


def _copy_sql(model, names: list[str]) -> str:
    columns = ", ".join(f'"{model._meta.get_field(name).column}"' for name in names)
    return f"COPY {model._meta.db_table} ({columns}) FROM STDIN"


def _rebuild(partners, since: datetime, until: datetime) -> float:
    from sessions_app.rollups import months, write

    started = time.perf_counter()
    for partner in partners:
        write.rebuild(partner.pk, since.date(), until.astimezone(UTC).date())
        months.compact(partner.pk)  # the month rows of every month that is over
    return time.perf_counter() - started
