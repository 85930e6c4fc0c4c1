"""Back office for orders: read-only documents (items and history rendered as tables) with
state-transition actions that go through orders.services."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyAdminMixin
from orders import services
from orders.models import IdempotencyKey, Order

S = Order.Status


def _transition_action(status: str, label: str):
    @admin.action(description=f"Mark selected orders as {label}")
    def action(modeladmin, request, queryset):
        ids = list(queryset.values_list("id", flat=True))
        if len(ids) > services.BULK_LIMIT:
            modeladmin.message_user(
                request, f"Select at most {services.BULK_LIMIT} orders.", level=messages.ERROR
            )
            return
        results = services.orders_bulk_transition(
            order_ids=ids,
            status=status,
            actor=request.user,
            note="Admin action",
            reason="Cancelled in the admin" if status == S.CANCELLED else "",
        )
        done = sum(r["result"] == "ok" for r in results)
        refused = len(results) - done
        modeladmin.message_user(request, f"{done} of {len(results)} orders are now {label}.")
        if refused:
            modeladmin.message_user(
                request,
                f"{refused} order(s) could not become {label} from their current status.",
                level=messages.WARNING,
            )

    action.__name__ = f"mark_{status}"
    return action


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Orders are placed through checkout, never deleted, and move only by the actions."""

    rbac_actions = {"view": "read_all"}  # the back office shows everyone's orders
    list_display = [
        "number",
        "customer_email",
        "status",
        "payment_status",
        "payment_method",
        "item_count",
        "total",
        "created_at",
    ]
    list_filter = ["status", "payment_status", "payment_method", "created_at"]
    search_fields = ["number", "customer_email", "shipping_address__city"]
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False
    ordering = ["-created_at", "-id"]
    actions = [
        _transition_action(status, label.lower())
        for status, label in S.choices
        if status != S.PENDING
    ]
    exclude = ["items", "history"]
    readonly_fields = [
        "items_table",
        "history_table",
        *[f.name for f in Order._meta.fields if f.name not in ("items", "history")],
    ]

    @admin.display(description="Items")
    def items_table(self, obj: Order):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    line["product_id"],
                    line["sku"],
                    line["name"],
                    line["unit_price"],
                    line["quantity"],
                    line["subtotal"],
                )
                for line in obj.items
            ),
        )
        return format_html(
            "<table><tr><th>Product</th><th>SKU</th><th>Name</th><th>Unit price</th>"
            "<th>Qty</th><th>Subtotal</th></tr>{}</table>",
            rows,
        )

    @admin.display(description="History")
    def history_table(self, obj: Order):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    entry.get("at", ""),
                    entry.get("from") or "",
                    entry.get("payment") and f"payment {entry['payment']}" or entry["status"],
                    entry.get("by") or "system",
                    entry.get("note") or entry.get("reason") or "",
                )
                for entry in obj.history
            ),
        )
        return format_html(
            "<table><tr><th>At</th><th>From</th><th>To</th><th>By</th><th>Note</th></tr>{}</table>",
            rows,
        )


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    rbac_resource = "orders.order"
    rbac_actions = {"view": "read_all"}
    list_display = ["key", "customer_id", "order", "created_at"]
    list_select_related = ["order"]
    list_per_page = 50
    search_fields = ["key", "order__number"]
    readonly_fields = ["customer", "key", "fingerprint", "order", "created_at"]
