"""Fixtures of the notifications tests."""

import pytest


@pytest.fixture
def provider(settings):
    """A provider-like email backend (provider message ids, failures on demand)."""
    from notifications.tests.backends import ProviderBackend

    settings.EMAIL_BACKEND = "notifications.tests.backends.ProviderBackend"
    ProviderBackend.failures = 0
    ProviderBackend.calls = 0
    return ProviderBackend


@pytest.fixture
def notifications_state(tenant_a, tenant_b):
    """notifications_state(): every row of the notifications app in the public schema and both
    tenants, and the emails sent, compared before and after a refusal to show nothing changed."""
    from django.core import mail
    from django_tenants.utils import get_public_schema_name, schema_context

    from notifications.models import (
        Branding,
        Message,
        MessageEvent,
        Notification,
        Preference,
        Suppression,
    )

    models = (Message, MessageEvent, Notification, Preference, Branding, Suppression)

    def snapshot() -> dict:
        state: dict = {"outbox": [(m.subject, tuple(m.to)) for m in mail.outbox]}
        for schema in (get_public_schema_name(), tenant_a.schema_name, tenant_b.schema_name):
            with schema_context(schema):
                for model in models:
                    rows = list(model.objects.order_by("pk").values())
                    state[f"{schema}.{model.__name__}"] = rows
        return state

    return snapshot
