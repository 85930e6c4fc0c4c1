"""Demo notifications: the tenant's branding and a few in-app notifications for the owner.
Idempotent (nothing is added once the owner has notifications)."""

from notifications import registry, services
from notifications.models import Branding, Notification
from notifications.rendering import render_in_app


def seed(*, tenant, owner) -> str:
    if not Branding.objects.exists():
        services.branding_update(data={"name": tenant.name, "footer": "Demo workspace"})
    if Notification.objects.filter(user=owner).exists():
        return "notifications: already seeded"
    names = ["order_confirmation", "payment_receipt", "chat_mention", "security_alert"]
    for name in names:
        spec = registry.TEMPLATES[name]
        title, body = render_in_app(template=name, context=spec.example)
        services.notification_create(
            user=owner,
            kind=name,
            title=title,
            body=body,
            url=str(spec.example.get("url", "")),
            category=spec.category,
        )
    return f"notifications: branding and {len(names)} in-app notifications"
