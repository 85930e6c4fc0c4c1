"""Deletes expired files and aborts abandoned multipart uploads in every tenant."""

from django.core.management.base import BaseCommand

from uploads.tasks import abort_abandoned_uploads, delete_expired_files


class Command(BaseCommand):
    help = "Delete expired files and abort abandoned multipart uploads (all tenants)."

    def handle(self, *args, **options):
        expired = delete_expired_files()
        abandoned = abort_abandoned_uploads()
        for schema in sorted(set(expired) | set(abandoned)):
            self.stdout.write(
                f"{schema}: {expired.get(schema, 0)} expired file(s) deleted, "
                f"{abandoned.get(schema, 0)} abandoned upload(s) aborted"
            )
