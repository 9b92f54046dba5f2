"""The sessions and their guests as Glance reported them, the agents who own them, and the places
guests were at.

Codes from Glance (session type and status, guest type and status) are stored exactly as they
came: the documented sets are open, so an unknown letter is data, not an error.
"""

import functools
import re

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from sessions_app import codes
from sessions_app.models.partners import Partner


class Team(models.Model):
    """A group of one partner's agents, named by its admins: what a lead compares."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [
            # "Tier 1" and "tier 1" are one team to the people who name them.
            models.UniqueConstraint(Lower("name"), "partner", name="uniq_team_name"),
        ]

    def __str__(self):
        return self.name


@functools.lru_cache(maxsize=4096)  # an export asks it of every row, for a few hundred agents
def name_from_user_name(user_name: str) -> str:
    """A person's name from a Glance user name, as the agents pages show it until an admin names
    them: "grace.nelson.acme.glance.net" is "Grace Nelson" (the last label before glance.net is
    the company), "g_nelson@acme.com" is "G Nelson". Anything else is shown as it is."""
    name = user_name.strip()
    lowered = name.lower()
    if lowered.endswith(".glance.net"):
        labels = name[: -len(".glance.net")].split(".")
        labels = labels[:-1] if len(labels) > 1 else labels
    elif "@" in name:
        labels = name.split("@", 1)[0].split(".")
    else:
        return name
    words = [w for label in labels for w in re.split(r"[_\-]+", label) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or name


def countries_of(guests) -> str:
    """Session.visitor_countries from its guests' (type, country code) pairs: the visitors'
    (not the Glance user's own seat) codes, upper case, each once, in code point order."""
    subscribers = codes.SUBSCRIBER_GUEST_TYPES
    found = {code.upper() for kind, code in guests if code and kind not in subscribers}
    return " ".join(sorted(found))


class Agent(models.Model):
    """A Glance user who owns sessions, as named in a `userSessions` group."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="agents")
    # Stored as "" when Glance sends null, so the identity constraint below can match them.
    user_name = models.CharField(max_length=255, blank=True)
    partner_user_id = models.CharField(max_length=255, blank=True)
    valid_user = models.BooleanField(default=True)
    invalid_reason = models.TextField(null=True, blank=True)
    # What the pages call the agent, given by the partner's admins; blank: from the user name.
    # A database default too: ingest inserts agents with plain SQL, naming only its columns.
    display_name = models.CharField(max_length=200, blank=True, default="", db_default="")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="agents"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_name"]
        constraints = [
            # The sync's agent upsert conflicts on it.
            models.UniqueConstraint(
                fields=["partner", "user_name", "partner_user_id"], name="uniq_agent_identity"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        """The display name, or one made from the Glance user name."""
        if self.display_name:
            return self.display_name
        if self.user_name:
            return name_from_user_name(self.user_name)
        return self.partner_user_id or f"agent {self.pk}"


class Session(models.Model):
    """One Glance session as PartnerCompletedSessions (or an imported file) reported it."""

    # No single-column indexes on the foreign keys: the composite ones below lead with them, and
    # every index is paid for on each of a sync's inserts.
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="sessions", db_index=False
    )
    glance_id = models.BigIntegerField()
    session_type = models.CharField(max_length=32)
    status = models.CharField(max_length=32)
    start_time = models.DateTimeField()
    # Glance sends no end time; it is start + duration, kept so ranges on it can use an index.
    end_time = models.DateTimeField()
    key = models.TextField(null=True, blank=True)  # a string even when it looks numeric
    width = models.IntegerField(null=True)
    height = models.IntegerField(null=True)
    duration = models.IntegerField(help_text="seconds")
    kbytes = models.BigIntegerField(null=True)  # the seed's XML records carry none
    is_reverse = models.BooleanField(null=True)
    agent = models.ForeignKey(
        Agent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
        db_index=False,
    )
    guest_count = models.PositiveSmallIntegerField(default=0)
    # From the guests' own start times at ingest (waiting.time_to_join); null where they cannot
    # tell the two sides apart, or one never came.
    wait_seconds = models.IntegerField("time to join (s)", null=True, blank=True)
    # Its visitors' country codes as exports show them: upper case, each once, in code point
    # order, separated by spaces (countries_of). Kept at ingest, because working it out from the
    # guests for every exported row was most of a CSV export on PostgreSQL.
    # A default in the database too, so a worker still running older code can add sessions.
    visitor_countries = models.TextField(default="", db_default="", blank=True, editable=False)
    synced_at = models.DateTimeField(default=timezone.now)
    # A digest of the record as Glance last sent it, kept for sessions recent enough to be read
    # again by the look-back (ingest._fingerprints): a re-read that matches it writes
    # nothing. Null elsewhere: such a session, read again, is simply written again.
    fingerprint = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-start_time", "-glance_id"]
        constraints = [
            # The sync's upsert conflicts on it: one row per Glance session and partner.
            models.UniqueConstraint(fields=["partner", "glance_id"], name="uniq_session_glance_id"),
        ]
        indexes = [
            # Session list and every date-range filter within a partner, newest first.
            models.Index(fields=["partner", "-start_time"], name="session_partner_start_idx"),
            # One agent's sessions by date (their page, the agent filter), covering what the
            # headline figures read: a year of a busy agent's figures then come from the index
            # alone, not from rows all over the table (docs/performance-notes.md).
            models.Index(
                fields=["agent", "-start_time", "partner", "duration", "status", "guest_count"],
                name="session_agent_cover_idx",
            ),
            # The session list across partners, newest first: read in order, never sorted, and
            # the partner check answered from the index (a million rows sort in seconds).
            models.Index(
                fields=["-start_time", "-glance_id", "partner"], name="session_newest_idx"
            ),
            # Exact percentiles: the few sessions in one narrow duration band (stats.percentiles).
            models.Index(fields=["partner", "duration", "start_time"], name="session_duration_idx"),
            # Exact per-agent medians: an agent's few sessions in one narrow duration band
            # (figures.scorecards), covering every filter the rollups serve.
            models.Index(
                fields=["agent", "duration", "start_time", "partner", "status", "session_type"],
                name="session_agent_duration_idx",
            ),
        ]

    def __str__(self):
        return f"session {self.glance_id}"

    def get_type_label(self):
        return codes.label(codes.SESSION_TYPES, self.session_type)

    def get_status_label(self):
        return codes.label(codes.SESSION_STATUSES, self.status)

    @property
    def duration_display(self):
        return codes.format_duration(self.duration)

    @property
    def wait_display(self):
        return codes.format_duration(self.wait_seconds)


class Guest(models.Model):
    """A participant of a session; the agent or host appears here too, as Glance reports it."""

    # Indexed by uniq_guest_position, which leads with it.
    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="guests", db_index=False
    )
    position = models.PositiveSmallIntegerField(help_text="order in Glance's guest list")
    guest_type = models.CharField(max_length=64, null=True, blank=True)
    status = models.CharField(max_length=32, null=True, blank=True)
    start_time = models.DateTimeField(null=True)
    duration = models.IntegerField(null=True)
    kbytes = models.BigIntegerField(null=True)
    ip = models.TextField(null=True, blank=True)
    client_version = models.TextField(null=True, blank=True)
    protocol_version = models.TextField(null=True, blank=True)
    city = models.TextField(null=True, blank=True)
    region = models.TextField(null=True, blank=True)
    country_code = models.TextField(null=True, blank=True)
    name = models.TextField(null=True, blank=True)
    email = models.TextField(null=True, blank=True)
    phone = models.TextField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            # A session's guests are replaced together; this makes a half-replaced set impossible.
            models.UniqueConstraint(fields=["session", "position"], name="uniq_guest_position"),
        ]

    def __str__(self):
        return f"guest {self.position} of {self.session_id}"


class Place(models.Model):
    """A guest location exactly as Glance reported it (nulls, blanks and case kept), numbered so
    that a rollup row can count its visitors by place in a few bytes each: a year of geography
    is then some 15,000 small arrays summed, not millions of guest rows grouped."""

    # [country, region, city] as JSON: one unique column, where a unique constraint over the
    # three nullable columns would let every row with a null in it repeat.
    key = models.TextField(unique=True)
    country_code = models.TextField(null=True)
    region = models.TextField(null=True)
    city = models.TextField(null=True)

    def __str__(self):
        return ", ".join(part for part in (self.city, self.region, self.country_code) if part)
