"""Tables of the orders app: orders as documents (JSONB line items, addresses, history) and the
idempotency keys of checkout."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone

# Users live in the public schema: no database constraint, no cascade into tenant tables.
_USER_REF = {"on_delete": models.DO_NOTHING, "db_constraint": False, "related_name": "+"}


# Field groups of an order, shared by its API representation and its MongoDB document.
MONEY_FIELDS = ("subtotal", "discount_amount", "tax_amount", "shipping_amount", "total")
TIME_FIELDS = (
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
)


class Order(models.Model):
    """One order, shaped like a document: the line items are snapshots taken at checkout
    (product id, name, SKU, unit price, quantity, subtotal, attributes) so later catalog edits
    never change what was bought. Persistence goes through orders.services / orders.selectors."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        PROCESSING = "processing", "Processing"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    class PaymentStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"

    class PaymentMethod(models.TextChoices):
        CREDIT_CARD = "credit_card", "Credit card"
        DEBIT_CARD = "debit_card", "Debit card"
        PAYPAL = "paypal", "PayPal"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        CASH_ON_DELIVERY = "cash_on_delivery", "Cash on delivery"

    number = models.CharField(max_length=32, unique=True)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, **_USER_REF)
    # Kept with the order: the customer row lives in another schema and may change.
    customer_email = models.EmailField(blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    payment_status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    payment_reference = models.CharField(max_length=255, blank=True, default="")
    payment_details = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    discount_code = models.CharField(max_length=40, blank=True, default="")
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    item_count = models.PositiveIntegerField(default=0)
    items = models.JSONField(default=list)
    shipping_address = models.JSONField(default=dict)
    billing_address = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict, blank=True)
    # [{"status", "from", "at", "by", "note"}, ...] oldest first; payment changes too ("payment").
    history = models.JSONField(default=list)
    notes = models.TextField(blank=True, default="")
    tracking_number = models.CharField(max_length=100, blank=True, default="")
    cancel_reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Unpaid pending orders are cancelled (stock released) once this passes.
    expires_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    processing_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # Raised by every change (orders.services.record_order_change): the order's document in
    # MongoDB is only ever replaced by a higher version.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="order_subtotal_gte_0"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_gte_0"),
            models.CheckConstraint(
                condition=Q(discount_amount__gte=0, tax_amount__gte=0, shipping_amount__gte=0),
                name="order_amounts_gte_0",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at", "id"], name="order_created"),
            models.Index(fields=["customer", "created_at"], name="order_customer_created"),
            models.Index(fields=["status", "payment_status"], name="order_status_payment"),
            models.Index(
                fields=["expires_at"],
                condition=Q(status="pending", payment_status__in=["pending", "failed"]),
                name="order_expiring",
            ),
            # items @> '[{"product_id": 7}]': the orders that contain a product.
            GinIndex(fields=["items"], opclasses=["jsonb_path_ops"], name="order_items_gin"),
        ]

    def __str__(self) -> str:
        return self.number


class IdempotencyKey(models.Model):
    """An Idempotency-Key a customer sent to checkout, with the fingerprint of the request body.

    The unique (customer, key) row is inserted in the checkout's transaction before any stock is
    touched, so concurrent retries queue on it and find the order the first one wrote.
    """

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, **_USER_REF)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    order = models.ForeignKey(Order, null=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="order_idempotency_key_uniq")
        ]
        indexes = [models.Index(fields=["created_at"], name="order_idem_created")]

    def __str__(self) -> str:
        return self.key


class OrderOutbox(models.Model):
    """A change of an order that its MongoDB document may not have yet.

    Written in the transaction that changed the order (record_order_change); the relay deletes
    the row once the order's document holds that version or a later one.
    """

    order_id = models.BigIntegerField()
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "order change to publish"
        verbose_name_plural = "order changes to publish"
        indexes = [models.Index(fields=["order_id"], name="order_outbox_order")]

    def __str__(self) -> str:
        return f"order {self.order_id} v{self.version}"
