"""Creates a tenant with its schema, domain and owner: manage.py create_tenant --slug ... ."""

import os

from django.core.management.base import BaseCommand, CommandError

from accounts.services import tenant_create
from core.errors import DomainError
from tenants.links import platform_base_url


class Command(BaseCommand):
    help = "Create a tenant (schema, primary domain, owner membership) in one transaction."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--domain", required=True, help="e.g. acme.localhost")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--plan", default="free")

    def handle(self, *args, **options):
        self.stdout.write(f"Creating tenant {options['slug']} (schema and migrations)...")
        try:
            tenant = tenant_create(
                slug=options["slug"],
                name=options["name"],
                domain=options["domain"],
                owner_email=options["owner_email"],
                # A password only from the environment, never from argv (visible in ps).
                owner_password=os.environ.get("TENANT_OWNER_PASSWORD") or None,
                plan=options["plan"],
            )
        except DomainError as exc:
            details = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in (exc.fields or {}).items()
            )
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created tenant {tenant.slug} (schema {tenant.schema_name}) "
                f"at {platform_base_url(tenant)}/"
            )
        )
