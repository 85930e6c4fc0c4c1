"""Domain errors of the catalog, rendered by core.errors.api_exception_handler."""

from rest_framework import status

from core.errors import Conflict, DomainError, NotFound


class InvalidCatalogData(DomainError):
    code = "invalid"
    default_message = "The request contains invalid data."


class ProductNotFound(NotFound):
    code = "product_not_found"
    default_message = "Product not found."


class CategoryNotFound(NotFound):
    code = "category_not_found"
    default_message = "Category not found."


class VersionRequired(DomainError):
    code = "version_required"
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_message = (
        "Send the version you edited (If-Match header or a version field) to update this product."
    )


class VersionConflict(Conflict):
    code = "version_conflict"
    default_message = "The product was changed by someone else; reload it and try again."


class SkuTaken(Conflict):
    code = "sku_taken"
    default_message = "Another live product already uses this SKU."


class SlugTaken(Conflict):
    code = "slug_taken"
    default_message = "This slug is already in use."


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_message = "Not enough stock."


class ProductUnavailable(Conflict):
    code = "product_unavailable"
    default_message = "The product cannot be sold in its current state."


class ReleaseExceedsReservation(Conflict):
    code = "release_exceeds_reservation"
    default_message = "More stock would be released than is reserved under this reference."


class CategoryNotEmpty(Conflict):
    code = "category_not_empty"
    default_message = "Move or delete the sub-categories first."


class AlreadyReviewed(Conflict):
    code = "already_reviewed"
    default_message = "You have already reviewed this product."
