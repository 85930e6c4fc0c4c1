"""migrate_schemas that skips tenant schemas already at the migrations on disk.

django-tenants runs a full ``migrate`` (migration graph, checks, a new connection) per schema
even when nothing is pending, so a no-op run grows with the number of workspaces. A plain run
over every tenant first reads each schema's django_migrations and migrates only the schemas
behind; any other form (one schema, an app or target migration, --fake, --plan, --prune,
--check, --run-syncdb) or ``--all-schemas`` behaves exactly like django-tenants.
"""

from __future__ import annotations

from django.db import connection
from django_tenants.management.commands.migrate_schemas import (
    GET_EXECUTOR_FUNCTION,
    MigrateSchemasCommand,
)
from django_tenants.utils import (
    get_public_schema_name,
    get_tenant_migration_order,
    get_tenant_model,
    has_multi_type_tenants,
)

from tenants.template import schemas_behind

# Options that ask for something other than "bring every schema up to date".
_EXACT = ("app_label", "migration_name", "fake", "fake_initial", "plan", "prune", "check_unapplied")


class Command(MigrateSchemasCommand):
    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--all-schemas",
            action="store_true",
            dest="all_schemas",
            help="Run migrate in every tenant schema, even those with nothing pending.",
        )

    def execute(self, *args, **options):
        if options.get("executor") == "multiprocessing":
            # Forked migration workers cannot use a connection pool made in this process (its
            # threads do not survive the fork): this run uses plain connections.
            connection.close_pool()
            connection.settings_dict.setdefault("OPTIONS", {}).pop("pool", None)
        return super().execute(*args, **options)

    def handle(self, *args, **options) -> None:
        everything = options.pop("all_schemas", False) or any(options.get(o) for o in _EXACT)
        if (
            everything
            or options.get("run_syncdb")
            or options.get("schema_name")
            or options.get("shared")
            or has_multi_type_tenants()
        ):
            super().handle(*args, **options)
            return
        # SyncCommon.handle reads the options into attributes (executor, sync_* flags).
        super(MigrateSchemasCommand, self).handle(*args, **options)
        public = get_public_schema_name()
        executor = GET_EXECUTOR_FUNCTION(codename=self.executor)(self.args, self.options)
        if self.sync_public:
            executor.run_migrations(tenants=[public])
        if not self.sync_tenant:
            return
        connection.set_schema_to_public()
        tenants = get_tenant_model().objects.exclude(schema_name=public)
        order = get_tenant_migration_order()
        if order is not None:
            tenants = tenants.order_by(*order)
        names = list(tenants.values_list("schema_name", flat=True))
        behind = schemas_behind(names)
        if int(options.get("verbosity", 1)) >= 1:
            self.stdout.write(
                f"{len(names) - len(behind)} of {len(names)} tenant schemas already up to date; "
                f"migrating {len(behind)}."
            )
        if behind:
            executor.run_migrations(tenants=behind)
