"""The platform-wide suppression list (bounced and complaining addresses), in the public schema."""

from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, schema_context

from notifications.models import Suppression
from notifications.services._shared import normalize_email


def is_suppressed(email: str) -> bool:
    # One query on the public table by its qualified name, without switching the search path.
    quote = connection.ops.quote_name
    table = f"{quote(get_public_schema_name())}.{quote(Suppression._meta.db_table)}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE email = %s LIMIT 1", [normalize_email(email)])  # noqa: S608
        return cursor.fetchone() is not None


def suppression_add(*, email: str, reason: str, detail: str = "") -> Suppression:
    with schema_context(get_public_schema_name()), transaction.atomic():
        suppression, _ = Suppression.objects.get_or_create(
            email=normalize_email(email), defaults={"reason": reason, "detail": detail[:1000]}
        )
    return suppression


def suppression_remove(*, email: str) -> int:
    with schema_context(get_public_schema_name()), transaction.atomic():
        deleted, _ = Suppression.objects.filter(email=normalize_email(email)).delete()
    return deleted
