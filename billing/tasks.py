"""Background work of the billing app: processing the webhook ledger (queue "high") and the
dunning of unpaid invoices."""

from celery import shared_task

from billing import services
from billing.models import WebhookEvent
from core.tasks import is_final_attempt, retry_later, retry_policy


@shared_task(bind=True, name="billing.webhook_process", **retry_policy())
def webhook_process(self, event_pk: int) -> str:
    """Applies one stored event; a failure (an object not committed yet, Stripe unreachable) is
    retried with the platform's backoff and stays visible in the admin as failed once retries
    run out. The failure is recorded on the row, not raised, so the retry is decided here."""
    event = services.webhook_event_process(event_pk=event_pk)
    if event.status == WebhookEvent.Status.FAILED and not is_final_attempt(self):
        retry_later(self)
    return event.status


@shared_task(name="billing.webhook_retry_stuck")
def webhook_retry_stuck() -> int:
    """Periodic (per tenant): events left pending or failed are queued again."""
    return services.webhook_events_retry_stuck()


@shared_task(name="billing.dunning_run")
def dunning_run() -> dict:
    """Periodic (per tenant): scheduled retries of unpaid invoices, then the dunning policy."""
    return services.dunning_run()
