"""What glancedash stores: partners (Glance groups and their credentials), the agents who own
sessions, the sessions and their guests as Glance reported them, and a record of every sync.

Codes from Glance (session type and status, guest type and status) are stored exactly as they
came: the documented sets are open, so an unknown letter is data, not an error.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from sessions_app import codes, crypto


def email_list(text: str) -> list[str]:
    """Comma-separated addresses, as the alert and report forms take them."""
    return [email.strip() for email in text.split(",") if email.strip()]


def default_api_url():
    return settings.GLANCE_API_URL


def default_sync_minutes():
    return settings.GLANCE_DEFAULT_SYNC_MINUTES


class Partner(models.Model):
    """A Glance group (its "partner id") whose sessions we pull with its API key."""

    name = models.CharField(max_length=200)
    glance_partner_id = models.PositiveBigIntegerField(
        "Glance partner (group) id", help_text="The Group ID Glance assigned to this account."
    )
    api_key_encrypted = models.TextField(editable=False, default="")
    api_url = models.URLField("API endpoint", max_length=500, default=default_api_url)
    enabled = models.BooleanField(default=True)
    sync_interval_minutes = models.PositiveIntegerField(default=default_sync_minutes)
    backfill_start = models.DateField(
        null=True, blank=True, help_text="The first day to fetch; empty = a default look-back."
    )
    # Retention, by default Glance's own policy; apply_retention enforces it daily.
    retain_ip_days = models.PositiveIntegerField(
        "clear guest IP addresses after (days)", default=90
    )
    retain_contact_days = models.PositiveIntegerField(
        "clear guest name, email and phone after (days)", default=180
    )
    retain_sessions_days = models.PositiveIntegerField("delete sessions after (days)", default=730)
    sync_watermark = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Sessions before this are fully synced."
    )
    # A sync claims the partner by setting these in one conditional UPDATE; the lease expires on
    # its own, so a worker killed mid-sync never blocks the partner for good.
    sync_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    sync_claim_token = models.CharField(max_length=32, blank=True, editable=False)
    # Bumped in the transaction of every write to the partner's sessions (sync, import,
    # retention): cached chart data names the generations it was computed from.
    data_generation = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # add_partner matches on it; Glance ids are global.
            models.UniqueConstraint(fields=["glance_partner_id"], name="uniq_partner_glance_id"),
        ]

    def __str__(self):
        return f"{self.name} ({self.glance_partner_id})"

    # Owned by the statements that change them (the sync's conditional UPDATEs, the F() bump of
    # every write to the partner's data): an instance read before one of them ran holds an old
    # value, and saving it would move a claim, a watermark or a generation back.
    MANAGED_FIELDS = frozenset(
        {"sync_watermark", "sync_claimed_until", "sync_claim_token", "data_generation"}
    )

    def save(self, *args, **kwargs):
        """Saving an existing partner writes what a person edits, never the managed fields,
        unless `update_fields` names them."""
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.MANAGED_FIELDS
            ]
        super().save(*args, **kwargs)

    @property
    def api_key(self):
        return crypto.decrypt(self.api_key_encrypted) if self.api_key_encrypted else ""

    def set_api_key(self, raw_key):
        self.api_key_encrypted = crypto.encrypt(raw_key)

    @property
    def api_key_hint(self):
        """What may be shown of the key: its last four characters, never more."""
        try:
            key = self.api_key
        except crypto.DecryptionError:
            return "unreadable: enter the key again"
        return f"••••{key[-4:]}" if len(key) > 8 else ("••••" if key else "")


class Role(models.TextChoices):
    """What a user may do with one partner's data."""

    ADMIN = "admin", "Admin"  # manages the partner, its credentials, users and retention
    ANALYST = "analyst", "Analyst"  # every page and export, guest PII included
    VIEWER = "viewer", "Viewer"  # every page, no exports, guest PII masked


class Membership(models.Model):
    """A user's access to one partner, with a role."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner", "user__username"]
        constraints = [
            # access.partners_for() joins on user; one role per user and partner.
            models.UniqueConstraint(fields=["user", "partner"], name="uniq_membership"),
        ]

    def __str__(self):
        return f"{self.user} is {self.role} of {self.partner}"


class Agent(models.Model):
    """A Glance user who owns sessions, as named in a `userSessions` group."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="agents")
    # Stored as "" when Glance sends null, so the identity constraint below can match them.
    user_name = models.CharField(max_length=255, blank=True)
    partner_user_id = models.CharField(max_length=255, blank=True)
    valid_user = models.BooleanField(default=True)
    invalid_reason = models.TextField(null=True, blank=True)
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
        return self.user_name or self.partner_user_id or f"agent {self.pk}"


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
    synced_at = models.DateTimeField(default=timezone.now)

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
            # alone (75 ms instead of 140 ms at 47,000 sessions), not from rows all over the table.
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


class RollupMeasures(models.Model):
    """What a rollup row sums of its sessions; SessionRollup and AgentRollup differ only in key.

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
    agent_durations = models.BinaryField(
        default=b"", help_text="(agent id or 0, duration) of each session, sorted"
    )
    # How many sessions had a visitor at each place, counted once per session at each level
    # (rollups.place_levels): what a click on a map or a city opens.
    place_sessions = models.BinaryField(
        default=b"", help_text="sessions per Place level key, as (place id, count) pairs"
    )

    class Meta:
        abstract = True


class SessionRollup(RollupMeasures):
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


class AgentRollup(RollupMeasures):
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

    def __str__(self):
        return f"{self.agent_id} {self.day} {self.session_type}/{self.status}: {self.sessions}"


class SyncRun(models.Model):
    """One sync (or file import) of one partner: what it covered, how far it got, how it ended."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"
        MANUAL = "manual"
        COMMAND = "command"
        IMPORT = "import"

    class State(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    window_start = models.DateTimeField(null=True)
    window_end = models.DateTimeField(null=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True)
    windows_total = models.PositiveIntegerField(default=0)
    windows_done = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    sessions_created = models.PositiveIntegerField(default=0)
    sessions_updated = models.PositiveIntegerField(default=0)  # re-read and changed
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # Sync status: the latest runs of each partner.
            models.Index(fields=["partner", "-started_at"], name="syncrun_partner_started_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__isnull=True) | Q(window_end__gte=F("window_start")),
                name="syncrun_window_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.partner} {self.trigger} {self.state} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def progress_percent(self) -> int:
        """Windows done, as a share. A sync still running stays below 100 even after its last
        window: it then checks completeness and updates alerts before it ends."""
        if self.state != self.State.RUNNING:
            return 100
        if not self.windows_total:
            return 0
        return min(99, 100 * self.windows_done // self.windows_total)

    @property
    def finishing(self) -> bool:
        """Every window fetched, the run not yet ended."""
        return self.state == self.State.RUNNING and self.windows_done >= self.windows_total > 0


class CompletenessCheck(models.Model):
    """Glance's own count of one UTC month's ended sessions (PartnerSessionCounts), by type and
    status, against the sessions stored for the same range. One row per partner and month: the
    latest check replaces the one before, so a partner's months never overlap and its badge is
    their sum (see completeness.py)."""

    class State(models.TextChoices):
        COMPLETE = "complete"
        MISMATCH = "mismatch"
        FAILED = "failed"  # Glance's counts could not be read

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="completeness_checks"
    )
    month = models.DateField(help_text="the first day of the UTC month checked")
    range_start = models.DateTimeField()
    range_end = models.DateTimeField()
    checked_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=State.choices)
    expected = models.PositiveIntegerField(default=0)  # Glance's total
    stored = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)  # sum over groups Glance has more of
    extra = models.PositiveIntegerField(default=0)  # sum over groups we have more of
    # [{"type": "C", "status": "X", "expected": 3, "stored": 2}, ...] sorted by type, status
    groups = models.JSONField(default=list)
    # Set when the check came after re-syncing the range for an earlier mismatch: a mismatch
    # that survives that is shown as a warning, not quietly retried for ever.
    rechecked = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["partner", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "month"], name="uniq_completeness_month"),
            models.CheckConstraint(
                condition=Q(range_end__gte=F("range_start")), name="completeness_range_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.partner} {self.month:%Y-%m} {self.state}"

    @property
    def persisting(self) -> bool:
        return self.state == self.State.MISMATCH and self.rechecked


class SavedView(models.Model):
    """A page with its filters under a name: the owner's alone, or shared with everyone who can
    see `partner`. Opening it reopens `path?query` exactly (a preset such as "last 7 days" stays
    relative to the day it is opened)."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    path = models.CharField(max_length=200)  # one of the dashboard pages (saved_views.PAGES)
    query = models.TextField(blank=True, max_length=2000)
    partner = models.ForeignKey(
        Partner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_views",
        help_text="shared with everyone who can see this partner; empty: the owner's alone",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="uniq_saved_view_name"),
        ]

    def __str__(self):
        return self.name

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


class ReportSchedule(models.Model):
    """A saved view emailed daily, weekly or monthly to users who may see its data (reports.py).
    A django-q2 Schedule per report sends it (schedules.py keeps the two in step)."""

    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly (Mondays)"
        MONTHLY = "monthly", "Monthly (the 1st)"

    saved_view = models.ForeignKey(SavedView, on_delete=models.CASCADE, related_name="reports")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports"
    )
    frequency = models.CharField(max_length=16, choices=Frequency.choices)
    recipients = models.TextField(help_text="emails of users who can see the view's data")
    time_zone = models.CharField(max_length=64, default="UTC")
    send_hour = models.PositiveSmallIntegerField(default=7, help_text="local hour, 0-23")
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["saved_view", "frequency", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(send_hour__lte=23), name="report_send_hour"),
        ]

    def __str__(self):
        return f"{self.saved_view} ({self.frequency})"

    @property
    def recipient_list(self) -> list[str]:
        return email_list(self.recipients)


class AlertRule(models.Model):
    """A condition on one partner's data, checked after each of its syncs (alerts.py). It tells
    its recipients once when it starts to hold and once when it clears, never in between."""

    class Kind(models.TextChoices):
        LOW_CONNECTED_RATE = "low_connected_rate", "Connected rate below a threshold"
        NO_SESSIONS = "no_sessions", "No sessions during business hours"
        SYNC_FAILING = "sync_failing", "Sync failing"
        COMPLETENESS = "completeness", "Sessions missing after a re-sync"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    threshold = models.FloatField(
        null=True, blank=True, help_text="connected rate, percent (connected-rate rules)"
    )
    hours = models.PositiveIntegerField(
        default=2, help_text="the window looked at, or how long a sync may fail"
    )
    business_days = models.CharField(
        max_length=7, default="12345", help_text="ISO weekdays, 1 = Monday (no-session rules)"
    )
    business_start = models.PositiveSmallIntegerField(default=9, help_text="hour, 0-23")
    business_end = models.PositiveSmallIntegerField(default=17, help_text="hour, 1-24")
    time_zone = models.CharField(max_length=64, default="UTC")
    emails = models.TextField(blank=True, help_text="users of this partner, comma-separated")
    webhook_url = models.URLField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)
    # State: firing since when, what was last said, and the last delivery problem.
    firing_since = models.DateTimeField(null=True, blank=True)
    last_message = models.TextField(blank=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__isnull=True) | Q(threshold__gte=0, threshold__lte=100),
                name="alert_threshold_percent",
            ),
        ]

    def __str__(self):
        return f"{self.partner.name}: {self.describe()}"

    def describe(self) -> str:
        if self.kind == self.Kind.LOW_CONNECTED_RATE:
            return f"connected rate below {self.threshold:g}% over the last {self.hours} h"
        if self.kind == self.Kind.NO_SESSIONS:
            return (
                f"no session for {self.hours} h during business hours "
                f"({self.business_start}:00-{self.business_end}:00 {self.time_zone}, "
                f"days {self.business_days})"
            )
        if self.kind == self.Kind.SYNC_FAILING:
            return f"sync failing for more than {self.hours} h"
        return "sessions Glance counts still missing after a re-sync"

    @property
    def recipients(self) -> list[str]:
        return email_list(self.emails)


class Invitation(models.Model):
    """A partner's admin asking someone, by email, to join the partner in a role. The person
    accepts from the link in the email: logged in to their account, or making one. So an admin
    learns nothing of other companies' users, and nobody is added anywhere without saying yes.
    Only the token's SHA-256 is kept; a link works once, for INVITATION_DAYS."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip

    def __str__(self):
        return f"{self.email} to {self.partner} as {self.role}"


class LiveCounts(models.Model):
    """A partner's sessions active and waiting now, as the worker last asked Glance: in the
    database, so the worker's answer reaches every web process (a per-process cache would not),
    and `asked_at` lets one wall, in any process, ask for a refresh per period."""

    partner = models.OneToOneField(
        Partner, on_delete=models.CASCADE, primary_key=True, related_name="live_counts"
    )
    active = models.PositiveIntegerField(null=True)
    waiting = models.PositiveIntegerField(null=True)
    error = models.TextField(blank=True, help_text="why the last ask failed, in our own words")
    fetched_at = models.DateTimeField(null=True)
    asked_at = models.DateTimeField(null=True)

    def __str__(self):
        return f"{self.partner_id}: {self.active} active, {self.waiting} waiting"


class KioskLink(models.Model):
    """A revocable link that opens one partner's wallboard without a login, for a wall display.
    Only the token's SHA-256 is stored: the link is shown once, when it is made."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="kiosk_links")
    name = models.CharField(max_length=100, help_text="where it hangs, e.g. 'Support floor TV'")
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    time_zone = models.CharField(max_length=64, default="UTC")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["partner", "-created_at"]

    def __str__(self):
        return f"{self.partner.name}: {self.name}"


class ApiToken(models.Model):
    """A user's key to the read-only JSON API (api.py): it reads what its user may see, nothing
    more. Only its SHA-256 is stored; the token is shown once, when it is made."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)  # to tell tokens apart in the list
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "-created_at"]

    def __str__(self):
        return f"{self.user}: {self.name} ({self.prefix}…)"


class AuditEvent(models.Model):
    """Who did what, when: written once, never edited (save refuses an update)."""

    class Action(models.TextChoices):
        LOGIN = "login", "Login"
        LOGIN_FAILED = "login_failed", "Failed login"
        LOGOUT = "logout", "Logout"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PARTNER_CREATED = "partner_created", "Partner created"
        PARTNER_CHANGED = "partner_changed", "Partner changed"
        API_KEY_CHANGED = "api_key_changed", "API key replaced"
        CONNECTION_TESTED = "connection_tested", "Connection tested"
        SYNC_REQUESTED = "sync_requested", "Sync requested"
        USER_CREATED = "user_created", "User created"
        USER_CHANGED = "user_changed", "User changed"
        ACCESS_GRANTED = "access_granted", "Access granted"
        ACCESS_REVOKED = "access_revoked", "Access revoked"
        EXPORT = "export", "Export"
        PII_VIEWED = "pii_viewed", "Guest details viewed"
        RETENTION_APPLIED = "retention_applied", "Retention applied"
        API_TOKEN_CREATED = "api_token_created", "API token made"
        API_TOKEN_REVOKED = "api_token_revoked", "API token revoked"
        KIOSK_LINK_CREATED = "kiosk_link_created", "Kiosk link made"
        KIOSK_LINK_REVOKED = "kiosk_link_revoked", "Kiosk link revoked"
        ALERT_CHANGED = "alert_changed", "Alert rule changed"
        REPORT_CHANGED = "report_changed", "Emailed report changed"
        INVITATION_SENT = "invitation_sent", "Invitation sent"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)  # kept if the user is deleted
    action = models.CharField(max_length=32, choices=Action.choices)
    partner = models.ForeignKey(
        Partner, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    summary = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            # The audit page of one partner's admin, newest first.
            models.Index(fields=["partner", "-at"], name="audit_partner_at_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or 'system'}: {self.summary}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("audit events are never edited")
        super().save(*args, **kwargs)


class Profile(models.Model):
    """Per-user preferences: for now the time zone in which dates are shown and bucketed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="glance_profile"
    )
    time_zone = models.CharField(max_length=64, blank=True, help_text="empty = the site default")

    def __str__(self):
        return f"{self.user}: {self.time_zone or 'default time zone'}"


class ExportJob(models.Model):
    """A large Excel export, built by a background worker while the user watches its progress."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file_format = models.CharField(max_length=8, default="xlsx")
    rows = models.CharField(max_length=16, default="sessions")  # sessions | guests
    query = models.TextField(help_text="the filter, with its dates fixed when the job was made")
    time_zone = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True)
    path = models.CharField(max_length=500, blank=True)
    # The partners whose rows the file may hold, fixed when it is built: downloading it needs the
    # analyst role on every one of them still.
    partner_ids = models.JSONField(default=list)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"export {self.pk} ({self.state})"

    @property
    def percent(self) -> int:
        return round(100 * self.rows_done / self.rows_total) if self.rows_total else 0


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
