"""Bare websocket consumers served beside the chat for benchmarks (BENCH_BASELINE_VIEWS=true only).

bench/chat.py sends the same message.send frames to them as to /ws/chat/, on the same server and
in the same run, so the chat's figures read as a ratio of what the stack itself costs:
- /ws/bench/echo/: parses the frame and answers an ack (no authentication, no database);
- /ws/bench/insert/: the same, after one INSERT of the message in a transaction of its own on
  the thread pool (a chat message stored the naive way: one round of commits per message).
"""

import json

from channels.generic.websocket import AsyncWebsocketConsumer

from chat.models import Message
from tenants.db import tenant_sync_to_async


def _insert(room_id: int, body: str, client_id: str) -> int:
    return Message.objects.create(room_id=room_id, body=body, client_id=client_id).pk


class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        event = json.loads(text_data)
        await self.send(text_data=json.dumps({"type": "message.ack", "message": event}))


class InsertConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        event = json.loads(text_data)
        schema = self.scope["tenant"].schema_name
        pk = await tenant_sync_to_async(schema, _insert)(
            int(event["room_id"]), event["body"], event["client_id"]
        )
        await self.send(
            text_data=json.dumps({"type": "message.ack", "message": {**event, "id": pk}})
        )
