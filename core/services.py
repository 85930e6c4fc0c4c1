"""Write helpers every app's services share."""

from typing import Any

from django.db import models


def model_update(
    *,
    instance: models.Model,
    fields: list[str] | tuple[str, ...],
    data: dict[str, Any],
    save: bool = True,
) -> tuple[models.Model, list[str]]:
    """Sets each of `fields` present in `data` where it differs, and saves only those.

    Returns the instance and the names that changed (empty: nothing was written). Callers that
    audit or bump versions use the changed names; with save=False the caller saves (e.g. with
    more fields of its own). Validation belongs to the caller's service; the caller owns the
    transaction.
    """
    changed = []
    for field in fields:
        if field in data and getattr(instance, field) != data[field]:
            setattr(instance, field, data[field])
            changed.append(field)
    if changed and save:
        update_fields = list(changed)
        # auto_now fields are only written when named.
        for model_field in instance._meta.concrete_fields:
            if getattr(model_field, "auto_now", False) and model_field.name not in update_fields:
                update_fields.append(model_field.name)
        instance.save(update_fields=update_fields)
    return instance, changed
