"""Back office for billing: the workspace's customers, subscription, invoices, cards, order
payments, refunds and disputes (mirrors of Stripe, read-only), the webhook ledger with replay, and
the dashboard's panels (failed events, disputes waiting for a response)."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing import services
from billing.models import (
    Customer,
    Dispute,
    Invoice,
    Payment,
    PaymentMethod,
    Refund,
    Subscription,
    WebhookEvent,
)
from core.admin import DashboardPanel, ReadOnlyAdminMixin
from core.errors import DomainError


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rows mirror Stripe; they change through services and webhooks, not by hand."""

    list_per_page = 50


class PaymentMethodInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PaymentMethod
    extra = 0
    fields = ["stripe_id", "brand", "last4", "exp_month", "exp_year", "is_default", "detached_at"]
    readonly_fields = fields


class InvoiceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Invoice
    extra = 0
    fields = ["stripe_id", "number", "status", "amount_due", "attempt_count", "stripe_created"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    rbac_resource = "billing.subscription"
    inlines = [PaymentMethodInline]
    list_display = ["stripe_id", "kind", "user", "email", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["user"]
    search_fields = ["stripe_id", "email"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    rbac_resource = "billing.subscription"
    inlines = [InvoiceInline]
    list_display = [
        "stripe_id",
        "plan",
        "status",
        "dunning_action",
        "cancel_at_period_end",
        "current_period_end",
        "trial_end",
        "customer",
        "updated_at",
    ]
    list_filter = ["status", "plan", "cancel_at_period_end"]
    list_select_related = ["customer"]
    search_fields = ["stripe_id"]
    actions = ["sync_from_stripe"]

    @admin.action(description="Re-read selected subscriptions from Stripe")
    def sync_from_stripe(self, request, queryset):
        for subscription in queryset[:100]:
            services.subscription_sync(stripe_id=subscription.stripe_id)
        self.message_user(request, "Subscriptions re-read from Stripe.")


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    rbac_resource = "billing.subscription"
    list_display = [
        "stripe_id",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "is_default",
        "customer",
        "detached_at",
    ]
    list_filter = ["is_default", "brand", ("detached_at", admin.EmptyFieldListFilter)]
    list_select_related = ["customer"]
    search_fields = ["stripe_id", "last4", "customer__stripe_id"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    rbac_resource = "billing.subscription"
    list_display = [
        "number",
        "stripe_id",
        "status",
        "amount_due",
        "amount_remaining",
        "currency",
        "attempt_count",
        "retries",
        "next_retry_at",
        "stripe_created",
    ]
    list_filter = ["status", "billing_reason"]
    list_select_related = ["subscription"]
    search_fields = ["stripe_id", "number"]
    actions = ["sync_from_stripe"]

    @admin.action(description="Re-read selected invoices from Stripe")
    def sync_from_stripe(self, request, queryset):
        for invoice in queryset[:100]:
            services.invoice_sync(stripe_id=invoice.stripe_id)
        self.message_user(request, "Invoices re-read from Stripe.")


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    rbac_resource = "billing.payment"
    list_display = [
        "stripe_id",
        "payment",
        "amount",
        "currency",
        "reason",
        "status",
        "evidence_due_by",
        "updated_at",
    ]
    list_filter = ["status", "reason"]
    list_select_related = ["payment"]
    search_fields = ["stripe_id", "payment__stripe_id", "payment__order__number"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    rbac_resource = "billing.payment"
    list_display = ["event_id", "type", "status", "attempts", "object_id", "received_at"]
    list_filter = ["status", "type"]
    search_fields = ["event_id", "object_id"]
    readonly_fields = [
        "event_id",
        "type",
        "object_id",
        "livemode",
        "status",
        "attempts",
        "last_error",
        "received_at",
        "processed_at",
        "payload",
    ]
    show_full_result_count = False
    actions = ["replay"]

    @admin.action(description="Replay selected events (process them again)")
    def replay(self, request, queryset):
        replayed = 0
        for event in queryset.exclude(status=WebhookEvent.Status.PROCESSED)[:1000]:
            services.webhook_event_replay(event_pk=event.pk)
            replayed += 1
        self.message_user(request, f"{replayed} events queued again.", messages.SUCCESS)


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Refund
    extra = 0
    fields = ["stripe_id", "amount", "status", "reason", "created_by", "created_at"]
    readonly_fields = fields


class DisputeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Dispute
    extra = 0
    fields = ["stripe_id", "amount", "reason", "status", "evidence_due_by"]
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "stripe_id",
        "order",
        "amount",
        "currency",
        "status",
        "amount_refunded",
        "created_at",
    ]
    list_filter = ["status", "currency"]
    list_select_related = ["order"]
    search_fields = ["stripe_id", "order__number"]
    inlines = [RefundInline, DisputeInline]
    actions = ["refund_in_full", "sync_from_stripe"]

    @admin.action(description="Refund selected payments in full")
    def refund_in_full(self, request, queryset):
        done = 0
        for payment in queryset[:100]:
            try:
                services.refund_create(payment=payment, actor=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{payment}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{done} payments refunded.", messages.SUCCESS)

    @admin.action(description="Re-read selected payments from Stripe")
    def sync_from_stripe(self, request, queryset):
        for payment in queryset[:100]:
            services.payment_sync(stripe_id=payment.stripe_id)
        self.message_user(request, "Payments re-read from Stripe.")


class RefundForm(forms.ModelForm):
    """A partial (or full: leave the amount empty) refund of a payment, made on Stripe."""

    amount = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False
    )

    class Meta:
        model = Refund
        fields = ["payment", "reason"]

    def clean(self):
        cleaned = super().clean()
        payment, amount = cleaned.get("payment"), cleaned.get("amount")
        if payment is not None:
            if payment.status != Payment.Status.SUCCEEDED or payment.refundable <= 0:
                raise ValidationError("Nothing of this payment can be refunded.")
            if amount and services.to_minor(amount, payment.currency) > payment.refundable:
                self.add_error("amount", "Greater than what is left to refund.")
        return cleaned


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    rbac_resource = "billing.payment"
    rbac_actions = {"add": "refund", "change": "refund"}
    form = RefundForm
    list_display = [
        "stripe_id",
        "payment",
        "amount",
        "status",
        "reason",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "reason"]
    list_select_related = ["payment", "created_by"]
    list_per_page = 50
    raw_id_fields = ["payment"]
    search_fields = ["stripe_id", "payment__stripe_id"]

    # Refunds are made (on Stripe) from this form; once made they only change by webhook.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        payment = form.cleaned_data["payment"]
        amount = form.cleaned_data.get("amount")
        refund = services.refund_create(
            payment=payment,
            amount=services.to_minor(amount, payment.currency) if amount else None,
            reason=form.cleaned_data.get("reason") or "",
            actor=request.user,
        )
        obj.pk = refund.pk
        obj.__dict__.update({k: v for k, v in refund.__dict__.items() if not k.startswith("_")})


@admin.site.register_panel
def failed_webhook_events(request) -> DashboardPanel | None:
    """Stripe events whose processing failed (replayable from their list)."""
    if not admin.site.model_visible(request, WebhookEvent):
        return None
    failed = list(
        WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).values_list(
            "received_at", "type", "attempts"
        )[:5]
    )
    return DashboardPanel(
        title="Failed webhook events",
        link=reverse("admin:billing_webhookevent_changelist") + "?status__exact=failed",
        headers=["Received", "Type", "Attempts"],
        rows=[[f"{at:%Y-%m-%d %H:%M}", kind, attempts] for at, kind, attempts in failed],
    )


@admin.site.register_panel
def open_disputes(request) -> DashboardPanel | None:
    """Disputes waiting for evidence, the nearest deadline first."""
    if not admin.site.model_visible(request, Dispute):
        return None
    waiting = list(
        Dispute.objects.filter(
            status__in=[Dispute.Status.NEEDS_RESPONSE, Dispute.Status.WARNING_NEEDS_RESPONSE]
        )
        .order_by("evidence_due_by")
        .values_list("evidence_due_by", "amount", "currency")[:5]
    )
    return DashboardPanel(
        title="Disputes needing a response",
        link=reverse("admin:billing_dispute_changelist") + "?status__exact=needs_response",
        headers=["Evidence due", "Amount", "Currency"],
        rows=[
            [f"{due:%Y-%m-%d}" if due else "", amount, currency.upper()]
            for due, amount, currency in waiting
        ],
    )
