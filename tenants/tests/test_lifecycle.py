"""Sign-up on the public host, suspension, reactivation, deletion with a grace period, export."""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from tenants.models import Domain, Membership, Tenant
from tenants.services import (
    tenant_reactivate,
    tenant_schedule_deletion,
    tenant_suspend,
    tenants_purge_due,
)
from tenants.tests.factories import DomainFactory, MembershipFactory, TenantFactory

SIGNUP = {
    "name": "Gamma Labs",
    "slug": "gamma",
    "owner_email": "Founder@Gamma.test",
    "owner_password": "Sturdy-Pass-2026",
    "owner_name": "Gia",
}


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def _public_rows() -> tuple[int, ...]:
    """Tenants, domains, users and memberships: what a sign-up writes besides its schema."""
    models = (Tenant, Domain, User, Membership)
    return tuple(model.objects.count() for model in models)


def _signup_token() -> str:
    return re.search(r"\?token=([A-Za-z0-9_\-]+)", mail.outbox[-1].body).group(1)


@pytest.mark.django_db
def test_signup_creates_workspace_domain_and_owner_once_the_link_is_followed(
    public_client, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        asked = public_client.post("/api/v1/tenants/", SIGNUP, format="json")
    assert asked.status_code == 202, asked.json()
    assert not Tenant.objects.filter(slug="gamma").exists()
    assert not User.objects.filter(email="founder@gamma.test").exists()
    assert mail.outbox[-1].to == ["founder@gamma.test"]
    assert "http://localhost/confirm-workspace?token=" in mail.outbox[-1].body

    response = public_client.post(
        "/api/v1/tenants/confirm/", {"token": _signup_token()}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tenant"]["slug"] == "gamma"
    assert body["domain"] == "gamma.localhost"
    assert body["api"] == "http://gamma.localhost/api/v1/"
    tenant = Tenant.objects.get(slug="gamma")
    assert _schema_exists("gamma")
    owner = User.objects.get(email="founder@gamma.test")
    assert owner.check_password("Sturdy-Pass-2026") and owner.email_verified_at is not None
    assert Membership.objects.get(tenant=tenant, user=owner).role == "owner"
    assert "owner_password" not in json.dumps(body)

    before = _public_rows()
    again = public_client.post(
        "/api/v1/tenants/confirm/", {"token": _signup_token()}, format="json"
    )
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_token"
    assert _public_rows() == before


@pytest.mark.django_db
def test_signup_is_only_on_the_public_host(client_a):
    before = _public_rows()
    assert client_a.post("/api/v1/tenants/", SIGNUP, format="json").status_code in (401, 404)
    assert not Tenant.objects.filter(slug="gamma").exists()
    assert _public_rows() == before
    assert not _schema_exists("gamma")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, field",
    [
        ({"slug": "alpha"}, "slug"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"owner_password": "password"}, "owner_password"),
        ({"owner_email": "not-an-email"}, "owner_email"),
        ({"name": ""}, "name"),
    ],
)
def test_signup_rejects_bad_input_and_writes_nothing(public_client, tenant_a, change, field):
    before = (Tenant.objects.count(), User.objects.count(), Domain.objects.count())
    memberships = Membership.objects.count()
    response = public_client.post("/api/v1/tenants/", {**SIGNUP, **change}, format="json")
    assert response.status_code in (400, 409)
    assert field in response.json()["error"]["fields"]
    assert (Tenant.objects.count(), User.objects.count(), Domain.objects.count()) == before
    assert Membership.objects.count() == memberships
    assert not _schema_exists("gamma")


@pytest.mark.django_db
def test_signup_answers_alike_for_existing_and_new_addresses_and_checks_no_password(
    public_client, make_user, password, celery_eager, django_capture_on_commit_callbacks
):
    """Sign-up was a password oracle for existing accounts (right password: a workspace,
    wrong: 400) that skipped the lockout and MFA. Now the password is never checked against
    an account, and the answer is the same as for a new address."""
    user = make_user(email="founder@gamma.test")
    before = _public_rows()
    answers = []
    for owner in ("founder@gamma.test", "nobody-yet@gamma.test"):
        for attempt in ("Wrong-Guess-2026", password):
            with django_capture_on_commit_callbacks(execute=True):
                response = public_client.post(
                    "/api/v1/tenants/",
                    {**SIGNUP, "owner_email": owner, "owner_password": attempt},
                    format="json",
                )
            answers.append((response.status_code, response.json()))
    assert len({json.dumps(answer) for answer in answers}) == 1
    assert answers[0][0] == 202
    assert not Tenant.objects.filter(slug="gamma").exists() and not _schema_exists("gamma")
    assert _public_rows() == before
    user.refresh_from_db()
    assert user.check_password(password) and not user.memberships.exists()

    # The mailbox owner may still create the workspace; their password stays theirs.
    mail.outbox[:] = [m for m in mail.outbox if m.to == ["founder@gamma.test"]]
    assert "already has an account" in mail.outbox[-1].body
    confirmed = public_client.post(
        "/api/v1/tenants/confirm/", {"token": _signup_token()}, format="json"
    )
    assert confirmed.status_code == 201
    user.refresh_from_db()
    assert user.check_password(password)
    assert Membership.objects.get(tenant__slug="gamma", user=user).role == "owner"


@pytest.mark.django_db
def test_signup_on_a_domain_already_in_use_is_refused_and_writes_nothing(public_client, tenant_b):
    DomainFactory(domain="gamma.localhost", tenant=tenant_b)
    before = _public_rows()
    response = public_client.post("/api/v1/tenants/", SIGNUP, format="json")
    assert response.status_code == 409
    assert "domain" in response.json()["error"]["fields"]
    assert _public_rows() == before
    assert not _schema_exists("gamma")
    assert Domain.objects.get(domain="gamma.localhost").tenant == tenant_b


@pytest.mark.django_db
def test_every_domain_of_a_workspace_serves_it_and_unknown_hosts_are_404(tenant_a):
    from rest_framework.test import APIClient

    DomainFactory(domain="alpha-alias.localhost", tenant=tenant_a)
    alias = APIClient(HTTP_HOST="alpha-alias.localhost").get("/api/v1/")
    assert alias.status_code == 200 and alias.json()["workspace"] == "alpha"
    unknown = APIClient(HTTP_HOST="nowhere.localhost").get("/api/v1/")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "tenant_not_found"


@pytest.mark.django_db
def test_signup_is_throttled(public_client, settings):
    from rest_framework.throttling import ScopedRateThrottle

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"signup": "2/hour"},
    }
    ScopedRateThrottle.THROTTLE_RATES = {"signup": "2/hour"}
    before = _public_rows()
    try:
        codes = [
            public_client.post("/api/v1/tenants/", {"slug": "x"}, format="json").status_code
            for _ in range(3)
        ]
    finally:
        from rest_framework.settings import api_settings

        ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert codes == [400, 400, 429]
    assert _public_rows() == before


@pytest.mark.django_db
def test_suspend_blocks_api_and_html_then_reactivate_restores(client_a, tenant_a):
    tenant_suspend(tenant=tenant_a, reason="unpaid")
    api = client_a.get("/api/v1/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "tenant_suspended"
    page = client_a.get("/admin/login/", HTTP_ACCEPT="text/html")
    assert page.status_code == 403 and b"This workspace is suspended" in page.content
    tenant_reactivate(tenant=tenant_a)
    assert client_a.get("/api/v1/").status_code == 200


@pytest.mark.django_db
def test_public_tenant_cannot_be_suspended(public_tenant):
    from tenants.errors import InvalidTenant

    with pytest.raises(InvalidTenant):
        tenant_suspend(tenant=public_tenant)
    public_tenant.refresh_from_db()
    assert public_tenant.is_active and public_tenant.suspended_at is None


@pytest.mark.django_db
def test_deletion_waits_for_the_grace_period_and_can_be_cancelled():
    call_command(
        "create_tenant",
        "--slug",
        "doomed",
        "--name",
        "D",
        "--domain",
        "doomed.localhost",
        "--owner-email",
        "d@d.test",
    )
    tenant = Tenant.objects.get(slug="doomed")
    tenant_schedule_deletion(tenant=tenant, grace_days=7)
    tenant.refresh_from_db()
    assert tenant.is_active is False
    assert tenants_purge_due() == []  # still inside the grace period
    # The schema was created inside this test's transaction; fire its deferred FK checks now,
    # as a commit would have, so the schema can be dropped in the same transaction.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert tenants_purge_due(now=timezone.now() + timedelta(days=8)) == ["doomed"]
    assert not Tenant.objects.filter(slug="doomed").exists()
    assert not Domain.objects.filter(domain="doomed.localhost").exists()
    assert not _schema_exists("doomed")


@pytest.mark.django_db
def test_reactivation_cancels_a_scheduled_deletion(tenant_b):
    tenant_schedule_deletion(tenant=tenant_b, grace_days=1)
    tenant_reactivate(tenant=tenant_b)
    assert tenants_purge_due(now=timezone.now() + timedelta(days=2)) == []
    tenant_b.refresh_from_db()
    assert tenant_b.is_active and tenant_b.delete_after is None


@pytest.mark.django_db
def test_export_tenant_writes_its_rows_and_none_of_another_tenant(tenant_a, tenant_b, tmp_path):
    from django.contrib.auth.models import Group

    MembershipFactory(user__email="member@alpha.test", tenant=tenant_a)
    with schema_context(tenant_a.schema_name):
        Group.objects.create(name="alpha-group")
    with schema_context(tenant_b.schema_name):
        Group.objects.create(name="beta-group")
    out = tmp_path / "alpha.jsonl"
    call_command("export_tenant", "--slug", "alpha", "--output", str(out))
    text = out.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0] == {"tenant": "alpha", "name": "Alpha Corp"}
    assert {
        "model": "tenants.membership",
        "fields": {"email": "member@alpha.test", "role": "member"},
    } in lines
    assert "beta-group" not in text


@pytest.mark.django_db
def test_export_unknown_tenant_is_a_clear_error():
    with pytest.raises(CommandError, match='No tenant with slug "nope"'):
        call_command("export_tenant", "--slug", "nope")


@pytest.mark.django_db
def test_tenants_run_reports_each_tenant(tenant_a, tenant_b, capsys):
    call_command("tenants_run", "check")
    out = capsys.readouterr().out
    assert "[1/2] alpha: ok" in out and "[2/2] beta: ok" in out
    assert "2 ok, 0 failed" in out


@pytest.mark.django_db
def test_tenants_run_continues_past_a_failing_tenant(tenant_a, tenant_b, capsys):
    with pytest.raises(CommandError, match="2 tenant"):
        call_command("tenants_run", "no_such_command")
    out = capsys.readouterr().out
    assert out.count("failed: CommandError") == 2


@pytest.mark.django_db
def test_tenant_usage_report(tenant_a, capsys):
    MembershipFactory(tenant=tenant_a)
    call_command("tenant_usage", "--json")
    rows = {row["slug"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["alpha"]["members"] == 1
    assert rows["alpha"]["schema_bytes"] > 0
    assert "public" not in rows


@pytest.mark.django_db
def test_tenant_usage_takes_the_same_queries_for_any_number_of_tenants(
    tenant_a, tenant_b, django_assert_num_queries
):
    from tenants.selectors import tenants_usage

    # Sizes of every schema, then tenants with member counts (search_path already set).
    with django_assert_num_queries(2):
        rows = tenants_usage()
    assert {row["slug"] for row in rows} >= {"alpha", "beta"}

    more = TenantFactory.create_batch(5)
    for tenant in more:
        MembershipFactory.create_batch(2, tenant=tenant)
    with django_assert_num_queries(2):
        rows = {row["slug"]: row for row in tenants_usage()}
    assert all(rows[tenant.slug]["members"] == 2 for tenant in more)
