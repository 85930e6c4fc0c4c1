"""The one place in-app notifications are pushed to connected clients.

A stored notification is sent as {"type": "notification", "notification": {...}} to every open
/ws/chat/ connection of its user in the current tenant (core.realtime, the user's group);
offline users see it on their next GET /api/v1/notifications/.
Services call it through transaction.on_commit only.
"""

from django.db import connection

from core import realtime
from notifications.models import Notification


def notification_event(notification: Notification) -> dict:
    return {
        "type": "notification",
        "notification": {
            "id": str(notification.id),
            "kind": notification.kind,
            "category": notification.category,
            "title": notification.title,
            "body": notification.body,
            "url": notification.url,
            "data": notification.data,
            "created_at": notification.created_at.isoformat() if notification.created_at else None,
        },
    }


def push_notification(*, notification: Notification) -> None:
    """Sends a stored notification to the user's open websocket connections."""
    schema = connection.schema_name
    if schema == "public":
        return  # platform emails (sign-up) have no tenant websocket to reach
    realtime.send_event(
        realtime.user_group(schema, notification.user_id),
        notification_event(notification),
        handler=realtime.USER_EVENT,
    )
