"""Back office for billing: customers, subscriptions, and the webhook ledger with replay."""

from django.contrib import admin, messages

from billing import services
from billing.models import Customer, Subscription, WebhookEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows mirror Stripe; they change through services and webhooks, not by hand."""

    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "kind", "user", "email", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["user"]
    search_fields = ["stripe_id", "email"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = [
        "stripe_id",
        "plan",
        "status",
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


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
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
