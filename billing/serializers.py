"""Input validation and output shapes of the billing API."""

from django.conf import settings
from rest_framework import serializers

from billing.models import Subscription
from billing.services import PRORATION_BEHAVIORS


def _plan_choices() -> list[str]:
    return [code for code, spec in settings.BILLING_PLANS.items() if spec["price"]]


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
