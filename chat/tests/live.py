"""Helpers for tests over real sockets: uvicorn with extra settings and a websocket client."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from contextlib import contextmanager

import websockets

from tests.live import free_port, process_env, running

DEFAULTS = {"CHAT_TYPING_SECONDS": "2"}
# Heartbeats every half second, offline after two silent seconds.
FAST_PRESENCE = {"PRESENCE_HEARTBEAT_SECONDS": "0.5", "PRESENCE_TIMEOUT_SECONDS": "2"}


@contextmanager
def chat_server(**env: str):
    """A uvicorn process serving the project with extra settings (environment variables)."""
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with running(args, port=port, env=process_env(**{**DEFAULTS, **env})) as process:
        process.port = port
        yield process


class Client:
    """A websocket client that keeps every event it receives, to wait for the ones it wants."""

    def __init__(self, ws):
        self.ws = ws
        self.events: list[dict] = []
        self.beating: asyncio.Task | None = None

    def start_heartbeats(self, every: float = 0.4) -> None:
        """Sends heartbeats in the background, as a live browser tab does."""

        async def beat():
            while True:
                await self.send({"type": "heartbeat"})
                await asyncio.sleep(every)

        self.beating = asyncio.create_task(beat())

    @classmethod
    async def open(cls, port: int, host: str, token: str | None = None, header: bool = False):
        kwargs = {"host": "127.0.0.1", "port": port, "open_timeout": 10}
        if header and token:
            kwargs["subprotocols"] = ["bearer", token]
        ws = await websockets.connect(f"ws://{host}:{port}/ws/chat/", **kwargs)
        client = cls(ws)
        if token and not header:
            await client.send({"type": "auth", "token": token})
        if token:
            await client.wait("ready")
        return client

    async def send(self, event: dict | str) -> None:
        await self.ws.send(event if isinstance(event, str) else json.dumps(event))

    async def wait(self, type_: str, timeout: float = 10.0, **match) -> dict:
        """The first unseen event of this type (and fields); earlier ones stay for later waits."""
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if event.get("type") == type_ and all(event.get(k) == v for k, v in match.items()):
                    return self.events.pop(index)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {type_} {match} in {self.events}")
            raw = await asyncio.wait_for(self.ws.recv(), remaining)
            self.events.append(json.loads(raw))

    async def silent_for(self, seconds: float, type_: str) -> bool:
        """True when no event of this type arrives within `seconds`."""
        try:
            await self.wait(type_, timeout=seconds)
        except TimeoutError:
            return True
        return False

    async def request(self, event: dict, answer: str, timeout: float = 10.0) -> dict:
        ref = uuid.uuid4().hex
        await self.send({**event, "ref": ref})
        deadline = time.monotonic() + timeout
        while True:
            for index, got in enumerate(self.events):
                if got.get("ref") == ref:
                    self.events.pop(index)
                    return got
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer to {event['type']} ({answer})")
            raw = await asyncio.wait_for(self.ws.recv(), remaining)
            self.events.append(json.loads(raw))

    async def closed_code(self, timeout: float = 10.0) -> int | None:
        try:
            while True:
                raw = await asyncio.wait_for(self.ws.recv(), timeout)
                self.events.append(json.loads(raw))
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None

    async def close(self) -> None:
        if self.beating:
            self.beating.cancel()
        await self.ws.close()
