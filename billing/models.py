"""Tables of the billing app: Stripe customers, the workspace's subscription, its invoices and
payment methods, order payments, refunds and disputes, and the webhook ledger.

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
    # What the dunning policy did while an invoice stayed unpaid past the grace period (undone
    # when it is paid): "downgraded" (the free plan's limits apply) or "suspended".
    dunning_action = models.CharField(max_length=20, blank=True)
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


class PaymentMethod(models.Model):
    """A card attached to one of the schema's Stripe customers, mirrored (no card numbers: only
    what Stripe shows, brand and last four digits)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="methods")
    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=30, default="card")
    brand = models.CharField(max_length=30, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    is_default = models.BooleanField(default=False)
    detached_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.brand} ****{self.last4} ({self.stripe_id})"


class Invoice(models.Model):
    """A Stripe invoice of the workspace's subscription, mirrored, with the platform's dunning
    state (its own retries and the owner's notices)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        UNCOLLECTIBLE = "uncollectible", "Uncollectible"
        VOID = "void", "Void"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    stripe_id = models.CharField(max_length=255, unique=True)
    number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    billing_reason = models.CharField(max_length=50, blank=True)
    currency = models.CharField(max_length=3)
    amount_due = models.BigIntegerField(default=0)
    amount_paid = models.BigIntegerField(default=0)
    amount_remaining = models.BigIntegerField(default=0)
    attempt_count = models.PositiveIntegerField(default=0)
    hosted_invoice_url = models.CharField(max_length=500, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    stripe_created = models.DateTimeField()
    # Dunning: when the first attempt failed, the platform's retries and the next one, and the
    # number of failed attempts the owner was told about.
    first_failed_at = models.DateTimeField(null=True, blank=True)
    retries = models.PositiveIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    notified_attempts = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-stripe_created", "-id"]
        indexes = [
            models.Index(fields=["status", "next_retry_at"], name="billing_invoice_dunning"),
        ]

    def __str__(self) -> str:
        return f"{self.number or self.stripe_id} {self.amount_due} {self.currency} ({self.status})"


class Dispute(models.Model):
    """A chargeback on an order payment, mirrored from Stripe."""

    class Status(models.TextChoices):
        WARNING_NEEDS_RESPONSE = "warning_needs_response", "Inquiry, needs response"
        WARNING_UNDER_REVIEW = "warning_under_review", "Inquiry, under review"
        WARNING_CLOSED = "warning_closed", "Inquiry closed"
        NEEDS_RESPONSE = "needs_response", "Needs response"
        UNDER_REVIEW = "under_review", "Under review"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    stripe_id = models.CharField(max_length=255, unique=True)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices)
    evidence_due_by = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.stripe_id} {self.amount} ({self.status})"
