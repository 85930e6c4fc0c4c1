"""A schema's email branding (name, logo, sender, colours, footer) and the sender-domain rule."""

from django.conf import settings
from django.db import transaction

from core.services import model_update
from notifications.errors import SenderNotAllowed
from notifications.models import Branding

BRANDING_FIELDS = (
    "name",
    "logo_url",
    "from_name",
    "from_email",
    "reply_to",
    "primary_color",
    "footer",
)


def sender_check(from_email: str) -> None:
    """Refuses sender addresses outside NOTIFICATIONS["SENDER_DOMAINS"] (when it is set)."""
    domains = [d.lower() for d in settings.NOTIFICATIONS["SENDER_DOMAINS"]]
    if from_email and domains and from_email.lower().rpartition("@")[2] not in domains:
        raise SenderNotAllowed(
            fields={"from_email": [f"Send from an address at {', '.join(domains)}."]}
        )


@transaction.atomic
def branding_update(*, data: dict) -> Branding:
    """Creates or updates this schema's branding (blank values clear a field)."""
    from_email = (data.get("from_email") or "").strip().lower()
    sender_check(from_email)
    values = {name: data[name] or "" for name in BRANDING_FIELDS if name in data}
    if "from_email" in values:
        values["from_email"] = from_email
    branding = Branding.objects.select_for_update().first()
    if branding is None:
        return Branding.objects.create(**values)
    branding, _ = model_update(instance=branding, fields=BRANDING_FIELDS, data=values)
    return branding
