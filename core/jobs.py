"""Reads about background jobs: queue lengths, live workers, recent failures."""

from datetime import timedelta

import redis
from django.conf import settings
from django.utils import timezone

# kombu's Redis transport keeps a queue's prioritised messages under "<queue>\x06\x16<step>".
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


def queue_lengths() -> dict[str, int]:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    lengths = {}
    for queue in settings.PLATFORM_TASK_QUEUES:
        keys = [queue] + [f"{queue}{_PRIORITY_SEPARATOR}{step}" for step in _PRIORITY_STEPS]
        pipe = client.pipeline()
        for key in keys:
            pipe.llen(key)
        lengths[queue] = sum(pipe.execute())
    return lengths


def live_workers(timeout: float = 1.0) -> list[str]:
    from celery import current_app as app

    replies = app.control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)


def broker_reachable() -> None:
    from celery import current_app as app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def recent_failures(*, hours: int = 24, limit: int = 20):
    from django_celery_results.models import TaskResult

    since = timezone.now() - timedelta(hours=hours)
    return TaskResult.objects.filter(status="FAILURE", date_done__gte=since).order_by("-date_done")[
        :limit
    ]
