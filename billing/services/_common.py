"""Helpers every billing services module shares: the current schema and Stripe timestamps."""

from datetime import UTC, datetime

from django.db import connection


def _schema() -> str:
    return connection.schema_name


def _ts(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None
