"""Input validation and output shapes of the billing API."""

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.models import Invoice, Payment, PaymentMethod, Refund, Subscription
from billing.services import PRORATION_BEHAVIORS, from_minor
from tenants.plans import plan_table


def _plan_choices() -> list[str]:
    return [code for code, spec in plan_table().items() if spec["price"]]


class PlanField(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value not in _plan_choices():
            raise serializers.ValidationError(
                f"Choose one of {', '.join(_plan_choices()) or '(none configured)'}."
            )
        return value


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subscription
        fields = [
            "id",
            "stripe_id",
            "plan",
            "status",
            "cancel_at_period_end",
            "current_period_end",
            "trial_end",
            "canceled_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SubscriptionStartSerializer(serializers.Serializer):
    plan = PlanField()
    trial = serializers.BooleanField(default=False)
    payment_method = serializers.CharField(required=False, max_length=255)


class SubscriptionChangeSerializer(serializers.Serializer):
    plan = PlanField()
    proration_behavior = serializers.ChoiceField(
        choices=PRORATION_BEHAVIORS, default="create_prorations"
    )


class SubscriptionCancelSerializer(serializers.Serializer):
    at_period_end = serializers.BooleanField(default=True)


class PlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    price_id = serializers.CharField(allow_null=True)
    limits = serializers.DictField(child=serializers.IntegerField(allow_null=True))
    subscribable = serializers.BooleanField()


class PlanListSerializer(serializers.Serializer):
    results = PlanSerializer(many=True)


class LimitSerializer(serializers.Serializer):
    limit = serializers.IntegerField(allow_null=True)
    used = serializers.IntegerField()


class SubscriptionStateSerializer(serializers.Serializer):
    """The workspace's plan (from its subscription's status), the subscription and the limits."""

    plan = serializers.CharField()
    subscription = SubscriptionSerializer(allow_null=True)
    limits = serializers.DictField(child=LimitSerializer())


@extend_schema_field(OpenApiTypes.DECIMAL)
class MoneyField(serializers.Field):
    """An amount stored in the currency's minor unit, shown as a decimal string."""

    def __init__(self, currency_from: str = "currency", **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(source="*", **kwargs)
        self.currency_from = currency_from
        self.amount_attr = ""

    def bind(self, field_name, parent):
        super().bind(field_name, parent)
        self.amount_attr = field_name

    def to_representation(self, obj):
        from billing.services import from_minor

        currency = getattr(obj, "currency", None) or obj.payment.currency
        return str(from_minor(getattr(obj, self.amount_attr), currency))


class RefundSerializer(serializers.ModelSerializer):
    amount = MoneyField()

    class Meta:
        model = Refund
        fields = ["id", "stripe_id", "amount", "status", "reason", "created_at"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    amount = MoneyField()
    amount_received = MoneyField()
    amount_refunded = MoneyField()
    order_number = serializers.CharField(source="order.number", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "order",
            "order_number",
            "stripe_id",
            "amount",
            "currency",
            "status",
            "amount_received",
            "amount_refunded",
            "last_error",
            "refunds",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    refunds = RefundSerializer(many=True, read_only=True)


class PaymentCreatedSerializer(PaymentSerializer):
    client_secret = serializers.CharField()

    class Meta(PaymentSerializer.Meta):
        fields = [*PaymentSerializer.Meta.fields, "client_secret"]
        read_only_fields = fields


class PaymentConfirmSerializer(serializers.Serializer):
    payment_method = serializers.CharField(max_length=255)


class RefundCreateSerializer(serializers.Serializer):
    """`amount` in the payment's currency (e.g. "12.50"); omitted: everything left."""

    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, min_value=Decimal("0.01")
    )
    reason = serializers.ChoiceField(choices=Refund.Reason.choices, required=False, default="")

    def validate(self, attrs):
        from billing.services import to_minor

        if "amount" in attrs:
            attrs["amount"] = to_minor(attrs["amount"], self.context["payment"].currency)
        return attrs


class PaymentMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentMethod
        fields = ["stripe_id", "type", "brand", "last4", "exp_month", "exp_year", "is_default"]
        read_only_fields = fields


class SetupIntentCreateSerializer(serializers.Serializer):
    # A payment method Stripe.js already created (pm_...): confirmed server-side. Without it the
    # client confirms the returned client secret with Stripe.js.
    payment_method = serializers.RegexField(r"^pm_[A-Za-z0-9_]+$", required=False, max_length=255)


class SetupIntentSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    client_secret = serializers.CharField()
    payment_method = serializers.CharField(allow_null=True)


class InvoiceSerializer(serializers.ModelSerializer):
    amount_due = serializers.SerializerMethodField()
    amount_paid = serializers.SerializerMethodField()
    amount_remaining = serializers.SerializerMethodField()
    subscription = serializers.CharField(source="subscription.stripe_id", default=None)

    class Meta:
        model = Invoice
        fields = [
            "stripe_id",
            "number",
            "status",
            "billing_reason",
            "currency",
            "amount_due",
            "amount_paid",
            "amount_remaining",
            "attempt_count",
            "next_retry_at",
            "hosted_invoice_url",
            "period_start",
            "period_end",
            "paid_at",
            "stripe_created",
            "subscription",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_amount_due(self, obj) -> str:
        return str(from_minor(obj.amount_due, obj.currency))

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_amount_paid(self, obj) -> str:
        return str(from_minor(obj.amount_paid, obj.currency))

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_amount_remaining(self, obj) -> str:
        return str(from_minor(obj.amount_remaining, obj.currency))
