"""The status state machine, over the API and the services: every valid and invalid transition,
timestamps and history, stock back on cancel, who may do what, bulk updates, payment status."""

import pytest

from catalog.models import InventoryMovement, Product
from orders import services
from orders.errors import InvalidPaymentTransition, InvalidTransition
from orders.models import Order
from orders.tests.conftest import notices

URL = "/api/v1/orders/"
S = Order.Status
ALL = [s.value for s in S]
ROUTES = {
    S.CONFIRMED: "confirm",
    S.PROCESSING: "process",
    S.SHIPPED: "ship",
    S.DELIVERED: "deliver",
    S.CANCELLED: "cancel",
    S.REFUNDED: "refund",
}
# The shortest path from pending to each status.
PATHS = {
    S.PENDING: [],
    S.CONFIRMED: [S.CONFIRMED],
    S.PROCESSING: [S.CONFIRMED, S.PROCESSING],
    S.SHIPPED: [S.CONFIRMED, S.PROCESSING, S.SHIPPED],
    S.DELIVERED: [S.CONFIRMED, S.PROCESSING, S.SHIPPED, S.DELIVERED],
    S.REFUNDED: [S.CONFIRMED, S.PROCESSING, S.SHIPPED, S.DELIVERED, S.REFUNDED],
    S.CANCELLED: [S.CANCELLED],
}
VALID = {
    S.PENDING: {S.CONFIRMED, S.CANCELLED},
    S.CONFIRMED: {S.PROCESSING, S.CANCELLED},
    S.PROCESSING: {S.SHIPPED, S.CANCELLED},
    S.SHIPPED: {S.DELIVERED},
    S.DELIVERED: {S.REFUNDED},
    S.CANCELLED: set(),
    S.REFUNDED: set(),
}
PAIRS = [(a, b) for a in ALL for b in ALL if b != S.PENDING]

pytestmark = pytest.mark.django_db


def _state(order: Order) -> tuple:
    """What a refused change must leave as it was: the order, its stock and ledger, notices."""
    order = Order.objects.get(id=order.id)
    product_id = order.items[0]["product_id"]
    return (
        order.status,
        order.payment_status,
        len(order.history),
        Product.objects.get(id=product_id).stock_quantity,
        InventoryMovement.objects.filter(reference=order.number).count(),
        notices(),
    )


@pytest.fixture
def order_in(place_order, customer, make_product):
    """order_in(status) -> an order of the customer brought to that status by the services."""

    def make(status: str, payment_method: str = "credit_card") -> Order:
        order = place_order(customer, (make_product(stock=10), 2), payment_method=payment_method)
        for step in PATHS[status]:
            if step == S.REFUNDED and order.payment_status != "paid":
                # Only what was paid can be refunded (the card payment arrived).
                services.order_payment_status_set(order_id=order.id, status="paid")
            order = services.order_transition(order_id=order.id, status=step)
        return order

    return make


@pytest.mark.parametrize("current, target", PAIRS)
def test_every_transition_over_the_api(admin_api, order_in, current, target):
    order = order_in(current)
    if target == S.REFUNDED and order.payment_status == "pending":
        services.order_payment_status_set(order_id=order.id, status="paid")
    before = _state(order)
    response = admin_api.post(f"{URL}{order.id}/{ROUTES[target]}/", {}, format="json")
    if target in VALID[current]:
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["status"] == target
        assert body[f"{target}_at"] is not None
        assert body["history"][-1]["status"] == target
        assert body["history"][-1]["from"] == current
        assert sorted(body["allowed_transitions"]) == sorted(VALID[target])
    else:
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "invalid_transition"
        assert error["current_status"] == current
        assert sorted(error["allowed"]) == sorted(VALID[current])
        assert Order.objects.get(id=order.id).status == current
        assert _state(order) == before


def test_the_status_notice_is_sent_after_the_commit(
    admin_api, order_in, django_capture_on_commit_callbacks
):
    order = order_in(S.PENDING)
    before = notices()
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_api.post(f"{URL}{order.id}/{ROUTES[S.CONFIRMED]}/", {}, format="json")
        assert response.status_code == 200
        assert notices() == before
    for callback in callbacks:
        callback()
    emails, in_app = before
    assert notices() == (emails + 1, in_app + 1)


def test_full_life_keeps_every_timestamp_and_the_history(order_in):
    order = order_in(S.REFUNDED)
    # (The card payment's arrival is an entry of its own, without a status change.)
    assert [h["status"] for h in order.history if h["status"] != h.get("from")] == [
        "pending",
        "confirmed",
        "processing",
        "shipped",
        "delivered",
        "refunded",
    ]
    stamps = [
        order.created_at,
        order.confirmed_at,
        order.processing_at,
        order.shipped_at,
        order.delivered_at,
        order.refunded_at,
    ]
    assert stamps == sorted(stamps)
    assert order.cancelled_at is None


@pytest.mark.parametrize("status", [S.PENDING, S.CONFIRMED, S.PROCESSING])
def test_cancel_puts_the_stock_back_through_the_ledger(staff_api, order_in, status):
    order = order_in(status)
    product_id = order.items[0]["product_id"]
    assert Product.objects.get(id=product_id).stock_quantity == 8
    response = staff_api.post(
        f"{URL}{order.id}/cancel/", {"reason": "customer changed their mind"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["cancel_reason"] == "customer changed their mind"
    assert Product.objects.get(id=product_id).stock_quantity == 10
    ledger = InventoryMovement.objects.filter(reference=order.number).order_by("id")
    assert [(m.reason, m.quantity) for m in ledger] == [("reservation", -2), ("release", 2)]
    # A second cancel is refused by the state machine; the stock stays right.
    before = _state(order)
    again = staff_api.post(f"{URL}{order.id}/cancel/", {}, format="json")
    assert again.status_code == 409
    assert Product.objects.get(id=product_id).stock_quantity == 10
    assert _state(order) == before


def test_shipping_records_the_tracking_number(staff_api, order_in):
    order = order_in(S.PROCESSING)
    response = staff_api.post(
        f"{URL}{order.id}/ship/", {"tracking_number": "1Z999", "note": "DHL"}, format="json"
    )
    assert response.json()["tracking_number"] == "1Z999"
    assert response.json()["history"][-1]["note"] == "DHL"


class TestWhoMayDoWhat:
    def test_customer_may_cancel_their_own_order(self, customer_api, order_in):
        order = order_in(S.PENDING)
        response = customer_api.post(f"{URL}{order.id}/cancel/", {}, format="json")
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"

    @pytest.mark.parametrize("route", ["confirm", "process", "ship", "deliver", "refund"])
    def test_customer_may_not_move_their_order_otherwise(self, customer_api, order_in, route):
        order = order_in(S.PENDING)
        before = _state(order)
        response = customer_api.post(f"{URL}{order.id}/{route}/", {}, format="json")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert Order.objects.get(id=order.id).status == S.PENDING
        assert _state(order) == before

    def test_another_customer_gets_404(self, other_api, order_in):
        order = order_in(S.PENDING)
        before = _state(order)
        assert other_api.post(f"{URL}{order.id}/cancel/", {}, format="json").status_code == 404
        assert other_api.get(f"{URL}{order.id}/").status_code == 404
        assert Order.objects.get(id=order.id).status == S.PENDING
        assert _state(order) == before

    def test_refund_needs_the_refund_permission(self, staff_api, admin_api, order_in):
        order = order_in(S.DELIVERED, payment_method="cash_on_delivery")
        before = _state(order)
        assert staff_api.post(f"{URL}{order.id}/refund/", {}, format="json").status_code == 403
        assert _state(order) == before
        assert admin_api.post(f"{URL}{order.id}/refund/", {}, format="json").status_code == 200

    def test_unknown_order_is_404(self, staff_api, in_a):
        response = staff_api.post(f"{URL}999999/confirm/", {}, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert not Order.objects.exists()
        assert notices() == (0, 0)


class TestBulkStatus:
    def test_per_order_results(self, staff_api, order_in):
        pending, confirmed, shipped = (
            order_in(S.PENDING),
            order_in(S.CONFIRMED),
            order_in(S.SHIPPED),
        )
        shipped_before = _state(shipped)
        response = staff_api.post(
            f"{URL}bulk-status/",
            {"ids": [shipped.id, pending.id, 999999, confirmed.id], "status": "cancelled"},
            format="json",
        )
        assert response.status_code == 200
        assert response.json()["results"] == [
            {
                "id": shipped.id,
                "result": "invalid_transition",
                "status": "shipped",
                "allowed": ["delivered"],
            },
            {"id": pending.id, "result": "ok", "status": "cancelled"},
            {"id": 999999, "result": "not_found"},
            {"id": confirmed.id, "result": "ok", "status": "cancelled"},
        ]
        assert Order.objects.get(id=shipped.id).status == S.SHIPPED
        assert _state(shipped)[:5] == shipped_before[:5]  # the others' notices were sent

    def test_other_domain_errors_are_reported_per_order(self, order_in, monkeypatch):
        from catalog import services as catalog_services
        from catalog.errors import ReleaseExceedsReservation

        broken, fine = order_in(S.PENDING), order_in(S.PENDING)
        real_release = catalog_services.stock_release

        def release(**kwargs):
            if kwargs["reference"] == broken.number:
                raise ReleaseExceedsReservation()
            return real_release(**kwargs)

        monkeypatch.setattr(catalog_services, "stock_release", release)
        broken_before = _state(broken)
        results = services.orders_bulk_transition(
            order_ids=[broken.id, fine.id], status="cancelled"
        )
        assert results[0]["result"] == "error"
        assert results[0]["code"] == "release_exceeds_reservation"
        assert results[1] == {"id": fine.id, "result": "ok", "status": "cancelled"}
        assert Order.objects.get(id=broken.id).status == S.PENDING
        assert _state(broken)[:5] == broken_before[:5]

    def test_customers_may_not_bulk_update(self, customer_api, order_in):
        order = order_in(S.PENDING)
        before = _state(order)
        response = customer_api.post(
            f"{URL}bulk-status/", {"ids": [order.id], "status": "cancelled"}, format="json"
        )
        assert response.status_code == 403
        assert _state(order) == before

    def test_bulk_needs_the_permission_of_the_target_status(self, staff_api, order_in):
        order = order_in(S.DELIVERED)
        services.order_payment_status_set(order_id=order.id, status="paid")
        before = _state(order)
        response = staff_api.post(
            f"{URL}bulk-status/", {"ids": [order.id], "status": "refunded"}, format="json"
        )
        assert response.status_code == 403
        assert Order.objects.get(id=order.id).status == S.DELIVERED
        assert _state(order) == before

    @pytest.mark.parametrize(
        "payload, field",
        [
            ({"ids": [], "status": "confirmed"}, "ids"),
            ({"ids": [1], "status": "pending"}, "status"),
            ({"ids": ["x"], "status": "confirmed"}, "ids"),
            ({"ids": list(range(1, 502)), "status": "confirmed"}, "ids"),
        ],
    )
    def test_bad_input(self, staff_api, order_in, payload, field):
        order = order_in(S.PENDING)
        before = _state(order)
        response = staff_api.post(f"{URL}bulk-status/", payload, format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
        assert Order.objects.get(id=order.id).status == S.PENDING
        assert _state(order) == before


class TestPaymentStatus:
    def test_paid_then_refunded(self, order_in, manager):
        order = order_in(S.PENDING)
        order = services.order_payment_status_set(
            order_id=order.id, status="paid", reference="pi_123", details={"card": "4242"}
        )
        assert (order.payment_status, order.payment_reference) == ("paid", "pi_123")
        assert order.paid_at is not None
        assert order.payment_details == {"card": "4242"}
        assert order.history[-1]["payment"] == "paid"
        order = services.order_payment_status_set(order_id=order.id, status="refunded")
        assert order.payment_status == "refunded"

    def test_the_same_status_twice_is_a_no_op(self, order_in):
        order = order_in(S.PENDING)
        services.order_payment_status_set(order_id=order.id, status="paid")
        again = services.order_payment_status_set(order_id=order.id, status="paid")
        assert len(again.history) == 2

    def test_failed_payment_may_be_retried(self, order_in):
        order = order_in(S.PENDING)
        services.order_payment_status_set(order_id=order.id, status="failed")
        order = services.order_payment_status_set(order_id=order.id, status="paid")
        assert order.payment_status == "paid"

    @pytest.mark.parametrize(
        "steps, bad", [([], "refunded"), (["paid"], "failed"), (["paid", "refunded"], "paid")]
    )
    def test_invalid_payment_changes_are_409(self, order_in, steps, bad):
        order = order_in(S.PENDING)
        for step in steps:
            services.order_payment_status_set(order_id=order.id, status=step)
        before = _state(order)
        with pytest.raises(InvalidPaymentTransition):
            services.order_payment_status_set(order_id=order.id, status=bad)
        assert _state(order) == before


def test_service_refuses_invalid_transitions(order_in):
    order = order_in(S.SHIPPED)
    before = _state(order)
    with pytest.raises(InvalidTransition) as info:
        services.order_transition(order_id=order.id, status=S.CANCELLED)
    assert info.value.extra == {"current_status": "shipped", "allowed": ["delivered"]}
    assert _state(order) == before


class TestCashOnDelivery:
    """The payment status follows what was actually paid: cash is paid when the delivery is
    confirmed, and nothing can be refunded before it was paid."""

    def test_cash_on_delivery_is_paid_when_delivered(self, admin_api, order_in):
        order = order_in(S.SHIPPED, payment_method="cash_on_delivery")
        assert (order.payment_status, order.paid_at) == ("pending", None)
        response = admin_api.post(f"{URL}{order.id}/deliver/", {}, format="json")
        assert response.status_code == 200
        assert response.json()["payment_status"] == "paid"
        order = Order.objects.get(id=order.id)
        assert order.paid_at is not None
        assert order.history[-1]["payment"] == "paid"
        assert order.history[-1]["payment_from"] == "pending"

    def test_a_refunded_cash_order_has_its_payment_refunded(self, admin_api, order_in):
        order = order_in(S.DELIVERED, payment_method="cash_on_delivery")
        response = admin_api.post(f"{URL}{order.id}/refund/", {}, format="json")
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["payment_status"]) == (
            "refunded",
            "refunded",
        )

    def test_a_card_order_is_not_paid_by_its_delivery(self, order_in):
        order = order_in(S.DELIVERED)
        assert (order.payment_status, order.paid_at) == ("pending", None)

    @pytest.mark.parametrize("method", ["credit_card", "bank_transfer"])
    def test_no_refund_before_payment(self, admin_api, order_in, method):
        order = order_in(S.DELIVERED, payment_method=method)
        before = _state(order)
        response = admin_api.post(f"{URL}{order.id}/refund/", {}, format="json")
        assert response.status_code == 409
        error = response.json()["error"]
        assert (error["code"], error["payment_status"]) == ("order_not_paid", "pending")
        assert _state(order) == before

    def test_bulk_refund_of_an_unpaid_order_reports_it(self, admin_api, order_in):
        order = order_in(S.DELIVERED)
        response = admin_api.post(
            f"{URL}bulk-status/", {"ids": [order.id], "status": "refunded"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["results"][0]["code"] == "order_not_paid"
        assert Order.objects.get(id=order.id).status == S.DELIVERED
