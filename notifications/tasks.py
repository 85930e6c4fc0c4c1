"""Background work of the notifications app: delivering queued emails, with retries."""

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from notifications import services


@shared_task(bind=True, name="notifications.send_email")
def send_email(self, message_id: str) -> str | None:
    """Delivers one recorded message. Provider errors are retried with exponential backoff and
    jitter (CELERY_TASK_ANNOTATIONS); after NOTIFICATIONS["MAX_ATTEMPTS"] the message fails."""
    max_attempts = settings.NOTIFICATIONS["MAX_ATTEMPTS"]
    try:
        message = services.message_deliver(
            message_id=message_id, final_attempt=self.request.retries + 1 >= max_attempts
        )
    except services.DeliveryRetryable as exc:
        countdown = get_exponential_backoff_interval(
            factor=int(getattr(self, "retry_backoff", 1) or 1),
            retries=self.request.retries,
            maximum=int(getattr(self, "retry_backoff_max", 600)),
            full_jitter=bool(getattr(self, "retry_jitter", True)),
        )
        raise self.retry(exc=exc, countdown=countdown, max_retries=max_attempts - 1) from None
    return message.status if message else None
