"""Reads of the tenants app."""

from tenants.models import Membership, Tenant


def membership_for(*, user, tenant: Tenant) -> Membership | None:
    return Membership.objects.filter(user=user, tenant=tenant).first()
