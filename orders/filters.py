"""Query-string filters of the order list (django-filter)."""

import django_filters

from orders.models import Order
from orders.selectors import order_search_q


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices)
    payment_status = django_filters.MultipleChoiceFilter(choices=Order.PaymentStatus.choices)
    payment_method = django_filters.ChoiceFilter(choices=Order.PaymentMethod.choices)
    customer = django_filters.UUIDFilter(field_name="customer_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    min_total = django_filters.NumberFilter(field_name="total", lookup_expr="gte")
    max_total = django_filters.NumberFilter(field_name="total", lookup_expr="lte")
    product = django_filters.NumberFilter(method="filter_product", help_text="A product id.")
    search = django_filters.CharFilter(
        method="filter_search", help_text="Order number, item name or shipping city."
    )

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_product(self, queryset, name, value):
        # Containment uses the GIN index on items.
        return queryset.filter(items__contains=[{"product_id": int(value)}])

    def filter_search(self, queryset, name, value: str):
        return queryset.filter(order_search_q(value)) if value.strip() else queryset
