"""The one retry policy of background tasks: exponential backoff with full jitter, capped.

Tasks that fail for a reason worth retrying (a provider down, a row not committed yet) raise or
name a retryable exception and let Celery retry them::

    @shared_task(bind=True, name="app.work", **retry_policy(on=(ProviderDown,), max_retries=4))
    def work(self, pk): ...

Celery then retries with autoretry_for / retry_backoff / retry_jitter. A task that must decide
itself (mark a record failed on its last try) calls :func:`retry_later` and
:func:`is_final_attempt`, which use the same backoff.
"""

from __future__ import annotations

from celery.utils.time import get_exponential_backoff_interval

BACKOFF_FACTOR = 5  # seconds before the first retry (then 10, 20, ... with jitter)
BACKOFF_MAX = 600
DEFAULT_MAX_RETRIES = 5


def retry_policy(
    *, on: tuple[type[BaseException], ...] = (), max_retries: int = DEFAULT_MAX_RETRIES
) -> dict:
    """Keyword arguments for @shared_task: retry `on` these exceptions with the backoff."""
    policy = {
        "retry_backoff": BACKOFF_FACTOR,
        "retry_backoff_max": BACKOFF_MAX,
        "retry_jitter": True,
        "max_retries": max_retries,
    }
    if on:
        policy["autoretry_for"] = on
    return policy


def backoff_countdown(retries: int) -> int:
    """Seconds to wait before retry number `retries` + 1 (full jitter, capped)."""
    return get_exponential_backoff_interval(
        factor=BACKOFF_FACTOR, retries=retries, maximum=BACKOFF_MAX, full_jitter=True
    )


def is_final_attempt(task) -> bool:
    """True when this run of the bound task is its last allowed attempt."""
    return task.request.retries >= (task.max_retries or 0)


def retry_later(task, *, exc: BaseException | None = None):
    """Raises the bound task's retry with the policy's countdown."""
    raise task.retry(exc=exc, countdown=backoff_countdown(task.request.retries))
