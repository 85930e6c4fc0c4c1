"""Processes failed (or given) Stripe events of the current workspace again.

manage.py tenants_run --tenant alpha billing_replay_events            # failed events of alpha
manage.py tenants_run --tenant alpha billing_replay_events evt_123    # one event
manage.py tenants_run billing_replay_events --queue                   # every workspace, via Celery
"""

from django.core.management.base import BaseCommand

from billing import services
from billing.models import WebhookEvent


class Command(BaseCommand):
    help = "Replay failed Stripe webhook events (or the given event ids) in this workspace."

    def add_arguments(self, parser):
        parser.add_argument("event_ids", nargs="*", help="Stripe event ids (evt_...)")
        parser.add_argument(
            "--queue", action="store_true", help="queue to Celery instead of processing here"
        )

    def handle(self, *args, event_ids, queue, **options):
        events = WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED)
        events = (
            events.filter(event_id__in=event_ids)
            if event_ids
            else events.filter(status=WebhookEvent.Status.FAILED)
        )
        counts: dict[str, int] = {}
        for pk in events.order_by("received_at").values_list("pk", flat=True):
            if queue:
                services.webhook_event_replay(event_pk=pk)
                status = "queued"
            else:
                status = services.webhook_event_process(event_pk=pk).status
            counts[status] = counts.get(status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing"
        self.stdout.write(f"Replayed: {summary}.")
