"""The order documents follow the workspace: a database with its indexes when it is created,
dropped when it is purged, included in export_tenant."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from core import mongo
from orders import documents as order_documents
from orders import services

pytestmark = pytest.mark.django_db


def _databases() -> list[str]:
    return mongo.client().list_database_names()


def test_a_workspace_gets_its_database_and_loses_it_when_purged(
    django_capture_on_commit_callbacks,
):
    from accounts.services import tenant_create
    from tenants.services import tenant_schedule_deletion, tenants_purge_due

    name = mongo.database_name("gamma")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            tenant = tenant_create(
                slug="gamma", name="Gamma", domain="gamma.localhost", verbosity=0
            )
        assert name in _databases()
        indexes = order_documents.collection("gamma").index_information()
        assert {"number", "created", "status_created", "product_created"} <= set(indexes)
        assert indexes["number"].get("unique") is True

        tenant_schedule_deletion(tenant=tenant, grace_days=1)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with django_capture_on_commit_callbacks(execute=True):
            assert tenants_purge_due(now=timezone.now() + timedelta(days=2)) == ["gamma"]
        assert name not in _databases()
    finally:
        mongo.client().drop_database(name)


def test_purging_one_workspace_keeps_the_others_documents(
    customer, make_product, place_order, documents
):
    mug = make_product(stock=5)
    order = place_order(customer, (mug, 1))
    services.outbox_publish()
    order_documents.workspace_drop("beta")
    assert documents.count_documents({"_id": order.id}) == 1


def test_export_tenant_includes_the_order_documents(
    customer, make_product, place_order, documents, tmp_path
):
    mug = make_product(price="3.20", stock=5)
    order = place_order(customer, (mug, 2))
    services.outbox_publish()
    out = tmp_path / "alpha.jsonl"
    with schema_context("public"):
        call_command("export_tenant", "--slug", "alpha", "--output", str(out))
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    exported = [line["document"] for line in lines if line.get("model") == "orders.document"]
    assert [(d["_id"], d["number"], d["total"], d["version"]) for d in exported] == [
        (order.id, order.number, "6.40", 1)
    ]
    out_b = tmp_path / "beta.jsonl"
    with schema_context("public"):
        call_command("export_tenant", "--slug", "beta", "--output", str(out_b))
    assert order.number not in out_b.read_text()
