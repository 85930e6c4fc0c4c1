"""Prints a usage report of every tenant: plan, state, members and schema size."""

import json

from django.core.management.base import BaseCommand

from tenants.selectors import tenants_usage


class Command(BaseCommand):
    help = "Usage report per tenant (members, schema size on disk)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options):
        rows = tenants_usage()
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        self.stdout.write(f"{'tenant':<24}{'plan':<12}{'active':<8}{'members':>8}{'size':>12}")
        for row in rows:
            size = f"{row['schema_bytes'] / 1024 / 1024:.1f} MB"
            self.stdout.write(
                f"{row['slug']:<24}{row['plan']:<12}{'yes' if row['active'] else 'no':<8}"
                f"{row['members']:>8}{size:>12}"
            )
        self.stdout.write(f"{len(rows)} tenant(s)")
