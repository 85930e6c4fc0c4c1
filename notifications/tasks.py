"""Background work of the notifications app: delivering queued emails, with retries."""

from celery import shared_task
from django.conf import settings

from core.tasks import backoff_countdown
from notifications import services


@shared_task(bind=True, name="notifications.send_email")
def send_email(self, message_id: str) -> str | None:
    """Delivers one recorded message. Provider errors are retried with the platform's backoff
    (core.tasks); after NOTIFICATIONS["MAX_ATTEMPTS"] the message fails."""
    # The limit is the setting, read on each run, not the task's max_retries: the last attempt
    # must mark the message failed rather than leave it queued.
    max_attempts = settings.NOTIFICATIONS["MAX_ATTEMPTS"]
    try:
        message = services.message_deliver(
            message_id=message_id, final_attempt=self.request.retries + 1 >= max_attempts
        )
    except services.DeliveryRetryable as exc:
        raise self.retry(
            exc=exc, countdown=backoff_countdown(self.request.retries), max_retries=max_attempts - 1
        ) from None
    return message.status if message else None
