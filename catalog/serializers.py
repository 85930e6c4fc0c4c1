"""Input validation and output shape of the catalog API."""

from decimal import Decimal

from rest_framework import serializers

from catalog.models import STOCK_MAX, Category, InventoryMovement, Product, Review, Tag
from catalog.selectors import ANALYTICS_PERIODS
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
        data = {
            "id": product.id,
            "name": product.name,
            "description": product.description,
            "sku": product.sku,
            "price": _money(product.price),
            "compare_at_price": _money(product.compare_at_price),
            "cost_price": _money(product.cost_price),
            "stock_quantity": product.stock_quantity,
            "low_stock_threshold": product.low_stock_threshold,
            "status": product.status,
            "type": product.type,
            "images": product.images,
            "attributes": product.attributes,
            "view_count": product.view_count,
            "purchase_count": product.purchase_count,
            "average_rating": _money(product.average_rating),
            "review_count": product.review_count,
            "category": {"id": category.id, "name": category.name, "slug": category.slug}
            if category
            else None,
            "tags": tags,
            "is_on_sale": product.is_on_sale,
            "is_low_stock": product.is_low_stock,
            "discount_percentage": _money(product.discount_percentage),
            "version": product.version,
            "created_at": _timestamp(product.created_at),
            "updated_at": _timestamp(product.updated_at),
        }
        if not self.context.get("show_cost"):
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
