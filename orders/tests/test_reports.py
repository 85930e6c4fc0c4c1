"""Reports: sales per product per day and stats, as SQL aggregations; CSV; access; tenants."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from orders import services
from orders.tests.factories import OrderFactory, line

URL = "/api/v1/orders/reports/"

pytestmark = pytest.mark.django_db


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def orders(customer, other_customer, in_a, documents):
    OrderFactory(customer=customer, created_at=_at(1), items=[line(1, "Mug", 2, "5.00")])
    OrderFactory(
        customer=other_customer,
        created_at=_at(1, 23),
        status="delivered",
        items=[line(1, "Mug", 1, "5.00"), line(2, "Lamp", 1, "40.00")],
    )
    OrderFactory(customer=customer, created_at=_at(2), items=[line(2, "Lamp", 3, "40.00")])
    # Cancelled and refunded orders are not sales.
    OrderFactory(
        customer=customer, created_at=_at(2), status="cancelled", items=[line(1, "Mug", 9)]
    )
    OrderFactory(
        customer=customer, created_at=_at(2), status="refunded", items=[line(2, "Lamp", 9)]
    )
    # Outside the period.
    OrderFactory(customer=customer, created_at=_at(20), items=[line(1, "Mug", 1, "5.00")])
    # The reports read the order documents: write them as orders_documents_sync does.
    services.documents_sync()


PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-05"}


def test_sales_per_product_per_day(staff_api, orders):
    response = staff_api.get(f"{URL}sales/", PERIOD)
    assert response.status_code == 200, response.json()
    rows = [
        (r["day"], r["product_id"], r["name"], r["units"], r["revenue"], r["orders"])
        for r in response.json()["results"]
    ]
    assert rows == [
        ("2026-03-01", 2, "Lamp", 1, "40.00", 1),
        ("2026-03-01", 1, "Mug", 3, "15.00", 2),
        ("2026-03-02", 2, "Lamp", 3, "120.00", 1),
    ]
    one = staff_api.get(f"{URL}sales/", {**PERIOD, "product_id": 1}).json()["results"]
    assert [(r["day"], r["units"]) for r in one] == [("2026-03-01", 3)]


def test_sales_csv(staff_api, orders):
    response = staff_api.get(f"{URL}sales/", {**PERIOD, "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["day", "product_id", "name", "sku", "units", "revenue", "orders"]
    assert rows[1] == ["2026-03-01", "2", "Lamp", "SKU-2", "1", "40.00", "1"]
    assert len(rows) == 4


def test_stats(staff_api, orders):
    response = staff_api.get(f"{URL}stats/", PERIOD)
    assert response.status_code == 200
    stats = response.json()
    assert stats["totals"] == {
        "orders": 3,
        "revenue": "175.00",
        "average_order_value": "58.33",
        "units": 7,
        "customers": 2,
    }
    assert stats["by_status"]["pending"] == 2
    assert stats["by_status"]["cancelled"] == 1
    assert stats["by_status"]["refunded"] == 1
    assert stats["revenue_by_month"] == [{"month": "2026-03", "orders": 3, "revenue": "175.00"}]
    assert [(p["product_id"], p["units"], p["revenue"]) for p in stats["top_products"]] == [
        (2, 4, "160.00"),
        (1, 3, "15.00"),
    ]
    csv_response = staff_api.get(f"{URL}stats/", {**PERIOD, "export": "csv"})
    lines = csv_response.content.decode().splitlines()
    assert lines[0] == "section,key,count,value"
    assert "totals,revenue,,175.00" in lines


def test_default_period_is_the_last_30_days(staff_api, customer, in_a, documents):
    OrderFactory(customer=customer, items=[line(5, "Fresh", 1, "1.00")])
    OrderFactory(customer=customer, created_at=timezone.now() - timedelta(days=40))
    services.documents_sync()
    stats = staff_api.get(f"{URL}stats/").json()
    assert stats["totals"]["orders"] == 1


@pytest.mark.parametrize(
    "params, field",
    [
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "date_from"),
        ({"date_from": "March"}, "date_from"),
        ({"export": "xlsx"}, "export"),
        ({"product_id": "x"}, "product_id"),
    ],
)
def test_bad_report_queries_are_400(staff_api, in_a, params, field):
    response = staff_api.get(f"{URL}sales/", params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_customers_may_not_read_reports(customer_api, orders):
    assert customer_api.get(f"{URL}sales/", PERIOD).status_code == 403
    assert customer_api.get(f"{URL}stats/", PERIOD).status_code == 403


def test_reports_are_per_tenant(orders, tenant_b, make_user, auth_client):
    boss_b = make_user(email="boss@beta.test", tenant=tenant_b, role="admin")
    client_b = auth_client(boss_b, tenant_b)
    assert client_b.get(f"{URL}sales/", PERIOD).json()["results"] == []
    assert client_b.get(f"{URL}stats/", PERIOD).json()["totals"]["orders"] == 0


def test_best_sellers_and_sales_reports_agree_on_refunds_and_cancellations(
    admin_api, customer, make_product, place_order, documents
):
    """A refunded or cancelled order is a sale nowhere: the catalog's top products, the sales
    report, the stats and the purchase counts give the same figures for the same orders."""
    from catalog.models import Product
    from orders import services

    lamp, mug, vase = make_product(price="40.00"), make_product(price="5.00"), make_product()
    kept = place_order(customer, (mug, 3), (lamp, 1))
    refunded = place_order(customer, (lamp, 2))
    cancelled = place_order(customer, (vase, 4))
    for status in ("confirmed", "processing", "shipped", "delivered"):
        services.order_transition(order_id=kept.id, status=status)
        services.order_transition(order_id=refunded.id, status=status)
    # Only what was paid can be refunded (the card payment arrived).
    services.order_payment_status_set(order_id=refunded.id, status="paid")
    services.order_transition(order_id=refunded.id, status="refunded")
    services.order_transition(order_id=cancelled.id, status="cancelled")
    services.outbox_drain()  # what the relay does after each commit: the reports read documents

    today = timezone.now().date().isoformat()
    report = admin_api.get(f"{URL}sales/", {"date_from": today, "date_to": today}).json()
    sold = {r["product_id"]: (r["units"], r["revenue"]) for r in report["results"]}
    assert sold == {lamp.id: (1, "40.00"), mug.id: (3, "15.00")}

    for by in ("units", "revenue"):
        top = admin_api.get(
            "/api/v1/catalog/analytics/top-products/", {"period": "day", "by": by}
        ).json()["results"]
        assert {r["product_id"]: (r["units_sold"], r["revenue"]) for r in top} == sold
    assert [r["product_id"] for r in top] == [lamp.id, mug.id]  # by revenue
    units_first = admin_api.get(
        "/api/v1/catalog/analytics/top-products/", {"period": "day", "by": "units"}
    ).json()["results"]
    assert [r["product_id"] for r in units_first] == [mug.id, lamp.id]
    assert units_first[0]["sku"] == mug.sku and units_first[0]["name"] == mug.name

    stats = admin_api.get(f"{URL}stats/", {"date_from": today, "date_to": today}).json()
    assert {p["product_id"]: p["units"] for p in stats["top_products"]} == {lamp.id: 1, mug.id: 3}
    counts = dict(Product.objects.values_list("id", "purchase_count"))
    assert (counts[lamp.id], counts[mug.id], counts[vase.id]) == (1, 3, 0)
