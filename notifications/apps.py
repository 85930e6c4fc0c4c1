from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import tracking

        from notifications.webhooks import tracking_received

        tracking.connect(tracking_received, dispatch_uid="notifications.tracking")
