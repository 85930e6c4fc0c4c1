"""Telling a user about something on both channels (email and in-app), as they prefer."""

from django.db import transaction

from notifications import registry
from notifications.models import Message, Notification
from notifications.rendering import render_in_app
from notifications.services.emails import email_send
from notifications.services.in_app import notification_create
from notifications.services.preferences import email_wanted


@transaction.atomic
def notify(
    *, user, template: str, context: dict | None = None, base_url: str = "", email: bool = True
) -> tuple[Message | None, Notification | None]:
    """Tells a user about something: an email and, for templates with an in-app version, an
    in-app notification, each as the user's preferences for the template's category allow."""
    spec = registry.template_get(template)
    context = {"name": user.name, **(context or {})}
    message = None
    if email and email_wanted(email=user.email, category=spec.category):
        message = email_send(
            to=user.email, template=template, context=context, user=user, base_url=base_url
        )
    notification = None
    if spec.in_app:
        title, body = render_in_app(template=template, context=context)
        notification = notification_create(
            user=user,
            kind=template,
            title=title,
            body=body,
            url=str(context.get("url", "")),
            category=spec.category,
            data={k: v for k, v in context.items() if isinstance(v, (str, int, float, bool))},
        )
    return message, notification
