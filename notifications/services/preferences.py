"""Per-address, per-category choices: which emails and in-app notifications a person wants."""

from django.db import transaction

from core.services import model_update
from notifications import registry
from notifications.errors import EssentialCategory, UnknownCategory
from notifications.models import Preference
from notifications.services._shared import normalize_email


def email_wanted(*, email: str, category: str) -> bool:
    if registry.is_essential(category):
        return True
    return not Preference.objects.filter(
        email=normalize_email(email), category=category, email_enabled=False
    ).exists()


def in_app_wanted(*, email: str, category: str) -> bool:
    if registry.is_essential(category):
        return True
    return not Preference.objects.filter(
        email=normalize_email(email), category=category, in_app_enabled=False
    ).exists()


@transaction.atomic
def preference_set(
    *, email: str, category: str, email_enabled: bool | None = None, in_app: bool | None = None
) -> Preference:
    if category not in registry.CATEGORIES:
        raise UnknownCategory(fields={"category": [f"Unknown category {category!r}."]})
    if registry.is_essential(category) and (email_enabled is False or in_app is False):
        raise EssentialCategory(
            fields={"category": ["Account and security emails are always sent."]}
        )
    preference, _ = Preference.objects.get_or_create(
        email=normalize_email(email), category=category
    )
    choices = {"email_enabled": email_enabled, "in_app_enabled": in_app}
    model_update(
        instance=preference,
        fields=list(choices),
        data={name: value for name, value in choices.items() if value is not None},
    )
    return preference


@transaction.atomic
def unsubscribe(*, email: str, category: str) -> Preference:
    """One-click unsubscribe from a category's emails (refused for essential categories)."""
    return preference_set(email=email, category=category, email_enabled=False)
