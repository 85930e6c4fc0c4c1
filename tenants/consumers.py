"""A health websocket: says which tenant served the connection and echoes what it receives."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import connection

from core.parsers import JSONRefused, loads
from tenants.db import tenant_sync_to_async


def _schema_seen_by_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


class HealthConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        tenant = self.scope["tenant"]
        await self.accept()
        schema = await tenant_sync_to_async(tenant.schema_name, _schema_seen_by_database)()
        await self.send_json(
            {
                "type": "hello",
                "tenant": tenant.slug,
                "schema": tenant.schema_name,
                "db_schema": schema,
            }
        )

    async def receive_json(self, content, **kwargs):
        await self.send_json({"type": "echo", "tenant": self.scope["tenant"].slug, "data": content})

    @classmethod
    async def decode_json(cls, text_data):
        return loads(text_data)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = await self.decode_json(text_data or "")
        except JSONRefused as exc:
            await self.send_json({"type": "error", "code": exc.code, "message": exc.message})
            return
        except ValueError:
            await self.send_json({"type": "error", "code": "invalid_json"})
            return
        await self.receive_json(content)
