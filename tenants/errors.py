"""Domain errors of the tenants app."""

from core.errors import Conflict, DomainError, Forbidden


class InvalidTenant(DomainError):
    code = "invalid_tenant"


class SlugTaken(Conflict):
    code = "slug_taken"


class DomainTaken(Conflict):
    code = "domain_taken"


class PlanLimitReached(Forbidden):
    code = "plan_limit_reached"
    default_message = "The workspace's plan does not allow more of this."
