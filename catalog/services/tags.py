"""Writes of product tags: create, update, delete."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from catalog.errors import SlugTaken
from catalog.models import Tag
from catalog.services._common import unique_slug
from core.services import model_update

# What the API and the admin form may change.
TAG_FIELDS = ("name", "slug", "created_at")


@transaction.atomic
def tag_create(*, name: str, slug: str | None = None) -> Tag:
    if Tag.objects.filter(name__iexact=name).exists():
        raise SlugTaken("A tag with this name already exists.", fields={"name": ["Already used."]})
    if slug and Tag.objects.filter(slug=slug).exists():
        raise SlugTaken(fields={"slug": ["Already in use."]})
    return Tag.objects.create(name=name, slug=slug or unique_slug(Tag, name))


@transaction.atomic
def tag_update(*, tag: Tag, data: Mapping[str, Any]) -> Tag:
    if "name" in data and Tag.objects.filter(name__iexact=data["name"]).exclude(id=tag.id):
        raise SlugTaken("A tag with this name already exists.", fields={"name": ["Already used."]})
    if "slug" in data and Tag.objects.filter(slug=data["slug"]).exclude(id=tag.id):
        raise SlugTaken(fields={"slug": ["Already in use."]})
    model_update(instance=tag, fields=TAG_FIELDS, data=data)
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    tag.delete()
