"""The authenticated user from a cached record: no user query per request, every change of the
user at once (deactivation, email, staff flags, password, deletion), revocation at once."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts.authentication import user_for_access_token
from accounts.models import Session, User
from accounts.services import session_start, users_deactivate
from accounts.user_cache import STALE, user_cache_invalidate, user_get_cached

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"


@pytest.fixture
def ann(make_user, tenant_a):
    return make_user(email="ann@example.com", tenant=tenant_a)


@pytest.fixture
def ann_client(ann, tenant_a):
    """Ann's client on tenant A, with her record already cached by a first request."""
    _session, tokens = session_start(user=ann, tenant=tenant_a)
    client = APIClient(HTTP_HOST="alpha.localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    client.tokens = tokens
    assert client.get(ME).status_code == 200
    return client


def _user_queries(client) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(ME)
    return response, [q["sql"] for q in captured.captured_queries if "accounts_user" in q["sql"]]


def test_a_request_loads_no_user_row_once_the_record_is_cached(ann_client, ann):
    response, user_queries = _user_queries(ann_client)
    assert response.status_code == 200
    assert response.json()["email"] == ann.email
    assert user_queries == []


def test_the_record_keeps_no_password_hash(ann, ann_client, password):
    record = caches["auth"].get(f"user:{ann.pk}")
    assert isinstance(record, dict)
    assert "password" not in record and ann.password not in record.values()
    cached = user_get_cached(ann.pk)
    assert cached.check_password(password)  # the deferred hash is loaded when needed


@pytest.mark.parametrize("how", ["save", "queryset_update"])
def test_deactivation_applies_to_the_next_request(ann_client, ann, how):
    if how == "save":
        ann.is_active = False
        ann.save()
    else:
        User.objects.filter(pk=ann.pk).update(is_active=False)
    response = ann_client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_inactive"
    # The session itself was not touched here: the user record alone refused the request.
    assert Session.objects.filter(user=ann, revoked_at__isnull=True).exists()


def test_deactivation_by_the_service_refuses_at_once(ann_client, ann):
    users_deactivate(users=User.objects.filter(pk=ann.pk))
    response = ann_client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("session_revoked", "user_inactive")
    assert User.objects.get(pk=ann.pk).is_active is False


def test_a_new_email_and_staff_flags_show_at_once(ann_client, ann):
    ann.email = "ann.new@example.com"
    ann.is_staff = True
    ann.save(update_fields=["email", "is_staff"])
    assert ann_client.get(ME).json()["email"] == "ann.new@example.com"
    assert user_get_cached(ann.pk).is_staff is True


def test_a_new_password_is_seen_at_once(ann_client, ann, password):
    ann.set_password("A-new-one-77-horses")
    ann.save()
    cached = user_get_cached(ann.pk)
    assert cached.check_password("A-new-one-77-horses")
    assert not cached.check_password(password)


def test_a_deleted_user_is_refused_at_once(ann_client, ann):
    User.objects.filter(pk=ann.pk).delete()
    response = ann_client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("session_revoked", "user_not_found")
    assert user_get_cached(ann.pk) is None


def test_revocation_stays_immediate_with_the_user_cached(ann_client, ann):
    assert ann_client.post("/api/v1/auth/logout/").status_code == 204
    response = ann_client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_revoked"
    assert not Session.objects.filter(user=ann, revoked_at__isnull=True).exists()


def test_a_row_read_before_a_change_is_not_cached_after_it(ann):
    user_cache_invalidate([ann.pk])
    # A reader that missed the cache and loaded the row meanwhile must not store it.
    assert user_get_cached(ann.pk) == ann
    assert caches["auth"].get(f"user:{ann.pk}") == STALE


def test_last_sign_in_does_not_invalidate_the_record(ann_client, ann, tenant_a):
    session_start(user=ann, tenant=tenant_a)  # writes last_login
    assert isinstance(caches["auth"].get(f"user:{ann.pk}"), dict)


def test_outside_drf_the_inactive_user_is_refused(ann_client, ann):
    user, _session_id = user_for_access_token(ann_client.tokens["access"], schema_name="alpha")
    assert user == ann
    User.objects.filter(pk=ann.pk).update(is_active=False)
    with pytest.raises(AuthenticationFailed) as refused:
        user_for_access_token(ann_client.tokens["access"], schema_name="alpha")
    assert refused.value.detail["code"] == "user_inactive"
