"""Tenant admin of presence: who was last seen when, and who hides their presence."""

from django.contrib import admin

from presence.models import PresenceStatus


@admin.register(PresenceStatus)
class PresenceStatusAdmin(admin.ModelAdmin):
    list_display = ["user", "last_seen_at", "hidden", "updated_at"]
    list_filter = ["hidden"]
    list_select_related = ["user"]
    list_per_page = 50
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
    readonly_fields = ["last_seen_at", "updated_at"]
