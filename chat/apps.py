from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rbac.registry import CRUD, register_resource

        # Single rooms can be granted through guardian (e.g. "moderate" one room).
        register_resource(
            "chat.room",
            description="Chat rooms.",
            actions=(*CRUD, "join", "moderate"),
            member=("read", "join"),
            manager=("create", "update", "moderate"),
            model="chat.Room",
        )
