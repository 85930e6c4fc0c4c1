"""Back office for the catalog (every save goes through catalog.services, like the API) and
the dashboard's low-stock panel."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.urls import reverse

from catalog import selectors, services
from catalog.errors import Conflict
from catalog.models import Category, InventoryMovement, Product, Review, Tag
from core.admin import DashboardPanel, ReadOnlyAdminMixin


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0


class InventoryMovementInline(ReadOnlyInline):
    model = InventoryMovement
    fields = [
        "created_at",
        "reason",
        "quantity",
        "stock_before",
        "stock_after",
        "reference",
        "note",
    ]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    classes = ["collapse"]


class ProductForm(forms.ModelForm):
    # The version the editor loaded travels with the form: a stale save is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Product
        fields = [
            "name",
            "sku",
            "description",
            "category",
            "tags",
            "status",
            "type",
            "price",
            "compare_at_price",
            "cost_price",
            "stock_quantity",
            "low_stock_threshold",
            "images",
            "attributes",
            "version",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and cleaned.get("version") != self.instance.version:
            raise ValidationError(
                "Someone else changed this product since you opened it; reload the page."
            )
        price, compare_at = cleaned.get("price"), cleaned.get("compare_at_price")
        if price is not None and compare_at is not None and compare_at < price:
            self.add_error("compare_at_price", "Must be greater than or equal to the price.")
        return cleaned


def _bulk_status(status: str, label: str):
    @admin.action(description=f"Set status: {label}")
    def action(modeladmin, request, queryset):
        items = [{"id": p.id, "version": p.version, "status": status} for p in queryset[:1000]]
        results = services.product_bulk_update(items=items)
        done = sum(r["status"] == "updated" for r in results)
        modeladmin.message_user(request, f"{done} of {len(items)} products updated.")

    action.__name__ = f"set_{status}"
    return action


@admin.action(description="Soft delete selected products")
def soft_delete(modeladmin, request, queryset):
    for product in queryset[:1000]:
        services.product_delete(product_id=product.id)
    modeladmin.message_user(request, "Products deleted (they can be restored).")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    list_display = [
        "name",
        "sku",
        "price",
        "compare_at_price",
        "stock_quantity",
        "status",
        "type",
        "category",
        "average_rating",
        "updated_at",
    ]
    list_filter = ["status", "type", ("deleted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["category"]
    list_per_page = 50
    show_full_result_count = False  # no second COUNT(*) over a million rows
    search_fields = ["name"]  # replaced by the full-text search below
    search_help_text = "Full-text search over name, SKU and description."
    autocomplete_fields = ["category", "tags"]
    readonly_fields = [
        "view_count",
        "purchase_count",
        "average_rating",
        "review_count",
        "created_at",
        "updated_at",
    ]
    inlines = [InventoryMovementInline]
    actions = [
        _bulk_status(Product.Status.ACTIVE, "active"),
        _bulk_status(Product.Status.INACTIVE, "inactive"),
        _bulk_status(Product.Status.ARCHIVED, "archived"),
        soft_delete,
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # Stock of an existing product changes through the ledger (stock endpoint) only.
        return [*fields, "stock_quantity"] if obj else fields

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return queryset, False
        found = selectors.product_search(queryset=queryset, text=search_term, limit=200)
        return queryset.filter(id__in=[p.id for p in found["products"]]), False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # products are soft deleted
        return actions

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {
            field: form.cleaned_data[field]
            for field in form.cleaned_data
            if field not in ("version", "tags") and (not change or field in form.changed_data)
        }
        tags = form.cleaned_data.get("tags")
        # A refusal (e.g. a stale version) is raised: the admin site shows it as a form error.
        if change:
            saved = services.product_update(
                product_id=obj.pk,
                expected_version=form.cleaned_data.get("version"),
                data={**data, "tags": tags},
            )
        else:
            saved = services.product_create(**data, tags=tags)
        obj.pk, obj.version = saved.pk, saved.version

    def save_related(self, request, form, formsets, change):
        # Tags were saved by the service and the ledger inline is read-only: nothing to write.
        # commit=False only records (empty) changes for the admin's history message.
        for formset in formsets:
            formset.save(commit=False)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "path", "depth", "position"]
    list_select_related = ["parent"]
    list_per_page = 100
    search_fields = ["name", "slug"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path", "depth"]

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in form.changed_data}
        if change:
            services.category_update(category=Category.objects.get(pk=obj.pk), data=data)
        else:
            saved = services.category_create(**form.cleaned_data)
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        try:
            services.category_delete(category=obj)
        except Conflict as exc:
            messages.error(request, exc.message)

    def delete_queryset(self, request, queryset):
        for category in queryset.order_by("-depth"):
            self.delete_model(request, category)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    list_per_page = 100
    search_fields = ["name", "slug"]

    def save_model(self, request, obj, form, change):
        if change:
            services.tag_update(tag=Tag.objects.get(pk=obj.pk), data=form.cleaned_data)
        else:
            obj.pk = services.tag_create(**form.cleaned_data).pk

    def delete_model(self, request, obj):
        services.tag_delete(tag=obj)

    def delete_queryset(self, request, queryset):
        for tag in queryset:
            services.tag_delete(tag=tag)


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["product", "user", "rating", "title", "created_at"]
    list_select_related = ["product", "user"]
    list_filter = ["rating"]
    list_per_page = 50
    raw_id_fields = ["product"]
    readonly_fields = ["product", "user", "rating", "title", "body", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        services.review_delete(review=obj)

    def delete_queryset(self, request, queryset):
        for review in queryset:
            services.review_delete(review=review)


@admin.register(InventoryMovement)
class InventoryMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The ledger is append-only: it is read here, written by the stock services."""

    rbac_resource = "catalog.product"
    list_display = [
        "created_at",
        "product",
        "reason",
        "quantity",
        "stock_before",
        "stock_after",
        "reference",
        "created_by",
    ]
    list_select_related = ["product", "created_by"]
    list_filter = ["reason"]
    list_per_page = 100
    search_fields = ["reference"]
    show_full_result_count = False


@admin.site.register_panel
def low_stock(request) -> DashboardPanel | None:
    """Live products at or under their low-stock threshold, emptiest first."""
    if not admin.site.model_visible(request, Product):
        return None
    products = list(
        Product.objects.filter(
            deleted_at__isnull=True,
            status=Product.Status.ACTIVE,
            stock_quantity__lte=F("low_stock_threshold"),
        )
        .order_by("stock_quantity", "name")
        .values_list("name", "sku", "stock_quantity", "low_stock_threshold")[:10]
    )
    return DashboardPanel(
        title="Low stock",
        link=reverse("admin:catalog_product_changelist"),
        headers=["Product", "SKU", "In stock", "Threshold"],
        rows=[list(row) for row in products],
    )
