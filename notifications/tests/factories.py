"""Factories of the notifications app."""

import uuid

import factory

from notifications.models import Message, Notification


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    to_email = factory.Sequence(lambda n: f"reader{n}@example.com")
    template = "order_status_changed"
    category = "orders"
    context = factory.LazyFunction(lambda: {"name": "Ann", "order_number": "A-1", "status": "paid"})
    base_url = "http://alpha.localhost"
    subject = "Order A-1 is paid"
    status = Message.Status.SENT
    attempts = 1
    provider_message_id = factory.LazyFunction(lambda: f"<{uuid.uuid4().hex}@mg.example.com>")


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    kind = "order_status_changed"
    category = "orders"
    title = factory.Sequence(lambda n: f"Order A-{n} is shipped")
    body = "Your parcel is on its way."
