"""Deletes expired or long-revoked sessions and spent one-time tokens."""

from django.core.management.base import BaseCommand

from accounts.services import accounts_cleanup


class Command(BaseCommand):
    help = (
        "Delete expired or long-revoked sessions, spent one-time tokens and accounts never "
        "confirmed (run periodically)."
    )

    def handle(self, *args, **options):
        counts = accounts_cleanup()
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in counts.items()))
