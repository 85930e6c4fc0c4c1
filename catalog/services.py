"""Every write of the catalog: categories, tags, products, stock and reviews."""

import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, Sum, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.text import slugify

from catalog.errors import (
    AlreadyReviewed,
    CategoryNotEmpty,
    InsufficientStock,
    InvalidCatalogData,
    ProductNotFound,
    ProductUnavailable,
    ReleaseExceedsReservation,
    SkuTaken,
    SlugTaken,
    VersionConflict,
    VersionRequired,
)
from catalog.models import Category, InventoryMovement, Product, Review, Tag

BULK_UPDATE_LIMIT = 1000
BULK_UPDATE_FIELDS = frozenset(
    {
        "name",
        "description",
        "price",
        "compare_at_price",
        "cost_price",
        "low_stock_threshold",
        "status",
        "type",
        "category_id",
    }
)

# --- categories -----------------------------------------------------------------------------


def _unique_slug(model, base: str, *, exclude_id: int | None = None) -> str:
    base = slugify(base)[:80] or "item"
    slug, n = base, 1
    while model.objects.filter(slug=slug).exclude(id=exclude_id).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def category_create(
    *,
    name: str,
    slug: str | None = None,
    parent: Category | None = None,
    description: str = "",
    position: int = 0,
) -> Category:
    if slug and Category.objects.filter(slug=slug).exists():
        raise SlugTaken(fields={"slug": ["Already in use."]})
    category = Category.objects.create(
        name=name,
        slug=slug or _unique_slug(Category, name),
        parent=parent,
        description=description,
        position=position,
    )
    # The path holds the node's own id, known only after the insert.
    category.path = f"{parent.path if parent else '/'}{category.id}/"
    category.depth = parent.depth + 1 if parent else 0
    category.save(update_fields=["path", "depth"])
    return category


@transaction.atomic
def category_update(*, category: Category, data: Mapping[str, Any]) -> Category:
    data = dict(data)
    if "slug" in data and Category.objects.filter(slug=data["slug"]).exclude(id=category.id):
        raise SlugTaken(fields={"slug": ["Already in use."]})
    new_parent = data.pop("parent", category.parent)
    for field, value in data.items():
        setattr(category, field, value)
    category.save()
    if (new_parent.id if new_parent else None) != category.parent_id:
        _category_move(category=category, parent=new_parent)
    return category


def _category_move(*, category: Category, parent: Category | None) -> None:
    if parent is not None and parent.path.startswith(category.path):
        raise InvalidCatalogData(
            fields={"parent": ["A category cannot be moved under itself or its descendants."]}
        )
    old_path, old_depth = category.path, category.depth
    new_path = f"{parent.path if parent else '/'}{category.id}/"
    new_depth = parent.depth + 1 if parent else 0
    # Rewrites the whole subtree in one statement.
    Category.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + (new_depth - old_depth),
    )
    Category.objects.filter(id=category.id).update(parent=parent)
    category.refresh_from_db()


@transaction.atomic
def category_delete(*, category: Category) -> None:
    if category.children.exists():
        raise CategoryNotEmpty()
    category.delete()  # its products keep existing, without a category


# --- tags -----------------------------------------------------------------------------------


@transaction.atomic
def tag_create(*, name: str, slug: str | None = None) -> Tag:
    if Tag.objects.filter(name__iexact=name).exists():
        raise SlugTaken("A tag with this name already exists.", fields={"name": ["Already used."]})
    if slug and Tag.objects.filter(slug=slug).exists():
        raise SlugTaken(fields={"slug": ["Already in use."]})
    return Tag.objects.create(name=name, slug=slug or _unique_slug(Tag, name))


@transaction.atomic
def tag_update(*, tag: Tag, data: Mapping[str, Any]) -> Tag:
    if "name" in data and Tag.objects.filter(name__iexact=data["name"]).exclude(id=tag.id):
        raise SlugTaken("A tag with this name already exists.", fields={"name": ["Already used."]})
    if "slug" in data and Tag.objects.filter(slug=data["slug"]).exclude(id=tag.id):
        raise SlugTaken(fields={"slug": ["Already in use."]})
    for field, value in data.items():
        setattr(tag, field, value)
    tag.save()
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    tag.delete()


# --- products -------------------------------------------------------------------------------


def sku_generate() -> str:
    return f"SKU-{uuid.uuid4().hex[:12].upper()}"


def _price_errors(product: Product) -> dict[str, list[str]]:
    if product.compare_at_price is not None and product.compare_at_price < product.price:
        return {"compare_at_price": ["Must be greater than or equal to the price."]}
    return {}


def _check_prices(product: Product) -> None:
    errors = _price_errors(product)
    if errors:
        raise InvalidCatalogData(fields=errors)


def _ensure_sku_free(sku: str, *, exclude_id: int | None = None) -> None:
    if Product.objects.live().filter(sku=sku).exclude(id=exclude_id).exists():
        raise SkuTaken(fields={"sku": ["Another live product already uses this SKU."]})


def _save_guarding_sku(product: Product, **kwargs) -> None:
    # The partial unique index is the real guard; the check above only gives a nicer message.
    try:
        with transaction.atomic():
            product.save(**kwargs)
    except IntegrityError as exc:
        if "product_live_sku_uniq" in str(exc):
            raise SkuTaken(fields={"sku": ["Another live product already uses this SKU."]}) from exc
        raise


@transaction.atomic
def product_create(*, tags: Iterable[Tag] | None = None, **fields: Any) -> Product:
    """Creates a product; a missing SKU is generated. Stock given here is written to the ledger."""
    stock = fields.pop("stock_quantity", 0) or 0
    if not fields.get("sku"):
        fields["sku"] = sku_generate()
    product = Product(**fields)
    _check_prices(product)
    _ensure_sku_free(product.sku)
    _save_guarding_sku(product)
    if tags:
        product.tags.set(tags)
    if stock:
        stock_adjust(
            product_id=product.id,
            quantity=stock,
            reason=InventoryMovement.Reason.RESTOCK,
            note="Initial stock",
        )
        product.stock_quantity = stock
    return product


def _lock_live_product(product_id: int) -> Product:
    product = Product.objects.select_for_update().live().filter(id=product_id).first()
    if product is None:
        raise ProductNotFound()
    return product


def _check_version(product: Product, expected_version: int | None) -> None:
    if expected_version is None:
        raise VersionRequired()
    if product.version != expected_version:
        raise VersionConflict(current_version=product.version)


@transaction.atomic
def product_update(
    *,
    product_id: int,
    expected_version: int | None,
    data: Mapping[str, Any],
) -> Product:
    """Optimistic locking: the caller names the version it edited; a stale one is refused.

    Stock is not writable here: stock changes go through stock_adjust (ledger, row lock).
    """
    product = _lock_live_product(product_id)
    _check_version(product, expected_version)
    data = dict(data)
    tags = data.pop("tags", None)
    data.pop("stock_quantity", None)
    for field, value in data.items():
        setattr(product, field, value)
    if not product.sku:
        product.sku = sku_generate()
    _check_prices(product)
    if "sku" in data:
        _ensure_sku_free(product.sku, exclude_id=product.id)
    product.version += 1
    _save_guarding_sku(product)
    if tags is not None:
        product.tags.set(tags)
    return product


@transaction.atomic
def product_delete(*, product_id: int) -> Product:
    """Soft delete: the row stays (ledger, reviews, orders refer to it); its SKU is freed."""
    product = _lock_live_product(product_id)
    product.deleted_at = timezone.now()
    product.version += 1
    product.save(update_fields=["deleted_at", "version", "updated_at"])
    return product


@transaction.atomic
def product_restore(*, product_id: int) -> Product:
    product = (
        Product.objects.select_for_update().filter(id=product_id, deleted_at__isnull=False).first()
    )
    if product is None:
        raise ProductNotFound("No deleted product with this id.")
    _ensure_sku_free(product.sku, exclude_id=product.id)
    product.deleted_at = None
    product.version += 1
    _save_guarding_sku(product, update_fields=["deleted_at", "version", "updated_at"])
    return product


@transaction.atomic
def product_bulk_update(*, items: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Updates up to BULK_UPDATE_LIMIT products in one transaction.

    Each item is {"id", "version", <fields of BULK_UPDATE_FIELDS>}; ids are unique. Rows are
    locked in id order. The result has one entry per item, in order, with status "updated"
    (and the new version), "not_found", "conflict" (and the current version) or "invalid" (and
    field errors). Rows that did not update are left untouched; the others are written with one
    UPDATE per batch.
    """
    if len(items) > BULK_UPDATE_LIMIT:
        raise InvalidCatalogData(fields={"items": [f"At most {BULK_UPDATE_LIMIT} items."]})
    ids = sorted({item["id"] for item in items})
    rows = {
        p.id: p
        for p in Product.objects.select_for_update().live().filter(id__in=ids).order_by("id")
    }
    results: list[dict[str, Any]] = []
    changed: list[Product] = []
    touched: set[str] = set()
    now = timezone.now()
    for item in items:
        product = rows.get(item["id"])
        if product is None:
            results.append({"id": item["id"], "status": "not_found"})
            continue
        if product.version != item["version"]:
            results.append(
                {"id": product.id, "status": "conflict", "current_version": product.version}
            )
            continue
        changes = {k: v for k, v in item.items() if k in BULK_UPDATE_FIELDS}
        before = {k: getattr(product, k) for k in changes}
        for field, value in changes.items():
            setattr(product, field, value)
        errors = _price_errors(product)
        if errors:
            for field, value in before.items():
                setattr(product, field, value)
            results.append({"id": product.id, "status": "invalid", "fields": errors})
            continue
        product.version += 1
        product.updated_at = now
        touched.update(changes)
        changed.append(product)
        results.append({"id": product.id, "status": "updated", "version": product.version})
    if changed:
        Product.objects.bulk_update(
            changed, sorted(touched | {"version", "updated_at"}), batch_size=BULK_UPDATE_LIMIT
        )
    return results


def product_view_record(*, product_id: int) -> None:
    """Counts a view with one atomic increment (no read-modify-write)."""
    Product.objects.filter(id=product_id).update(view_count=F("view_count") + 1)


# --- stock ----------------------------------------------------------------------------------


def _normalise_items(items: Mapping[int, int] | Iterable[tuple[int, int]]) -> dict[int, int]:
    pairs = items.items() if isinstance(items, Mapping) else items
    merged: dict[int, int] = {}
    for product_id, quantity in pairs:
        if int(quantity) <= 0:
            raise InvalidCatalogData(fields={"quantity": ["Quantities must be positive."]})
        merged[int(product_id)] = merged.get(int(product_id), 0) + int(quantity)
    if not merged:
        raise InvalidCatalogData(fields={"items": ["At least one item is required."]})
    return merged


def _apply_stock_changes(
    *,
    deltas: dict[int, int],
    reason: str,
    reference: str = "",
    note: str = "",
    user=None,
    include_deleted: bool = False,
    require_active: bool = False,
) -> list[InventoryMovement]:
    # Locks every row in ascending id order: two transactions touching overlapping products
    # always lock in the same order, so they queue instead of deadlocking.
    queryset = Product.objects.select_for_update().filter(id__in=sorted(deltas)).order_by("id")
    if not include_deleted:
        queryset = queryset.live()
    products = list(
        queryset.only("id", "price", "stock_quantity", "purchase_count", "status", "deleted_at")
    )
    found = {p.id for p in products}
    missing = sorted(set(deltas) - found)
    if missing:
        raise ProductNotFound(f"Unknown product ids: {missing}.", product_ids=missing)
    if require_active:
        unavailable = [p.id for p in products if p.status != Product.Status.ACTIVE]
        if unavailable:
            raise ProductUnavailable(
                "Only active products can be reserved.", product_ids=unavailable
            )
    short = [
        {"product_id": p.id, "requested": -deltas[p.id], "available": p.stock_quantity}
        for p in products
        if p.stock_quantity + deltas[p.id] < 0
    ]
    if short:
        raise InsufficientStock(items=short)

    now = timezone.now()
    priced = reason in (InventoryMovement.Reason.RESERVATION, InventoryMovement.Reason.RELEASE)
    movements = []
    for product in products:
        delta = deltas[product.id]
        before = product.stock_quantity
        product.stock_quantity = before + delta
        if reason == InventoryMovement.Reason.RESERVATION:
            product.purchase_count += -delta
        elif reason == InventoryMovement.Reason.RELEASE:
            product.purchase_count = max(0, product.purchase_count - delta)
        movements.append(
            InventoryMovement(
                product_id=product.id,
                reason=reason,
                quantity=delta,
                stock_before=before,
                stock_after=product.stock_quantity,
                unit_price=product.price if priced else None,
                reference=reference,
                note=note,
                created_by=user,
                created_at=now,
            )
        )
    Product.objects.bulk_update(products, ["stock_quantity", "purchase_count"])
    return InventoryMovement.objects.bulk_create(movements)


@transaction.atomic
def stock_adjust(
    *,
    product_id: int,
    quantity: int,
    reason: str = InventoryMovement.Reason.ADJUSTMENT,
    reference: str = "",
    note: str = "",
    user=None,
) -> InventoryMovement:
    """Adds (quantity > 0) or removes (quantity < 0) stock of one product, under a row lock.

    Refuses (InsufficientStock, 409) a removal below zero; writes one ledger line.
    """
    if quantity == 0:
        raise InvalidCatalogData(fields={"quantity": ["Must not be zero."]})
    if reason in (InventoryMovement.Reason.RESERVATION, InventoryMovement.Reason.RELEASE):
        raise InvalidCatalogData(fields={"reason": ["Use stock_reserve / stock_release."]})
    (movement,) = _apply_stock_changes(
        deltas={product_id: quantity}, reason=reason, reference=reference, note=note, user=user
    )
    return movement


@transaction.atomic
def stock_reserve(
    *,
    items: Mapping[int, int] | Iterable[tuple[int, int]],
    reference: str,
    note: str = "",
    user=None,
) -> list[InventoryMovement]:
    """Takes stock for an order: all the items or none of them.

    items: {product_id: quantity} or [(product_id, quantity), ...]; repeated ids are summed.
    reference: the order's identifier; stock_release checks releases against it.

    In one transaction (joining the caller's, e.g. checkout creating the order), every product
    row is locked in ascending id order, so concurrent checkouts over overlapping products never
    deadlock and never oversell. Raises ProductNotFound (unknown or deleted ids),
    ProductUnavailable (a product not active) or InsufficientStock (409, with
    {"product_id", "requested", "available"} per short item) and then changes nothing.
    On success each product's stock goes down and its purchase count up, and one ledger line
    (reason "reservation", with the unit price at that moment) is written per product; the
    ledger lines are returned in product id order.
    """
    return _apply_stock_changes(
        deltas={pid: -qty for pid, qty in _normalise_items(items).items()},
        reason=InventoryMovement.Reason.RESERVATION,
        reference=reference,
        note=note,
        user=user,
        require_active=True,
    )


@transaction.atomic
def stock_release(
    *,
    items: Mapping[int, int] | Iterable[tuple[int, int]],
    reference: str,
    note: str = "",
    user=None,
) -> list[InventoryMovement]:
    """Puts reserved stock back (an order cancelled, or a line removed): the inverse of
    stock_reserve for the same reference.

    Same locking order and all-or-nothing behaviour. Works for products soft-deleted since the
    reservation. Refuses (ReleaseExceedsReservation, 409) to release more of a product than is
    still reserved under `reference`, so cancelling an order twice cannot create stock.
    Writes ledger lines with reason "release" and lowers the purchase count.
    """
    wanted = _normalise_items(items)
    with transaction.atomic():
        # Lock the products first so concurrent releases of one reference are serialised.
        list(
            Product.objects.select_for_update()
            .filter(id__in=sorted(wanted))
            .order_by("id")
            .values_list("id", flat=True)
        )
        outstanding = dict(
            InventoryMovement.objects.filter(
                reference=reference,
                product_id__in=wanted,
                reason__in=[
                    InventoryMovement.Reason.RESERVATION,
                    InventoryMovement.Reason.RELEASE,
                ],
            )
            .values("product_id")
            .annotate(reserved=-Sum("quantity"))
            .values_list("product_id", "reserved")
        )
        over = [
            {"product_id": pid, "requested": qty, "reserved": outstanding.get(pid, 0)}
            for pid, qty in sorted(wanted.items())
            if qty > outstanding.get(pid, 0)
        ]
        if over:
            raise ReleaseExceedsReservation(items=over)
        return _apply_stock_changes(
            deltas=wanted,
            reason=InventoryMovement.Reason.RELEASE,
            reference=reference,
            note=note,
            user=user,
            include_deleted=True,
        )


# --- reviews --------------------------------------------------------------------------------


def _refresh_rating(product_id: int) -> None:
    stats = Review.objects.filter(product_id=product_id).aggregate(avg=Avg("rating"), n=Count("id"))
    average = Decimal(stats["avg"] or 0).quantize(Decimal("0.01"))
    Product.objects.filter(id=product_id).update(average_rating=average, review_count=stats["n"])


@transaction.atomic
def review_create(*, product_id: int, user, rating: int, title: str = "", body: str = "") -> Review:
    # The product row lock serialises reviews of one product, so the average stays exact.
    _lock_live_product(product_id)
    if Review.objects.filter(product_id=product_id, user=user).exists():
        raise AlreadyReviewed()
    try:
        with transaction.atomic():
            review = Review.objects.create(
                product_id=product_id, user=user, rating=rating, title=title, body=body
            )
    except IntegrityError as exc:
        raise AlreadyReviewed() from exc
    _refresh_rating(product_id)
    return review


@transaction.atomic
def review_update(*, review: Review, data: Mapping[str, Any]) -> Review:
    Product.objects.select_for_update().filter(id=review.product_id).first()
    for field, value in data.items():
        setattr(review, field, value)
    review.save()
    _refresh_rating(review.product_id)
    return review


@transaction.atomic
def review_delete(*, review: Review) -> None:
    Product.objects.select_for_update().filter(id=review.product_id).first()
    product_id = review.product_id
    review.delete()
    _refresh_rating(product_id)


# --- bulk loading (seeding, benchmarks) -----------------------------------------------------

SEED_TREE = {
    "Home": ["Kitchen", "Furniture", "Lighting", "Decor"],
    "Fashion": ["Jackets", "Shirts", "Shoes", "Accessories"],
    "Electronics": ["Audio", "Computers", "Cameras", "Phones"],
    "Outdoors": ["Camping", "Cycling", "Garden"],
}
SEED_TAGS = [
    "new", "bestseller", "eco", "limited", "gift", "clearance", "handmade", "imported",
    "bundle", "premium", "staff-pick", "seasonal",
]  # fmt: skip
# Below this many rows, loading with the indexes in place is as fast as rebuilding them.
REBUILD_INDEXES_FROM = 100_000


def _seed_taxonomy() -> tuple[list[int], list[int]]:
    leaves = []
    for root_name, children in SEED_TREE.items():
        root = Category.objects.filter(slug=slugify(root_name)).first() or category_create(
            name=root_name
        )
        for child in children:
            slug = slugify(f"{root_name}-{child}")
            leaf = Category.objects.filter(slug=slug).first() or category_create(
                name=child, slug=slug, parent=root
            )
            leaves.append(leaf.id)
    tags = [(Tag.objects.filter(name=n).first() or tag_create(name=n)).id for n in SEED_TAGS]
    return leaves, tags


@transaction.atomic
def products_bulk_load(
    *, count: int, batch_size: int = 50_000, progress=None, seed: int = 0
) -> dict[str, float]:
    """Loads `count` synthetic products into the current tenant with COPY, in one transaction.

    For a large load into an empty table, the secondary indexes (GIN search and trigram
    included) are dropped first and rebuilt once at the end, which is several times faster
    than maintaining them row by row. The stored search vector is computed by PostgreSQL
    (generated column). Each product gets one or two tags. Returns timings in seconds.
    `progress(done, total)` is called after every batch.
    """
    import time

    from django.db import connection

    from catalog.seeding import PRODUCT_COLUMNS, product_rows

    timings: dict[str, float] = {}
    started = time.perf_counter()
    leaves, tag_ids = _seed_taxonomy()
    table = Product._meta.db_table
    rebuild = count >= REBUILD_INDEXES_FROM and not Product.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        index_defs = []
        if rebuild:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = %s AND indexname NOT IN (%s, 'product_live_sku_uniq')",
                [table, f"{table}_pkey"],
            )
            index_defs = cursor.fetchall()
            for name, _ in index_defs:
                cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT coalesce(max(id), 0) FROM catalog_product")
        first_new_id = cursor.fetchone()[0]
        columns = ", ".join(f'"{c}"' for c in PRODUCT_COLUMNS)
        rows = product_rows(
            count=count,
            category_ids=leaves,
            sku_prefix=f"S{first_new_id:x}-",
            seed=seed,
            now=timezone.now(),
        )
        done = 0
        t0 = time.perf_counter()
        while done < count:
            size = min(batch_size, count - done)
            with cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                for _ in range(size):
                    copy.write_row(next(rows))
            done += size
            if progress:
                progress(done, count)
        timings["copy"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        # Every product gets tag[id mod n]; every third also tag[(id / 3 + 1) mod n].
        cursor.execute(
            "INSERT INTO catalog_product_tags (product_id, tag_id) "
            "SELECT p.id, t.ids[1 + p.id %% t.n] FROM catalog_product p, "
            "  (SELECT %s::bigint[] AS ids, %s AS n) t WHERE p.id > %s "
            "UNION ALL "
            "SELECT p.id, t.ids[1 + (p.id / 3 + 1) %% t.n] FROM catalog_product p, "
            "  (SELECT %s::bigint[] AS ids, %s AS n) t "
            "WHERE p.id > %s AND p.id %% 3 = 0 AND (p.id / 3 + 1) %% t.n <> p.id %% t.n",
            [tag_ids, len(tag_ids), first_new_id] * 2,
        )
        timings["tags"] = time.perf_counter() - t0
        # Check the deferred foreign keys now: CREATE INDEX refuses pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

        t0 = time.perf_counter()
        for _, definition in index_defs:
            cursor.execute(definition)
        timings["indexes"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        cursor.execute("ANALYZE catalog_product")
        cursor.execute("ANALYZE catalog_product_tags")
        timings["analyze"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    return timings


def search_vectors_rebuild(*, batch_size: int = 20_000, progress=None) -> int:
    """Recomputes the stored search vectors of the current tenant, in batches of ids.

    The vector is a generated column, so ordinary writes keep it right; rebuilding is needed
    only when what it is computed from changes outside the rows: a new text search dictionary,
    stop-word list or PostgreSQL upgrade. A no-op assignment makes PostgreSQL recompute it.
    Each batch commits on its own, so a million rows never sit in one long transaction.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM catalog_product")
        low, high = cursor.fetchone()
    done = 0
    for start in range(low, high + 1, batch_size):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE catalog_product SET name = name WHERE id >= %s AND id < %s",
                [start, start + batch_size],
            )
            done += cursor.rowcount
        if progress:
            progress(min(start + batch_size, high + 1) - low, high + 1 - low)
    return done
