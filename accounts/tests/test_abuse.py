"""Abuse of the account endpoints, sent as an attacker would: enumeration, seat filling,
resets mailed from someone else's workspace, and rate limits dodged across hosts."""

import copy

import pytest
from django.core import mail
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import OneTimeToken, User
from accounts.services import membership_set
from accounts.tests.conftest import account_rows, link_token
from tenants.models import Membership

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
VERIFY = "/api/v1/auth/verify-email/"
LOGIN = "/api/v1/auth/login/"
FORGOT = "/api/v1/auth/password/forgot/"
STRONG = "Sturdy-Pass-2024"


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """post(client, url, body, **extra) -> (status, body), on-commit callbacks (emails) run."""

    def send(client, url, body, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, body, format="json", **extra)
        return response.status_code, response.json()

    return send


@pytest.fixture
def rates(monkeypatch):
    """rates(auth=..., anon=...) sets these throttle rates for the test."""

    def set_rates(**changes):
        monkeypatch.setattr(
            SimpleRateThrottle,
            "THROTTLE_RATES",
            {**SimpleRateThrottle.THROTTLE_RATES, **changes},
        )

    return set_rates


@pytest.fixture
def seats(settings):
    """seats(n): the free plan allows n members."""

    def limit(n):
        plans = copy.deepcopy(settings.PLANS)
        plans["free"]["limits"]["members"] = n
        settings.PLANS = plans

    return limit


@pytest.fixture
def addresses(make_user, tenant_a, client_a, post):
    """A confirmed member, an unconfirmed registration and an address without an account."""
    make_user(email="known@example.com", tenant=tenant_a)
    post(client_a, REGISTER, {"email": "pending@example.com", "password": STRONG, "name": "P"})
    mail.outbox.clear()
    return ["known@example.com", "pending@example.com", "nobody@example.com"]


def _answers(post, client, emails, password, **extra) -> set[str]:
    return {
        repr(post(client, REGISTER, {"email": e, "password": password, "name": "X"}, **extra))
        for e in emails
    }


# --- Enumeration ------------------------------------------------------------------------------


def test_register_with_a_weak_password_answers_alike_for_every_address(
    client_a, post, addresses, unchanged
):
    with unchanged():
        answers = _answers(post, client_a, addresses, "password")
    assert len(answers) == 1
    assert "'code': 'invalid'" in answers.pop()


def test_register_on_a_full_workspace_answers_alike_and_takes_no_seat(
    client_a, tenant_a, post, addresses, seats
):
    seats(Membership.objects.filter(tenant=tenant_a).count())
    members = set(Membership.objects.filter(tenant=tenant_a).values_list("user_id", flat=True))
    answers = _answers(post, client_a, addresses, STRONG)
    assert len(answers) == 1 and answers.pop().startswith("(202, ")
    assert set(Membership.objects.filter(tenant=tenant_a).values_list("user_id", flat=True)) == (
        members
    )


def test_register_on_a_closed_workspace_answers_alike(
    client_a, tenant_a, post, addresses, unchanged
):
    tenant_a.allow_self_signup = False
    tenant_a.save()
    with unchanged():
        answers = _answers(post, client_a, addresses, STRONG)
    assert len(answers) == 1 and "signup_closed" in answers.pop()


# --- Seats are for confirmed members --------------------------------------------------------


def test_unconfirmed_registrations_fill_no_seat_and_confirming_admits(
    client_a, tenant_a, make_user, post, seats, login
):
    seats(Membership.objects.filter(tenant=tenant_a).count() + 1)
    for i in range(5):
        assert (
            post(
                client_a, REGISTER, {"email": f"throw{i}@x.test", "password": STRONG, "name": "T"}
            )[0]
            == 202
        )
    assert not Membership.objects.filter(user__email__startswith="throw").exists()

    # A real person still gets the free seat; confirming makes them a member.
    post(client_a, REGISTER, {"email": "real@example.com", "password": STRONG, "name": "R"})
    status, _ = post(client_a, VERIFY, {"token": link_token(mail.outbox[-1].body)})
    assert status == 200
    real = User.objects.get(email="real@example.com")
    assert Membership.objects.get(tenant=tenant_a, user=real).role == "member"
    assert login("real@example.com", STRONG).status_code == 200

    # The workspace is full now: the next confirmation still confirms, and admits nobody.
    mail.outbox.clear()
    post(client_a, REGISTER, {"email": "late@example.com", "password": STRONG, "name": "L"})
    status, _ = post(client_a, VERIFY, {"token": link_token(mail.outbox[-1].body)})
    assert status == 200
    late = User.objects.get(email="late@example.com")
    assert late.email_verified_at is not None
    assert not Membership.objects.filter(user=late).exists()


# --- Password reset from another workspace ---------------------------------------------------


def test_a_workspace_cannot_mail_a_reset_to_someone_who_is_not_its_member(
    client_a, client_b, tenant_a, make_user, post, unchanged
):
    make_user(email="ann@example.com", tenant=tenant_a)
    with unchanged(events=0):
        foreign = post(client_b, FORGOT, {"email": "ann@example.com"})
    ghost = post(client_b, FORGOT, {"email": "ghost@example.com"})
    assert foreign == ghost and foreign[0] == 202
    assert not OneTimeToken.objects.exists()

    assert post(client_a, FORGOT, {"email": "ann@example.com"}) == foreign
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]


def test_a_workspace_name_cannot_pose_as_another_sender(client_a, in_a, tenant_a, make_user, post):
    from notifications.services import branding_update

    branding_update(data={"from_name": 'Security Team <security@bank.example>, "IT"'})
    make_user(email="ann@example.com", tenant=tenant_a)
    post(client_a, FORGOT, {"email": "ann@example.com"})
    sender = mail.outbox[-1].from_email
    assert sender == '"Security Team security bank.example IT via Platform" <no-reply@localhost>'


# --- Rate limits across hosts ------------------------------------------------------------------


def test_another_workspace_host_adds_no_sign_in_tries(client_a, client_b, rates, unchanged):
    rates(auth="3/min")
    body = {"email": "t@example.com", "password": "Wrong-1x"}
    codes = [client_a.post(LOGIN, body, format="json").status_code for _ in range(3)]
    with unchanged():
        refused = client_b.post(LOGIN, {**body, "email": "u@example.com"}, format="json")
    assert codes == [401, 401, 401]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0


def test_one_account_is_limited_across_hosts_and_client_addresses(
    client_a, client_b, rates, unchanged
):
    rates(auth_account="2/min")
    body = {"email": "victim@example.com"}
    first = client_a.post(FORGOT, body, format="json", REMOTE_ADDR="203.0.113.1")
    second = client_b.post(FORGOT, body, format="json", REMOTE_ADDR="203.0.113.2")
    with unchanged():
        third = client_a.post(FORGOT, body, format="json", REMOTE_ADDR="203.0.113.3")
    assert (first.status_code, second.status_code, third.status_code) == (202, 202, 429)
    # Another address is not held up by the victim's limit.
    other = client_a.post(FORGOT, {"email": "x@example.com"}, format="json")
    assert other.status_code == 202


def test_every_api_view_is_rate_limited_per_client_across_hosts(rates):
    rates(anon="2/min")
    alpha, beta = APIClient(HTTP_HOST="alpha.localhost"), APIClient(HTTP_HOST="beta.localhost")
    codes = [alpha.get("/api/v1/").status_code, beta.get("/api/v1/").status_code]
    refused = alpha.get("/api/v1/")
    assert codes == [200, 200]
    assert refused.status_code == 429
    assert set(refused.json()) == {"error"} and refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0


def test_signed_in_users_have_one_budget_on_every_host(
    make_user, tenant_a, tenant_b, auth_client, rates
):
    rates(user="2/min")
    user = make_user(tenant=tenant_a)
    membership_set(user=user, tenant=tenant_b, role="member")
    on_a, on_b = auth_client(user, tenant_a), auth_client(user, tenant_b)
    assert [on_a.get("/api/v1/auth/me/").status_code, on_b.get("/api/v1/auth/me/").status_code] == [
        200,
        200,
    ]
    assert on_b.get("/api/v1/auth/me/").status_code == 429


# --- Forwarded scheme ---------------------------------------------------------------------


def test_a_client_sent_x_forwarded_proto_is_not_trusted_without_a_proxy(
    public_client, post, celery_eager
):
    rows = account_rows()
    signup = {
        "name": "Gamma Labs",
        "slug": "gamma",
        "owner_email": "founder@gamma.test",
        "owner_password": "Sturdy-Pass-2026",
    }
    post(public_client, "/api/v1/tenants/", signup)
    status, body = post(
        public_client,
        "/api/v1/tenants/confirm/",
        {"token": link_token(mail.outbox[-1].body)},
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert status == 201
    assert body["api"].startswith("http://gamma.localhost")
    assert account_rows()["accounts.User"] == rows["accounts.User"] + 1


def test_unconfirmed_accounts_are_removed_after_the_grace_period(
    client_a, tenant_a, make_user, post, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import SecurityEvent, Session
    from accounts.tasks import cleanup

    settings.ACCOUNTS = {**settings.ACCOUNTS, "UNVERIFIED_RETENTION_HOURS": 72}
    for email in ("throwaway@x.test", "recent@x.test"):
        post(client_a, REGISTER, {"email": email, "password": STRONG, "name": "T"})
    invited = make_user(email="invited@x.test", tenant=tenant_a, email_verified_at=None)
    confirmed = make_user(email="old@x.test")
    staff = make_user(email="staff@x.test", is_staff=True, email_verified_at=None)
    long_ago = timezone.now() - timedelta(hours=73)
    User.objects.exclude(email="recent@x.test").update(date_joined=long_ago)
    others = set(User.objects.exclude(email__endswith="@x.test").values_list("pk", flat=True))

    assert cleanup()["unverified_accounts"] == 1
    assert not User.objects.filter(email="throwaway@x.test").exists()
    assert set(User.objects.filter(email__endswith="@x.test").values_list("email", flat=True)) == {
        "recent@x.test",
        invited.email,
        confirmed.email,
        staff.email,
    }
    assert not OneTimeToken.objects.filter(user__email="throwaway@x.test").exists()
    assert SecurityEvent.objects.filter(kind="registered", user__isnull=True).count() == 1
    assert not Session.objects.exists()
    assert set(User.objects.exclude(email__endswith="@x.test").values_list("pk", flat=True)) == (
        others
    )
    assert cleanup()["unverified_accounts"] == 0

    # The address is free again for its real owner.
    mail.outbox.clear()
    post(client_a, REGISTER, {"email": "throwaway@x.test", "password": STRONG, "name": "Real"})
    assert User.objects.get(email="throwaway@x.test").name == "Real"
    assert "/verify-email?token=" in mail.outbox[-1].body


def test_an_unconfirmed_account_still_referred_to_in_a_workspace_is_kept(make_user, tenant_a):
    from datetime import timedelta

    from django.utils import timezone
    from django_tenants.utils import schema_context

    from accounts.tasks import cleanup
    from chat.models import Room

    long_ago = timezone.now() - timedelta(days=30)
    kept = make_user(email="referred@x.test", email_verified_at=None, date_joined=long_ago)
    gone = make_user(email="gone@x.test", email_verified_at=None, date_joined=long_ago)
    with schema_context(tenant_a.schema_name):
        Room.objects.create(kind="group", name="R", created_by=kept)

    assert cleanup()["unverified_accounts"] == 1
    assert User.objects.filter(pk=kept.pk).exists()
    assert not User.objects.filter(pk=gone.pk).exists()
