"""Brings every tenant's default roles, resources and permissions up to date with the registry."""

from django.core.management.base import BaseCommand
from django_tenants.utils import get_public_schema_name, schema_context

from rbac.services import rbac_sync
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Create missing default roles, resources and permissions in every tenant. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Only this tenant (slug).")

    def handle(self, *args, **options):
        tenants = Tenant.objects.exclude(schema_name=get_public_schema_name())
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
        for tenant in tenants:
            with schema_context(tenant.schema_name):
                counts = rbac_sync()
            summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v) or "up to date"
            self.stdout.write(f"{tenant.slug}: {summary}")
