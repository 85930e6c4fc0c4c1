"""An authenticated API request reads Redis twice (the host's version; the session, the user's
record and the permission versions with the snapshot together) besides the rate limit's read and
write; every change still applies to the next request."""

import pytest
import redis
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.services import session_start, users_deactivate
from catalog.tests.factories import ProductFactory
from rbac import services as rbac_services
from rbac.access import has_permission
from rbac.models import RolePermission

pytestmark = pytest.mark.django_db

LIST = "/api/v1/catalog/products/"


@pytest.fixture
def redis_commands(monkeypatch):
    """The names of the Redis commands sent while the test runs."""
    sent: list[str] = []
    original = redis.Redis.execute_command

    def counting(self, *args, **options):
        sent.append(str(args[0]).upper())
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)
    return sent


@pytest.fixture
def ann_client(make_user, tenant_a, client_a):
    ann = make_user(email="ann@example.com", tenant=tenant_a, role="manager")
    _session, tokens = session_start(user=ann, tenant=tenant_a)
    client_a.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    client_a.user = ann
    with schema_context(tenant_a.schema_name):
        ProductFactory.create_batch(3)
    assert client_a.get(LIST).status_code == 200  # caches warm
    return client_a


def test_a_warm_list_request_makes_two_redis_reads_and_the_rate_count(ann_client, redis_commands):
    response = ann_client.get(LIST)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
    # The host's version; the session, the user, the RBAC versions and the snapshot together
    # (two permission checks in this request: the view's and the cost price's); the per-user
    # rate limit's history, read and written.
    assert redis_commands == ["GET", "MGET", "GET", "SET"]


def test_a_changed_role_applies_to_the_next_request(ann_client, tenant_a):
    from accounts.services import membership_set

    assert "cost_price" in ann_client.get(LIST).json()["results"][0]
    membership_set(user=ann_client.user, tenant=tenant_a, role="member")
    assert "cost_price" not in ann_client.get(LIST).json()["results"][0]


def test_a_read_held_from_before_a_rule_change_in_this_process_is_not_used(
    make_user, tenant_a, in_a
):
    from django.db import connection

    from rbac import cache as rbac_cache
    from rbac.access import REQUEST_SCOPED_USER, hold_prefetched

    dan = make_user(tenant=tenant_a, role="manager")
    generation = rbac_cache.local_generation
    assert has_permission(dan, "catalog.product", "update")  # builds and stores the snapshot
    stale = rbac_cache.versions_and_snapshot(dan.pk)
    grant = RolePermission.objects.get(
        role__name="manager",
        permission__resource__name="catalog.product",
        permission__action="update",
    )
    rbac_services.role_permission_revoke(actor=None, grant=grant)
    fresh = User.objects.get(pk=dan.pk)
    setattr(fresh, REQUEST_SCOPED_USER, True)
    hold_prefetched(fresh, schema_name=connection.schema_name, generation=generation, read=stale)
    assert not has_permission(fresh, "catalog.product", "update")


def test_a_revoked_grant_applies_to_the_next_request(ann_client, tenant_a):
    assert "cost_price" in ann_client.get(LIST).json()["results"][0]
    with schema_context(tenant_a.schema_name):
        grant = RolePermission.objects.get(
            role__name="manager",
            permission__resource__name="catalog.product",
            permission__action="update",
        )
        rbac_services.role_permission_revoke(actor=None, grant=grant)

    assert "cost_price" not in ann_client.get(LIST).json()["results"][0]


def test_deactivation_and_sign_out_apply_to_the_next_request(ann_client, make_user, tenant_a):
    users_deactivate(users=User.objects.filter(pk=ann_client.user.pk))
    assert ann_client.get(LIST).status_code == 401


def test_a_user_object_kept_across_requests_checks_the_versions_every_time(
    make_user, tenant_a, in_a
):
    # A websocket consumer or a script keeps its user object: no snapshot is kept for it.
    bob = make_user(tenant=tenant_a, role="manager")
    assert has_permission(bob, "catalog.product", "update")
    grant = RolePermission.objects.get(
        role__name="manager",
        permission__resource__name="catalog.product",
        permission__action="update",
    )
    rbac_services.role_permission_revoke(actor=None, grant=grant)
    assert not has_permission(bob, "catalog.product", "update")


def test_a_request_scoped_snapshot_is_dropped_when_this_process_changes_the_rules(
    make_user, tenant_a, in_a
):
    from rbac.access import REQUEST_SCOPED_USER

    carol = make_user(tenant=tenant_a, role="manager")
    setattr(carol, REQUEST_SCOPED_USER, True)
    assert has_permission(carol, "catalog.product", "update")
    grant = RolePermission.objects.get(
        role__name="manager",
        permission__resource__name="catalog.product",
        permission__action="update",
    )
    rbac_services.role_permission_revoke(actor=None, grant=grant)
    assert not has_permission(carol, "catalog.product", "update")


def test_one_read_across_caches_keeps_each_cache_s_keys_apart(in_a, redis_commands):
    from django.core.cache import caches

    from core.cache import get_many_from

    caches["auth"].set("round-trip-key", "auth's")
    caches["default"].set("round-trip-key", "this workspace's")
    redis_commands.clear()
    found = get_many_from({"auth": ["round-trip-key", "absent"], "default": ["round-trip-key"]})
    assert found == {
        "auth": {"round-trip-key": "auth's"},
        "default": {"round-trip-key": "this workspace's"},
    }
    assert redis_commands == ["MGET"]
