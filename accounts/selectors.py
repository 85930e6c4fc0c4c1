"""Reads of the accounts app."""

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Session, TotpDevice


def sessions_active_for(*, user, tenant) -> QuerySet[Session]:
    """The user's live sessions on this tenant (other tenants' sessions are never listed)."""
    return Session.objects.filter(
        user=user, tenant=tenant, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def mfa_enabled_for(*, user) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
