"""Recomputes the stored product search vectors of one tenant or of all of them."""

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from catalog.management.commands.seed_catalog import progress_bar
from catalog.services import search_vectors_rebuild
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Recompute product search vectors (after a text search dictionary or PostgreSQL "
        "change), in committed batches. Ordinary writes never need this."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Tenant slug (default: every tenant).")
        parser.add_argument("--batch-size", type=int, default=20_000)

    def handle(self, *args, **options):
        tenants = Tenant.objects.exclude(schema_name="public").order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants:
                raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        for tenant in tenants:
            with schema_context(tenant.schema_name):
                count = search_vectors_rebuild(
                    batch_size=options["batch_size"], progress=progress_bar(self.stdout)
                )
            self.stdout.write(f"{tenant.slug}: {count:,} products")
