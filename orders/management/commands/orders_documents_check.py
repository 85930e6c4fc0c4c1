"""Compares the orders in PostgreSQL with their documents in MongoDB, workspace by workspace."""

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from core import mongo
from orders.document_selectors import documents_drift
from orders.management.commands._workspaces import workspaces


class Command(BaseCommand):
    help = (
        "Report drift between the orders in PostgreSQL and their MongoDB documents: counts, "
        "versions and totals per workspace, documents missing, stale or orphaned. Exits with "
        "status 1 when any workspace drifts (orders_documents_sync repairs it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Workspace slug (default: every workspace).")

    def handle(self, *args, **options):
        drifting = []
        for tenant in workspaces(options["tenant"]):
            try:
                with schema_context(tenant.schema_name):
                    report = documents_drift()
            except mongo.MongoError as exc:
                raise CommandError(f"MongoDB did not answer: {type(exc).__name__}") from exc
            pg, mg = report["postgresql"], report["mongodb"]
            self.stdout.write(
                f"{tenant.slug}: orders {pg['orders']:,}/{mg['orders']:,} "
                f"versions {pg['versions']:,}/{mg['versions']:,} "
                f"total {pg['total']}/{mg['total']} (postgresql/mongodb); "
                f"missing {report['missing']}, stale {report['stale']}, "
                f"orphans {report['orphans']}, outbox {report['outbox']}; "
                f"drift {report['drift']}"
            )
            if report["drift"]:
                drifting.append(tenant.slug)
        if drifting:
            self.stdout.write(f"drift in {len(drifting)} workspace(s): {', '.join(drifting)}")
            raise SystemExit(1)
        self.stdout.write("drift 0")
