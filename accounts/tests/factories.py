"""Factories of the accounts app."""

import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import SecurityEvent, Session, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.django.Password("Correct-Horse-42-battery")


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    user = factory.SubFactory(UserFactory)
    refresh_jti = factory.LazyFunction(lambda: uuid.uuid4().hex)
    user_agent = "pytest"
    ip_address = "127.0.0.1"
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


class SecurityEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecurityEvent

    kind = SecurityEvent.Kind.LOGIN_FAILED
    email = factory.Sequence(lambda n: f"event{n}@example.com")
