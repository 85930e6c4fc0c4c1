"""Input validation and output shape of the orders API."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from orders.models import Order
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
            "created_at",
            "updated_at",
            "expires_at",
            "confirmed_at",
            "processing_at",
            "shipped_at",
            "delivered_at",
            "cancelled_at",
            "refunded_at",
            "paid_at",
        ]
        read_only_fields = fields

    def get_allowed_transitions(self, order: Order) -> list[str]:
        from orders.services import allowed_transitions

        return allowed_transitions(order.status)


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
    result = serializers.ChoiceField(choices=["ok", "not_found", "invalid_transition"])
    status = serializers.CharField(required=False)
    allowed = serializers.ListField(child=serializers.CharField(), required=False)


class ReportQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    product_id = serializers.IntegerField(required=False, min_value=1)
    export = serializers.ChoiceField(choices=["csv"], required=False)

    def validate(self, attrs):
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError({"date_from": ["Must not be after date_to."]})
        if start and end and (end - start).days > 366 * 3:
            raise serializers.ValidationError({"date_from": ["At most three years at once."]})
        return attrs


class SalesRowSerializer(serializers.Serializer):
    day = serializers.DateField()
    product_id = serializers.IntegerField()
    name = serializers.CharField()
    sku = serializers.CharField()
    units = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)
    orders = serializers.IntegerField()


class PeriodSerializer(serializers.Serializer):
    date_from = serializers.DateField(source="from")
    date_to = serializers.DateField(source="to")


class StatsTotalsSerializer(serializers.Serializer):
    orders = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)
    average_order_value = serializers.DecimalField(**MONEY)
    units = serializers.IntegerField()
    customers = serializers.IntegerField()


class MonthRevenueSerializer(serializers.Serializer):
    month = serializers.CharField()
    orders = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)


@extend_schema_serializer(component_name="OrderTopProduct")  # catalog has a TopProduct too
class TopProductSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    name = serializers.CharField()
    units = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)
    orders = serializers.IntegerField()


class StatsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    totals = StatsTotalsSerializer()
    by_status = serializers.DictField(child=serializers.IntegerField())
    revenue_by_month = MonthRevenueSerializer(many=True)
    top_products = TopProductSerializer(many=True)
