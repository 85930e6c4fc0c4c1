"""Background tasks of the accounts app."""

from celery import shared_task


@shared_task(name="accounts.cleanup", acks_late=True)
def cleanup() -> dict[str, int]:
    """Deletes expired or long-revoked sessions, spent one-time tokens and accounts still
    unconfirmed after their grace period (idempotent)."""
    from accounts.services import accounts_cleanup

    return accounts_cleanup()
