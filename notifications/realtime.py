"""The one place in-app notifications are pushed to connected clients.

Live delivery belongs to the presence app (who is online, and on which websocket group). Until
it provides a per-user group, this is a no-op: clients see new notifications on their next
GET /api/v1/notifications/. Services call it through transaction.on_commit only.
"""

from notifications.models import Notification


def push_notification(*, notification: Notification) -> None:
    """Sends a stored notification to the user's open websocket connections (no-op for now)."""
    return None
