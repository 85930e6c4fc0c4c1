"""Every write of the notifications app: queueing and delivering emails, tracking events, the
suppression list, preferences, branding and in-app notifications.

Other apps call `email_send` (one email), `notification_create` (one in-app notification) or
`notify` (both, as the user's preferences allow). Emails are always delivered by the Celery task
`notifications.send_email`, queued when the caller's transaction commits.
"""

import logging
import smtplib
from functools import partial

from anymail.exceptions import AnymailAPIError, AnymailError
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from notifications import realtime, registry
from notifications.errors import (
    EssentialCategory,
    MessageNotResendable,
    NotificationNotFound,
    SenderNotAllowed,
    UnknownCategory,
)
from notifications.models import (
    Branding,
    Message,
    MessageEvent,
    Notification,
    Preference,
    Suppression,
)
from notifications.rendering import base_url_current, brand_current, render_email, render_in_app

logger = logging.getLogger(__name__)

Status = Message.Status

# Provider or network trouble worth trying again; anything else fails the message at once.
RETRYABLE_ERRORS = (AnymailAPIError, smtplib.SMTPException, OSError)


class DeliveryRetryable(Exception):
    """The provider could not take the message now; the task retries with backoff."""


def _normalize(email: str) -> str:
    return email.strip().lower()


# --- Suppression list (platform-wide, in the public schema) ---------------------------------


def is_suppressed(email: str) -> bool:
    # One query on the public table by its qualified name, without switching the search path.
    quote = connection.ops.quote_name
    table = f"{quote(get_public_schema_name())}.{quote(Suppression._meta.db_table)}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE email = %s LIMIT 1", [_normalize(email)])  # noqa: S608
        return cursor.fetchone() is not None


def suppression_add(*, email: str, reason: str, detail: str = "") -> Suppression:
    with schema_context(get_public_schema_name()), transaction.atomic():
        suppression, _ = Suppression.objects.get_or_create(
            email=_normalize(email), defaults={"reason": reason, "detail": detail[:1000]}
        )
    return suppression


def suppression_remove(*, email: str) -> int:
    with schema_context(get_public_schema_name()), transaction.atomic():
        deleted, _ = Suppression.objects.filter(email=_normalize(email)).delete()
    return deleted


# --- Preferences ----------------------------------------------------------------------------


def email_wanted(*, email: str, category: str) -> bool:
    if registry.is_essential(category):
        return True
    return not Preference.objects.filter(
        email=_normalize(email), category=category, email_enabled=False
    ).exists()


def in_app_wanted(*, email: str, category: str) -> bool:
    if registry.is_essential(category):
        return True
    return not Preference.objects.filter(
        email=_normalize(email), category=category, in_app_enabled=False
    ).exists()


@transaction.atomic
def preference_set(
    *, email: str, category: str, email_enabled: bool | None = None, in_app: bool | None = None
) -> Preference:
    if category not in registry.CATEGORIES:
        raise UnknownCategory(fields={"category": [f"Unknown category {category!r}."]})
    if registry.is_essential(category) and (email_enabled is False or in_app is False):
        raise EssentialCategory(
            fields={"category": ["Account and security emails are always sent."]}
        )
    preference, _ = Preference.objects.get_or_create(email=_normalize(email), category=category)
    changed = []
    if email_enabled is not None and preference.email_enabled != email_enabled:
        preference.email_enabled = email_enabled
        changed.append("email_enabled")
    if in_app is not None and preference.in_app_enabled != in_app:
        preference.in_app_enabled = in_app
        changed.append("in_app_enabled")
    if changed:
        preference.save(update_fields=[*changed, "updated_at"])
    return preference


@transaction.atomic
def unsubscribe(*, email: str, category: str) -> Preference:
    """One-click unsubscribe from a category's emails (refused for essential categories)."""
    return preference_set(email=email, category=category, email_enabled=False)


# --- Sending --------------------------------------------------------------------------------


def _queue_delivery(message: Message) -> None:
    from notifications.tasks import send_email

    schema = connection.schema_name
    # The schema travels explicitly: the task must find the row where it was written.
    transaction.on_commit(
        partial(send_email.apply_async, args=[str(message.pk)], headers={"_schema_name": schema})
    )


@transaction.atomic
def email_send(
    *,
    to: str,
    template: str,
    context: dict | None = None,
    user=None,
    base_url: str = "",
) -> Message:
    """Records an email and queues its delivery for when the current transaction commits.

    Nothing is sent if the transaction rolls back. A suppressed address, or one that opted out of
    the template's (non-essential) category, gets a message in status "suppressed" and no task.
    `base_url` (scheme and host) prefixes links; the current tenant's host by default.
    """
    spec = registry.template_get(template)
    to = _normalize(to)
    message = Message(
        user=user,
        to_email=to,
        template=template,
        category=spec.category,
        context=context or {},
        base_url=base_url or base_url_current(),
    )
    reason = _skip_reason(to=to, category=spec.category)
    if reason:
        message.status = Status.SUPPRESSED
        message.error = reason
        message.context = {} if spec.sensitive else message.context
        message.context_redacted = spec.sensitive
    message.save()
    if not reason:
        _queue_delivery(message)
    return message


def _skip_reason(*, to: str, category: str) -> str:
    if is_suppressed(to):
        return "The address is on the suppression list."
    if not email_wanted(email=to, category=category):
        return f"The recipient unsubscribed from {category} emails."
    return ""


def _email_build(message: Message) -> EmailMultiAlternatives:
    brand = brand_current()
    rendered, unsubscribe_link = render_email(
        template=message.template,
        context=message.context,
        to_email=message.to_email,
        base_url=message.base_url,
        brand=brand,
    )
    headers = {}
    if unsubscribe_link:  # RFC 8058 one-click unsubscribe
        headers["List-Unsubscribe"] = f"<{unsubscribe_link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=brand.from_email,
        to=[message.to_email],
        reply_to=[brand.reply_to] if brand.reply_to else None,
        headers=headers,
    )
    email.attach_alternative(rendered.html, "text/html")
    # Anymail passes these to the provider, which echoes them in tracking webhooks.
    email.metadata = {"schema": connection.schema_name, "message": str(message.pk)}
    email.tags = [message.template]
    return email


def _finish(message: Message, **fields) -> None:
    spec = registry.TEMPLATES.get(message.template)
    if spec and spec.sensitive:
        fields.update(context={}, context_redacted=True)
    for name, value in fields.items():
        setattr(message, name, value)
    message.save(update_fields=[*fields, "updated_at"])


def message_deliver(*, message_id, final_attempt: bool = False) -> Message | None:
    """Hands a queued message to the email backend (called by the task; idempotent).

    Raises DeliveryRetryable on provider or network errors unless this is the final attempt,
    in which case the message is marked failed.
    """
    retry_error = None
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != Status.QUEUED:
            return message
        reason = _skip_reason(to=message.to_email, category=message.category)
        if reason:
            _finish(message, status=Status.SUPPRESSED, error=reason)
            return message
        message.attempts += 1
        now = timezone.now()
        try:
            email = _email_build(message)
            message.subject = email.subject[:300]
            email.send()
        except RETRYABLE_ERRORS as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if final_attempt:
                _finish(message, status=Status.FAILED, error=error, failed_at=now)
                message.save(update_fields=["attempts", "subject"])
                return message
            message.error = error
            message.save(update_fields=["attempts", "subject", "error", "updated_at"])
            retry_error = error
        except (AnymailError, Exception) as exc:  # a bad address, template or configuration
            logger.exception("Email %s failed permanently", message.pk)
            _finish(
                message,
                status=Status.FAILED,
                error=f"{type(exc).__name__}: {exc}"[:2000],
                failed_at=now,
            )
            message.save(update_fields=["attempts"])
            return message
        else:
            status = getattr(email, "anymail_status", None)
            provider_id = (getattr(status, "message_id", None) or "") if status else ""
            _finish(
                message,
                status=Status.SENT,
                sent_at=now,
                provider_message_id=str(provider_id)[:300],
                error="",
                attempts=message.attempts,
                subject=message.subject,
            )
    if retry_error:
        raise DeliveryRetryable(retry_error)
    return message


@transaction.atomic
def message_resend(*, message: Message) -> Message:
    """Queues a copy of a message (admin action). One-time links are not kept, so messages
    carrying them cannot be resent: the user asks for a new link instead."""
    spec = registry.TEMPLATES.get(message.template)
    if message.context_redacted or spec is None or spec.sensitive:
        raise MessageNotResendable()
    copy = email_send(
        to=message.to_email,
        template=message.template,
        context=message.context,
        user=message.user,
        base_url=message.base_url,
    )
    if copy.resent_from_id is None:
        copy.resent_from = message
        copy.save(update_fields=["resent_from"])
    return copy


# --- Tracking (provider webhooks) -----------------------------------------------------------

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
    changed = []
    new_status = _EVENT_STATUS.get(event_type)
    if new_status and _RANK[new_status] > _RANK.get(message.status, 0):
        message.status = new_status
        changed.append("status")
        if new_status == Status.DELIVERED:
            message.delivered_at = timestamp
            changed.append("delivered_at")
        elif new_status in (Status.BOUNCED, Status.FAILED, Status.COMPLAINED):
            message.failed_at = message.failed_at or timestamp
            message.error = description[:2000] or message.error
            changed += ["failed_at", "error"]
    if provider_message_id and not message.provider_message_id:
        message.provider_message_id = provider_message_id[:300]
        changed.append("provider_message_id")
    if changed:
        message.save(update_fields=[*changed, "updated_at"])
    if event_type == "unsubscribed" and not registry.is_essential(message.category):
        preference_set(email=message.to_email, category=message.category, email_enabled=False)
    return message


# --- Branding -------------------------------------------------------------------------------


def sender_check(from_email: str) -> None:
    """Refuses sender addresses outside NOTIFICATIONS["SENDER_DOMAINS"] (when it is set)."""
    domains = [d.lower() for d in settings.NOTIFICATIONS["SENDER_DOMAINS"]]
    if from_email and domains and from_email.lower().rpartition("@")[2] not in domains:
        raise SenderNotAllowed(
            fields={"from_email": [f"Send from an address at {', '.join(domains)}."]}
        )


@transaction.atomic
def branding_update(*, data: dict) -> Branding:
    """Creates or updates this schema's branding."""
    from_email = (data.get("from_email") or "").strip().lower()
    sender_check(from_email)
    branding = Branding.objects.select_for_update().first() or Branding()
    for name in ("name", "logo_url", "from_name", "reply_to", "primary_color", "footer"):
        if name in data:
            setattr(branding, name, data[name] or "")
    if "from_email" in data:
        branding.from_email = from_email
    branding.save()
    return branding


# --- In-app notifications -------------------------------------------------------------------


@transaction.atomic
def notification_create(
    *,
    user,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    category: str = "",
    data: dict | None = None,
) -> Notification | None:
    """Stores an in-app notification and pushes it to the user's open connections on commit.
    Returns None when the user turned the category's in-app notifications off."""
    if category and not in_app_wanted(email=user.email, category=category):
        return None
    notification = Notification.objects.create(
        user=user,
        kind=kind,
        category=category,
        title=title[:300],
        body=body,
        url=url[:500],
        data=data or {},
    )
    transaction.on_commit(partial(realtime.push_notification, notification=notification))
    return notification


@transaction.atomic
def notification_mark_read(*, user, notification_id) -> Notification:
    notification = Notification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        raise NotificationNotFound()
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- Both channels --------------------------------------------------------------------------


@transaction.atomic
def notify(
    *, user, template: str, context: dict | None = None, base_url: str = "", email: bool = True
) -> tuple[Message | None, Notification | None]:
    """Tells a user about something: an email and, for templates with an in-app version, an
    in-app notification, each as the user's preferences for the template's category allow."""
    spec = registry.template_get(template)
    context = {"name": user.name, **(context or {})}
    message = None
    if email and email_wanted(email=user.email, category=spec.category):
        message = email_send(
            to=user.email, template=template, context=context, user=user, base_url=base_url
        )
    notification = None
    if spec.in_app:
        title, body = render_in_app(template=template, context=context)
        notification = notification_create(
            user=user,
            kind=template,
            title=title,
            body=body,
            url=str(context.get("url", "")),
            category=spec.category,
            data={k: v for k, v in context.items() if isinstance(v, (str, int, float, bool))},
        )
    return message, notification
