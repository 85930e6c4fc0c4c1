"""Who belongs to which workspace: admission, role changes and removal of memberships.

Above tenants (the Membership table, plan limits) and rbac (a membership's role is the user's
base role, cached): a change drops the user's cached permissions; a removal also ends their
sessions on that workspace.
"""

from django.db import transaction
from django_tenants.utils import schema_context

from accounts.services.sessions import sessions_revoke_for_tenant
from rbac.services import membership_changed
from tenants.models import Membership, Tenant
from tenants.plans import members_limit_check


def membership_set(*, user, tenant: Tenant, role: str) -> Membership:
    """Adds the user to the tenant with the role, or changes their role (a seat is counted
    against the plan only when they were not a member)."""
    if not Membership.objects.filter(user=user, tenant=tenant).exists():
        members_limit_check(tenant=tenant, adding=1)
    membership, _ = Membership.objects.update_or_create(
        user=user, tenant=tenant, defaults={"role": role}
    )
    # The membership role is the user's base RBAC role in the tenant: drop their cached rules.
    with schema_context(tenant.schema_name):
        membership_changed(user_id=user.pk)
    return membership


@transaction.atomic
def membership_remove(*, user, tenant: Tenant) -> bool:
    """Removes the user from the tenant: their sessions on it end at once (tokens included)
    and their cached permissions are dropped. Returns False if they were not a member."""
    deleted, _ = Membership.objects.filter(user=user, tenant=tenant).delete()
    if not deleted:
        return False
    sessions_revoke_for_tenant(user=user, tenant=tenant, reason="membership_removed")
    with schema_context(tenant.schema_name):
        membership_changed(user_id=user.pk)
    return True


def membership_admit(*, user, tenant: Tenant) -> Membership | None:
    """The user's membership, created as a plain member when the workspace is open.

    None when the user is not a member of a closed workspace. Platform superusers are
    admitted without a membership (support access).
    """
    membership = Membership.objects.filter(user=user, tenant=tenant).first()
    if membership is not None or user.is_superuser:
        return membership
    if not tenant.allow_self_signup:
        return None
    return membership_set(user=user, tenant=tenant, role=Membership.Role.MEMBER)
