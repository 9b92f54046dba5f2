from django.contrib import admin

from sessions_app.models import Agent, Partner, SyncRun


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "glance_partner_id",
        "enabled",
        "sync_interval_minutes",
        "sync_watermark",
    ]
    readonly_fields = ["sync_watermark", "created_at", "updated_at"]
    exclude = ["api_key_encrypted"]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["user_name", "partner_user_id", "partner", "valid_user"]
    list_filter = ["partner", "valid_user"]
    search_fields = ["user_name", "partner_user_id"]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
