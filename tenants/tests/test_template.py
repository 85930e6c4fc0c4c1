"""Tenants cloned from the template schema are structurally identical to migrated ones."""

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_context

from accounts.services import tenant_create
from tenants.models import Domain, Tenant
from tenants.template import template_is_current, template_schema_name, template_schema_refresh


def _structure(schema: str) -> dict[str, set]:
    def rows(sql: str) -> set:
        with connection.cursor() as cursor:
            cursor.execute(sql, [schema])
            return {tuple(str(v).replace(f"{schema}.", "S.") for v in row) for row in cursor}

    return {
        "columns": rows(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = %s"
        ),
        # A partial index's predicate may be deparsed differently after a dump and reload
        # (equivalent casts), so predicates are compared by presence, the rest exactly.
        "indexes": rows(
            "SELECT tablename, indexname, "
            "regexp_replace(replace(indexdef, schemaname || '.', 'S.'), ' WHERE .*$', ''), "
            "indexdef LIKE '%% WHERE %%' FROM pg_indexes WHERE schemaname = %s"
        ),
        "constraints": rows(
            "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = %s"
        ),
        "triggers": rows(
            "SELECT event_object_table, trigger_name, event_manipulation, action_statement "
            "FROM information_schema.triggers WHERE trigger_schema = %s"
        ),
        "functions": rows(
            "SELECT p.proname, pg_get_function_identity_arguments(p.oid) "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s"
        ),
        "sequences": rows(
            "SELECT sequence_name, data_type FROM information_schema.sequences "
            "WHERE sequence_schema = %s"
        ),
    }


def _migrations(schema: str) -> set:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return set(cursor.fetchall())


@pytest.mark.django_db
def test_cloned_schema_matches_a_migrated_one(settings):
    settings.TENANT_CREATION_FAKES_MIGRATIONS = False
    tenant_create(slug="migrated", name="M", domain="migrated.localhost", verbosity=0)
    settings.TENANT_CREATION_FAKES_MIGRATIONS = True
    tenant_create(slug="cloned", name="C", domain="cloned.localhost", verbosity=0)

    migrated, cloned = _structure("migrated"), _structure("cloned")
    assert migrated["columns"] and migrated["indexes"] and migrated["constraints"]
    assert cloned["columns"] == migrated["columns"]
    assert cloned["indexes"] == migrated["indexes"]
    assert cloned["constraints"] == migrated["constraints"]
    assert cloned["triggers"] == migrated["triggers"]
    assert cloned["functions"] == migrated["functions"]
    assert cloned["sequences"] == migrated["sequences"]
    assert _migrations("cloned") == _migrations("migrated")


@pytest.mark.django_db
def test_cloned_schema_has_working_sequences_and_foreign_keys_to_public(tenant_a):
    with schema_context(tenant_a.schema_name):
        first = Group.objects.create(name="one")
        second = Group.objects.create(name="two")
        assert second.pk > first.pk
        # guardian's user permission row references a user that does not exist in public.
        with (
            pytest.raises(IntegrityError),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "INSERT INTO guardian_userobjectpermission (object_pk, content_type_id, "
                "permission_id, user_id) SELECT '1', id, (SELECT id FROM auth_permission "
                "LIMIT 1), '00000000-0000-0000-0000-000000000000' FROM django_content_type "
                "LIMIT 1"
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.django_db
def test_a_stale_template_is_rebuilt_before_cloning():
    template_schema_refresh()
    assert template_is_current()
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{template_schema_name()}".django_migrations '
            "WHERE app = 'guardian' AND name = '0001_initial'"
        )
    assert not template_is_current()
    assert template_schema_refresh() is True
    assert template_is_current()
    assert template_schema_refresh() is False


@pytest.mark.django_db
def test_the_template_schema_name_cannot_be_taken_by_a_tenant():
    from tenants.errors import InvalidTenant

    before = (Tenant.objects.count(), Domain.objects.count())
    with pytest.raises(InvalidTenant):
        tenant_create(slug="tenant-template", name="X", domain="x.localhost")
    assert (Tenant.objects.count(), Domain.objects.count()) == before
    assert not Domain.objects.filter(domain="x.localhost").exists()
