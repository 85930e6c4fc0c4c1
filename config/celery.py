"""The Celery application: tenant-aware tasks (the schema travels in each message's headers)."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
