"""Runs the outbox relay as its own process: publishes order changes to MongoDB until stopped."""

import time

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from core import mongo
from orders.management.commands._workspaces import workspaces
from orders.services import outbox_publish


class Command(BaseCommand):
    help = (
        "Publish the outbox of order changes to the order documents, workspace by workspace, "
        "in batches; loops until stopped (or once with --once). The periodic Celery sweep does "
        "the same; this is for a dedicated relay process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Workspace slug (default: every workspace).")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--once", action="store_true", help="Stop when the outbox is empty.")
        parser.add_argument("--idle-seconds", type=float, default=0.5)

    def handle(self, *args, **options):
        schemas = [t.schema_name for t in workspaces(options["tenant"])]
        while True:
            published = 0
            for schema in schemas:
                try:
                    with schema_context(schema):
                        count = outbox_publish(limit=options["batch_size"])
                except mongo.MongoError as exc:
                    self.stderr.write(f"{schema}: MongoDB did not answer ({type(exc).__name__})")
                    count = 0
                if count:
                    self.stdout.write(f"{schema}: {count} published")
                published += count
            if not published:
                if options["once"]:
                    return
                time.sleep(options["idle_seconds"])
