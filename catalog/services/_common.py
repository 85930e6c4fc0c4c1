"""Helpers several catalog services share: unique slugs and the live product row lock."""

from django.db import models
from django.utils.text import slugify

from catalog.errors import ProductNotFound
from catalog.models import Product


def unique_slug(model: type[models.Model], base: str, *, exclude_id: int | None = None) -> str:
    base = slugify(base)[:80] or "item"
    slug, n = base, 1
    while model.objects.filter(slug=slug).exclude(id=exclude_id).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def lock_live_product(product_id: int) -> Product:
    product = Product.objects.select_for_update().live().filter(id=product_id).first()
    if product is None:
        raise ProductNotFound()
    return product
