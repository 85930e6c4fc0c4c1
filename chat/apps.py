from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from chat.selectors import room_groups_for_user
        from presence.events import register_audience
        from rbac.registry import CRUD, register_resource

        # A member's presence changes are announced to every room they are in.
        register_audience(room_groups_for_user)

        # Single rooms can be granted through guardian (e.g. "moderate" one room).
        register_resource(
            "chat.room",
            description="Chat rooms.",
            actions=(*CRUD, "join", "moderate"),
            member=("read", "join"),
            manager=("create", "update", "moderate"),
            model="chat.Room",
        )
