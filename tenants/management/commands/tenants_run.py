"""Runs a management command in every tenant's schema, with progress and a per-tenant result.

manage.py tenants_run clearsessions
manage.py tenants_run --tenant alpha --tenant beta some_command --its-option value
"""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from tenants.selectors import tenants_for_operations


class Command(BaseCommand):
    help = "Run a management command in each tenant schema; failures do not stop the others."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", action="append", dest="slugs", help="limit to these slugs")
        parser.add_argument("--include-inactive", action="store_true")
        parser.add_argument("command_name")
        parser.add_argument("command_args", nargs="...")

    def handle(self, *args, **options):
        tenants = list(
            tenants_for_operations(
                slugs=options["slugs"], include_inactive=options["include_inactive"]
            )
        )
        if not tenants:
            raise CommandError("No tenant matches.")
        failures = 0
        total = len(tenants)
        for index, tenant in enumerate(tenants, start=1):
            started = time.monotonic()
            label = f"[{index}/{total}] {tenant.slug}"
            self.stdout.write(f"{label} ...")
            try:
                with schema_context(tenant.schema_name):
                    call_command(options["command_name"], *options["command_args"])
            except Exception as exc:  # one tenant's failure is reported, the run continues
                failures += 1
                self.stdout.write(
                    self.style.ERROR(f"{label}: failed: {exc.__class__.__name__}: {exc}")
                )
                continue
            elapsed = time.monotonic() - started
            self.stdout.write(self.style.SUCCESS(f"{label}: ok ({elapsed:.2f}s)"))
        self.stdout.write(f"{total - failures} ok, {failures} failed")
        if failures:
            raise CommandError(f"{failures} tenant(s) failed.")
