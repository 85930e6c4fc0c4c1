"""Factories of the presence app (rows in the current tenant schema)."""

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from presence.models import PresenceStatus


class PresenceStatusFactory(factory.django.DjangoModelFactory):
    """A user's stored presence: last seen now, not hidden. Presence is shown only for members
    of the tenant, so pass a member as user (e.g. MembershipFactory(tenant=...).user)."""

    class Meta:
        model = PresenceStatus

    user = factory.SubFactory(UserFactory)
    last_seen_at = factory.LazyFunction(timezone.now)
    hidden = False
