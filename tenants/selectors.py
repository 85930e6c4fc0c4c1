"""Reads of the tenants app."""

from collections.abc import Iterator

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import Count

from tenants.models import Membership, Tenant


def membership_for(*, user, tenant: Tenant) -> Membership | None:
    return Membership.objects.filter(user=user, tenant=tenant).first()


def tenants_for_operations(*, slugs: list[str] | None = None, include_inactive: bool = False):
    """Tenants that cross-tenant commands walk over (never the public schema)."""
    tenants = Tenant.objects.exclude(schema_name="public").order_by("slug")
    if slugs:
        tenants = tenants.filter(slug__in=slugs)
    if not include_inactive:
        tenants = tenants.filter(is_active=True)
    return tenants


def tenant_model_classes() -> Iterator:
    """Concrete models whose tables live in tenant schemas (for export and usage)."""
    tenant_labels = {app.rsplit(".", 1)[-1] for app in settings.TENANT_APPS}
    shared_labels = {app.rsplit(".", 1)[-1] for app in settings.SHARED_APPS}
    for model in apps.get_models():
        label = model._meta.app_label
        if label in tenant_labels and label not in shared_labels and not model._meta.proxy:
            yield model


def schema_sizes_bytes() -> dict[str, int]:
    """Bytes on disk of every schema's tables (with their indexes and TOAST), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT n.nspname, COALESCE(SUM(pg_total_relation_size(c.oid)), 0)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'm')
            GROUP BY n.nspname
            """
        )
        return {schema: int(size) for schema, size in cursor.fetchall()}


def tenants_usage() -> list[dict]:
    """Per tenant: plan, state, members, schema size on disk. Two queries in all."""
    sizes = schema_sizes_bytes()
    tenants = Tenant.objects.exclude(schema_name="public").annotate(members=Count("memberships"))
    return [
        {
            "slug": tenant.slug,
            "plan": tenant.plan,
            "active": tenant.is_active,
            "members": tenant.members,
            "schema_bytes": sizes.get(tenant.schema_name, 0),
        }
        for tenant in tenants.order_by("slug")
    ]
