"""The order list and detail: who sees what, filters, search, pagination, query count, tenants."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from orders import services
from orders.models import Order
from orders.tests.factories import OrderFactory, line

URL = "/api/v1/orders/"

pytestmark = pytest.mark.django_db


def _numbers(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {o["number"] for o in response.json()["results"]}


def test_customers_see_only_their_own_orders(
    customer_api, other_api, customer, other_customer, in_a
):
    mine = OrderFactory(customer=customer)
    theirs = OrderFactory(customer=other_customer)
    assert _numbers(customer_api.get(URL)) == {mine.number}
    assert _numbers(other_api.get(URL)) == {theirs.number}
    assert customer_api.get(f"{URL}{theirs.id}/").status_code == 404
    assert customer_api.get(f"{URL}{mine.id}/").json()["number"] == mine.number
    # Filtering by another customer does not widen a customer's view.
    assert _numbers(customer_api.get(URL, {"customer": str(other_customer.id)})) == set()


def test_staff_with_read_all_see_everyone(staff_api, customer, other_customer, in_a, documents):
    a = OrderFactory(customer=customer)
    b = OrderFactory(customer=other_customer)
    # Staff lists are filtered and paged on the order documents.
    assert _numbers(staff_api.get(URL)) == set()
    services.documents_sync()
    assert _numbers(staff_api.get(URL)) == {a.number, b.number}
    assert _numbers(staff_api.get(URL, {"customer": str(customer.id)})) == {a.number}


def test_filters(staff_api, customer, in_a, documents):
    now = timezone.now()
    old = OrderFactory(
        customer=customer,
        created_at=now - timedelta(days=10),
        items=[line(7, "Walnut desk", 1, "300.00")],
    )
    paid = OrderFactory(
        customer=customer,
        status="confirmed",
        payment_status="paid",
        items=[line(8, "Oak chair", 2, "45.00")],
        shipping_address={"line1": "x", "city": "Coimbra", "postal_code": "1", "country": "PT"},
    )
    cheap = OrderFactory(customer=customer, items=[line(9, "Tea spoon", 1, "2.00")])
    services.documents_sync()

    def get(**params):
        return _numbers(staff_api.get(URL, params))

    assert get(status="confirmed") == {paid.number}
    assert get(status=["confirmed", "pending"]) == {old.number, paid.number, cheap.number}
    assert get(payment_status="paid") == {paid.number}
    assert get(created_before=(now - timedelta(days=1)).isoformat()) == {old.number}
    assert get(created_after=(now - timedelta(days=1)).isoformat()) == {paid.number, cheap.number}
    assert get(min_total="50") == {old.number, paid.number}
    assert get(max_total="90") == {paid.number, cheap.number}
    assert get(product=8) == {paid.number}
    assert get(status="confirmed", min_total="50", product=8) == {paid.number}
    assert get(payment_method="paypal") == set()
    assert get(customer=str(customer.id)) == {old.number, paid.number, cheap.number}
    # Searches are answered by PostgreSQL (no text index on the embedded server).
    assert get(search="oak ch") == {paid.number}
    assert get(search="coimbra") == {paid.number}
    assert get(search=cheap.number[-4:]) == {cheap.number}
    assert get(search="100%_") == set()


@pytest.mark.parametrize(
    "params, field",
    [
        ({"status": "lost"}, "status"),
        ({"min_total": "lots"}, "min_total"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"customer": "not-a-uuid"}, "customer"),
    ],
)
def test_bad_filters_are_400(staff_api, in_a, params, field):
    response = staff_api.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_cursor_pagination(staff_api, customer, in_a, documents):
    start = timezone.now()
    for i in range(5):
        OrderFactory(customer=customer, created_at=start - timedelta(minutes=i))
    # Two orders at the same instant: the keyset falls back to the id.
    OrderFactory.create_batch(2, customer=customer, created_at=start - timedelta(minutes=9))
    services.documents_sync()
    seen = []
    response = staff_api.get(URL, {"page_size": 2})
    while True:
        body = response.json()
        seen += [o["number"] for o in body["results"]]
        if not body["next"]:
            break
        response = staff_api.get(body["next"])
    assert len(seen) == len(set(seen)) == 7
    numbers = Order.objects.order_by("-created_at", "-id").values_list("number", flat=True)
    assert seen == list(numbers)
    assert staff_api.get(URL, {"cursor": "garbage"}).status_code == 400


def test_staff_list_falls_back_to_postgresql_when_mongodb_is_down(
    staff_api, customer, in_a, documents, mongodb_down
):
    order = OrderFactory(customer=customer)
    assert _numbers(staff_api.get(URL)) == {order.number}


def test_list_query_count_is_constant(
    staff_api, customer, in_a, django_assert_num_queries, documents
):
    OrderFactory.create_batch(2, customer=customer)
    services.documents_sync()
    staff_api.get(URL)  # warms the permission cache
    with CaptureQueriesContext(connection) as few:
        staff_api.get(URL)
    assert len(few.captured_queries) <= 6  # tenant, authentication, one page query
    OrderFactory.create_batch(20, customer=customer, items=[line(1, "a"), line(2, "b")])
    services.documents_sync()
    with django_assert_num_queries(len(few.captured_queries)):
        response = staff_api.get(URL)
    assert len(response.json()["results"]) == 22


def test_anonymous_is_401(client_a, in_a):
    assert client_a.get(URL).status_code == 401


def test_tenant_isolation(staff_api, customer, tenant_b, make_user, auth_client, in_a, documents):
    OrderFactory(customer=customer, total=Decimal("5"))
    services.documents_sync()  # tenant A's document exists; B's staff list reads B's database
    boss_b = make_user(email="boss@beta.test", tenant=tenant_b, role="admin")
    client_b = auth_client(boss_b, tenant_b)
    assert client_b.get(URL).json()["results"] == []
    with schema_context(tenant_b.schema_name):
        assert not Order.objects.exists()
    # A token of tenant A is refused on tenant B's host.
    staff_api.defaults["HTTP_HOST"] = "beta.localhost"
    assert staff_api.get(URL).status_code == 401


def test_order_representation_matches_the_generic_serializer(customer, in_a):
    from rest_framework import serializers

    from orders.serializers import OrderSerializer

    now = timezone.now()
    candidates = [
        OrderFactory(customer=customer, items=[line(1, "a"), line(2, "b")]),
        OrderFactory(
            customer=customer,
            status="shipped",
            confirmed_at=now,
            shipped_at=now,
            paid_at=now,
            total=Decimal("1234.5"),
            discount_amount=Decimal("0.10"),
            metadata={"k": [1, {"x": None}]},
            tracking_number="TRK-1",
        ),
    ]
    orphan = Order.objects.get(id=candidates[0].id)
    orphan.customer_id = None  # a customer whose account is gone
    for order in [*(Order.objects.get(id=o.id) for o in candidates), orphan]:
        fast = OrderSerializer(order).data
        generic = serializers.ModelSerializer.to_representation(OrderSerializer(), order)
        assert list(fast) == list(generic)
        assert fast == dict(generic)
