"""Provider tracking events (webhooks): message status and event log, suppressions, opt-outs."""

import logging

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from core.services import model_update
from notifications import registry
from notifications.models import Message, MessageEvent, Suppression
from notifications.services.preferences import preference_set
from notifications.services.suppression import suppression_add

logger = logging.getLogger(__name__)

Status = Message.Status

# Later states win; a message never goes back (a late "delivered" after a bounce is ignored).
_RANK = {
    Status.QUEUED: 0,
    Status.SENT: 1,
    Status.DELIVERED: 2,
    Status.FAILED: 3,
    Status.BOUNCED: 3,
    Status.COMPLAINED: 4,
}
_EVENT_STATUS = {
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "bounced": Status.BOUNCED,
    "rejected": Status.FAILED,
    "failed": Status.FAILED,
    "complained": Status.COMPLAINED,
}


def _tracked_message(*, metadata: dict, provider_message_id: str) -> tuple[str | None, str | None]:
    """(schema, message id) the event refers to, from the metadata sent with the message."""
    from tenants.models import Tenant

    schema, message_id = metadata.get("schema"), metadata.get("message")
    if schema and schema != get_public_schema_name():
        if not Tenant.objects.filter(schema_name=str(schema)).exists():
            return None, None
    elif not schema:
        schema = get_public_schema_name()
    if not message_id:
        with schema_context(schema):
            found = (
                Message.objects.filter(provider_message_id=provider_message_id)
                .values_list("pk", flat=True)
                .first()
                if provider_message_id
                else None
            )
        message_id = str(found) if found else None
    return str(schema), message_id


def tracking_event_record(
    *,
    event_type: str,
    recipient: str = "",
    provider_message_id: str = "",
    event_id: str = "",
    timestamp=None,
    metadata: dict | None = None,
    reject_reason: str = "",
    description: str = "",
    payload: dict | None = None,
) -> Message | None:
    """Applies a provider's tracking event: the message's status, its event log, the
    suppression list (hard bounces, complaints) and provider-side unsubscribes."""
    metadata = metadata or {}
    schema, message_id = _tracked_message(
        metadata=metadata, provider_message_id=provider_message_id or ""
    )
    suppress = event_type in ("bounced", "complained") or (
        event_type == "rejected" and reject_reason in ("bounced", "spam")
    )
    if suppress and recipient:
        reason = Suppression.Reason.COMPLAINT if event_type == "complained" else "bounce"
        suppression_add(email=recipient, reason=reason, detail=description or reject_reason)
    if schema is None or message_id is None:
        logger.info("Tracking event %s for an unknown message ignored", event_type)
        return None
    with schema_context(schema):
        return _message_event_apply(
            message_id=message_id,
            provider_message_id=provider_message_id or "",
            event_type=event_type,
            event_id=event_id or "",
            timestamp=timestamp or timezone.now(),
            description=description or "",
            payload=payload or {},
        )


@transaction.atomic
def _message_event_apply(
    *, message_id, provider_message_id, event_type, event_id, timestamp, description, payload
) -> Message | None:
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        return None
    if (
        provider_message_id
        and message.provider_message_id
        and provider_message_id != message.provider_message_id
    ):
        return None  # the metadata does not belong to this provider message
    if event_id and MessageEvent.objects.filter(message=message, event_id=event_id).exists():
        return message  # a webhook delivered twice
    MessageEvent.objects.create(
        message=message,
        event_type=event_type,
        event_id=event_id,
        occurred_at=timestamp,
        description=description[:2000],
        payload=payload,
    )
    updates = {}
    new_status = _EVENT_STATUS.get(event_type)
    if new_status and _RANK[new_status] > _RANK.get(message.status, 0):
        updates["status"] = new_status
        if new_status == Status.DELIVERED:
            updates["delivered_at"] = timestamp
        elif new_status in (Status.BOUNCED, Status.FAILED, Status.COMPLAINED):
            updates["failed_at"] = message.failed_at or timestamp
            updates["error"] = description[:2000] or message.error
    if provider_message_id and not message.provider_message_id:
        updates["provider_message_id"] = provider_message_id[:300]
    model_update(instance=message, fields=list(updates), data=updates)
    if event_type == "unsubscribed" and not registry.is_essential(message.category):
        preference_set(email=message.to_email, category=message.category, email_enabled=False)
    return message
