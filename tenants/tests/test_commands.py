"""create_tenant and seed_demo: clear errors, nothing half-created, idempotent demo; migrate_schemas
skips the schemas already up to date."""

from io import StringIO
from unittest import mock

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


def _migrate_schemas_spied(**options) -> tuple[list[str], str]:
    """Runs migrate_schemas on the tenant schemas; returns the schemas migrated and the output."""
    from django_tenants.migration_executors import standard

    migrated = []
    real = standard.run_migrations

    def spy(args, opts, codename, schema_name, **kwargs):
        migrated.append(schema_name)
        return real(args, opts, codename, schema_name, **kwargs)

    out = StringIO()
    with mock.patch.object(standard, "run_migrations", spy):
        call_command(
            "migrate_schemas",
            tenant=True,
            executor="standard",
            interactive=False,
            verbosity=1,
            stdout=out,
            **options,
        )
    return migrated, out.getvalue()


def _recorded(schema: str, app: str, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT 1 FROM "{schema}".django_migrations WHERE app = %s AND name = %s',  # noqa: S608
            [app, name],
        )
        return cursor.fetchone() is not None


@pytest.mark.django_db
def test_migrate_schemas_migrates_only_the_schemas_behind(tenant_a, tenant_b):
    # A shared app's latest migration: in a tenant schema migrate only records it again.
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT max(name) FROM "{tenant_b.schema_name}".django_migrations '  # noqa: S608
            "WHERE app = 'tenants'"
        )
        missing = ("tenants", cursor.fetchone()[0])
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{tenant_b.schema_name}".django_migrations '  # noqa: S608
            "WHERE app = %s AND name = %s",
            list(missing),
        )

    migrated, out = _migrate_schemas_spied()

    assert migrated == [tenant_b.schema_name]
    assert "migrating 1." in out
    assert _recorded(tenant_b.schema_name, *missing)
    assert _recorded(tenant_a.schema_name, *missing)
    again, out = _migrate_schemas_spied()
    assert again == []
    assert "migrating 0." in out


@pytest.mark.django_db
def test_migrate_schemas_all_schemas_and_targeted_runs_visit_every_schema(tenant_a, tenant_b):
    every, _ = _migrate_schemas_spied(all_schemas=True)
    assert {tenant_a.schema_name, tenant_b.schema_name} <= set(every)
    one, _ = _migrate_schemas_spied(schema_name=tenant_a.schema_name)
    assert one == [tenant_a.schema_name]


@pytest.mark.slow
def test_migrate_schemas_with_forked_workers_finishes(django_db_setup):
    """The multiprocessing executor forks: the pooled connections of the parent must not be
    inherited (a forked pool never hands out a connection, and the run hangs)."""
    import subprocess
    import sys

    from tests.live import ROOT, process_env

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "migrate_schemas",
            "--executor",
            "multiprocessing",
            "--all-schemas",
            "-v",
            "1",
        ],  # fmt: skip
        cwd=ROOT,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "multiprocessing:alpha" in result.stdout and "multiprocessing:beta" in result.stdout


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
