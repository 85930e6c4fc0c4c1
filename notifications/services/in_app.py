"""In-app notifications: storing one (pushed live on commit) and marking them read."""

from functools import partial

from django.db import transaction
from django.utils import timezone

from notifications import realtime
from notifications.errors import NotificationNotFound
from notifications.models import Notification
from notifications.services.preferences import in_app_wanted


@transaction.atomic
def notification_create(
    *,
    user,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    category: str = "",
    data: dict | None = None,
) -> Notification | None:
    """Stores an in-app notification and pushes it to the user's open connections on commit.
    Returns None when the user turned the category's in-app notifications off."""
    if category and not in_app_wanted(email=user.email, category=category):
        return None
    notification = Notification.objects.create(
        user=user,
        kind=kind,
        category=category,
        title=title[:300],
        body=body,
        url=url[:500],
        data=data or {},
    )
    transaction.on_commit(partial(realtime.push_notification, notification=notification))
    return notification


@transaction.atomic
def notification_mark_read(*, user, notification_id) -> Notification:
    notification = Notification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        raise NotificationNotFound()
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
