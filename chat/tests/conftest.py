"""Fixtures for chat tests over real processes: committed users, tokens and rooms, cleaned up."""

import uuid

import pytest


class World:
    """Creates committed rows (visible to uvicorn processes) and removes them afterwards."""

    def __init__(self, blocker):
        self.blocker = blocker
        self.user_ids: list = []

    def run(self, schema_name: str, fn):
        from django_tenants.utils import schema_context

        with self.blocker.unblock(), schema_context(schema_name):
            return fn()

    async def arun(self, schema_name: str, fn):
        """run() from async test code: in a thread whose database connection is then closed."""
        import asyncio

        from django.db import connections

        def call():
            try:
                return self.run(schema_name, fn)
            finally:
                connections.close_all()

        return await asyncio.to_thread(call)

    def user(self, tenant_slug: str = "alpha", role: str = "member"):
        from accounts.models import User
        from accounts.services import membership_set
        from tenants.models import Tenant

        with self.blocker.unblock():
            tenant = Tenant.objects.get(slug=tenant_slug)
            user = User.objects.create_user(
                email=f"chat-{uuid.uuid4().hex[:10]}@example.com", password="Chat-pass-1234"
            )
            self.user_ids.append(user.pk)
            membership_set(user=user, tenant=tenant, role=role)
            return user

    def token(self, user, tenant_slug: str = "alpha") -> str:
        from accounts.tokens import tokens_for_user
        from tenants.models import Tenant

        with self.blocker.unblock():
            return tokens_for_user(user=user, tenant=Tenant.objects.get(slug=tenant_slug))["access"]

    def cleanup(self) -> None:
        from django_tenants.utils import schema_context
        from guardian.models import UserObjectPermission

        from accounts.models import User
        from chat.models import Room
        from presence.models import PresenceStatus
        from tenants.models import Tenant

        with self.blocker.unblock():
            for tenant in Tenant.objects.exclude(schema_name="public"):
                with schema_context(tenant.schema_name):
                    Room.objects.filter(members__user_id__in=self.user_ids).delete()
                    Room.objects.filter(created_by_id__in=self.user_ids).delete()
                    PresenceStatus.objects.filter(user_id__in=self.user_ids).delete()
                    UserObjectPermission.objects.filter(user_id__in=self.user_ids).delete()
            with schema_context("alpha"):
                User.objects.filter(pk__in=self.user_ids).delete()


@pytest.fixture
def world(django_db_setup, django_db_blocker):
    """For live tests (without the db fixture): world.user(), world.token(), world.run()."""
    created = World(django_db_blocker)
    yield created
    created.cleanup()


@pytest.fixture
def chat_state(tenant_a, tenant_b):
    """chat_state(): every room, membership, message and edit in both tenants, compared before
    and after a refused request to show it wrote nothing."""
    from django_tenants.utils import schema_context

    from chat.models import Message, MessageEdit, Room, RoomMember

    def snapshot() -> dict:
        state = {}
        for schema in (tenant_a.schema_name, tenant_b.schema_name):
            with schema_context(schema):
                for model in (Room, RoomMember, Message, MessageEdit):
                    rows = list(model.objects.order_by("pk").values())
                    state[f"{schema}.{model.__name__}"] = rows
        return state

    return snapshot
