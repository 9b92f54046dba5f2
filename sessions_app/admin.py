"""The Django admin, for superusers only: its add and change forms offer every partner and
user, so a partner admin manages their partners on our own pages instead. Lists still go
through the access helper, and API keys are write-only."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db import models

from sessions_app.accounts import access, members
from sessions_app.accounts.partners import save_partner
from sessions_app.forms import PartnerForm
from sessions_app.models import Agent, AuditEvent, Membership, Partner, Role, SyncRun


def _superusers_only(request):
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = _superusers_only


class ScopedAdmin(admin.ModelAdmin):
    """Limits a model's admin list to the partners the staff member administers."""

    partner_path = "partner"

    def get_queryset(self, request):
        partners = access.partners_for(request.user, Role.ADMIN)
        return super().get_queryset(request).filter(**{f"{self.partner_path}__in": partners})


@admin.register(Partner)
class PartnerAdmin(ScopedAdmin):
    form = PartnerForm
    partner_path = "pk"
    list_display = [
        "name",
        "glance_partner_id",
        "enabled",
        "sync_interval_minutes",
        "sync_watermark",
    ]
    readonly_fields = ["key_on_file", "sync_watermark", "created_at", "updated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        save_partner(form, request=request)  # obj is the form's instance

    @admin.display(description="API key on file")
    def key_on_file(self, obj):
        return obj.api_key_hint or "not set"


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    """Grants and revocations go through accounts, so they are audited like those on our pages."""

    list_display = ["user", "partner", "role"]
    list_filter = ["role", "partner"]

    def save_model(self, request, obj, form, change):
        if change and {"user", "partner"} & set(form.changed_data):
            old = Membership.objects.get(pk=obj.pk)
            members.revoke(old.partner, old.user, request=request)
        obj.pk = members.grant(obj.partner, obj.user, obj.role, request=request).pk

    def delete_model(self, request, obj):
        members.revoke(obj.partner, obj.user, request=request)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("partner", "user"):
            members.revoke(membership.partner, membership.user, request=request)


admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(UserAdmin):
    """Django's user admin, with every change (staff and superuser flags above all) audited."""

    def save_model(self, request, obj, form, change):
        members.save_user(obj, form.changed_data, request=request, created=not change)


@admin.register(Agent)
class AgentAdmin(ScopedAdmin):
    list_display = ["user_name", "partner_user_id", "partner", "valid_user"]
    list_filter = ["partner", "valid_user"]
    search_fields = ["user_name", "partner_user_id"]


class ReadOnlyAdmin(ScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "partner",
        "trigger",
        "state",
        "started_at",
        "finished_at",
        "pages",
        "sessions_created",
        "sessions_updated",
    ]
    list_filter = ["state", "trigger", "partner"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_name", "action", "partner", "summary", "ip"]
    list_filter = ["action"]

    def get_queryset(self, request):
        return access.audit_events_for(request.user)
