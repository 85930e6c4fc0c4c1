"""Pooled connections are safe across workspaces: a server whose pool holds two connections
answers interleaved, concurrent requests for two workspaces and never shows one the other's rows."""

import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.live import free_port, process_env, running


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """A product and an owner's token in each of alpha and beta, committed (the server sees them),
    removed afterwards."""
    from django_tenants.utils import schema_context

    from accounts.models import User
    from accounts.services import membership_set
    from accounts.tokens import tokens_for_user
    from catalog.models import Product
    from catalog.tests.factories import ProductFactory
    from tenants.models import Tenant

    made: dict[str, dict] = {}
    with django_db_blocker.unblock():
        for slug in ("alpha", "beta"):
            tenant = Tenant.objects.get(slug=slug)
            user = User.objects.create_user(
                email=f"pool-{uuid.uuid4().hex[:8]}@example.com", password=None
            )
            membership_set(user=user, tenant=tenant, role="owner")
            with schema_context(tenant.schema_name):
                product = ProductFactory(name=f"only-in-{slug}-{uuid.uuid4().hex[:6]}")
            made[slug] = {
                "user": user,
                "product": product.name,
                "token": tokens_for_user(user=user, tenant=tenant)["access"],
            }
    yield made
    with django_db_blocker.unblock():
        for slug, row in made.items():
            with schema_context(slug):
                Product.objects.filter(name=row["product"]).delete()
        with schema_context("alpha"):  # the user's cascade reaches per-tenant tables (guardian)
            User.objects.filter(pk__in=[row["user"].pk for row in made.values()]).delete()


@pytest.mark.slow
def test_interleaved_requests_on_pooled_connections_never_cross_workspaces(committed):
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning"]  # fmt: skip
    # Two pooled connections for 16 concurrent requests: every connection serves both workspaces.
    with running(args, port=port, env=process_env(DATABASE_POOL_MAX="2")):

        def fetch(slug: str) -> tuple[str, int, list[str]]:
            response = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/catalog/products/?page_size=200",
                headers={
                    "Host": f"{slug}.localhost",
                    "Authorization": f"Bearer {committed[slug]['token']}",
                },
                timeout=30,
            )
            return slug, response.status_code, [p["name"] for p in response.json()["results"]]

        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(fetch, ["alpha", "beta"] * 40))

    for slug, status, names in results:
        other = "beta" if slug == "alpha" else "alpha"
        assert status == 200
        assert committed[slug]["product"] in names
        assert committed[other]["product"] not in names
