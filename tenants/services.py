"""Every write to tenants, domains and memberships."""

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django_tenants.utils import schema_context

from tenants.errors import DomainTaken, InvalidTenant, SlugTaken
from tenants.models import Domain, Membership, Tenant

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")
RESERVED_SLUGS = {"public", "www", "admin", "api", "static", "media", "template"}
DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def schema_name_for(slug: str) -> str:
    return slug.replace("-", "_")


def _validate(*, slug: str, name: str, domain: str) -> None:
    fields = {}
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS or slug.startswith("pg-"):
        fields["slug"] = [
            "Use 3-63 lowercase letters, digits and hyphens, starting with a letter; "
            "reserved names are not allowed."
        ]
    if not name.strip():
        fields["name"] = ["A name is required."]
    if not DOMAIN_RE.match(domain):
        fields["domain"] = ["Enter a host name such as acme.localhost or acme.example.com."]
    if fields:
        raise InvalidTenant("The workspace could not be created.", fields=fields)
    if (
        Tenant.objects.filter(slug=slug).exists()
        or Tenant.objects.filter(schema_name=schema_name_for(slug)).exists()
    ):
        raise SlugTaken(f'The slug "{slug}" is already taken.', fields={"slug": ["Already taken."]})
    if Domain.objects.filter(domain=domain).exists():
        raise DomainTaken(
            f'The domain "{domain}" is already in use.', fields={"domain": ["Already in use."]}
        )


def membership_set(*, user, tenant: Tenant, role: str) -> Membership:
    from rbac.services import membership_changed

    membership, _ = Membership.objects.update_or_create(
        user=user, tenant=tenant, defaults={"role": role}
    )
    # The membership role is the user's base RBAC role in the tenant: drop their cached rules.
    with schema_context(tenant.schema_name):
        membership_changed(user_id=user.pk)
    return membership


@transaction.atomic
def tenant_create(
    *,
    slug: str,
    name: str,
    domain: str,
    owner_email: str | None = None,
    owner_password: str | None = None,
    plan: str = Tenant.Plan.FREE,
) -> Tenant:
    """Creates the tenant, its schema (migrated), its primary domain and its owner's membership.

    All in one transaction: on any failure nothing is left behind, schema included.
    """
    slug = slug.strip().lower()
    domain = domain.strip().lower()
    _validate(slug=slug, name=name, domain=domain)
    if plan not in Tenant.Plan.values:
        raise InvalidTenant(fields={"plan": [f"Choose one of {', '.join(Tenant.Plan.values)}."]})
    tenant = Tenant(schema_name=schema_name_for(slug), slug=slug, name=name.strip(), plan=plan)
    tenant.save()
    Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
    with schema_context(tenant.schema_name):
        from rbac.services import rbac_sync

        rbac_sync()  # default roles and the platform's resources and permissions
    if owner_email:
        User = get_user_model()
        email = User.objects.normalize_email(owner_email).lower()
        owner = User.objects.filter(email=email).first()
        if owner is None:
            owner = User.objects.create_user(email=email, password=owner_password)
        membership_set(user=owner, tenant=tenant, role=Membership.Role.OWNER)
    return tenant


@transaction.atomic
def public_tenant_ensure(*, domain: str | None = None) -> Tenant:
    """The public tenant (schema "public") and its domain; safe to call any number of times."""
    domain = (domain or settings.PUBLIC_DOMAIN).lower()
    tenant = Tenant.objects.filter(schema_name="public").first()
    if tenant is None:
        tenant = Tenant(schema_name="public", slug="public", name="Platform")
        tenant.save(verbosity=0)
    Domain.objects.get_or_create(domain=domain, defaults={"tenant": tenant, "is_primary": True})
    return tenant
