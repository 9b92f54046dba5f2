"""The audit trail."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from sessions_app.models.partners import Partner


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
        AGENTS_CHANGED = "agents_changed", "Agent names or teams changed"

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
