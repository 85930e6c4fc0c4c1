"""Unpaid pending orders expire (stock released) from the periodic task; housekeeping."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from catalog.models import InventoryMovement, Product
from orders import services, tasks
from orders.models import IdempotencyKey, Order

pytestmark = pytest.mark.django_db


def _age(order: Order, minutes: int) -> None:
    Order.objects.filter(id=order.id).update(expires_at=timezone.now() - timedelta(minutes=minutes))


def test_due_unpaid_orders_expire_and_release_their_stock(place_order, customer, make_product):
    product = make_product(stock=10)
    due = place_order(customer, (product, 3))
    failed = place_order(customer, (product, 1))
    fresh = place_order(customer, (product, 2))
    paid = place_order(customer, (product, 1))
    confirmed = place_order(customer, (product, 1))
    for order in (due, failed, paid, confirmed):
        _age(order, 5)
    services.order_payment_status_set(order_id=failed.id, status="failed")
    services.order_payment_status_set(order_id=paid.id, status="paid")
    services.order_transition(order_id=confirmed.id, status="confirmed")
    assert Product.objects.get(id=product.id).stock_quantity == 2

    assert tasks.expire_unpaid() == 2
    statuses = dict(Order.objects.values_list("id", "status"))
    assert statuses == {
        due.id: "cancelled",
        failed.id: "cancelled",
        fresh.id: "pending",
        paid.id: "pending",
        confirmed.id: "confirmed",
    }
    expired = Order.objects.get(id=due.id)
    assert expired.cancel_reason == "expired"
    assert expired.history[-1]["by"] is None
    assert Product.objects.get(id=product.id).stock_quantity == 6
    assert (
        InventoryMovement.objects.filter(reference=due.number, reason="release").get().quantity == 3
    )
    # Running again (a redelivered message) changes nothing.
    assert tasks.expire_unpaid() == 0
    assert Product.objects.get(id=product.id).stock_quantity == 6


def test_expiry_time_comes_from_the_setting(place_order, customer, make_product, settings):
    settings.ORDERS_PENDING_TTL_MINUTES = 15
    order = place_order(customer, (make_product(), 1))
    assert timedelta(minutes=14) < order.expires_at - order.created_at <= timedelta(minutes=15)


def test_order_expire_rechecks_under_the_lock(place_order, customer, make_product):
    order = place_order(customer, (make_product(), 1))
    assert services.order_expire(order_id=order.id) is False  # not due yet
    _age(order, 1)
    services.order_payment_status_set(order_id=order.id, status="paid")
    assert services.order_expire(order_id=order.id) is False
    assert Order.objects.get(id=order.id).status == "pending"
    assert not InventoryMovement.objects.filter(reference=order.number, reason="release").exists()


def test_schedules_are_registered_per_tenant(db):
    call_command("setup_schedules")
    expire = PeriodicTask.objects.get(name="Expire unpaid pending orders")
    assert expire.task == "tenants.fan_out"
    assert expire.args == '["orders.expire_unpaid"]'
    purge = PeriodicTask.objects.get(name="Purge old checkout idempotency keys")
    assert purge.args == '["orders.purge_idempotency_keys"]'


def test_old_idempotency_keys_are_purged(customer, in_a, make_product):
    product = make_product()
    for key in ("old", "new"):
        services.order_checkout(
            customer=customer,
            items=[{"product_id": product.id, "quantity": 1}],
            shipping_address={"line1": "x", "city": "y", "postal_code": "1", "country": "PT"},
            payment_method="paypal",
            idempotency_key=key,
        )
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(days=2))
    assert tasks.purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    assert Order.objects.count() == 2
