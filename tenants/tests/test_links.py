"""Emailed links: the workspace's SPA, else its primary domain with the configured scheme and
port; never the request's Host header."""

import pytest
from django.core import mail

from tenants.links import app_base_url, platform_base_url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_primary_domain_with_the_configured_scheme_and_port(tenant_a, settings):
    settings.LINK_SCHEME, settings.LINK_PORT = "https", "8443"
    assert platform_base_url(tenant_a) == "https://alpha.localhost:8443"
    settings.LINK_PORT = ""
    assert app_base_url(tenant_a) == "https://alpha.localhost"


def test_a_workspace_spa_takes_the_links(tenant_a, tenant_b, settings):
    settings.LINK_SCHEME, settings.LINK_PORT = "http", ""
    tenant_a.spa_base_url = "https://app.alpha.test/"
    tenant_a.save()
    assert app_base_url(tenant_a) == "https://app.alpha.test"
    assert platform_base_url(tenant_a) == "http://alpha.localhost"
    assert app_base_url(tenant_b) == "http://beta.localhost"


def _reset_email(client, **extra):
    response = client.post(
        "/api/v1/auth/password/forgot/", {"email": "ann@example.com"}, format="json", **extra
    )
    assert response.status_code in (200, 202, 204)


def test_auth_links_ignore_the_request_host_and_keep_the_port(
    client_a, make_user, tenant_a, settings, django_capture_on_commit_callbacks, celery_eager
):
    settings.LINK_SCHEME, settings.LINK_PORT = "http", "8000"
    make_user(email="ann@example.com", tenant=tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        _reset_email(client_a, HTTP_HOST="alpha.localhost:9999")
    [email] = mail.outbox
    assert "http://alpha.localhost:8000/reset-password?token=" in email.body
    assert ":9999" not in email.body


def test_auth_links_open_on_the_workspace_spa(
    client_a, make_user, tenant_a, settings, django_capture_on_commit_callbacks, celery_eager
):
    tenant_a.spa_base_url = "https://app.alpha.test"
    tenant_a.save()
    make_user(email="ann@example.com", tenant=tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        _reset_email(client_a)
    [email] = mail.outbox
    assert "https://app.alpha.test/reset-password?token=" in email.body


def test_the_request_tenant_knows_its_primary_domain_until_it_changes(tenant_a, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tenants.models import Domain
    from tenants.resolution import tenant_for_host

    settings.LINK_SCHEME, settings.LINK_PORT = "http", ""
    Domain.objects.create(domain="shop.alpha.test", tenant=tenant_a, is_primary=False)
    resolved = tenant_for_host("shop.alpha.test")
    with CaptureQueriesContext(connection) as captured:
        assert platform_base_url(resolved) == "http://alpha.localhost"
    assert captured.captured_queries == []

    # Every domain write tells the resolution memo (tenants.resolution.hosts_changed).
    Domain.objects.filter(tenant=tenant_a).update(is_primary=False)
    Domain.objects.filter(domain="shop.alpha.test").update(is_primary=True)
    assert platform_base_url(tenant_for_host("alpha.localhost")) == "http://shop.alpha.test"
