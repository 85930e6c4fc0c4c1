"""Emails: recording one, queueing it on commit, delivering it (the task's work), resending."""

import logging
import smtplib
from functools import partial

from anymail.exceptions import AnymailAPIError, AnymailError
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.utils import timezone

from core.services import model_update
from notifications import registry
from notifications.errors import MessageNotResendable
from notifications.models import Message
from notifications.rendering import base_url_current, brand_current, render_email
from notifications.services._shared import normalize_email
from notifications.services.preferences import email_wanted
from notifications.services.suppression import is_suppressed

logger = logging.getLogger(__name__)

Status = Message.Status

# Provider or network trouble worth trying again; anything else fails the message at once.
RETRYABLE_ERRORS = (AnymailAPIError, smtplib.SMTPException, OSError)


class DeliveryRetryable(Exception):
    """The provider could not take the message now; the task retries with backoff."""


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
    to = normalize_email(to)
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


def _bodies_kept(email: EmailMultiAlternatives) -> dict:
    """The rendered parts to keep on the record: only when settings.EMAIL_KEEP_BODIES is on."""
    if not settings.EMAIL_KEEP_BODIES:
        return {}
    html = next((body for body, mimetype in email.alternatives if mimetype == "text/html"), "")
    return {"body_text": email.body, "body_html": html}


def _finish(message: Message, **fields) -> None:
    """Writes the message's final state; a sensitive template's context is not kept."""
    spec = registry.TEMPLATES.get(message.template)
    if spec and spec.sensitive:
        fields.update(context={}, context_redacted=True)
    model_update(instance=message, fields=list(fields), data=fields)


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
        attempts = message.attempts + 1
        subject = message.subject
        now = timezone.now()
        try:
            email = _email_build(message)
            subject = email.subject[:300]
            email.send()
        except RETRYABLE_ERRORS as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if final_attempt:
                _finish(
                    message,
                    status=Status.FAILED,
                    error=error,
                    failed_at=now,
                    attempts=attempts,
                    subject=subject,
                )
                return message
            model_update(
                instance=message,
                fields=("attempts", "subject", "error"),
                data={"attempts": attempts, "subject": subject, "error": error},
            )
            retry_error = error
        except (AnymailError, Exception) as exc:  # a bad address, template or configuration
            logger.exception("Email %s failed permanently", message.pk)
            _finish(
                message,
                status=Status.FAILED,
                error=f"{type(exc).__name__}: {exc}"[:2000],
                failed_at=now,
                attempts=attempts,
            )
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
                attempts=attempts,
                subject=subject,
                **_bodies_kept(email),
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
