"""User accounts: the profile a user edits, deactivation by the platform admin."""

from django.db import transaction
from django.db.models import QuerySet

from accounts.models import Session, User
from accounts.services._common import sessions_revoke
from core.services import model_update


@transaction.atomic
def user_update(*, user: User, data: dict) -> User:
    """Updates the profile fields a user may change themselves (name)."""
    user, _changed = model_update(instance=user, fields=["name"], data=data)
    return user


@transaction.atomic
def users_deactivate(*, users: QuerySet[User]) -> int:
    """Deactivated users can no longer log in and every session of theirs is revoked at once;
    their rows in tenant schemas stay intact."""
    active = list(users.filter(is_active=True))
    for user in active:
        sessions_revoke(Session.objects.filter(user=user), reason="user_deactivated")
    return users.filter(pk__in=[u.pk for u in active]).update(is_active=False)
