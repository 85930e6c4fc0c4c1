"""Loads N synthetic products into one tenant with COPY (a million in minutes)."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from catalog.services import products_bulk_load
from tenants.models import Tenant


def progress_bar(stream=sys.stdout, width: int = 30):
    started = time.perf_counter()
    out = getattr(stream, "_out", stream)  # a command's OutputWrapper would add newlines

    def report(done: int, total: int) -> None:
        filled = int(width * done / total)
        rate = done / max(time.perf_counter() - started, 1e-9)
        out.write(
            f"\r  [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} ({rate:,.0f} rows/s)"
        )
        if done >= total:
            out.write("\n")
        out.flush()

    return report


class Command(BaseCommand):
    help = "Load N synthetic products (with categories and tags) into a tenant, using COPY."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Tenant slug.")
        parser.add_argument("--products", type=int, default=10_000)
        parser.add_argument("--batch-size", type=int, default=50_000)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None or tenant.schema_name == "public":
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        if options["products"] < 1:
            raise CommandError("--products must be at least 1.")
        self.stdout.write(f"Loading {options['products']:,} products into {tenant.slug}...")
        with schema_context(tenant.schema_name):
            timings = products_bulk_load(
                count=options["products"],
                batch_size=options["batch_size"],
                seed=options["seed"],
                progress=progress_bar(self.stdout),
            )
        self.stdout.write(
            self.style.SUCCESS(", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
        )
