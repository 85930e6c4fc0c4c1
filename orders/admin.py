"""Back office for orders: read-only documents (items and history rendered as tables) with
state-transition actions that go through orders.services, and the dashboard's sales panel."""

from datetime import timedelta
from decimal import Decimal

from django.contrib import admin, messages
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import DashboardPanel, ReadOnlyAdminMixin, columns
from orders import services
from orders.models import IdempotencyKey, Order, OrderOutbox

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


@admin.register(OrderOutbox)
class OrderOutboxAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Order changes not yet in their MongoDB documents: normally empty within a second; rows
    that stay say MongoDB is unreachable (the sweep publishes them once it answers)."""

    rbac_resource = "orders.order"
    rbac_actions = {"view": "read_all"}
    list_display = ["id", "order_id", "version", "created_at"]
    list_per_page = 50
    search_fields = ["=order_id"]
    readonly_fields = ["order_id", "version", "created_at"]


@admin.site.register_panel
def orders_last_30_days(request) -> DashboardPanel | None:
    """Orders and revenue per day over the last 30 days (cancelled orders left out)."""
    if not admin.site.model_visible(request, Order):
        return None
    today = timezone.localdate()
    since = today - timedelta(days=29)
    rows = (
        Order.objects.filter(created_at__date__gte=since)
        .exclude(status=S.CANCELLED)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(count=Count("id"), revenue=Sum("total"))
    )
    by_day = {row["day"]: row for row in rows}
    days = [since + timedelta(days=n) for n in range(30)]
    empty = {"count": 0, "revenue": Decimal(0)}
    per_day = [(day, by_day.get(day, empty)) for day in days]
    return DashboardPanel(
        title="Orders, last 30 days",
        link=reverse("admin:orders_order_changelist"),
        columns=columns(
            [
                (f"{day:%b %d}: {row['count']} orders, {row['revenue']}", float(row["revenue"]))
                for day, row in per_day
            ]
        ),
        note=(
            f"{sum(row['count'] for _, row in per_day)} orders, "
            f"revenue {sum(row['revenue'] for _, row in per_day)}"
        ),
    )
