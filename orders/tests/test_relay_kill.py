"""The relay killed with SIGKILL in the middle of a batch loses nothing: restarted, it publishes
what was left and the drift check reports 0. Real processes, committed rows, a real MongoDB."""

import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from orders import documents as order_documents
from orders.models import Order, OrderOutbox
from tests.live import ROOT, process_env

pytestmark = pytest.mark.slow

ORDERS = 4000
BATCH = 1000


def _orders_in_beta() -> None:
    customer = uuid.uuid4()
    now = timezone.now()
    line = {"product_id": 7, "name": "Mug", "sku": "M-7", "unit_price": "2.50", "quantity": 2}
    Order.objects.bulk_create(
        [
            Order(
                number=f"ORD-KILL-{n:06d}",
                customer_id=customer,
                payment_method="credit_card",
                subtotal=Decimal("5.00"),
                total=Decimal("5.00") + n % 7,
                item_count=2,
                items=[{**line, "subtotal": "5.00", "attributes": {}}],
                shipping_address={"city": "Porto"},
                billing_address={"city": "Porto"},
                created_at=now,
                version=1,
            )
            for n in range(ORDERS)
        ],
        batch_size=1000,
    )
    OrderOutbox.objects.bulk_create(
        [OrderOutbox(order_id=pk, version=1) for pk in Order.objects.values_list("id", flat=True)],
        batch_size=1000,
    )


def _relay(*extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "orders_documents_relay", "--tenant", "beta", *extra],
        cwd=ROOT,
        env=process_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _check(capsys) -> tuple[int, str]:
    try:
        call_command("orders_documents_check", "--tenant", "beta")
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().out


def test_relay_killed_mid_batch_then_restarted_leaves_no_drift(
    django_db_setup, django_db_blocker, capsys
):
    coll = order_documents.collection("beta")
    coll.delete_many({})
    with django_db_blocker.unblock():
        try:
            with schema_context("beta"):
                assert Order.objects.count() == 0
                _orders_in_beta()

            relay = _relay("--batch-size", str(BATCH))
            deadline = time.monotonic() + 120
            while coll.estimated_document_count() == 0:
                assert relay.poll() is None, relay.stderr.read().decode()
                assert time.monotonic() < deadline, "the relay wrote nothing"
                time.sleep(0.005)
            os.kill(relay.pid, signal.SIGKILL)
            relay.wait(timeout=10)
            assert relay.returncode == -signal.SIGKILL

            written = coll.count_documents({})
            with schema_context("beta"):
                left = OrderOutbox.objects.count()
            # Killed with documents written and their batch not yet acknowledged.
            assert 0 < written < ORDERS
            assert left > 0 and written + left >= ORDERS
            code, out = _check(capsys)
            assert code == 1 and "drift 0" not in out

            restarted = _relay("--batch-size", str(BATCH), "--once")
            assert restarted.wait(timeout=180) == 0, restarted.stderr.read().decode()

            with schema_context("beta"):
                assert OrderOutbox.objects.count() == 0
            assert coll.count_documents({}) == ORDERS
            code, out = _check(capsys)
            assert code == 0, out
            assert "missing 0, stale 0, orphans 0, outbox 0; drift 0" in out
            assert f"orders {ORDERS:,}/{ORDERS:,}" in out
        finally:
            with schema_context("beta"):
                OrderOutbox.objects.all().delete()
                Order.objects.filter(number__startswith="ORD-KILL-").delete()
            coll.delete_many({})
