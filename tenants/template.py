"""The template schema that new tenants are cloned from (fast provisioning).

Migrating a fresh schema runs every migration of every app; cloning an already migrated template
copies tables, indexes, constraints and seed rows in one SQL function and then only records the
migrations as applied. The template is rebuilt whenever it lacks a migration that exists on disk,
so a clone is never behind the code.
"""

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_exists


def template_schema_name() -> str:
    return settings.TENANT_BASE_SCHEMA


def template_is_current() -> bool:
    schema = template_schema_name()
    if not schema_exists(schema):
        return False
    expected = set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')  # noqa: S608
        recorded = set(cursor.fetchall())
    return expected <= recorded


def template_schema_refresh(*, force: bool = False, verbosity: int = 0) -> bool:
    """Rebuilds the template schema if it is missing or stale. Returns True if it rebuilt it.

    Serialised with an advisory lock (held to the end of the caller's transaction) so concurrent
    tenant creations never see a half-built template.
    """
    schema = template_schema_name()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [schema])
    if not force and template_is_current():
        return False
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    call_command(
        "migrate_schemas",
        schema_name=schema,
        tenant=True,
        interactive=False,
        verbosity=verbosity,
        executor="standard",
    )
    connection.set_schema_to_public()
    return True


_CONSTRAINTS_SQL = """
    SELECT cl.relname, c.conname, pg_get_constraintdef(c.oid)
    FROM pg_constraint c
    JOIN pg_class cl ON cl.oid = c.conrelid
    JOIN pg_namespace n ON n.oid = cl.relnamespace
    WHERE n.nspname = %s
    ORDER BY cl.relname, c.conname
"""


def _constraints(cursor, schema: str) -> dict[tuple[str, str], list[str]]:
    cursor.execute(_CONSTRAINTS_SQL, [schema])
    found: dict[tuple[str, str], list[str]] = {}
    for table, name, definition in cursor.fetchall():
        found.setdefault((table, definition.replace(f"{schema}.", "")), []).append(name)
    return found


def clone_constraint_names_align(*, schema_name: str) -> int:
    """Gives a cloned schema's constraints the names they have in the template.

    The clone function re-creates unique constraints under PostgreSQL's default names, while
    migrations drop and alter named constraints by their Django names; renaming them back keeps
    a cloned tenant migratable exactly like a migrated one. Returns how many were renamed.
    """
    template = template_schema_name()
    renamed = 0
    with connection.cursor() as cursor:
        wanted = _constraints(cursor, template)
        actual = _constraints(cursor, schema_name)
        for key, names in actual.items():
            targets = wanted.get(key, [])
            if sorted(names) == sorted(targets) or len(names) != len(targets):
                continue
            table = key[0]
            for current, target in zip(sorted(names), sorted(targets), strict=True):
                if current == target:
                    continue
                cursor.execute(
                    f'ALTER TABLE "{schema_name}"."{table}" '
                    f'RENAME CONSTRAINT "{current}" TO "{target}"'
                )
                renamed += 1
    return renamed
