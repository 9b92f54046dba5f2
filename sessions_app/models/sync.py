"""A record of every sync, and of each month checked against Glance's own counts."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from sessions_app.models.partners import Partner


class SyncRun(models.Model):
    """One sync (or file import) of one partner: what it covered, how far it got, how it ended."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"
        QUICK = "quick"  # the frequent pass over the last minutes (GLANCE_QUICK_SYNC_MINUTES)
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
