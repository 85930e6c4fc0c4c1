"""Exports one tenant's data (its memberships, every tenant-schema table and what apps keep in
other stores, such as the order documents) as JSON lines."""

import json
import sys

from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from tenants import hooks
from tenants.models import Membership, Tenant
from tenants.selectors import tenant_model_classes


class Command(BaseCommand):
    help = "Export a tenant's data as JSON lines (one object per line) to a file or stdout."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--output", default="-", help="file path, or - for stdout")

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f'No tenant with slug "{options["slug"]}".')
        out = sys.stdout if options["output"] == "-" else open(options["output"], "w")  # noqa: SIM115
        progress = self.stderr
        try:
            out.write(json.dumps({"tenant": tenant.slug, "name": tenant.name}) + "\n")
            memberships = Membership.objects.filter(tenant=tenant).select_related("user")
            for membership in memberships.iterator():
                line = {
                    "model": "tenants.membership",
                    "fields": {"email": membership.user.email, "role": membership.role},
                }
                out.write(json.dumps(line) + "\n")
            with schema_context(tenant.schema_name):
                for model in tenant_model_classes():
                    count = 0
                    for obj in model._default_manager.order_by("pk").iterator(chunk_size=2000):
                        out.write(serializers.serialize("json", [obj])[1:-1] + "\n")
                        count += 1
                    progress.write(f"{model._meta.label}: {count}\n")
            # What apps keep outside PostgreSQL (the order documents in MongoDB).
            count = 0
            for obj in hooks.workspace_export(tenant.schema_name):
                out.write(json.dumps(obj, default=str) + "\n")
                count += 1
            progress.write(f"other stores: {count}\n")
        finally:
            if out is not sys.stdout:
                out.close()
