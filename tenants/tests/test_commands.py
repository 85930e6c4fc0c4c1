"""create_tenant and seed_demo: clear errors, nothing half-created, idempotent demo."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import User
from tenants.models import Domain, Membership, Tenant


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


@pytest.mark.django_db
def test_create_tenant_creates_schema_domain_and_owner(capsys):
    call_command(
        "create_tenant",
        "--slug",
        "gamma-co",
        "--name",
        "Gamma",
        "--domain",
        "gamma.localhost",
        "--owner-email",
        "Owner@Gamma.test",
    )
    tenant = Tenant.objects.get(slug="gamma-co")
    assert tenant.schema_name == "gamma_co"
    assert _schema_exists("gamma_co")
    assert Domain.objects.get(domain="gamma.localhost").tenant == tenant
    owner = User.objects.get(email="owner@gamma.test")
    assert not owner.has_usable_password()
    assert Membership.objects.get(user=owner, tenant=tenant).role == "owner"
    assert "Created tenant gamma-co" in capsys.readouterr().out


@pytest.mark.django_db
def test_create_tenant_duplicate_slug_is_a_clear_error_and_creates_nothing(tenant_a):
    before = (
        Tenant.objects.count(),
        Domain.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )
    with pytest.raises(CommandError, match='slug "alpha" is already taken'):
        call_command(
            "create_tenant",
            "--slug",
            "alpha",
            "--name",
            "X",
            "--domain",
            "other.localhost",
            "--owner-email",
            "new@x.test",
        )
    assert (
        Tenant.objects.count(),
        Domain.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    ) == before
    assert not User.objects.filter(email="new@x.test").exists()


@pytest.mark.django_db
def test_create_tenant_duplicate_domain_is_a_clear_error_and_creates_nothing(tenant_a):
    with pytest.raises(CommandError, match="alpha.localhost.*already in use"):
        call_command(
            "create_tenant",
            "--slug",
            "delta",
            "--name",
            "Delta",
            "--domain",
            "alpha.localhost",
            "--owner-email",
            "new@x.test",
        )
    assert not Tenant.objects.filter(slug="delta").exists()
    assert not _schema_exists("delta")
    assert not User.objects.filter(email="new@x.test").exists()
    assert Domain.objects.get(domain="alpha.localhost").tenant == tenant_a


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["Bad Slug", "public", "a", "-lead", "x" * 70])
def test_create_tenant_rejects_invalid_slugs(slug):
    before = (Tenant.objects.count(), Domain.objects.count(), User.objects.count())
    with pytest.raises(CommandError, match="slug"):
        call_command(
            "create_tenant",
            "--slug",
            slug,
            "--name",
            "N",
            "--domain",
            "n.localhost",
            "--owner-email",
            "n@x.test",
        )
    assert (Tenant.objects.count(), Domain.objects.count(), User.objects.count()) == before
    assert not Domain.objects.filter(domain="n.localhost").exists()


@pytest.mark.django_db
def test_seed_demo_is_idempotent(monkeypatch, capsys):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "Demo-pass-2026")
    call_command("seed_demo")
    call_command("seed_demo")
    tenant = Tenant.objects.get(slug="demo")
    assert Domain.objects.filter(domain="demo.localhost").count() == 1
    admin = User.objects.get(email="admin@demo.localhost")
    assert admin.is_superuser and admin.check_password("Demo-pass-2026")
    assert Membership.objects.filter(user=admin, tenant=tenant, role="owner").count() == 1
    assert "Demo ready." in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_demo_runs_again_after_a_reviewed_demo_product_is_deleted(monkeypatch, capsys):
    from django_tenants.utils import schema_context

    from catalog import services as catalog_services
    from catalog.models import Product, Review

    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "Demo-pass-2026")
    call_command("seed_demo")
    tenant = Tenant.objects.get(slug="demo")
    with schema_context(tenant.schema_name):
        reviewed = list(Product.objects.filter(reviews__isnull=False).order_by("id")[:2])
        assert len(reviewed) == 2
        for product in reviewed:
            catalog_services.product_delete(product_id=product.id)
        # The second one also lost its demo review (its author removed it before).
        catalog_services.review_delete(review=Review.objects.get(product=reviewed[1]))
        before = (Product.objects.count(), Review.objects.count())

    call_command("seed_demo")

    with schema_context(tenant.schema_name):
        assert (Product.objects.count(), Review.objects.count()) == before
        assert all(Product.objects.get(pk=p.pk).deleted_at for p in reviewed)
    assert capsys.readouterr().out.count("Demo ready.") == 2
