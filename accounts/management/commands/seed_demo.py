"""Creates (or brings up to date) the public tenant, the demo tenant, its admin and demo data.

Idempotent: running it again changes nothing that already exists. Each tenant app may provide
<app>/demo.py with seed(*, tenant, owner) -> str; it runs inside the demo tenant's schema.
"""

import importlib
import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django_tenants.utils import schema_context

from accounts.services import membership_set, tenant_create
from tenants.links import platform_base_url
from tenants.models import Membership, Tenant
from tenants.services import public_tenant_ensure

PROJECT_TENANT_APPS = [app for app in settings.TENANT_APPS if "." not in app and app != "guardian"]


class Command(BaseCommand):
    help = "Create the demo tenant (demo.localhost), an admin user and demo data. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="demo")
        parser.add_argument("--domain", default="demo.localhost")
        parser.add_argument("--admin-email", default="admin@demo.localhost")

    def handle(self, *args, **options):
        User = get_user_model()
        public_tenant_ensure()
        self.stdout.write("Public tenant ready.")

        email = options["admin_email"].lower()
        password = os.environ.get("DEMO_ADMIN_PASSWORD")
        with transaction.atomic():
            admin = User.objects.filter(email=email).first()
            if admin is None:
                admin = User.objects.create_superuser(
                    email=email, password=password, name="Demo Admin"
                )
                self.stdout.write(f"Created admin user {email}.")
            elif password and not admin.check_password(password):
                admin.set_password(password)
                admin.save(update_fields=["password"])
                self.stdout.write(f"Reset the password of {email}.")

        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            self.stdout.write(f"Creating tenant {options['slug']} (schema and migrations)...")
            tenant = tenant_create(
                slug=options["slug"], name="Demo Workspace", domain=options["domain"]
            )
        membership_set(user=admin, tenant=tenant, role=Membership.Role.OWNER)
        # LINK_PORT is the port `make run` serves on (its PORT).
        self.stdout.write(f"Tenant {tenant.slug} ready at {platform_base_url(tenant)}/")

        for app in PROJECT_TENANT_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            with schema_context(tenant.schema_name), transaction.atomic():
                summary = module.seed(tenant=tenant, owner=admin)
            self.stdout.write(f"  {app}: {summary}")

        self.stdout.write(self.style.SUCCESS("Demo ready."))
