"""Project configuration: settings, URL confs, ASGI and Celery applications."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
