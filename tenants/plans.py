"""The plans a workspace can be on and their limits: one table (settings.PLANS), read here only.

Tenant.plan is the plan in force: assigned by platform staff, and kept equal to what the
workspace's subscription grants by billing (which sells the paid plans at their Stripe price).
Apps that add limited things (members, stored bytes) check them here before adding.
"""

from django.conf import settings

from tenants.errors import PlanLimitReached

FREE = "free"


def plan_table() -> dict[str, dict]:
    """{code: {"price": Stripe price id or "", "limits": {name: int or None (unlimited)}}}."""
    return settings.PLANS


def plan_spec(code: str) -> dict:
    table = plan_table()
    return table.get(code, table[FREE])


def plan_limit(tenant, name: str) -> int | None:
    """The limit `name` ("members", "storage_bytes") of the tenant's plan; None: unlimited."""
    return plan_spec(getattr(tenant, "plan", FREE) or FREE)["limits"].get(name)


def plan_limit_check(*, tenant, limit: str, used: int, adding: int = 1) -> None:
    """Raises PlanLimitReached when adding `adding` to `used` would exceed the tenant's plan.

    The plan is read from the database, not from the (possibly older) tenant object: a
    subscription that changed a moment ago counts.
    """
    from tenants.models import Tenant

    plan = Tenant.objects.filter(pk=tenant.pk).values_list("plan", flat=True).first() or FREE
    allowed = plan_spec(plan)["limits"].get(limit)
    if allowed is None or used + adding <= allowed:
        return
    raise PlanLimitReached(
        f"The {plan} plan allows {allowed} {limit.replace('_', ' ')}; "
        f"{used} are used. Upgrade the plan to add more.",
        limit=limit,
        allowed=allowed,
        used=used,
    )


def members_limit_check(*, tenant, adding: int = 1) -> None:
    """Seats are taken by members whose address is confirmed: unconfirmed sign-ups (removed
    after a grace period) cannot fill a workspace."""
    from tenants.models import Membership

    used = Membership.objects.filter(tenant=tenant, user__email_verified_at__isnull=False).count()
    plan_limit_check(tenant=tenant, limit="members", used=used, adding=adding)
