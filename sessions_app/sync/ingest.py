"""Writing Glance session records into the database: one bulk upsert path for syncs and imports.

A batch is written in one transaction: its agents upserted, its sessions upserted on
(partner, Glance id), and each session's guests replaced together. Sessions and guests go in as
one executemany statement each: the ORM's bulk_create builds SQL for every few dozen rows
(SQLite's 999-parameter batches) and was most of the time a sync spent. Writing the same batch twice
leaves exactly the same rows, which is what makes a re-run or a resumed sync safe.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sessions_app.db import datetime_adapter, insert_many, select_in, update_many
from sessions_app.glance import fields
from sessions_app.glance.records import AgentRecord, SessionRecord
from sessions_app.models import Agent, Guest, Partner, Session
from sessions_app.models.sessions import countries_of  # noqa: F401 (in _session_row's code)
from sessions_app.rollups import write
from sessions_app.sync.retention import Cutoffs
from sessions_app.waiting import time_to_join

_ID_CHUNK = 2000  # ids per IN (…) lookup
# Sessions started within the full pass's look-back (with a day to spare) keep a fingerprint of
# their record: the scheduled passes read them again. Older ones are read again only when asked
# for (`sync_glance --since`), and are then simply written again; a backfill spends nothing on
# the digests of a year it will not see twice.

# The columns an upsert writes besides (partner, glance_id): Glance's session fields, then ours.
SESSION_FIELDS = [
    *(attr for attr in fields.attrs(fields.SESSION) if attr != "glance_id"),
    "end_time",
    "agent",
    "guest_count",
    "wait_seconds",
    "visitor_countries",
    "synced_at",
    "fingerprint",
]
# A guest's columns besides (session, position): Glance's guest fields.
GUEST_FIELDS = fields.attrs(fields.GUEST)


@dataclass
class WriteResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0  # older than the partner keeps sessions

    def __iadd__(self, other):
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped
        return self


def store_sessions(partner: Partner, records: list[SessionRecord]) -> WriteResult:
    """Upserts a batch of sessions (with their agents and guests) in one transaction, within the
    partner's retention: what retention would remove is not written in the first place. The
    partner's rollups change in the same transaction, by what the batch changed."""
    cut = Cutoffs.for_partner(partner)
    latest = {  # a repeated id: the last wins
        record.glance_id: record for record in records if record.start_time >= cut.sessions
    }
    skipped = len({record.glance_id for record in records}) - len(latest)
    fingerprints = _fingerprints(latest, cut)
    if not latest or _all_unchanged(partner, latest, fingerprints):
        return WriteResult(skipped=skipped)  # nothing new: nothing written, no chart goes stale
    with transaction.atomic():
        # Writes of one partner's sessions and rollups take turns (a sync and an import, say):
        # this UPDATE holds the partner's row until the transaction ends. It also tells cached
        # charts that the data changed.
        Partner.objects.filter(pk=partner.pk).update(data_generation=F("data_generation") + 1)
        agents = _upsert_agents(partner, latest_agents(latest.values()))
        stored = _stored(partner, list(latest))
        for glance_id in _unchanged(fingerprints, stored):
            del latest[glance_id]  # read again exactly as stored: left alone
        stored = {glance_id: row for glance_id, row in stored.items() if glance_id in latest}
        removed = (
            write.stored_contributions(
                Session.objects.filter(pk__in=[row.pk for row in stored.values()])
            )
            if stored
            else []
        )
        to_db = datetime_adapter()
        now = to_db(timezone.now())
        session_rows = [
            (*_session_row(partner, record, agents, now, to_db), fingerprints.get(glance_id))
            for glance_id, record in latest.items()
        ]
        written = insert_many(
            Session,
            ["partner", "glance_id", *SESSION_FIELDS],
            session_rows,
            conflict=["partner", "glance_id"],
            update=SESSION_FIELDS,
            returning=["glance_id", "id"],
        )
        new_ids = [glance_id for glance_id in latest if glance_id not in stored]
        if written is not None:  # PostgreSQL said, in the same statement
            pks = dict(written)
        else:
            pks = {glance_id: row.pk for glance_id, row in stored.items()}
            pks |= _session_pks(partner, new_ids)
        _replace_guests(latest, pks, [row.pk for row in stored.values()], cut, to_db)
        write.apply(partner.pk, removed, _contributions(latest, session_rows))
    # Re-read and written again: its compared fields changed, or its fingerprint did (a guest's
    # city, an agent's validity): the identical ones were dropped above.
    changed = sum(
        1
        for i, row in stored.items()
        if row.state != _state(latest[i]) or (row.fingerprint is not None and i in fingerprints)
    )
    return WriteResult(created=len(new_ids), updated=changed, skipped=skipped)


def _contributions(records: dict[int, SessionRecord], rows: list[tuple]) -> list:
    agent_column = 2 + SESSION_FIELDS.index("agent")
    wait_column = 2 + SESSION_FIELDS.index("wait_seconds")
    return [
        write.Contribution(
            start_time=record.start_time,
            session_type=record.session_type,
            status=record.status,
            duration=record.duration,
            guest_count=len(record.guests),
            agent_id=row[agent_column],
            wait=row[wait_column],
            places=write.visitor_places(
                (guest.guest_type, guest.country_code, guest.region, guest.city)
                for guest in record.guests
            ),
        )
        for record, row in zip(records.values(), rows, strict=True)
    ]


# What a re-read compares to tell an updated session from one that came back unchanged.
_STATE_FIELDS = (
    "session_type",
    "status",
    "duration",
    "guest_count",
    "key",
    "kbytes",
    "width",
    "height",
    "wait_seconds",
)


def _state(record: SessionRecord) -> tuple:
    return (
        record.session_type,
        record.status,
        record.duration,
        len(record.guests),
        record.key,
        record.kbytes,
        record.width,
        record.height,
        _wait(record),
    )


def _wait(record: SessionRecord) -> int | None:
    """The session's time to join, from its guests' own start times (waiting.py)."""
    return time_to_join((guest.guest_type, guest.start_time) for guest in record.guests)


@dataclass
class _Stored:
    pk: int
    fingerprint: int | None
    state: tuple


def _stored(partner: Partner, glance_ids: list[int]) -> dict[int, _Stored]:
    """The batch's sessions already stored: Glance id -> our key, fingerprint, compared fields."""
    rows = select_in(
        Session,
        ["glance_id", "id", "fingerprint", *_STATE_FIELDS],
        where={"partner": partner.pk},
        key="glance_id",
        values=glance_ids,
    )
    return {glance_id: _Stored(pk, fp, tuple(state)) for glance_id, pk, fp, *state in rows}


# Part of every digest: bump it when what a record's row holds changes (a derived column, a
# column's length), so the next full pass writes the recent sessions again.
FINGERPRINT_VERSION = 1


def _fingerprints(records: dict[int, SessionRecord], cut: Cutoffs) -> dict[int, int]:
    """{Glance id: a 64-bit digest of the whole record (agent and guests included) and of
    which personal data retention lets it keep} for the records recent enough to be read again
    by a scheduled pass: a changed retention limit writes them again."""
    recent = timezone.now() - timedelta(hours=settings.GLANCE_LOOKBACK_HOURS + 24)
    return {
        glance_id: _digest(
            (
                FINGERPRINT_VERSION,
                record.start_time >= cut.ip,
                record.start_time >= cut.contact,
                record,
            )
        )
        for glance_id, record in records.items()
        if record.start_time >= recent
    }


def _digest(value) -> int:
    """A signed 64-bit digest of a value's repr: the same in every process (hash() is not)."""
    digest = hashlib.blake2b(repr(value).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _unchanged(fingerprints: dict[int, int], stored: dict[int, _Stored]) -> set[int]:
    """The Glance ids read again exactly as stored: the stored fingerprint is the record's."""
    return {
        glance_id
        for glance_id, digest in fingerprints.items()
        if glance_id in stored and stored[glance_id].fingerprint == digest
    }


def _all_unchanged(partner: Partner, records: dict, fingerprints: dict[int, int]) -> bool:
    """Whether every record is read again exactly as stored: looked up only when every one has a
    fingerprint, so a backfill of old sessions asks nothing here."""
    if len(fingerprints) != len(records):
        return False
    return _unchanged(fingerprints, _stored(partner, list(fingerprints))) == records.keys()


def latest_agents(records) -> set[AgentRecord]:
    """The records' agents, one per identity, the last one seen: an upsert may touch a row only
    once."""
    latest = {(r.agent.user_name[:255], r.agent.partner_user_id[:255]): r.agent
              for r in records if r.agent}  # fmt: skip
    return set(latest.values())


def _upsert_agents(partner: Partner, identities: set[AgentRecord]) -> dict[tuple, int]:
    """{(user name, partnerUserId): Agent pk} for the batch's agents: new ones inserted, and
    stored ones updated only where their validity changed. An upsert of every agent on every
    page used up an id of the table's sequence each time (65,000 ids for 300 agents at a
    million sessions) and rewrote rows that had not changed."""
    if not identities:
        return {}
    latest = {(a.user_name[:255], a.partner_user_id[:255]): a for a in identities}
    now = datetime_adapter()(timezone.now())
    known = _stored_agents(partner, {name for name, _ in latest})
    new = [key for key in latest if key not in known]
    if new:
        rows = [(partner.pk, *key, latest[key].valid_user, latest[key].invalid_reason, now)
                for key in new]  # fmt: skip
        identity = ["partner", "user_name", "partner_user_id"]
        fields = [*identity, "valid_user", "invalid_reason", "updated_at"]
        # A concurrent sync may have added the same agent since: its row stands.
        insert_many(Agent, fields, rows, conflict=identity)
        known = _stored_agents(partner, {name for name, _ in latest})
    changed = [
        (a.valid_user, a.invalid_reason, now, known[key][0])
        for key, a in latest.items()
        if known[key][1:] != (a.valid_user, a.invalid_reason)
    ]
    update_many(Agent, ["valid_user", "invalid_reason", "updated_at"], changed)
    return {key: pk for key, (pk, *_) in known.items()}


def _stored_agents(partner: Partner, names: set[str]) -> dict[tuple, tuple]:
    """{(user name, partnerUserId): (pk, valid_user, invalid_reason)} of the partner's agents
    with these user names."""
    rows = select_in(
        Agent,
        ["user_name", "partner_user_id", "id", "valid_user", "invalid_reason"],
        where={"partner": partner.pk},
        key="user_name",
        values=list(names),
    )
    return {(name, puid): (pk, bool(valid), reason) for name, puid, pk, valid, reason in rows}


def _session_pks(partner: Partner, glance_ids: list[int]) -> dict[int, int]:
    """Glance id -> our primary key, for those of `glance_ids` already stored."""
    rows = select_in(
        Session,
        ["glance_id", "id"],
        where={"partner": partner.pk},
        key="glance_id",
        values=glance_ids,
    )
    return dict(rows)


def _replace_guests(records: dict, pks: dict, old_pks: list, cut, to_db) -> None:
    """Guests of re-read sessions are deleted and written again with the rest."""
    for i in range(0, len(old_pks), _ID_CHUNK):
        Guest.objects.filter(session_id__in=old_pks[i : i + _ID_CHUNK]).delete()
    insert_many(
        Guest, ["session", "position", *GUEST_FIELDS], _guest_rows(records, pks, cut, to_db)
    )


# --- rows written out from the fields' table ----------------------------------------------
# A session's row and its guests' rows are built for every session a sync reads: they are
# written out from fields.SESSION and fields.GUEST as the code one would write by hand (see
# fields.define), each field in its database form within the partner's retention.


def _column_value(f: fields.Field, record: str, model) -> str:
    """The expression of a record's field as its column stores it."""
    value = f"{record}.{f.attr}"
    max_length = model._meta.get_field(f.attr).max_length
    if f.kind is fields.Kind.DATETIME:
        expression = f"to_db({value})" if f.required else f"(to_db({value}) if {value} else None)"
    elif f.kind is fields.Kind.TEXT and max_length:
        expression = f"({value}[:{max_length}] if {value} is not None else None)"
    else:  # codes are cut to their columns when read
        expression = value
    # Personal data past its retention limit (Cutoffs.ip, Cutoffs.contact) is not written.
    return f"({expression} if keep_{f.pii} else None)" if f.pii else expression


_SESSION_KEY_FIRST = sorted(fields.SESSION, key=lambda f: f.attr != "glance_id")
_session_row = fields.define(
    "def _session_row(partner, record, agents, now, to_db):\n"
    '    """A row in the order of ["partner", "glance_id", *SESSION_FIELDS], in database form."""\n'
    "    agent = record.agent\n"
    "    agent_id = (\n"
    "        agents.get((agent.user_name[:255], agent.partner_user_id[:255])) if agent else None\n"
    "    )\n"
    "    return (\n"
    "        partner.pk,\n"
    + "".join(f"        {_column_value(f, 'record', Session)},\n" for f in _SESSION_KEY_FIRST)
    + "        to_db(record.end_time),\n"
    "        agent_id,\n"
    "        len(record.guests),\n"
    "        _wait(record),\n"
    "        countries_of((g.guest_type, g.country_code) for g in record.guests),\n"
    "        now,\n"
    "    )\n",
    globals(),
)
_guest_rows = fields.define(
    "def _guest_rows(records, pks, cut, to_db):\n"
    '    """Rows of the sessions\' guests in the order of ["session", "position", *GUEST_FIELDS],\n'
    '    in database form, within retention."""\n'
    "    rows = []\n"
    "    for glance_id, record in records.items():\n"
    "        if not record.guests:\n"
    "            continue\n"
    "        session = pks[glance_id]\n"
    + "".join(
        f"        keep_{kind} = record.start_time >= cut.{kind}\n"
        for kind in fields.pii_kinds(fields.GUEST)
    )
    + "        rows += [\n"
    "            (\n"
    "                session,\n"
    "                position,\n"
    + "".join(f"                {_column_value(f, 'guest', Guest)},\n" for f in fields.GUEST)
    + "            )\n"
    "            for position, guest in enumerate(record.guests)\n"
    "        ]\n"
    "    return rows\n",
    globals(),
)
