"""Every write of the notifications app: queueing and delivering emails, tracking events, the
suppression list, preferences, branding and in-app notifications.

Other apps call `email_send` (one email), `notification_create` (one in-app notification) or
`notify` (both, as the user's preferences allow). Emails are always delivered by the Celery task
`notifications.send_email`, queued when the caller's transaction commits.

One module per sub-domain; the public names are re-exported here, so callers import them from
notifications.services.
"""

from notifications.services.branding import branding_update, sender_check
from notifications.services.dispatch import notify
from notifications.services.emails import (
    RETRYABLE_ERRORS,
    DeliveryRetryable,
    Status,
    email_send,
    message_deliver,
    message_resend,
)
from notifications.services.in_app import (
    notification_create,
    notification_mark_read,
    notifications_mark_all_read,
)
from notifications.services.preferences import (
    email_wanted,
    in_app_wanted,
    preference_set,
    unsubscribe,
)
from notifications.services.suppression import is_suppressed, suppression_add, suppression_remove
from notifications.services.tracking import tracking_event_record

__all__ = [
    "RETRYABLE_ERRORS",
    "DeliveryRetryable",
    "Status",
    "branding_update",
    "email_send",
    "email_wanted",
    "in_app_wanted",
    "is_suppressed",
    "message_deliver",
    "message_resend",
    "notification_create",
    "notification_mark_read",
    "notifications_mark_all_read",
    "notify",
    "preference_set",
    "sender_check",
    "suppression_add",
    "suppression_remove",
    "tracking_event_record",
    "unsubscribe",
]
