"""Housekeeping: expired or long-revoked sessions, spent one-time tokens and accounts never
confirmed are deleted."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import OneTimeToken, RecoveryCode, SecurityEvent, Session, TotpDevice, User


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
        "unverified_accounts": unverified_accounts_purge(now=now),
    }


def unverified_accounts_purge(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Deletes accounts whose address is still unconfirmed ACCOUNTS["UNVERIFIED_RETENTION_HOURS"]
    after registering, so throwaway registrations do not pile up (or keep an address from its
    owner). Accounts that belong to a workspace (added by an administrator or an operator) and
    staff accounts are kept."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.ACCOUNTS["UNVERIFIED_RETENTION_HOURS"])
    ids = list(
        User.objects.filter(
            email_verified_at__isnull=True,
            is_staff=False,
            is_superuser=False,
            date_joined__lt=cutoff,
            memberships__isnull=True,
        )
        # Registration always sets a password: accounts without one were made otherwise
        # (django-guardian's anonymous user, owners awaiting their first reset).
        .exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return 0
    deleted = _users_delete(ids)
    if deleted is None:  # some account is still referred to somewhere: skip that one only
        deleted = sum(_users_delete([pk]) or 0 for pk in ids)
    return deleted


def _users_delete(ids: list) -> int | None:
    """Deletes these accounts and their public rows, or nothing (None) if a tenant's row still
    refers to one of them."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Checked now, inside this savepoint, rather than at commit.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for model in (Session, OneTimeToken, TotpDevice, RecoveryCode):
                model.objects.filter(user_id__in=ids).delete()
            SecurityEvent.objects.filter(user_id__in=ids).update(user=None)
            # Not QuerySet.delete(): its cascade would look for the tenant apps' tables (which
            # refer to users) in the public schema. An account never confirmed has no rows
            # there; the emails sent to it refer to it without a constraint and stay as a record.
            return User.objects.filter(pk__in=ids)._raw_delete(User.objects.db)
    except IntegrityError:
        return None
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
