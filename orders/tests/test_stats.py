"""GET /api/v1/orders/stats from the order documents: the same figures as PostgreSQL on the same
orders, per period and filters; PostgreSQL answers when MongoDB does not; per workspace."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orders import document_selectors, selectors, services
from orders.tests.factories import OrderFactory, line

URL = "/api/v1/orders/stats/"

pytestmark = pytest.mark.django_db

STATUSES = ["pending", "confirmed", "processing", "shipped", "delivered", "cancelled", "refunded"]
METHODS = ["credit_card", "paypal", "cash_on_delivery"]
PRODUCTS = [(1, "Mug", "4.99"), (2, "Lamp", "39.90"), (3, "Desk", "249.00"), (4, "Pen", "0.35")]


@pytest.fixture
def many_orders(customer, other_customer, manager, in_a, documents):
    """120 orders over six months, every status, method and product, three customers, then
    their documents."""
    rng = random.Random(18)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(120):
        picked = rng.sample(PRODUCTS, rng.randint(1, 3))
        items = [line(pid, name, rng.randint(1, 4), price) for pid, name, price in picked]
        OrderFactory(
            customer=rng.choice([customer, other_customer, manager]),
            created_at=start + timedelta(hours=36 * n, minutes=rng.randint(0, 59)),
            status=rng.choice(STATUSES),
            payment_method=rng.choice(METHODS),
            items=items,
        )
    services.documents_sync()


FILTERS = [
    {"date_from": datetime(2026, 1, 1).date(), "date_to": datetime(2026, 6, 30).date()},
    {"date_from": datetime(2026, 2, 10).date(), "date_to": datetime(2026, 4, 3).date()},
    {
        "date_from": datetime(2026, 1, 1).date(),
        "date_to": datetime(2026, 6, 30).date(),
        "payment_method": "paypal",
    },
    {
        "date_from": datetime(2026, 1, 1).date(),
        "date_to": datetime(2026, 6, 30).date(),
        "product_id": 3,
        "top": 2,
    },
    {"date_from": datetime(2027, 1, 1).date(), "date_to": datetime(2027, 1, 31).date()},
]


@pytest.mark.parametrize("filters", FILTERS)
def test_document_stats_equal_the_postgresql_figures(many_orders, filters):
    from_documents = document_selectors.order_stats(**filters)
    from_postgresql = selectors.order_stats(**filters)
    assert from_documents == from_postgresql


def test_document_stats_are_not_trivial(many_orders):
    stats = document_selectors.order_stats(**FILTERS[0])
    assert stats["totals"]["orders"] > 50
    assert stats["totals"]["revenue"] > Decimal("1000")
    assert stats["totals"]["customers"] == 3
    assert len(stats["revenue_by_month"]) == 6
    assert sum(stats["by_status"].values()) == 120
    assert [p["product_id"] for p in stats["top_products"]][0] == 3


@pytest.mark.parametrize("filters", FILTERS[:3])
def test_document_sales_report_equals_the_postgresql_one(many_orders, filters):
    filters = {k: v for k, v in filters.items() if k in ("date_from", "date_to")}
    rows = document_selectors.sales_by_product_day(**filters)
    assert rows and rows == selectors.sales_by_product_day(**filters)
    one = document_selectors.sales_by_product_day(**filters, product_id=2)
    assert one == selectors.sales_by_product_day(**filters, product_id=2)


def test_stats_endpoint_reads_the_documents(staff_api, many_orders):
    query = {"date_from": "2026-01-01", "date_to": "2026-06-30", "payment_method": "paypal"}
    response = staff_api.get(URL, query)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["source"] == "mongodb"
    expected = selectors.order_stats(
        date_from=FILTERS[0]["date_from"], date_to=FILTERS[0]["date_to"], payment_method="paypal"
    )
    assert body["totals"]["orders"] == expected["totals"]["orders"]
    assert body["totals"]["revenue"] == str(expected["totals"]["revenue"])
    assert body["period"] == {"date_from": "2026-01-01", "date_to": "2026-06-30"}


def test_stats_follow_the_documents_not_the_rows(staff_api, customer, in_a, documents):
    """The endpoint answers from MongoDB: an order whose document is not written yet is not in
    the figures until the relay publishes it."""
    order = OrderFactory(customer=customer, created_at=datetime.now(UTC))
    assert staff_api.get(URL).json()["totals"]["orders"] == 0
    services.documents_sync()
    body = staff_api.get(URL).json()
    assert body["totals"]["orders"] == 1
    assert body["totals"]["revenue"] == str(order.total)


def test_stats_fall_back_to_postgresql_when_mongodb_is_down(staff_api, many_orders, mongodb_down):
    query = {"date_from": "2026-01-01", "date_to": "2026-06-30"}
    response = staff_api.get(URL, query)
    assert response.status_code == 200
    body = response.json()
    assert body["source"] == "postgresql"
    assert body["totals"]["orders"] == selectors.order_stats(**FILTERS[0])["totals"]["orders"]


BAD_QUERIES = [
    ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "date_from"),
    ({"product_id": "-1"}, "product_id"),
    ({"product_id": str(10**20)}, "product_id"),  # past bigint (and MongoDB's 8-byte ints)
]
BAD_STATS_QUERIES = [
    ({"payment_method": "gold"}, "payment_method"),
    ({"top": "0"}, "top"),
    ({"top": "1000"}, "top"),
]
REPORTS = "/api/v1/orders/reports/"


@pytest.mark.parametrize(
    "url, params, field",
    [(url, *bad) for url in (URL, f"{REPORTS}stats/") for bad in BAD_QUERIES + BAD_STATS_QUERIES]
    + [(f"{REPORTS}sales/", *bad) for bad in BAD_QUERIES],
)
def test_bad_stats_queries_are_400(staff_api, in_a, url, params, field):
    response = staff_api.get(url, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_customers_may_not_read_stats(customer_api, in_a):
    assert customer_api.get(URL).status_code == 403


def test_stats_are_per_workspace(many_orders, tenant_b, make_user, auth_client, staff_api):
    boss_b = make_user(email="boss@beta.test", tenant=tenant_b, role="admin")
    client_b = auth_client(boss_b, tenant_b)
    query = {"date_from": "2026-01-01", "date_to": "2026-06-30"}
    body = client_b.get(URL, query).json()
    assert body["source"] == "mongodb"
    assert body["totals"]["orders"] == 0
    assert sum(body["by_status"].values()) == 0
    # Tenant A's token is refused on tenant B's host.
    staff_api.credentials(HTTP_AUTHORIZATION=staff_api._credentials["HTTP_AUTHORIZATION"])
    staff_api.defaults["HTTP_HOST"] = "beta.localhost"
    assert staff_api.get(URL, query).status_code in (401, 403)
