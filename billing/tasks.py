"""Background work of the billing app: processing the webhook ledger (queue "high")."""

from celery import shared_task

from billing import services
from billing.models import WebhookEvent


@shared_task(bind=True, name="billing.webhook_process")
def webhook_process(self, event_pk: int) -> str:
    """Applies one stored event; a failure (an object not committed yet, Stripe unreachable) is
    retried with exponential backoff (max_retries from CELERY_TASK_ANNOTATIONS) and stays visible
    in the admin once retries run out."""
    event = services.webhook_event_process(event_pk=event_pk)
    if event.status == WebhookEvent.Status.FAILED and self.request.retries < self.max_retries:
        raise self.retry(countdown=min(5 * 2**self.request.retries, 600))
    return event.status


@shared_task(name="billing.webhook_retry_stuck")
def webhook_retry_stuck() -> int:
    """Periodic (per tenant): events left pending or failed are queued again."""
    return services.webhook_events_retry_stuck()
