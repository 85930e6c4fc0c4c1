"""Housekeeping: expired or long-revoked sessions, spent one-time tokens, expired JWT records."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import OneTimeToken, Session


@transaction.atomic
def accounts_cleanup(*, now: datetime | None = None) -> dict[str, int]:
    """Deletes expired or long-revoked sessions, used/expired one-time tokens and simplejwt's
    expired outstanding/blacklisted tokens."""
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ACCOUNTS["SESSION_RETENTION_DAYS"])
    _, sessions = Session.objects.filter(
        Q(expires_at__lte=now) | Q(revoked_at__lte=cutoff)
    ).delete()
    _, tokens = OneTimeToken.objects.filter(
        Q(expires_at__lte=now) | Q(used_at__isnull=False)
    ).delete()
    # Blacklist rows cascade from their outstanding token.
    _, outstanding = OutstandingToken.objects.filter(expires_at__lte=now).delete()
    return {
        "sessions": sessions.get("accounts.Session", 0),
        "one_time_tokens": tokens.get("accounts.OneTimeToken", 0),
        "outstanding_tokens": outstanding.get("token_blacklist.OutstandingToken", 0),
        "blacklisted_tokens": outstanding.get("token_blacklist.BlacklistedToken", 0),
    }
