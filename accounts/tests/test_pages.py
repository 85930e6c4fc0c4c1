"""The server-rendered pages emailed links open without an SPA: verify email, reset password."""

from datetime import timedelta

import pytest
from django.test import Client

from accounts.models import OneTimeToken, User
from accounts.services._common import one_time_token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def browser(tenant_a):
    return Client(HTTP_HOST="alpha.localhost", enforce_csrf_checks=True)


def _token(user, purpose) -> str:
    return one_time_token_issue(user=user, purpose=purpose, lifetime=timedelta(hours=1))


def _submit(browser, path, token, **fields):
    page = browser.get(path, {"token": token})
    assert page.status_code == 200 and b"csrfmiddlewaretoken" in page.content
    csrf = browser.cookies["csrftoken"].value
    return browser.post(path, {"token": token, "csrfmiddlewaretoken": csrf, **fields})


def test_the_verify_page_confirms_the_address(browser, make_user, tenant_a):
    user = make_user(email="ann@example.com", tenant=tenant_a, email_verified_at=None)
    token = _token(user, OneTimeToken.Purpose.VERIFY_EMAIL)
    response = _submit(browser, "/verify-email", token)
    assert response.status_code == 200 and b"confirmed" in response.content
    assert User.objects.get(pk=user.pk).email_verified_at is not None


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(browser, make_user, tenant_a):
    user = make_user(email="ann@example.com", tenant=tenant_a, email_verified_at=None)
    token = _token(user, OneTimeToken.Purpose.VERIFY_EMAIL)
    response = browser.post("/verify-email", {"token": token})
    assert response.status_code == 403
    assert User.objects.get(pk=user.pk).email_verified_at is None


def test_the_reset_page_sets_the_new_password(browser, make_user, tenant_a):
    user = make_user(email="ann@example.com", tenant=tenant_a)
    token = _token(user, OneTimeToken.Purpose.RESET_PASSWORD)
    response = _submit(browser, "/reset-password", token, password="Brand-New-Pass-93")
    assert response.status_code == 200 and b"password is changed" in response.content
    assert User.objects.get(pk=user.pk).check_password("Brand-New-Pass-93")


def test_a_weak_password_shows_the_form_again_and_keeps_the_old_one(
    browser, make_user, tenant_a, password
):
    user = make_user(email="ann@example.com", tenant=tenant_a)
    token = _token(user, OneTimeToken.Purpose.RESET_PASSWORD)
    response = _submit(browser, "/reset-password", token, password="123")
    assert response.status_code == 400 and b'name="password"' in response.content
    assert User.objects.get(pk=user.pk).check_password(password)


def test_a_bad_token_says_so_and_changes_nothing(browser, make_user, tenant_a, password):
    user = make_user(email="ann@example.com", tenant=tenant_a)
    response = _submit(browser, "/reset-password", "not-a-token", password="Brand-New-Pass-93")
    assert response.status_code == 400
    assert User.objects.get(pk=user.pk).check_password(password)
