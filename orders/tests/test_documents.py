"""The outbox and its relay: every order change reaches the order's document in MongoDB, never
backwards, and nothing is lost while MongoDB is down."""

from decimal import Decimal

import pytest
from bson.decimal128 import Decimal128
from django_tenants.utils import schema_context

from orders import documents as order_documents
from orders import services, tasks
from orders.models import Order, OrderOutbox

URL = "/api/v1/orders/"

pytestmark = pytest.mark.django_db


def test_checkout_writes_an_outbox_row_in_its_transaction(customer, make_product, place_order):
    mug = make_product(price="12.50", stock=5)
    order = place_order(customer, (mug, 2))
    assert order.version == 1
    assert list(OrderOutbox.objects.values_list("order_id", "version")) == [(order.id, 1)]


def test_a_refused_checkout_leaves_no_outbox_row(customer_api, make_product, checkout_body):
    mug = make_product(stock=1)
    response = customer_api.post(URL, checkout_body((mug, 5)), format="json")
    assert response.status_code == 409
    assert OrderOutbox.objects.count() == 0
    assert Order.objects.count() == 0


def test_checkout_reaches_its_document_right_after_commit(
    customer_api,
    customer,
    make_product,
    checkout_body,
    documents,
    django_capture_on_commit_callbacks,
):
    mug = make_product(name="Blue mug", price="12.50", stock=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = customer_api.post(URL, checkout_body((mug, 2)), format="json")
    assert response.status_code == 201
    body = response.json()
    doc = documents.find_one({"_id": body["id"]})
    assert doc is not None
    assert doc["version"] == 1
    assert doc["number"] == body["number"]
    assert doc["status"] == "pending"
    assert doc["customer_id"] == str(customer.id)
    assert doc["total"] == Decimal128("25.00")
    assert doc["items"][0]["product_id"] == mug.id
    assert doc["items"][0]["quantity"] == 2
    assert doc["items"][0]["subtotal"] == Decimal128("25.00")
    assert OrderOutbox.objects.count() == 0


def test_each_change_moves_the_document_forward(
    customer, manager, make_product, place_order, documents, django_capture_on_commit_callbacks
):
    mug = make_product(stock=5)
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(customer, (mug, 1))
        services.order_payment_status_set(order_id=order.id, status="paid", actor=manager)
        services.order_transition(order_id=order.id, status="confirmed", actor=manager)
    doc = documents.find_one({"_id": order.id})
    assert (doc["version"], doc["status"], doc["payment_status"]) == (3, "confirmed", "paid")
    assert doc["paid_at"] is not None and doc["confirmed_at"] is not None

    with django_capture_on_commit_callbacks(execute=True):
        results = services.orders_bulk_transition(
            order_ids=[order.id], status="cancelled", actor=manager, reason="out of stock"
        )
    assert results[0]["result"] == "ok"
    doc = documents.find_one({"_id": order.id})
    assert (doc["version"], doc["status"], doc["cancel_reason"]) == (4, "cancelled", "out of stock")
    assert OrderOutbox.objects.count() == 0


def test_a_late_or_repeated_delivery_never_moves_a_document_backwards(
    customer, make_product, place_order, documents
):
    mug = make_product(stock=5)
    order = place_order(customer, (mug, 1))
    old = order_documents.order_document(Order.objects.get(pk=order.pk))
    services.order_transition(order_id=order.id, status="confirmed")
    new = order_documents.order_document(Order.objects.get(pk=order.pk))
    assert (old["version"], new["version"]) == (1, 2)

    assert order_documents.documents_write([new]) == 1
    assert order_documents.documents_write([new]) == 0  # repeated
    assert order_documents.documents_write([old]) == 0  # late
    doc = documents.find_one({"_id": order.id})
    assert (doc["version"], doc["status"]) == (2, "confirmed")
    assert documents.count_documents({}) == 1

    # Publishing the outbox (two rows, v1 and v2) writes the committed state once.
    assert services.outbox_publish() == 2
    assert documents.find_one({"_id": order.id})["version"] == 2
    assert OrderOutbox.objects.count() == 0


def test_with_mongodb_down_the_api_works_and_the_outbox_keeps_the_change(
    customer_api,
    make_product,
    checkout_body,
    documents,
    mongodb_down,
    django_capture_on_commit_callbacks,
    settings,
):
    mug = make_product(stock=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = customer_api.post(URL, checkout_body((mug, 1)), format="json")
    assert response.status_code == 201
    order_id = response.json()["id"]
    assert list(OrderOutbox.objects.values_list("order_id", flat=True)) == [order_id]
    # The customer's own orders are read from PostgreSQL.
    listed = customer_api.get(URL)
    assert [o["id"] for o in listed.json()["results"]] == [order_id]
    assert tasks.publish_documents() == 0  # the sweep fails quietly and keeps the row
    assert OrderOutbox.objects.count() == 1


def test_the_sweep_publishes_what_was_left(customer, make_product, place_order, documents):
    mug = make_product(stock=5)
    orders = [place_order(customer, (mug, 1)) for _ in range(3)]
    assert documents.count_documents({}) == 0  # nothing committed, nothing published yet
    assert tasks.publish_documents() == 3
    assert sorted(d["_id"] for d in documents.find()) == sorted(o.id for o in orders)
    assert OrderOutbox.objects.count() == 0


def test_documents_of_one_workspace_stay_in_its_database(
    customer, make_product, place_order, documents
):
    mug = make_product(stock=5)
    order = place_order(customer, (mug, 1))
    services.outbox_publish()
    assert documents.database.name.endswith("alpha")
    assert order_documents.collection("beta").count_documents({"_id": order.id}) == 0
    with schema_context("beta"):
        assert OrderOutbox.objects.count() == 0


def test_money_survives_as_decimal(customer, make_product, place_order, documents):
    mug = make_product(price="0.10", stock=50)
    order = place_order(customer, (mug, 3))
    services.outbox_publish()
    doc = order_documents.plain(documents.find_one({"_id": order.id}))
    assert doc["total"] == Decimal("0.30")
