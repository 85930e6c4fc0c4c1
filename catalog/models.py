"""Tables of the catalog: categories (a tree), tags, products, reviews and the inventory ledger."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# Users live in the public schema. References to them from tenant tables carry no database
# constraint and DO_NOTHING on delete: deleting a user from the public schema must not make
# Django look for (absent) tenant tables to cascade into.
_USER_REF = {"on_delete": models.DO_NOTHING, "db_constraint": False, "related_name": "+"}

SEARCH_CONFIG = "english"
# Stock counts are PostgreSQL integers: inputs and stock changes are bounded by this.
STOCK_MAX = 2**31 - 1
_LIVE = Q(deleted_at__isnull=True)


class Category(models.Model):
    """A node of the category tree; `path` ("/1/4/9/") is the materialised chain of ids."""

    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=160, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=500, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    position = models.IntegerField(default=0)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        indexes = [
            models.Index(
                fields=["path"], name="catalog_category_path_idx", opclasses=["varchar_pattern_ops"]
            )
        ]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=90, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductQuerySet(models.QuerySet):
    def live(self) -> "ProductQuerySet":
        return self.filter(deleted_at__isnull=True)


class ProductManager(models.Manager.from_queryset(ProductQuerySet)):
    # The stored search vector is large and only ever read by the database; never fetch it.
    def get_queryset(self):
        return super().get_queryset().defer("search_vector")


class Product(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        ARCHIVED = "archived", "Archived"

    class Type(models.TextChoices):
        PHYSICAL = "physical", "Physical"
        DIGITAL = "digital", "Digital"
        SERVICE = "service", "Service"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    sku = models.CharField(max_length=64)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    compare_at_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    cost_price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    stock_quantity = models.IntegerField(default=0)
    low_stock_threshold = models.IntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.PHYSICAL)
    images = models.JSONField(default=list, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    view_count = models.BigIntegerField(default=0)
    purchase_count = models.BigIntegerField(default=0)
    average_rating = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0"))
    review_count = models.IntegerField(default=0)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Computed by PostgreSQL on every insert and update (a stored generated column), so writes
    # from services, COPY loads and raw SQL can never leave it stale.
    search_vector = models.GeneratedField(
        expression=SearchVector("name", weight="A", config=SEARCH_CONFIG)
        + SearchVector("sku", weight="A", config=SEARCH_CONFIG)
        + SearchVector("description", weight="B", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = ProductManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["sku"], condition=_LIVE, name="product_live_sku_uniq"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_gte_0"),
            models.CheckConstraint(
                condition=Q(compare_at_price__isnull=True) | Q(compare_at_price__gte=F("price")),
                name="product_compare_at_gte_price",
            ),
            models.CheckConstraint(condition=Q(cost_price__gte=0), name="product_cost_gte_0"),
            models.CheckConstraint(condition=Q(stock_quantity__gte=0), name="product_stock_gte_0"),
            models.CheckConstraint(
                condition=Q(low_stock_threshold__gte=0), name="product_low_stock_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(average_rating__gte=0, average_rating__lte=5),
                name="product_rating_0_5",
            ),
        ]
        # Keyset pagination scans one of these per sort order; all are partial on live rows.
        indexes = [
            models.Index(fields=["created_at", "id"], condition=_LIVE, name="product_live_created"),
            models.Index(fields=["price", "id"], condition=_LIVE, name="product_live_price"),
            models.Index(fields=["name", "id"], condition=_LIVE, name="product_live_name"),
            models.Index(
                fields=["average_rating", "id"], condition=_LIVE, name="product_live_rating"
            ),
            GinIndex(fields=["search_vector"], name="product_search_gin"),
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="product_name_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    @property
    def is_on_sale(self) -> bool:
        return is_on_sale(self.price, self.compare_at_price)

    @property
    def is_low_stock(self) -> bool:
        return is_low_stock(self.stock_quantity, self.low_stock_threshold)

    @property
    def discount_percentage(self) -> Decimal:
        return discount_percentage(self.price, self.compare_at_price)


# The computed flags of a product, from its columns: shared by the model's properties and the
# API's rows (catalog.selectors.product_values), which carry no model instance.
def is_on_sale(price: Decimal, compare_at_price: Decimal | None) -> bool:
    return compare_at_price is not None and compare_at_price > price


def is_low_stock(stock_quantity: int, low_stock_threshold: int) -> bool:
    return stock_quantity <= low_stock_threshold


def discount_percentage(price: Decimal, compare_at_price: Decimal | None) -> Decimal:
    if not is_on_sale(price, compare_at_price) or not compare_at_price:
        return Decimal("0.00")
    ratio = (compare_at_price - price) / compare_at_price * 100
    return ratio.quantize(Decimal("0.01"))


class Review(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, **_USER_REF)
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "user"], name="review_one_per_user"),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 on {self.product_id}"


class InventoryMovement(models.Model):
    """One line of the stock ledger: every change of a product's stock, with before and after."""

    class Reason(models.TextChoices):
        RESTOCK = "restock", "Restock"
        ADJUSTMENT = "adjustment", "Adjustment"
        CORRECTION = "correction", "Inventory count correction"
        DAMAGE = "damage", "Damaged or lost"
        RETURN = "return", "Customer return"
        RESERVATION = "reservation", "Reserved for an order"
        RELEASE = "release", "Released from an order"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    quantity = models.IntegerField(help_text="Signed change: positive adds stock.")
    stock_before = models.IntegerField()
    stock_after = models.IntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True, default="")
    note = models.CharField(max_length=255, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, **_USER_REF)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["product", "created_at"], name="movement_product_created"),
            models.Index(fields=["reason", "created_at"], name="movement_reason_created"),
            models.Index(fields=["reference"], name="movement_reference"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="movement_quantity_nonzero"),
            models.CheckConstraint(condition=Q(stock_after__gte=0), name="movement_after_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.quantity:+d} ({self.reason})"


class SearchWord(models.Model):
    """The distinct words of product names: the dictionary typos are corrected against.

    A few thousand rows even for a million products, so a trigram lookup here costs
    about a millisecond where one over every product name would cost a scan of all the
    names that look alike. Words are only ever added (by the product services).
    """

    word = models.CharField(max_length=100, unique=True)

    class Meta:
        indexes = [GinIndex(fields=["word"], opclasses=["gin_trgm_ops"], name="searchword_trgm")]

    def __str__(self) -> str:
        return self.word
