"""Input validation and output shape of the orders API."""

from decimal import Decimal

from rest_framework import serializers

from orders.models import MONEY_FIELDS, TIME_FIELDS, Order
from orders.services import BULK_LIMIT, MAX_LINES, MAX_QUANTITY

MONEY = {"max_digits": 12, "decimal_places": 2}


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", help_text="ISO 3166-1 alpha-2 code.")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)

    def validate_country(self, value: str) -> str:
        return value.upper()


class CheckoutItemSerializer(serializers.Serializer):
    """A line of the cart. Prices are never read from the client."""

    product_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class CheckoutSerializer(serializers.Serializer):
    items = CheckoutItemSerializer(many=True, allow_empty=False, max_length=MAX_LINES)
    shipping_address = AddressSerializer()
    billing_address = AddressSerializer(required=False)
    payment_method = serializers.ChoiceField(choices=Order.PaymentMethod.choices)
    discount_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    metadata = serializers.DictField(required=False)


class OrderItemSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    name = serializers.CharField()
    sku = serializers.CharField()
    unit_price = serializers.DecimalField(**MONEY)
    quantity = serializers.IntegerField()
    subtotal = serializers.DecimalField(**MONEY)
    attributes = serializers.DictField()


class OrderSerializer(serializers.ModelSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    customer = serializers.UUIDField(source="customer_id", read_only=True)
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "customer",
            "customer_email",
            "status",
            "allowed_transitions",
            "payment_status",
            "payment_method",
            "payment_reference",
            "currency",
            "items",
            "item_count",
            "subtotal",
            "discount_code",
            "discount_amount",
            "tax_amount",
            "shipping_amount",
            "total",
            "shipping_address",
            "billing_address",
            "notes",
            "metadata",
            "tracking_number",
            "cancel_reason",
            "history",
            *TIME_FIELDS,
        ]
        read_only_fields = fields

    def get_allowed_transitions(self, order: Order) -> list[str]:
        from orders.services import allowed_transitions

        return allowed_transitions(order.status)

    def to_representation(self, order: Order) -> dict:
        # Same output as the generic ModelSerializer path (a test compares the two), built
        # directly: building and walking ~35 fields and the nested items per row cost most of
        # a list page's time.
        data = {name: getattr(order, name) for name in _PLAIN_FIELDS}
        data["customer"] = None if order.customer_id is None else str(order.customer_id)
        data["allowed_transitions"] = self.get_allowed_transitions(order)
        data["items"] = [_item(item) for item in order.items]
        for name in MONEY_FIELDS:
            data[name] = _money(getattr(order, name))
        for name in TIME_FIELDS:
            value = getattr(order, name)
            data[name] = None if value is None else _DATETIME.to_representation(value)
        return {name: data[name] for name in self.Meta.fields}


_PLAIN_FIELDS = (
    "id",
    "number",
    "customer_email",
    "status",
    "payment_status",
    "payment_method",
    "payment_reference",
    "currency",
    "item_count",
    "discount_code",
    "shipping_address",
    "billing_address",
    "notes",
    "metadata",
    "tracking_number",
    "cancel_reason",
    "history",
)
_DATETIME = serializers.DateTimeField()


def _money(value) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def _item(item: dict) -> dict:
    """One line as OrderItemSerializer shows it."""
    return {
        "product_id": int(item["product_id"]),
        "name": str(item["name"]),
        "sku": str(item["sku"]),
        "unit_price": _money(item["unit_price"]),
        "quantity": int(item["quantity"]),
        "subtotal": _money(item["subtotal"]),
        "attributes": {str(k): v for k, v in item["attributes"].items()},
    }


class TransitionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )


class BulkStatusSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=BULK_LIMIT
    )
    status = serializers.ChoiceField(
        choices=[s for s in Order.Status.choices if s[0] != Order.Status.PENDING]
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class BulkResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    result = serializers.ChoiceField(choices=["ok", "not_found", "invalid_transition", "error"])
    status = serializers.CharField(required=False)
    allowed = serializers.ListField(child=serializers.CharField(), required=False)
    code = serializers.CharField(required=False)
    message = serializers.CharField(required=False)


class ReportQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    # Product ids are bigint: a larger number is a 400, not an overflow in the document store.
    product_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    export = serializers.ChoiceField(choices=["csv"], required=False)

    def validate(self, attrs):
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError({"date_from": ["Must not be after date_to."]})
        if start and end and (end - start).days > 366 * 3:
            raise serializers.ValidationError({"date_from": ["At most three years at once."]})
        return attrs


class StatsQuerySerializer(ReportQuerySerializer):
    payment_method = serializers.ChoiceField(choices=Order.PaymentMethod.choices, required=False)
    top = serializers.IntegerField(required=False, min_value=1, max_value=100, default=10)


class OrderSalesRowSerializer(serializers.Serializer):
    day = serializers.DateField()
    product_id = serializers.IntegerField()
    name = serializers.CharField()
    sku = serializers.CharField()
    units = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)
    orders = serializers.IntegerField()


class OrderReportPeriodSerializer(serializers.Serializer):
    date_from = serializers.DateField(source="from")
    date_to = serializers.DateField(source="to")


class OrderStatsTotalsSerializer(serializers.Serializer):
    orders = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)
    average_order_value = serializers.DecimalField(**MONEY)
    units = serializers.IntegerField()
    customers = serializers.IntegerField()


class OrderMonthRevenueSerializer(serializers.Serializer):
    month = serializers.CharField()
    orders = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)


class OrderTopProductSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    name = serializers.CharField()
    units = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)
    orders = serializers.IntegerField()


class OrderStatsSerializer(serializers.Serializer):
    period = OrderReportPeriodSerializer()
    totals = OrderStatsTotalsSerializer()
    by_status = serializers.DictField(child=serializers.IntegerField())
    revenue_by_month = OrderMonthRevenueSerializer(many=True)
    top_products = OrderTopProductSerializer(many=True)
    source = serializers.ChoiceField(
        choices=["mongodb", "postgresql"],
        help_text="Where the figures were read: the order documents, or PostgreSQL when "
        "MongoDB did not answer.",
    )
