from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from chat.models import Message, MessageEdit, Room, RoomMember


class RoomMemberInline(admin.TabularInline):
    model = RoomMember
    raw_id_fields = ["user"]
    extra = 0
    readonly_fields = ["last_read_message_id", "last_read_at", "created_at"]


@admin.register(Room)
class RoomAdmin(GuardedModelAdmin):
    list_display = ["id", "kind", "name", "created_by", "archived_at", "last_message_at"]
    list_filter = ["kind"]
    list_select_related = ["created_by"]
    list_per_page = 50
    search_fields = ["name"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["direct_key", "last_message_at", "created_at", "updated_at"]
    inlines = [RoomMemberInline]


@admin.register(RoomMember)
class RoomMemberAdmin(admin.ModelAdmin):
    rbac_resource = "chat.room"
    list_display = ["room", "user", "role", "last_read_message_id", "created_at"]
    list_filter = ["role"]
    list_select_related = ["room", "user"]
    list_per_page = 50
    search_fields = ["user__email", "room__name"]
    raw_id_fields = ["room", "user"]


class MessageEditInline(admin.TabularInline):
    model = MessageEdit
    extra = 0
    readonly_fields = ["body", "edited_at"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "room", "sender", "created_at", "edited_at", "deleted_at"]
    list_select_related = ["room", "sender"]
    list_per_page = 50
    search_fields = ["body"]
    raw_id_fields = ["room", "sender"]
    readonly_fields = ["client_id", "created_at", "edited_at", "deleted_at"]
    inlines = [MessageEditInline]
