"""Fixtures of the notifications tests."""

import pytest
from django.db import connection


@pytest.fixture
def in_tenant_a(tenant_a):
    """Service calls in the test body run in tenant A's schema."""
    connection.set_tenant(tenant_a)
    yield tenant_a
    connection.set_schema_to_public()


@pytest.fixture
def provider(settings):
    """A provider-like email backend (provider message ids, failures on demand)."""
    from notifications.tests.backends import ProviderBackend

    settings.EMAIL_BACKEND = "notifications.tests.backends.ProviderBackend"
    ProviderBackend.failures = 0
    ProviderBackend.calls = 0
    return ProviderBackend
