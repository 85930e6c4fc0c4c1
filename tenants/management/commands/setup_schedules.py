"""Creates the platform's periodic tasks in django-celery-beat (idempotent)."""

import importlib
import json

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tenants.schedules import PERIODIC_TASKS


def _load_app_schedules() -> None:
    """Each app may declare its periodic work in <app>/schedules.py (calling register)."""
    for app in settings.INSTALLED_APPS:
        if "." in app:
            continue
        try:
            importlib.import_module(f"{app}.schedules")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.schedules":
                raise


class Command(BaseCommand):
    help = "Create the platform's periodic tasks (missing ones only, unless --reset)."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="overwrite admin edits")

    @transaction.atomic
    def handle(self, *args, **options):
        _load_app_schedules()
        created = updated = 0
        for entry in PERIODIC_TASKS:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=entry.every_seconds, period=IntervalSchedule.SECONDS
            )
            if entry.per_tenant:
                task, task_args = "tenants.fan_out", [entry.task, *entry.args]
            else:
                task, task_args = entry.task, list(entry.args)
            values = {
                "task": task,
                "interval": interval,
                "args": json.dumps(task_args),
                "queue": entry.queue,
            }
            existing = PeriodicTask.objects.filter(name=entry.name).first()
            if existing is None:
                PeriodicTask.objects.create(name=entry.name, **values)
                created += 1
            elif options["reset"]:
                for key, value in values.items():
                    setattr(existing, key, value)
                existing.save()
                updated += 1
        self.stdout.write(
            f"{created} periodic task(s) created, {updated} reset, "
            f"{len(PERIODIC_TASKS) - created - updated} left as they are."
        )
