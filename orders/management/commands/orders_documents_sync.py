"""Writes the order documents in MongoDB from PostgreSQL, for one workspace or all of them."""

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from core import mongo
from orders.management.commands._workspaces import progress_line, workspaces
from orders.services import documents_sync


class Command(BaseCommand):
    help = (
        "Write every order's document to its workspace's MongoDB database from PostgreSQL "
        "(documents already at the order's version are left alone). --rebuild drops the "
        "workspace's database first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Workspace slug (default: every workspace).")
        parser.add_argument("--rebuild", action="store_true", help="Drop and rewrite everything.")
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, **options):
        for tenant in workspaces(options["tenant"]):
            self.stdout.write(f"{tenant.slug}:")
            try:
                with schema_context(tenant.schema_name):
                    written = documents_sync(
                        rebuild=options["rebuild"],
                        batch=options["batch_size"],
                        progress=progress_line(self.stdout),
                    )
            except mongo.MongoError as exc:
                raise CommandError(f"MongoDB did not answer: {type(exc).__name__}") from exc
            self.stdout.write(f"  {written:,} documents written")
