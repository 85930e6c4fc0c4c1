"""Factories of the chat app (rows in the current tenant schema)."""

import factory

from chat.models import Message, Room, RoomMember


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    kind = Room.Kind.GROUP
    name = factory.Sequence(lambda n: f"Room {n}")


class RoomMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoomMember

    room = factory.SubFactory(RoomFactory)
    role = RoomMember.Role.MEMBER


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    room = factory.SubFactory(RoomFactory)
    body = factory.Sequence(lambda n: f"message {n}")
