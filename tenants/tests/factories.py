"""Factories of the tenants app: rows of the public schema, never a tenant schema.

A real workspace (schema, roles, owner) costs a schema clone: tests use the two session tenants
(tenant_a, tenant_b) or accounts.services.tenant_create. TenantFactory writes only the row.
"""

import factory

from accounts.tests.factories import UserFactory
from tenants.models import Domain, Membership, Tenant

TEST_TENANT_SLUG = "alpha"  # tenant A of the root conftest


class TenantFactory(factory.django.DjangoModelFactory):
    """A tenant row without its schema: for lists, counts and name checks, not for requests."""

    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"row-tenant-{n}")
    name = factory.Sequence(lambda n: f"Row tenant {n}")
    schema_name = factory.LazyAttribute(lambda tenant: tenant.slug.replace("-", "_"))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        tenant = model_class(*args, **kwargs)
        tenant.auto_create_schema = False
        tenant.save()
        return tenant


class DomainFactory(factory.django.DjangoModelFactory):
    """A host name of a tenant (pass tenant=tenant_a for one that serves requests)."""

    class Meta:
        model = Domain

    domain = factory.Sequence(lambda n: f"host{n}.localhost")
    tenant = factory.SubFactory(TenantFactory)
    is_primary = False


class MembershipFactory(factory.django.DjangoModelFactory):
    """A membership row on tenant A by default. It skips the services (no plan check, no
    permission cache to drop): for reads of memberships, not for testing admission."""

    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.LazyFunction(lambda: Tenant.objects.get(slug=TEST_TENANT_SLUG))
    role = Membership.Role.MEMBER
