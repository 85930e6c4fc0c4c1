"""Every write to user accounts."""

from django.db import transaction
from django.db.models import QuerySet


@transaction.atomic
def users_deactivate(*, users: QuerySet) -> int:
    """Deactivated users can no longer log in; their rows in tenant schemas stay intact."""
    return users.filter(is_active=True).update(is_active=False)
