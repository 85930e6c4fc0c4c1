"""Writes of the category tree: create, update (and move a subtree), delete."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from catalog.errors import CategoryNotEmpty, InvalidCatalogData, SlugTaken
from catalog.models import Category
from catalog.services._common import unique_slug
from core.services import model_update

# What the API and the admin form may change; `parent` moves the node (see _category_move).
CATEGORY_FIELDS = ("name", "slug", "description", "position", "created_at")


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
        slug=slug or unique_slug(Category, name),
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
    if "slug" in data and Category.objects.filter(slug=data["slug"]).exclude(id=category.id):
        raise SlugTaken(fields={"slug": ["Already in use."]})
    new_parent = data.get("parent", category.parent)
    model_update(instance=category, fields=CATEGORY_FIELDS, data=data)
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
    # A move is a change of the node itself: its updated_at follows, as for any other field.
    Category.objects.filter(id=category.id).update(parent=parent, updated_at=timezone.now())
    category.refresh_from_db()


@transaction.atomic
def category_delete(*, category: Category) -> None:
    if category.children.exists():
        raise CategoryNotEmpty()
    category.delete()  # its products keep existing, without a category
