"""Chat benchmark over real sockets: N open websocket connections to uvicorn processes sharing
Redis, one room of M members. Prints the delivery latency (send -> arrival at each member,
p50/p99, and until the last member has it) and the messages per second sustained end to end
(persisted, acknowledged and fanned out to every member).

    DATABASE_URL=... REDIS_URL=... python bench/chat.py [--connections 1000] [--room-size 500]
        [--processes 2] [--messages 200] [--seconds 10] [--senders 20] [--rates 2,5,10]
        [--layers pubsub,core]

Each channel layer in --layers (the platform's pub/sub layer, channels-redis's default layer)
gets the same run on fresh server processes, one after the other, and the summary prints their
figures side by side with ratios and the load average. The flood of the throughput phase runs
last, so its backlog never spills into the paced measurements.

The database must be migrated (`manage.py migrate_schemas`); a "bench" tenant and its users are
created on first use. The clients run in this process (one asyncio loop), so the client side's
JSON decoding is part of what is measured.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import websockets  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import membership_set, tenant_create  # noqa: E402
from accounts.tokens import tokens_for_user  # noqa: E402
from chat.models import Room, RoomMember  # noqa: E402
from tenants.models import Membership, Tenant  # noqa: E402
from tests.live import free_port, wait_for_port  # noqa: E402

HOST = "bench.localhost"
LAYERS = {
    "pubsub": "core.channel_layer.PubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
}


def setup(connections: int, room_size: int) -> tuple[int, list[str], list]:
    tenant = Tenant.objects.filter(slug="bench").first()
    if tenant is None:
        tenant = tenant_create(slug="bench", name="Bench", domain=HOST)
    emails = [f"chat-bench-{i}@bench.localhost" for i in range(connections)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    new = [User(email=e, is_active=True) for e in emails if e not in existing]
    for user in new:
        user.set_unusable_password()
    User.objects.bulk_create(new, batch_size=1000)
    users = list(User.objects.filter(email__in=emails).order_by("email"))
    users.sort(key=lambda u: int(u.email.split("-")[2].split("@")[0]))
    Membership.objects.bulk_create(
        [Membership(user=u, tenant=tenant, role="member") for u in users],
        ignore_conflicts=True,
        batch_size=1000,
    )
    membership_set(user=users[0], tenant=tenant, role="owner")
    with schema_context(tenant.schema_name):
        room, _ = Room.objects.get_or_create(name=f"bench-{room_size}", kind=Room.Kind.GROUP)
        RoomMember.objects.bulk_create(
            [RoomMember(room=room, user=u) for u in users[:room_size]],
            ignore_conflicts=True,
            batch_size=1000,
        )
    tokens = [tokens_for_user(user=u, tenant=tenant)["access"] for u in users]
    return room.pk, tokens, users


def start_servers(count: int, backend: str) -> list[tuple[subprocess.Popen, int]]:
    env = dict(
        os.environ,
        CHANNEL_LAYER_BACKEND=backend,
        CHAT_RATE_PER_SECOND="100000",
        CHAT_RATE_BURST="100000",
        PRESENCE_TIMEOUT_SECONDS="3600",
        PRESENCE_HEARTBEAT_SECONDS="600",
        DATABASE_POOL_MAX="8",
        LOG_LEVEL="WARNING",
    )
    servers = []
    for _ in range(count):
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--ws-max-queue",
                "1024",
            ],
            cwd=ROOT,
            env=env,
        )
        wait_for_port(port, process)
        servers.append((process, port))
    return servers


class Receiver:
    def __init__(self, ws):
        self.ws = ws
        self.arrivals: dict[str, float] = {}

    async def run(self):
        try:
            async for raw in self.ws:
                now = time.perf_counter()
                event = json.loads(raw)
                if event.get("type") == "message":
                    self.arrivals[event["message"]["client_id"]] = now
        except websockets.ConnectionClosed:
            pass


async def connect(port: int, token: str):
    ws = await websockets.connect(
        f"ws://{HOST}:{port}/ws/chat/",
        host="127.0.0.1",
        port=port,
        subprotocols=["bearer", token],
        open_timeout=60,
        max_queue=None,
    )
    ready = json.loads(await ws.recv())
    assert ready["type"] == "ready", ready
    return ws


async def request(ws, event: dict, answer: str) -> dict:
    await ws.send(json.dumps(event))
    while True:
        got = json.loads(await ws.recv())
        if got.get("type") in (answer, "error"):
            return got


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


async def main(args) -> None:
    room_id, _tokens, users = await asyncio.to_thread(setup, args.connections, args.room_size)
    tenant = await asyncio.to_thread(Tenant.objects.get, slug="bench")
    results = {}
    for name in [n for n in args.layers.split(",") if n]:
        print(f"--- {name} layer ({LAYERS[name]}); {load()}", flush=True)
        # Fresh tokens for every run: access tokens expire after minutes.
        tokens = await asyncio.to_thread(
            lambda: [tokens_for_user(user=u, tenant=tenant)["access"] for u in users]
        )
        results[name] = await run_layer(args, LAYERS[name], room_id, tokens)
    print(f"--- summary; {load()}")
    names = list(results)
    print(
        "figure".ljust(44)
        + "".join(n.rjust(12) for n in names)
        + (f"{names[0]}/{names[1]}".rjust(16) if len(names) == 2 else "")
    )
    for key in results[names[0]]:
        values = [results[n][key] for n in names]
        ratio = ""
        if len(names) == 2 and values[1]:
            ratio = f"{values[0] / values[1]:.2f}x".rjust(16)
        print(key.ljust(44) + "".join(f"{v:12.1f}" for v in values) + ratio)


async def run_layer(args, backend: str, room_id: int, tokens: list[str]) -> dict[str, float]:
    figures: dict[str, float] = {}
    servers = start_servers(args.processes, backend)
    try:
        ports = [port for _, port in servers]
        gate = asyncio.Semaphore(100)
        t0 = time.perf_counter()

        async def open_one(i):
            async with gate:
                return await connect(ports[i % len(ports)], tokens[i])

        sockets = await asyncio.gather(*(open_one(i) for i in range(args.connections)))
        opened = time.perf_counter() - t0
        print(f"{args.connections} connections on {len(ports)} processes in {opened:.1f}s")

        members = sockets[: args.room_size]
        for ws in members:
            joined = await request(ws, {"type": "room.join", "room_id": room_id}, "room.joined")
            assert joined["type"] == "room.joined", joined
        sender, receivers = members[0], [Receiver(ws) for ws in members[1:]]
        # The sender reads its own socket; the others are read by their receiver tasks.
        tasks = [asyncio.create_task(r.run()) for r in receivers]

        # 1. Latency: one message at a time, waiting until every member has it.
        per_delivery, until_last = [], []
        for n in range(args.messages):
            client_id = f"lat-{uuid.uuid4().hex}"
            sent = time.perf_counter()
            await request(
                sender,
                {
                    "type": "message.send",
                    "room_id": room_id,
                    "body": f"m{n}",
                    "client_id": client_id,
                },
                "message.ack",
            )
            deadline = sent + 30
            while time.perf_counter() < deadline:
                if all(client_id in r.arrivals for r in receivers):
                    break
                await asyncio.sleep(0.001)
            arrivals = [r.arrivals.get(client_id) for r in receivers]
            got = [a - sent for a in arrivals if a is not None]
            per_delivery.extend(got)
            if len(got) == len(receivers):
                until_last.append(max(got))
        print(
            f"latency to {len(receivers)} members ({args.messages} messages): "
            f"per delivery p50 {pct(per_delivery, 0.5):.1f} ms, "
            f"p99 {pct(per_delivery, 0.99):.1f} ms; "
            f"until the last member p50 {pct(until_last, 0.5):.1f} ms, "
            f"p99 {pct(until_last, 0.99):.1f} ms; complete {len(until_last)}/{args.messages}"
        )
        figures["latency per delivery p50 (ms)"] = pct(per_delivery, 0.5)
        figures["latency per delivery p99 (ms)"] = pct(per_delivery, 0.99)
        figures["latency until the last member p99 (ms)"] = pct(until_last, 0.99)

        # 2. Sustained: one member sends at a fixed rate; is every message delivered to every
        # member, and how late? The highest complete rate is what the room sustains.
        for rate in [float(r) for r in args.rates.split(",") if r]:
            ids, sent_at = [], {}
            start = time.perf_counter()
            count = int(rate * args.paced_seconds)
            for n in range(count):
                await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
                client_id = f"rate-{uuid.uuid4().hex}"
                sent_at[client_id] = time.perf_counter()
                await sender.send(
                    json.dumps(
                        {
                            "type": "message.send",
                            "room_id": room_id,
                            "body": "r",
                            "client_id": client_id,
                        }
                    )
                )
                ids.append(client_id)
            expected = len(ids) * len(receivers)
            delivered, still = 0, 0.0
            while delivered < expected and still < 3:
                await asyncio.sleep(0.5)
                now = sum(1 for r in receivers for c in ids if c in r.arrivals)
                still = still + 0.5 if now == delivered else 0.0
                delivered = now
            late = [r.arrivals[c] - sent_at[c] for r in receivers for c in ids if c in r.arrivals]
            print(
                f"paced {rate:g} messages/s for {args.paced_seconds}s to {len(receivers)} members: "
                f"{delivered}/{expected} delivered, p50 {pct(late, 0.5):.0f} ms, "
                f"p99 {pct(late, 0.99):.0f} ms"
            )
            figures[f"paced {rate:g}/s: p50 (ms)"] = pct(late, 0.5)
            figures[f"paced {rate:g}/s: p99 (ms)"] = pct(late, 0.99)
            figures[f"paced {rate:g}/s: deliveries missing"] = expected - delivered

        # 3. Throughput, last (its backlog would spill into the other measurements): several
        # members send as fast as their acks come back.
        senders = [await connect(ports[i % len(ports)], tokens[i]) for i in range(args.senders)]
        for ws in senders:
            await request(ws, {"type": "room.join", "room_id": room_id}, "room.joined")
        acked = 0
        sent_ids: list[str] = []
        stop_at = time.perf_counter() + args.seconds

        async def pump(ws):
            nonlocal acked
            while time.perf_counter() < stop_at:
                client_id = f"tp-{uuid.uuid4().hex}"
                await ws.send(
                    json.dumps(
                        {
                            "type": "message.send",
                            "room_id": room_id,
                            "body": "x",
                            "client_id": client_id,
                        }
                    )
                )
                while True:
                    got = json.loads(await ws.recv())
                    if (
                        got.get("type") == "message.ack"
                        and got["message"]["client_id"] == client_id
                    ):
                        break
                acked += 1
                sent_ids.append(client_id)

        started = time.perf_counter()
        await asyncio.gather(*(pump(ws) for ws in senders))
        elapsed = time.perf_counter() - started
        # Let the fan-out drain: until nothing more arrives for 3 seconds.
        expected = len(sent_ids) * len(receivers)
        delivered, still = 0, 0.0
        while delivered < expected and still < 3:
            await asyncio.sleep(0.5)
            now = sum(1 for r in receivers for c in sent_ids if c in r.arrivals)
            still = still + 0.5 if now == delivered else 0.0
            delivered = now
        drained = time.perf_counter() - started
        print(
            f"throughput ({args.senders} senders, {args.seconds}s): "
            f"{acked / elapsed:.0f} messages/s "
            f"persisted and acknowledged; {delivered}/{expected} deliveries to the room "
            f"members done {drained:.1f}s after the start ({delivered / drained:.0f} deliveries/s)"
        )
        figures["persisted and acknowledged (msg/s)"] = acked / elapsed
        figures["fan-out deliveries (per s)"] = delivered / drained
        for task in tasks:
            task.cancel()
        for ws in sockets + senders:
            await ws.close()
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=15)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--room-size", type=int, default=500)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--rates", default="2,5,10", help="paced send rates (messages/s)")
    parser.add_argument("--paced-seconds", type=int, default=5)
    parser.add_argument("--layers", default="pubsub,core", help="channel layers to compare")
    asyncio.run(main(parser.parse_args()))
