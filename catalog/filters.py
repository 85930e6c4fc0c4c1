"""Query-string filters of the product list (django-filter)."""

import django_filters
from django.db.models import Exists, F, OuterRef

from catalog.models import Category, Product
from catalog.selectors import category_subtree_ids


class NumberListFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """?tags=1,2,3"""


class ProductFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Product.Status.choices)
    type = django_filters.ChoiceFilter(choices=Product.Type.choices)
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(),
        method="filter_category",
        help_text="A category id; its descendants' products are included.",
    )
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    tags = NumberListFilter(method="filter_tags", help_text="Tag ids; products with any of them.")
    in_stock = django_filters.BooleanFilter(method="filter_in_stock")
    on_sale = django_filters.BooleanFilter(method="filter_on_sale")

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_category(self, queryset, name, value: Category):
        return queryset.filter(category_id__in=category_subtree_ids(category=value))

    def filter_tags(self, queryset, name, value):
        through = Product.tags.through
        return queryset.filter(
            Exists(through.objects.filter(product_id=OuterRef("pk"), tag_id__in=value))
        )

    def filter_in_stock(self, queryset, name, value: bool):
        return queryset.filter(stock_quantity__gt=0) if value else queryset.filter(stock_quantity=0)

    def filter_on_sale(self, queryset, name, value: bool):
        on_sale = {"compare_at_price__isnull": False, "compare_at_price__gt": F("price")}
        return queryset.filter(**on_sale) if value else queryset.exclude(**on_sale)
