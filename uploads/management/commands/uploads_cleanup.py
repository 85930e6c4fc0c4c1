"""Deletes expired files and aborts abandoned multipart uploads in every tenant."""

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from tenants.selectors import tenants_for_operations
from uploads import services


class Command(BaseCommand):
    help = "Delete expired files and abort abandoned multipart uploads (all tenants)."

    def handle(self, *args, **options):
        for tenant in tenants_for_operations():
            with schema_context(tenant.schema_name):
                expired = services.files_delete_expired()
                abandoned = services.uploads_abort_abandoned()
            self.stdout.write(
                f"{tenant.schema_name}: {expired} expired file(s) deleted, "
                f"{abandoned} abandoned upload(s) aborted"
            )
