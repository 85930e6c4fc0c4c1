"""Running database work in a tenant's schema from code outside a request (consumers, tasks)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from channels.db import database_sync_to_async
from django_tenants.utils import schema_context


def tenant_sync_to_async(schema_name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """database_sync_to_async that switches the worker thread's connection to the schema."""

    @wraps(func)
    def in_schema(*args, **kwargs):
        with schema_context(schema_name):
            return func(*args, **kwargs)

    return database_sync_to_async(in_schema)
