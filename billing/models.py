"""Tables of the billing app: Stripe customers, tenant subscriptions and the webhook ledger.

Every table lives in the tenant's schema: an event, the object it refers to and the effect of
processing it commit together in one schema.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Customer(models.Model):
    """A Stripe customer: one per paying user, and one for the tenant itself (its plan)."""

    class Kind(models.TextChoices):
        USER = "user", "User"
        TENANT = "tenant", "Tenant"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stripe_id = models.CharField(max_length=255, unique=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(kind="user"), name="billing_customer_one_per_user"
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(kind="tenant"), name="billing_customer_one_tenant"
            ),
            models.CheckConstraint(
                condition=(Q(kind="user") & Q(user__isnull=False))
                | (Q(kind="tenant") & Q(user__isnull=True)),
                name="billing_customer_kind_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_id} ({self.email or self.kind})"


class Subscription(models.Model):
    """The tenant's plan subscription, mirrored from Stripe (Stripe is the source of truth)."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "Incomplete"
        INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete, expired"
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELED = "canceled", "Canceled"
        UNPAID = "unpaid", "Unpaid"
        PAUSED = "paused", "Paused"

    # Statuses in which the plan's limits apply; any other falls back to the free plan.
    LIVE_STATUSES = (Status.TRIALING, Status.ACTIVE, Status.PAST_DUE)

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    stripe_id = models.CharField(max_length=255, unique=True)
    stripe_item_id = models.CharField(max_length=255, blank=True)
    plan = models.CharField(max_length=30)
    price_id = models.CharField(max_length=255)
    status = models.CharField(max_length=30, choices=Status.choices)
    cancel_at_period_end = models.BooleanField(default=False)
    current_period_end = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="billing_sub_status")]

    def __str__(self) -> str:
        return f"{self.plan} ({self.status}) {self.stripe_id}"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES


class WebhookEvent(models.Model):
    """The ledger: every Stripe event received, stored once by its id, with its processing."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (no handler)"
        FAILED = "failed", "Failed"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255, blank=True)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="billing_event_status"),
            models.Index(fields=["object_id"], name="billing_event_object"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Payment(models.Model):
    """A Stripe PaymentIntent for an order, mirrored (amounts in the currency's minor unit)."""

    class Status(models.TextChoices):
        REQUIRES_PAYMENT_METHOD = "requires_payment_method", "Requires payment method"
        REQUIRES_CONFIRMATION = "requires_confirmation", "Requires confirmation"
        REQUIRES_ACTION = "requires_action", "Requires action"
        PROCESSING = "processing", "Processing"
        REQUIRES_CAPTURE = "requires_capture", "Requires capture"
        CANCELED = "canceled", "Canceled"
        SUCCEEDED = "succeeded", "Succeeded"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    stripe_id = models.CharField(max_length=255, unique=True)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=30, choices=Status.choices)
    amount_received = models.PositiveBigIntegerField(default=0)
    amount_refunded = models.PositiveBigIntegerField(default=0)
    idempotency_key = models.CharField(max_length=255)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open payment per order; a canceled one may be followed by a new attempt.
            models.UniqueConstraint(
                fields=["order"], condition=~Q(status="canceled"), name="billing_payment_one_open"
            ),
        ]
        indexes = [models.Index(fields=["order", "-created_at"], name="billing_payment_order")]

    def __str__(self) -> str:
        return f"{self.stripe_id} {self.amount} {self.currency} ({self.status})"

    @property
    def refundable(self) -> int:
        return self.amount_received - self.amount_refunded


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        REQUIRES_ACTION = "requires_action", "Requires action"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    class Reason(models.TextChoices):
        DUPLICATE = "duplicate", "Duplicate"
        FRAUDULENT = "fraudulent", "Fraudulent"
        REQUESTED_BY_CUSTOMER = "requested_by_customer", "Requested by customer"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    stripe_id = models.CharField(max_length=255, unique=True)
    amount = models.PositiveBigIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.CharField(max_length=30, choices=Reason.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.stripe_id} {self.amount} ({self.status})"
