"""Partners, their people and their settings: a partner (a Glance group and its credentials),
who may see it and in which role, invitations to join, and each user's preferences.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from sessions_app import crypto, waiting


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
    # The service-level target (waiting.py defines the figure): `percent` of offered sessions
    # joined within `seconds`.
    service_level_seconds = models.PositiveIntegerField(
        "service-level time (seconds)",
        default=waiting.DEFAULT_TARGET_SECONDS,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
        help_text="A session counts as answered in time when the other side joined within this.",
    )
    service_level_percent = models.PositiveSmallIntegerField(
        "service-level target (%)",
        default=waiting.DEFAULT_TARGET_PERCENT,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="The share of offered sessions you aim to answer in time.",
    )
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


class Profile(models.Model):
    """Per-user preferences: for now the time zone in which dates are shown and bucketed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="glance_profile"
    )
    time_zone = models.CharField(max_length=64, blank=True, help_text="empty = the site default")

    def __str__(self):
        return f"{self.user}: {self.time_zone or 'default time zone'}"
