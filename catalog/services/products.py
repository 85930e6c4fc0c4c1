"""Writes of products: create, update (optimistic locking), soft delete and restore, bulk
update (view counts are in view_counts.py)."""

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.errors import (
    InvalidCatalogData,
    ProductNotFound,
    SkuTaken,
    VersionConflict,
    VersionRequired,
)
from catalog.models import InventoryMovement, Product, Tag
from catalog.services._common import lock_live_product
from catalog.services.search import search_words_add
from catalog.services.stock import stock_adjust
from core.services import model_update

# What product_update may change (tags and stock have their own paths, see there).
PRODUCT_FIELDS = (
    "name",
    "description",
    "sku",
    "price",
    "compare_at_price",
    "cost_price",
    "low_stock_threshold",
    "status",
    "type",
    "images",
    "attributes",
    "category_id",
)
BULK_UPDATE_LIMIT = 1000
BULK_UPDATE_FIELDS = (
    "name",
    "description",
    "price",
    "compare_at_price",
    "cost_price",
    "low_stock_threshold",
    "status",
    "type",
    "category_id",
)


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
    search_words_add(names=[product.name])
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
    Every accepted update bumps the version, even one that changes no value.
    """
    product = lock_live_product(product_id)
    _check_version(product, expected_version)
    data = dict(data)
    tags = data.pop("tags", None)
    data.pop("stock_quantity", None)
    if "category" in data:
        # Compared by id: reading product.category would cost a query.
        category = data.pop("category")
        data["category_id"] = category.id if category is not None else None
    _, changed = model_update(instance=product, fields=PRODUCT_FIELDS, data=data, save=False)
    if not product.sku:
        product.sku = sku_generate()
        changed.append("sku")
    _check_prices(product)
    if "sku" in data:
        _ensure_sku_free(product.sku, exclude_id=product.id)
    product.version += 1
    _save_guarding_sku(product, update_fields={*changed, "version", "updated_at"})
    if "name" in data:
        search_words_add(names=[product.name])
    if tags is not None:
        product.tags.set(tags)
    return product


@transaction.atomic
def product_delete(*, product_id: int) -> Product:
    """Soft delete: the row stays (ledger, reviews, orders refer to it); its SKU is freed."""
    product = lock_live_product(product_id)
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
        _, names = model_update(instance=product, fields=BULK_UPDATE_FIELDS, data=item, save=False)
        errors = _price_errors(product)
        if errors:  # not written: the changes stay on this in-memory copy
            results.append({"id": product.id, "status": "invalid", "fields": errors})
            continue
        product.version += 1
        product.updated_at = now
        touched.update(names)
        changed.append(product)
        results.append({"id": product.id, "status": "updated", "version": product.version})
    if changed:
        _update_from_values(changed, sorted(touched | {"version", "updated_at"}))
        if "name" in touched:
            search_words_add(names=[p.name for p in changed])
    return results


def _update_from_values(products: list[Product], field_names: list[str]) -> None:
    """UPDATE ... FROM (VALUES ...): one statement joining the new values on the id.

    Django's bulk_update writes a CASE with one branch per row for every column, which
    PostgreSQL evaluates row by row: quadratic, seconds for a thousand rows.
    """
    fields = [Product._meta.get_field(name) for name in field_names]
    casts = ["bigint"] + [field.db_type(connection) for field in fields]
    row = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    params: list = []
    for product in products:
        params.append(product.id)
        params.extend(
            field.get_db_prep_save(getattr(product, field.attname), connection) for field in fields
        )
    columns = ", ".join(field.column for field in fields)
    assignments = ", ".join(f"{field.column} = v.{field.column}" for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE catalog_product AS p SET {assignments} "  # noqa: S608 (model columns)
            f"FROM (VALUES {', '.join([row] * len(products))}) AS v (id, {columns}) "
            "WHERE p.id = v.id",
            params,
        )
