"""Factories for rbac tests (rows are written in the current schema)."""

import factory

from rbac.models import Resource, Role


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    name = factory.Sequence(lambda n: f"role-{n}")
    description = "A test role."


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    name = factory.Sequence(lambda n: f"lab.thing{n}")
