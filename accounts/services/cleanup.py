"""Housekeeping: expired or long-revoked sessions and spent one-time tokens are deleted."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import OneTimeToken, Session


@transaction.atomic
def accounts_cleanup(*, now: datetime | None = None) -> dict[str, int]:
    """Deletes expired or long-revoked sessions and used or expired one-time tokens."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ACCOUNTS["SESSION_RETENTION_DAYS"])
    _, sessions = Session.objects.filter(
        Q(expires_at__lte=now) | Q(revoked_at__lte=cutoff)
    ).delete()
    _, tokens = OneTimeToken.objects.filter(
        Q(expires_at__lte=now) | Q(used_at__isnull=False)
    ).delete()
    return {
        "sessions": sessions.get("accounts.Session", 0),
        "one_time_tokens": tokens.get("accounts.OneTimeToken", 0),
    }
