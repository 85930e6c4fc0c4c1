"""Domain errors of the tenants app."""

from config.errors import Conflict, DomainError


class InvalidTenant(DomainError):
    code = "invalid_tenant"


class SlugTaken(Conflict):
    code = "slug_taken"


class DomainTaken(Conflict):
    code = "domain_taken"
