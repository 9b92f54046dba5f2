"""What users make of the data: saved views and their emailed reports, alert rules, the wallboard's
live counts and kiosk links, API tokens and export jobs.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sessions_app.models.partners import Partner, email_list


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
    recipients = models.TextField(
        blank=True, help_text="emails of users who can see the view's data"
    )
    # The owner by their account, not an address: the report follows their email as it changes,
    # and waits while they have none.
    send_to_owner = models.BooleanField("send it to me", default=False)
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
        """Every address it goes to: the owner's (where they have one) and the others."""
        others = email_list(self.recipients)
        mine = self.owner.email if self.send_to_owner else ""
        if mine and mine.lower() not in {e.lower() for e in others}:
            return [mine, *others]
        return others

    @property
    def recipients_in_words(self) -> str:
        parts = ["you" if self.send_to_owner else "", self.recipients]
        return ", ".join(part for part in parts if part)


class AlertRule(models.Model):
    """A condition on one partner's data, checked after each of its syncs (alerts.py). It tells
    its recipients once when it starts to hold and once when it clears, never in between."""

    class Kind(models.TextChoices):
        LOW_CONNECTED_RATE = "low_connected_rate", "Connected rate below a threshold"
        NO_SESSIONS = "no_sessions", "No sessions during business hours"
        SYNC_FAILING = "sync_failing", "Sync failing"
        COMPLETENESS = "completeness", "Sessions missing after a re-sync"
        LOW_SERVICE_LEVEL = "low_service_level", "Service level below target"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    threshold = models.FloatField(
        null=True,
        blank=True,
        help_text="percent: the connected rate, or the service level (blank: the partner's own "
        "target)",
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
        if self.kind == self.Kind.LOW_SERVICE_LEVEL:
            floor = (
                f"{self.threshold:g}%"
                if self.threshold is not None
                else f"the target ({self.partner.service_level_percent}%)"
            )
            return f"service level below {floor} over the last {self.hours} h"
        return "sessions Glance counts still missing after a re-sync"

    @property
    def recipients(self) -> list[str]:
        return email_list(self.emails)


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
