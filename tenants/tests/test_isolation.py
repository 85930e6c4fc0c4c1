"""Tenant isolation at the database level: a tenant's rows are invisible from another schema."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django_tenants.utils import schema_context


@pytest.mark.django_db
def test_rows_written_in_one_schema_are_invisible_in_another(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        Group.objects.create(name="alpha-only")
        assert Group.objects.filter(name="alpha-only").exists()
    with schema_context(tenant_b.schema_name):
        assert not Group.objects.filter(name="alpha-only").exists()
    with schema_context("public"):
        assert not Group.objects.filter(name="alpha-only").exists()


@pytest.mark.django_db
def test_every_tenant_app_has_its_tables_in_the_tenant_schema(tenant_a):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            [tenant_a.schema_name],
        )
        tables = {row[0] for row in cursor.fetchall()}
    assert "auth_group" in tables
    assert "guardian_userobjectpermission" in tables
    # Shared tables exist only in public.
    assert "tenants_tenant" not in tables
    assert "accounts_user" not in tables


@pytest.mark.django_db
def test_cache_keys_are_prefixed_by_schema(tenant_a, tenant_b):
    from django.core.cache import cache

    with schema_context(tenant_a.schema_name):
        cache.set("greeting", "alpha")
    with schema_context(tenant_b.schema_name):
        assert cache.get("greeting") is None
        cache.set("greeting", "beta")
    with schema_context(tenant_a.schema_name):
        assert cache.get("greeting") == "alpha"
