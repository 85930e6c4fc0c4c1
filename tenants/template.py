"""The template schema that new tenants are cloned from (fast provisioning).

Migrating a fresh schema runs every migration of every app; cloning an already migrated template
copies tables, indexes, constraints and seed rows in one SQL function and then only records the
migrations as applied. The template is rebuilt whenever it lacks a migration that exists on disk,
so a clone is never behind the code.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_exists


def template_schema_name() -> str:
    return settings.TENANT_BASE_SCHEMA


def _migrations_on_disk() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def _recorded(cursor, schema: str) -> set[tuple[str, str]]:
    cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')  # noqa: S608
    return set(cursor.fetchall())


def template_is_current() -> bool:
    schema = template_schema_name()
    if not schema_exists(schema):
        return False
    with connection.cursor() as cursor:
        return _migrations_on_disk() <= _recorded(cursor, schema)


def schemas_behind(schema_names: list[str]) -> list[str]:
    """The schemas (in the given order) that lack a migration on disk, or a migrations table.

    A schema that recorded every migration on disk has nothing for ``migrate`` to do; reading
    its django_migrations costs one small query instead of a full migrate run.
    """
    expected = _migrations_on_disk()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables "
            "WHERE table_name = 'django_migrations' AND table_schema = ANY(%s)",
            [list(schema_names)],
        )
        with_table = {row[0] for row in cursor.fetchall()}
        return [
            name
            for name in schema_names
            if name not in with_table or not expected <= _recorded(cursor, name)
        ]


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


# --- Cloning by replaying a dump of the template ----------------------------------------------
# django-tenants' clone function reads the system catalogs per object and slows down as schemas
# accumulate; replaying pg_dump's SQL for the template (cached per process and template state)
# costs the same at any number of tenants and keeps every name exactly as migrations made it.

_dump_cache: dict[tuple, str] = {}
_SESSION_LINE = re.compile(r"^(SET |SELECT pg_catalog\.set_config|\\)", re.MULTILINE)


_binary_cache: dict[int, str | None] = {}


def _pg_dump_binary() -> str | None:
    """A pg_dump whose major version matches the server's (PATH, then pgserver's own); looked
    for once per process and server version (each look runs `pg_dump --version`)."""
    server_major = connection.pg_version // 10000
    if server_major not in _binary_cache:
        _binary_cache[server_major] = _find_pg_dump(server_major)
    return _binary_cache[server_major]


def _find_pg_dump(server_major: int) -> str | None:
    candidates = [shutil.which("pg_dump")]
    try:
        import pgserver

        candidates.append(str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"))
    except ImportError:
        pass
    for binary in filter(None, candidates):
        try:
            out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        except OSError:
            continue
        match = re.search(r"(\d+)\.\d+", out.stdout)
        if match and int(match.group(1)) == server_major:
            return binary
    return None


def _template_dump() -> str | None:
    binary = _pg_dump_binary()
    if binary is None:
        return None
    s = connection.settings_dict
    options = s.get("OPTIONS", {})
    host = s.get("HOST") or options.get("host") or ""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*), max(id) FROM "{template_schema_name()}".django_migrations'  # noqa: S608
        )
        state = tuple(cursor.fetchone())
    key = (s["NAME"], host, s.get("PORT"), state)
    if key not in _dump_cache:
        env = dict(os.environ, PGPASSWORD=s.get("PASSWORD") or "")
        args = [
            binary,
            "--no-owner",
            "--no-privileges",
            "--inserts",
            "--rows-per-insert=500",
            "--schema",
            template_schema_name(),
            "--dbname",
            s["NAME"],
        ]
        if host:
            args += ["--host", host]
        if s.get("PORT"):
            args += ["--port", str(s["PORT"])]
        if s.get("USER"):
            args += ["--username", s["USER"]]
        result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        if result.returncode != 0:
            return None
        _dump_cache.clear()
        _dump_cache[key] = _SESSION_LINE.sub("-- ", result.stdout)
    return _dump_cache[key]


def clone_by_dump(*, schema_name: str) -> bool:
    """Creates schema_name as a copy of the template (tables, indexes, constraints, rows and
    sequence positions). False when no matching pg_dump is available (the caller clones another
    way)."""
    sql = _template_dump()
    if sql is None:
        return False
    template = re.escape(template_schema_name())
    with connection.cursor() as cursor:
        cursor.execute(re.sub(rf"\b{template}\b", schema_name, sql))
    connection.set_schema_to_public()
    return True
