"""Per-day sums of the sessions, by partner and by agent (sessions_app.rollups keeps them in
step), and per-month sums of those days for long ranges (compacted from the days once a month is
over; a month changed since is marked stale and read by its days)."""

from django.db import models

from sessions_app.models.partners import Partner
from sessions_app.models.sessions import Agent


class SummedMeasures(models.Model):
    """What a rollup row sums of its sessions; SessionRollup and AgentRollup differ only in key,
    and their months (SessionRollupMonth, AgentRollupMonth) only in spanning a month.

    Counts by quarter hour make any time zone's hours, days and weeks exact (every zone's offset
    is a whole number of quarter hours); counts by narrow duration band bound a percentile to a
    band that a small indexed query then reads exactly. Written in the same transaction as the
    sessions it sums (rollups.py keeps it in step, stats.py and rollup_stats.py read it)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+", db_index=False)
    # A number, not a date: a year's read is some 15,000 rows, and parsing their dates was half
    # the time of a chart (rollups.day_number and day_of convert).
    day = models.IntegerField(help_text="UTC day: days since 1970-01-01")
    session_type = models.CharField(max_length=32)
    status = models.CharField(max_length=32)
    sessions = models.PositiveIntegerField(default=0)
    guests = models.PositiveBigIntegerField(default=0)  # the sum of guest_count
    seconds = models.BigIntegerField(default=0)  # the sum of duration
    quarters = models.BinaryField(help_text="session starts per UTC quarter hour: 96 × uint32")
    durations = models.BinaryField(
        help_text="sessions per duration band (rollups.BANDS), as (band, count) pairs"
    )
    agents = models.JSONField(default=dict, help_text="{agent id: sessions}")
    countries = models.JSONField(default=dict, help_text="{country code: located visitors}")
    # The keys of the two above in the forms a page reads fastest: a year is some 15,000 rows,
    # and decoding their JSON objects was most of the overview's time.
    agent_ids = models.BinaryField(default=b"", help_text="sorted int64 agent ids")
    country_codes = models.TextField(default="[]", help_text="JSON list of country codes")
    places = models.BinaryField(
        default=b"", help_text="visitors per Place, as (place id, count) pairs"
    )
    # How many sessions had a visitor at each place, counted once per session at each level
    # (rollups.place_levels): what a click on a map or a city opens.
    place_sessions = models.BinaryField(
        default=b"", help_text="sessions per Place level key, as (place id, count) pairs"
    )
    # Each session's time to join where known (sessions_app.waiting): what service level, the
    # waiting percentiles and the service-level chart read, exactly, in any time zone.
    waits = models.BinaryField(
        default=b"", help_text="sessions per (UTC quarter, wait seconds), as triples"
    )

    class Meta:
        abstract = True


class SessionRollup(SummedMeasures):
    """One UTC day of one partner's sessions of one type and status, summed: what the dashboard
    reads instead of the sessions themselves."""

    class Meta:
        constraints = [
            # One row per key; the dashboard's reads are ranges of days within partners.
            models.UniqueConstraint(
                fields=["partner", "day", "session_type", "status"], name="uniq_rollup_key"
            ),
        ]

    def __str__(self):
        return f"{self.partner_id} {self.day} {self.session_type}/{self.status}: {self.sessions}"


class AgentRollup(SummedMeasures):
    """The same sums for one agent's sessions: what a page filtered by agents, and an agent's
    own page, read. A year of one agent is a few hundred rows however busy the agent is, where
    the partner's rows would not say which of their sessions were the agent's. Sessions with no
    agent have no row here; no agent filter selects them."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [
            # One row per key; an agent is one partner's, and reads are its ranges of days.
            models.UniqueConstraint(
                fields=["agent", "day", "session_type", "status"], name="uniq_agent_rollup_key"
            ),
        ]
        indexes = [
            # Every agent's rows of a partner's days: the scorecards read them unfiltered by agent.
            models.Index(fields=["partner", "day"], name="agent_rollup_partner_day_idx"),
        ]

    def __str__(self):
        return f"{self.agent_id} {self.day} {self.session_type}/{self.status}: {self.sessions}"


class SessionRollupMonth(SummedMeasures):
    """One UTC month of one partner's sessions of one type and status: the sum of its days'
    SessionRollup rows, `day` the month's first; its waits summed by wait alone, under quarter 0
    (months.compact). Written only by rollups.months.compact, for
    months that are over; read for the whole months inside a period unless StaleRollupMonth
    names the month."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "day", "session_type", "status"], name="uniq_rollup_month_key"
            ),
        ]

    def __str__(self):
        return f"{self.partner_id} month {self.day} {self.session_type}/{self.status}"


class AgentRollupMonth(SummedMeasures):
    """The same sums by agent: the sum of the month's AgentRollup rows."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "day", "session_type", "status"],
                name="uniq_agent_rollup_month_key",
            ),
        ]
        indexes = [
            # Every agent's months of a partner: the team figures read them unfiltered by agent.
            models.Index(fields=["partner", "day"], name="agent_month_partner_day_idx"),
        ]

    def __str__(self):
        return f"{self.agent_id} month {self.day} {self.session_type}/{self.status}"


class StaleRollupMonth(models.Model):
    """A partner's month whose day rows changed after its month rows were summed (or that was
    never summed): read by its days until rollups.months.compact sums it again. Marked in the
    same transaction as the change to the days."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.IntegerField(help_text="the month's first UTC day: days since 1970-01-01")
    # The next month's first day: a day row is in the month where day <= its day < end, which a
    # read asks of every stale month at once (figures.selection.coarse_parts).
    end = models.IntegerField(help_text="the next month's first UTC day")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "day"], name="uniq_stale_rollup_month"),
        ]

    def __str__(self):
        return f"{self.partner_id} month {self.day}: stale"
