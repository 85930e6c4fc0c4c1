"""orders_documents_sync and orders_documents_check: rebuild from PostgreSQL, report drift."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from orders import documents as order_documents
from orders.models import Order
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def _check(capsys) -> tuple[int, str]:
    try:
        with schema_context("public"):
            call_command("orders_documents_check", "--tenant", "alpha")
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().out


def test_sync_writes_every_document_with_progress(customer, in_a, documents, capsys):
    orders = OrderFactory.create_batch(5, customer=customer)
    with schema_context("public"):
        call_command("orders_documents_sync", "--tenant", "alpha", "--batch-size", "2")
    out = capsys.readouterr().out
    assert "alpha:" in out and "5/5 orders" in out and "5 documents written" in out
    assert sorted(d["_id"] for d in documents.find()) == sorted(o.id for o in orders)
    # Run again: every document is already at its version, nothing is written.
    with schema_context("public"):
        call_command("orders_documents_sync", "--tenant", "alpha")
    assert "0 documents written" in capsys.readouterr().out


def test_check_reports_missing_stale_and_orphaned_documents(customer, in_a, documents, capsys):
    first, second, third = OrderFactory.create_batch(3, customer=customer)
    with schema_context("public"):
        call_command("orders_documents_sync", "--tenant", "alpha")
    capsys.readouterr()
    assert _check(capsys)[0] == 0

    Order.objects.filter(pk=first.pk).update(version=5)  # changed, not published: stale
    documents.delete_one({"_id": second.pk})  # missing
    orphan = order_documents.order_document(third)
    orphan.update(_id=third.pk + 10_000, number="ORD-GONE")
    documents.insert_one(orphan)  # no such order
    code, out = _check(capsys)
    assert code == 1
    assert "missing 1, stale 1, orphans 1" in out and "drift 3" in out
    assert "drift in 1 workspace(s): alpha" in out

    with schema_context("public"):
        call_command("orders_documents_sync", "--tenant", "alpha", "--rebuild")
    capsys.readouterr()
    code, out = _check(capsys)
    assert code == 0, out
    assert "drift 0" in out
    assert documents.find_one({"_id": first.pk})["version"] == 5
    # The rebuild recreated the indexes of the dropped database.
    assert "number" in documents.index_information()


def test_unknown_workspace_is_a_clear_error():
    with pytest.raises(CommandError, match="No workspace with slug 'nope'"):
        call_command("orders_documents_check", "--tenant", "nope")
