"""Input validation and output shape of the catalog API."""

from decimal import Decimal

from rest_framework import serializers

from catalog.models import (
    STOCK_MAX,
    Category,
    InventoryMovement,
    Product,
    Review,
    Tag,
    discount_percentage,
    is_low_stock,
    is_on_sale,
)
from catalog.selectors import ANALYTICS_PERIODS, PRODUCT_ROW_FIELDS
from catalog.services import BULK_UPDATE_LIMIT

MONEY = {"max_digits": 12, "decimal_places": 2}


class CategorySummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "slug", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"slug": {"required": False}, "name": {"validators": []}}


class TagSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "slug"]


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Category
        fields = [
            "id",
            "name",
            "slug",
            "parent",
            "path",
            "depth",
            "position",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "path", "depth", "created_at", "updated_at"]
        extra_kwargs = {"slug": {"required": False, "validators": []}}


class ProductSerializer(serializers.ModelSerializer):
    """A product as the API returns it, with the computed sale and stock flags. cost_price only
    with context["show_cost"] (callers who may edit products: catalog.permissions).

    context["tags"]: the page's tags by product (selectors.tag_summaries_by_product), read
    instead of each product's prefetched tags.
    """

    category = CategorySummarySerializer(read_only=True, allow_null=True)
    tags = TagSummarySerializer(many=True, read_only=True)
    is_on_sale = serializers.BooleanField(read_only=True)
    is_low_stock = serializers.BooleanField(read_only=True)
    discount_percentage = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    # Not read-only only so that the schema marks it optional: the serializer is output only.
    cost_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text="Only for callers who may edit products.",
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "description",
            "sku",
            "price",
            "compare_at_price",
            "cost_price",
            "stock_quantity",
            "low_stock_threshold",
            "status",
            "type",
            "images",
            "attributes",
            "view_count",
            "purchase_count",
            "average_rating",
            "review_count",
            "category",
            "tags",
            "is_on_sale",
            "is_low_stock",
            "discount_percentage",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, product):
        # Same output as the generic ModelSerializer path (a test compares the two), built
        # directly: the generic path costs most of a list request's time.
        category = product.category
        tags_by_product = self.context.get("tags")
        if tags_by_product is not None:
            tags = tags_by_product.get(product.id, [])
        else:
            tags = [{"id": t.id, "name": t.name, "slug": t.slug} for t in product.tags.all()]
        row = {name: getattr(product, name) for name in PRODUCT_ROW_FIELDS}
        row["category__name"] = category.name if category else None
        row["category__slug"] = category.slug if category else None
        row["tag_summaries"] = tags
        return product_row_representation(row, show_cost=self.context.get("show_cost", False))


def product_row_representation(row: dict, *, show_cost: bool) -> dict:
    """A product as the API returns it (ProductSerializer's output), from a row of
    catalog.selectors.product_values with its tags; cost_price only with show_cost."""
    price, compare_at = row["price"], row["compare_at_price"]
    category_id = row["category_id"]
    data = {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "sku": row["sku"],
        "price": _money(price),
        "compare_at_price": _money(compare_at),
        "cost_price": _money(row["cost_price"]),
        "stock_quantity": row["stock_quantity"],
        "low_stock_threshold": row["low_stock_threshold"],
        "status": row["status"],
        "type": row["type"],
        "images": row["images"],
        "attributes": row["attributes"],
        "view_count": row["view_count"],
        "purchase_count": row["purchase_count"],
        "average_rating": _money(row["average_rating"]),
        "review_count": row["review_count"],
        "category": None
        if category_id is None
        else {"id": category_id, "name": row["category__name"], "slug": row["category__slug"]},
        "tags": [
            {"id": tag["id"], "name": tag["name"], "slug": tag["slug"]}
            for tag in row["tag_summaries"]
        ],
        "is_on_sale": is_on_sale(price, compare_at),
        "is_low_stock": is_low_stock(row["stock_quantity"], row["low_stock_threshold"]),
        "discount_percentage": _money(discount_percentage(price, compare_at)),
        "version": row["version"],
        "created_at": _timestamp(row["created_at"]),
        "updated_at": _timestamp(row["updated_at"]),
    }
    if not show_cost:
        del data["cost_price"]
    return data


def _money(value) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


_DATETIME = serializers.DateTimeField()


def _timestamp(value) -> str:
    return _DATETIME.to_representation(value)


class ProductWriteSerializer(serializers.Serializer):
    """Create (all required fields) and update (partial) input; `version` is read by the view."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    sku = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", required=False, allow_blank=True, max_length=64
    )
    price = serializers.DecimalField(min_value=Decimal("0"), **MONEY)
    compare_at_price = serializers.DecimalField(
        min_value=Decimal("0"), required=False, allow_null=True, **MONEY
    )
    cost_price = serializers.DecimalField(min_value=Decimal("0"), required=False, **MONEY)
    stock_quantity = serializers.IntegerField(min_value=0, max_value=STOCK_MAX, required=False)
    low_stock_threshold = serializers.IntegerField(min_value=0, max_value=STOCK_MAX, required=False)
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    type = serializers.ChoiceField(choices=Product.Type.choices, required=False)
    images = serializers.ListField(child=serializers.URLField(), max_length=20, required=False)
    attributes = serializers.DictField(required=False)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), allow_null=True, required=False
    )
    tags = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True, required=False)
    version = serializers.IntegerField(min_value=1, required=False, write_only=True)

    def validate(self, attrs):
        price = attrs.get("price")
        compare_at = attrs.get("compare_at_price")
        if price is not None and compare_at is not None and compare_at < price:
            raise serializers.ValidationError(
                {"compare_at_price": ["Must be greater than or equal to the price."]}
            )
        if self.partial and "stock_quantity" in attrs:
            raise serializers.ValidationError(
                {"stock_quantity": ["Change stock through the stock endpoint."]}
            )
        return attrs


class BulkItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1)
    version = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    price = serializers.DecimalField(min_value=Decimal("0"), required=False, **MONEY)
    compare_at_price = serializers.DecimalField(
        min_value=Decimal("0"), required=False, allow_null=True, **MONEY
    )
    cost_price = serializers.DecimalField(min_value=Decimal("0"), required=False, **MONEY)
    low_stock_threshold = serializers.IntegerField(min_value=0, max_value=STOCK_MAX, required=False)
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    type = serializers.ChoiceField(choices=Product.Type.choices, required=False)
    category_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class BulkUpdateSerializer(serializers.Serializer):
    items = BulkItemSerializer(many=True, allow_empty=False, max_length=BULK_UPDATE_LIMIT)

    def validate_items(self, items):
        ids = [item["id"] for item in items]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError("Each product may appear only once.")
        # One query for every category named in the batch, not one per item.
        wanted = {i["category_id"] for i in items if i.get("category_id") is not None}
        known = set(Category.objects.filter(id__in=wanted).values_list("id", flat=True))
        if wanted - known:
            raise serializers.ValidationError(f"Unknown category ids: {sorted(wanted - known)}.")
        return items


class StockAdjustSerializer(serializers.Serializer):
    REASONS = [
        r
        for r in InventoryMovement.Reason.choices
        if r[0] not in (InventoryMovement.Reason.RESERVATION, InventoryMovement.Reason.RELEASE)
    ]
    action = serializers.ChoiceField(choices=["add", "subtract"])
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    reason = serializers.ChoiceField(choices=REASONS, default=InventoryMovement.Reason.ADJUSTMENT)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class InventoryMovementSerializer(serializers.ModelSerializer):
    class Meta:
        model = InventoryMovement
        fields = [
            "id",
            "product",
            "reason",
            "quantity",
            "stock_before",
            "stock_after",
            "unit_price",
            "reference",
            "note",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.live())
    user = serializers.SerializerMethodField()
    rating = serializers.IntegerField(min_value=1, max_value=5)

    class Meta:
        model = Review
        fields = ["id", "product", "user", "rating", "title", "body", "created_at", "updated_at"]
        read_only_fields = ["id", "user", "created_at", "updated_at"]
        validators: list = []

    def get_user(self, review) -> dict:
        return {"id": str(review.user_id), "name": getattr(review.user, "name", "") or ""}


class ReviewUpdateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)


class TopProductsQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(ANALYTICS_PERIODS), default="week")
    by = serializers.ChoiceField(choices=["revenue", "units"], default="revenue")
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)


class TopProductSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    name = serializers.CharField()
    sku = serializers.CharField()
    units_sold = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=18, decimal_places=2)


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    offset = serializers.IntegerField(min_value=0, max_value=999, default=0)


class SearchHitSerializer(ProductSerializer):
    rank = serializers.FloatField(help_text="Relevance (higher first).")

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "rank"]


class SearchResultSerializer(serializers.Serializer):
    """What product search answers (documentation of the response)."""

    mode = serializers.ChoiceField(
        choices=["sku", "fulltext", "corrected"],
        help_text="sku: exact SKU match; fulltext: ranked words; corrected: a typo was fixed.",
    )
    query = serializers.CharField(help_text="The words searched (corrected in corrected mode).")
    partial = serializers.BooleanField(
        help_text="The words matched more products than the ranking window holds."
    )
    next = serializers.URLField(allow_null=True)
    results = SearchHitSerializer(many=True)
