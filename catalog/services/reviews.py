"""Writes of reviews; each keeps the product's average rating and review count exact."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count

from catalog.errors import AlreadyReviewed
from catalog.models import Product, Review
from catalog.services._common import lock_live_product
from core.services import model_update

# What the author (or a moderator) may change.
REVIEW_FIELDS = ("rating", "title", "body")


def _refresh_rating(product_id: int) -> None:
    stats = Review.objects.filter(product_id=product_id).aggregate(avg=Avg("rating"), n=Count("id"))
    average = Decimal(stats["avg"] or 0).quantize(Decimal("0.01"))
    Product.objects.filter(id=product_id).update(average_rating=average, review_count=stats["n"])


@transaction.atomic
def review_create(*, product_id: int, user, rating: int, title: str = "", body: str = "") -> Review:
    # The product row lock serialises reviews of one product, so the average stays exact.
    lock_live_product(product_id)
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
    model_update(instance=review, fields=REVIEW_FIELDS, data=data)
    _refresh_rating(review.product_id)
    return review


@transaction.atomic
def review_delete(*, review: Review) -> None:
    Product.objects.select_for_update().filter(id=review.product_id).first()
    product_id = review.product_id
    review.delete()
    _refresh_rating(product_id)
