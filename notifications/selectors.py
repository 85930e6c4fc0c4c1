"""Reads of the notifications app."""

from django.db import connection
from django.db.models import QuerySet

from notifications import registry
from notifications.errors import UnsubscribeLinkInvalid
from notifications.models import Notification, Preference
from notifications.rendering import unsubscribe_token_read


def notifications_for_user(*, user, unread: bool | None = None) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(user=user)
    if unread is True:
        queryset = queryset.filter(read_at__isnull=True)
    elif unread is False:
        queryset = queryset.filter(read_at__isnull=False)
    return queryset


def unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def preferences_for_email(*, email: str) -> list[dict]:
    """Every category with the address's choices (defaults for categories never changed)."""
    rows = {p.category: p for p in Preference.objects.filter(email=email.strip().lower())}
    result = []
    for key, category in registry.CATEGORIES.items():
        row = rows.get(key)
        result.append(
            {
                "category": key,
                "label": category.label,
                "essential": category.essential,
                "email": True if category.essential else (row.email_enabled if row else True),
                "in_app": True if category.essential else (row.in_app_enabled if row else True),
            }
        )
    return result


def unsubscribe_request(*, token: str) -> dict:
    """{"email", "category" (registry.Category), "schema"} a signed unsubscribe link stands for.

    The token is the only credential: it must be valid, unexpired, signed for this schema and
    name a category that can be turned off; UnsubscribeLinkInvalid otherwise.
    """
    payload = unsubscribe_token_read(token)
    if payload is None or payload["schema"] != connection.schema_name:
        raise UnsubscribeLinkInvalid()
    category = registry.CATEGORIES.get(payload["category"])
    if category is None or category.essential:
        raise UnsubscribeLinkInvalid("Account and security emails cannot be unsubscribed from.")
    return {**payload, "category": category}
