"""In-app notifications and preferences over REST: own rows only, constant query count,
mark read, bad input, tenant isolation."""

import pytest
from django.db import connection

from notifications.models import Notification
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"
PREFS = "/api/v1/notifications/preferences/"


@pytest.fixture
def ann(make_user, tenant_a):
    return make_user(email="ann@example.com", name="Ann", tenant=tenant_a)


@pytest.fixture
def api(ann, tenant_a, auth_client):
    return auth_client(ann, tenant_a)


def in_schema(tenant, fn):
    connection.set_tenant(tenant)
    try:
        return fn()
    finally:
        connection.set_schema_to_public()


def test_the_list_shows_only_my_notifications_newest_first_in_constant_queries(
    api, ann, tenant_a, make_user, django_assert_num_queries
):
    bob = make_user(email="bob@example.com", tenant=tenant_a)
    in_schema(tenant_a, lambda: NotificationFactory.create_batch(3, user=ann))
    in_schema(tenant_a, lambda: NotificationFactory(user=bob, title="Bob's"))

    api.get(URL)  # warms the host, session and user caches
    # The page after a search path switch.
    with django_assert_num_queries(2) as captured:
        response = api.get(URL)
    assert response.status_code == 200, response.content
    titles = [n["title"] for n in response.json()["results"]]
    assert len(titles) == 3 and "Bob's" not in titles
    count = len(captured.captured_queries)

    in_schema(tenant_a, lambda: NotificationFactory.create_batch(20, user=ann))
    with django_assert_num_queries(count):
        assert len(api.get(URL).json()["results"]) == 23


def test_cursor_pagination(api, ann, tenant_a):
    in_schema(tenant_a, lambda: NotificationFactory.create_batch(5, user=ann))
    first = api.get(URL, {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    assert len(first["results"]) == len(second["results"]) == 2
    assert {n["id"] for n in first["results"]}.isdisjoint({n["id"] for n in second["results"]})


def test_mark_read_and_read_all(api, ann, tenant_a):
    first, second, third = in_schema(
        tenant_a, lambda: NotificationFactory.create_batch(3, user=ann)
    )
    assert api.get(f"{URL}unread-count/").json() == {"unread": 3}
    response = api.post(f"{URL}{first.pk}/read/")
    assert response.status_code == 200 and response.json()["is_read"] is True
    assert api.get(URL, {"unread": "true"}).json()["results"].__len__() == 2
    assert api.post(f"{URL}read-all/").json() == {"unread": 0}
    assert api.get(f"{URL}unread-count/").json() == {"unread": 0}
    assert in_schema(tenant_a, lambda: Notification.objects.filter(read_at=None).count()) == 0


def test_bad_input(api, ann, tenant_a, make_user, notifications_state):
    bob = make_user(email="bob@example.com", tenant=tenant_a)
    bobs = in_schema(tenant_a, lambda: NotificationFactory(user=bob))
    before = notifications_state()
    for url in (f"{URL}{bobs.pk}/read/", f"{URL}00000000-0000-0000-0000-000000000000/read/"):
        response = api.post(url)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert in_schema(tenant_a, lambda: Notification.objects.get(pk=bobs.pk).read_at) is None
    response = api.get(URL, {"unread": "maybe"})
    assert response.status_code == 400 and "unread" in response.json()["error"]["fields"]
    assert notifications_state() == before


def test_tenant_isolation(api, ann, tenant_a, tenant_b, auth_client, client_b, notifications_state):
    mine = in_schema(tenant_a, lambda: NotificationFactory(user=ann, title="In alpha"))
    in_schema(tenant_b, lambda: NotificationFactory(user=ann, title="In beta"))
    assert [n["title"] for n in api.get(URL).json()["results"]] == ["In alpha"]
    # A token of tenant A is refused on tenant B's host.
    before = notifications_state()
    client_b.credentials(**api._credentials)
    assert client_b.get(URL).status_code == 401
    assert client_b.post(f"{URL}{mine.pk}/read/").status_code == 401
    # Anonymous requests are refused.
    from rest_framework.test import APIClient

    assert APIClient(HTTP_HOST="alpha.localhost").get(URL).status_code == 401
    assert APIClient(HTTP_HOST="alpha.localhost").post(f"{URL}read-all/").status_code == 401
    assert notifications_state() == before


def test_preferences_list_and_update(api, ann, tenant_a, tenant_b, make_user, auth_client):
    prefs = {p["category"]: p for p in api.get(PREFS).json()}
    assert prefs["security"] == {
        "category": "security",
        "label": "Security alerts",
        "essential": True,
        "email": True,
        "in_app": True,
    }
    assert prefs["orders"]["email"] is True

    response = api.patch(PREFS, {"category": "orders", "email": False}, format="json")
    assert response.status_code == 200
    prefs = {p["category"]: p for p in response.json()}
    assert prefs["orders"]["email"] is False and prefs["orders"]["in_app"] is True

    # Preferences belong to the tenant: beta still sends Ann order emails.
    make_user_b = auth_client(ann, tenant_b)
    from accounts.services import membership_set

    membership_set(user=ann, tenant=tenant_b, role="member")
    beta = {p["category"]: p for p in make_user_b.get(PREFS).json()}
    assert beta["orders"]["email"] is True


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"category": "security", "email": False}, "essential_category"),
        ({"category": "account", "in_app": False}, "essential_category"),
        ({"category": "nope", "email": False}, "unknown_category"),
        ({"category": "orders"}, "invalid"),
        ({"email": False}, "invalid"),
        ({"category": "orders", "email": "sometimes"}, "invalid"),
    ],
)
def test_preferences_bad_input_writes_nothing(api, tenant_a, payload, code, notifications_state):
    before = notifications_state()
    response = api.patch(PREFS, payload, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    from notifications.models import Preference

    assert in_schema(tenant_a, lambda: Preference.objects.count()) == 0
    assert notifications_state() == before
