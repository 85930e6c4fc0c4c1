"""Signed one-click unsubscribe links: valid, invalid, tampered, expired, other tenant's."""

from datetime import timedelta

import pytest
from django.core import signing
from django.db import connection
from django.utils import timezone

from notifications import services
from notifications.models import Preference
from notifications.rendering import UNSUBSCRIBE_SALT, unsubscribe_token, unsubscribe_url

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1/notifications/unsubscribe/"


def link(tenant, email="ann@example.com", category="orders"):
    connection.set_tenant(tenant)
    url = unsubscribe_url(email=email, category=category)
    connection.set_schema_to_public()
    return url


def wants_orders(tenant, email="ann@example.com"):
    connection.set_tenant(tenant)
    wanted = services.email_wanted(email=email, category="orders")
    connection.set_schema_to_public()
    return wanted


def test_get_shows_a_confirmation_and_changes_nothing(tenant_a, client_a, notifications_state):
    url = link(tenant_a)
    before = notifications_state()
    response = client_a.get(url)
    assert response.status_code == 200
    assert b'<form method="post">' in response.content and b"orders emails" in response.content
    assert wants_orders(tenant_a)
    assert notifications_state() == before


def test_one_click_post_unsubscribes_from_the_category_only(tenant_a, client_a):
    url = link(tenant_a, email="Ann@Example.com")
    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", without cookies or CSRF token.
    response = client_a.post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200 and b"no longer receive" in response.content
    assert not wants_orders(tenant_a)
    connection.set_tenant(tenant_a)
    assert services.email_wanted(email="ann@example.com", category="chat")
    # Clicking again is harmless.
    assert client_a.post(url).status_code == 200
    assert Preference.objects.filter(email="ann@example.com").count() == 1


def test_the_unsubscribe_is_per_tenant(tenant_a, tenant_b, client_a):
    client_a.post(link(tenant_a))
    assert not wants_orders(tenant_a) and wants_orders(tenant_b)


def test_a_tampered_token_is_refused(tenant_a, client_a, notifications_state):
    url = link(tenant_a)
    before = notifications_state()
    token = url.rstrip("/").rsplit("/", 1)[1]
    forged = signing.dumps(
        {"e": "victim@example.com", "c": "orders", "s": "alpha"}, salt="another-salt"
    )
    for bad in (token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), forged, "garbage"):
        response = client_a.post(f"{PREFIX}{bad}/")
        assert response.status_code == 400 and b"invalid or has expired" in response.content
    assert wants_orders(tenant_a) and wants_orders(tenant_a, "victim@example.com")
    assert notifications_state() == before


def test_an_expired_token_is_refused(
    tenant_a, client_a, settings, monkeypatch, notifications_state
):
    url = link(tenant_a)
    before = notifications_state()
    later = timezone.now() + timedelta(days=settings.NOTIFICATIONS["UNSUBSCRIBE_MAX_AGE_DAYS"] + 1)
    monkeypatch.setattr(signing.time, "time", lambda: later.timestamp())
    response = client_a.post(url)
    assert response.status_code == 400
    assert wants_orders(tenant_a)
    assert notifications_state() == before


def test_a_token_of_another_tenant_is_refused(tenant_a, tenant_b, client_b, notifications_state):
    url = link(tenant_a)
    before = notifications_state()
    response = client_b.post(url)
    assert response.status_code == 400
    assert wants_orders(tenant_a) and wants_orders(tenant_b)
    assert notifications_state() == before


def test_essential_categories_cannot_be_unsubscribed_from(tenant_a, client_a, notifications_state):
    connection.set_tenant(tenant_a)
    token = unsubscribe_token(email="ann@example.com", category="security")
    connection.set_schema_to_public()
    before = notifications_state()
    for method in (client_a.get, client_a.post):
        response = method(f"{PREFIX}{token}/")
        assert response.status_code == 400 and b"cannot be unsubscribed" in response.content
    assert notifications_state() == before


def test_the_public_host_serves_links_of_emails_sent_from_the_public_schema(public_client):
    token = signing.dumps(
        {"e": "f@example.com", "c": "product", "s": "public"}, salt=UNSUBSCRIBE_SALT
    )
    assert public_client.post(f"{PREFIX}{token}/").status_code == 200
    assert not services.email_wanted(email="f@example.com", category="product")
