"""Every write to tenants and their domains: creation of the schema, suspension, deletion.

Memberships and whole workspaces (roles, owner) are written by accounts.services."""

import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from tenants import hooks
from tenants.errors import DomainTaken, InvalidTenant, SlugTaken
from tenants.models import Domain, Tenant
from tenants.template import (
    clone_by_dump,
    clone_constraint_names_align,
    template_schema_refresh,
)

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")
RESERVED_SLUGS = {"public", "www", "admin", "api", "static", "media", "template"}
DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def schema_name_for(slug: str) -> str:
    return slug.replace("-", "_")


def tenant_validate(*, slug: str, name: str, domain: str) -> None:
    fields = {}
    if (
        not SLUG_RE.match(slug)
        or slug in RESERVED_SLUGS
        or slug.startswith("pg-")
        or schema_name_for(slug) == settings.TENANT_BASE_SCHEMA
    ):
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


@transaction.atomic
def tenant_schema_create(
    *,
    slug: str,
    name: str,
    domain: str,
    plan: str = Tenant.Plan.FREE,
    verbosity: int = 1,
) -> Tenant:
    """Creates the tenant, its schema (cloned from the template or migrated) and its primary
    domain. accounts.services.tenant_create builds a whole workspace on it (roles, owner).

    All in one transaction: on any failure nothing is left behind, schema included.
    """
    slug = slug.strip().lower()
    domain = domain.strip().lower()
    tenant_validate(slug=slug, name=name, domain=domain)
    if plan not in Tenant.Plan.values:
        raise InvalidTenant(fields={"plan": [f"Choose one of {', '.join(Tenant.Plan.values)}."]})
    cloning = settings.TENANT_CREATION_FAKES_MIGRATIONS
    if cloning:
        template_schema_refresh(verbosity=verbosity)
    tenant = Tenant(schema_name=schema_name_for(slug), slug=slug, name=name.strip(), plan=plan)
    # Replaying the template's dump creates the schema, so save() finds it and adds nothing;
    # without a matching pg_dump, save() clones with django-tenants' function instead.
    dumped = cloning and clone_by_dump(schema_name=tenant.schema_name)
    tenant.save(verbosity=verbosity)
    if cloning and not dumped:
        clone_constraint_names_align(schema_name=tenant.schema_name)
    Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
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


@transaction.atomic
def tenant_suspend(*, tenant: Tenant, reason: str = "") -> Tenant:
    """Every request and websocket on the tenant's hosts gets 403 until it is reactivated."""
    if tenant.schema_name == get_public_schema_name():
        raise InvalidTenant("The public tenant cannot be suspended.")
    tenant.is_active = False
    tenant.suspended_at = timezone.now()
    tenant.suspension_reason = reason[:200]
    tenant.save(update_fields=["is_active", "suspended_at", "suspension_reason"])
    return tenant


@transaction.atomic
def tenant_reactivate(*, tenant: Tenant) -> Tenant:
    """Lifts a suspension and cancels a scheduled deletion."""
    tenant.is_active = True
    tenant.suspended_at = None
    tenant.suspension_reason = ""
    tenant.delete_after = None
    tenant.save(update_fields=["is_active", "suspended_at", "suspension_reason", "delete_after"])
    return tenant


@transaction.atomic
def tenant_schedule_deletion(*, tenant: Tenant, grace_days: int | None = None) -> Tenant:
    """Suspends the tenant now; its schema and rows are dropped after the grace period."""
    grace = settings.TENANT_DELETION_GRACE_DAYS if grace_days is None else grace_days
    tenant_suspend(tenant=tenant, reason="Deletion requested")
    tenant.delete_after = timezone.now() + timedelta(days=grace)
    tenant.save(update_fields=["delete_after"])
    return tenant


def tenants_purge_due(*, now=None) -> list[str]:
    """Drops the schema and rows of every tenant whose deletion grace period has passed.

    One transaction per tenant, so one failure does not keep the others alive.
    """
    now = now or timezone.now()
    purged = []
    due = Tenant.objects.filter(delete_after__isnull=False, delete_after__lte=now, is_active=False)
    for tenant in due.exclude(schema_name=get_public_schema_name()):
        with transaction.atomic():
            locked = Tenant.objects.select_for_update(skip_locked=True).filter(pk=tenant.pk).first()
            if locked is None or locked.delete_after is None or locked.delete_after > now:
                continue
            slug, schema = locked.slug, locked.schema_name
            locked.delete(force_drop=True)
            transaction.on_commit(lambda schema=schema: hooks.workspace_purged(schema))
            purged.append(slug)
    return purged
