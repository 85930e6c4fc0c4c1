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
