"""Chat benchmark over real sockets: uvicorn processes sharing Redis, one room of M members.

    DATABASE_URL=... REDIS_URL=... python bench/chat.py [--connections 1000] [--room-size 500]
        [--processes 2] [--senders 20] [--seconds 10] [--repeat 3] [--messages 200]
        [--rates 2,5,10] [--paced-seconds 5] [--burst 100]
        [--phases throughput,latency,paced,fanout] [--layers pubsub,core] [--deflate on|off]

Phases: "throughput" has --senders members of a room of their own send as fast as their acks
come back, interleaved in each of --repeat rounds with the bare echo and one-INSERT consumers of
config/baseline_ws.py on the same servers (medians and ratios); "latency" sends one message at a
time to the M-member room (per delivery p50/p99, until the last member); "paced" sends at fixed
rates (deliveries missing, p50/p99 lateness); "fanout" sends --burst messages back to back
(deliveries per second until all arrived).

Each channel layer in --layers (the platform's pub/sub layer, channels-redis's default layer)
gets the same run on fresh server processes (DEBUG off, BENCH_BASELINE_VIEWS on), one after the
other; the summary prints their figures side by side with ratios, the goals and the load
average. When autovacuum is off the chat tables are VACUUMed before each throughput round.

The database must be migrated (`manage.py migrate_schemas`); a "bench" tenant and its users are
created on first use. The clients run in this process (one asyncio loop); the receivers find the
client id in each frame without decoding it whole.
"""

import argparse
import asyncio
import json
import os
import re
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
CLIENT_ID = re.compile(r'"client_id": "([^"]*)"')
LAYERS = {
    "pubsub": "core.channel_layer.PubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
}


def setup(connections: int, room_size: int, senders: int) -> tuple[int, int, list]:
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
        # The senders' own room: the throughput phase measures persistence, not a 500-way fan-out.
        quiet, _ = Room.objects.get_or_create(name=f"bench-senders-{senders}", kind=Room.Kind.GROUP)
        RoomMember.objects.bulk_create(
            [RoomMember(room=quiet, user=u) for u in users[:senders]], ignore_conflicts=True
        )
    return room.pk, quiet.pk, users


def start_servers(
    count: int, backend: str, deflate: bool = True
) -> list[tuple[subprocess.Popen, int]]:
    env = dict(
        os.environ,
        CHANNEL_LAYER_BACKEND=backend,
        CHAT_RATE_PER_SECOND="100000",
        CHAT_RATE_BURST="100000",
        PRESENCE_TIMEOUT_SECONDS="3600",
        PRESENCE_HEARTBEAT_SECONDS="600",
        DATABASE_POOL_MAX="8",
        DJANGO_DEBUG="false",
        BENCH_BASELINE_VIEWS="true",
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
                "--ws-per-message-deflate",
                str(deflate).lower(),
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
                # The client id without decoding the whole frame: the client process reads
                # every delivery of the room and must not be what limits the measurement.
                if raw.startswith('{"type": "message", '):
                    found = CLIENT_ID.search(raw)
                    if found:
                        self.arrivals[found.group(1)] = now
        except websockets.ConnectionClosed:
            pass


async def connect(port: int, token: str | None, path: str = "/ws/chat/"):
    ws = await websockets.connect(
        f"ws://{HOST}:{port}{path}",
        host="127.0.0.1",
        port=port,
        subprotocols=["bearer", token] if token else None,
        open_timeout=60,
        max_queue=None,
    )
    if token:
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
    room_id, quiet_id, users = await asyncio.to_thread(
        setup, args.connections, args.room_size, args.senders
    )
    tenant = await asyncio.to_thread(Tenant.objects.get, slug="bench")
    phases = set(args.phases.split(","))
    results = {}
    for name in [n for n in args.layers.split(",") if n]:
        print(f"--- {name} layer ({LAYERS[name]}); {load()}", flush=True)
        # Fresh tokens for every run: access tokens expire after minutes.
        tokens = await asyncio.to_thread(
            lambda: [tokens_for_user(user=u, tenant=tenant)["access"] for u in users]
        )
        servers = start_servers(args.processes, LAYERS[name], args.deflate == "on")
        try:
            ports = [port for _, port in servers]
            figures = {}
            if "throughput" in phases:
                figures.update(await senders_phase(args, ports, quiet_id, tokens))
            if phases & {"latency", "paced", "fanout"}:
                figures.update(await room_phases(args, phases, ports, room_id, tokens))
            results[name] = figures
        finally:
            for process, _ in servers:
                process.terminate()
                process.wait(timeout=15)
    print(f"--- summary; {load()}")
    names = list(results)
    print(
        "figure".ljust(48)
        + "".join(n.rjust(12) for n in names)
        + (f"{names[0]}/{names[1]}".rjust(16) if len(names) == 2 else "")
    )
    for key in results[names[0]]:
        values = [results[n].get(key, float("nan")) for n in names]
        ratio = ""
        if len(names) == 2 and values[1]:
            ratio = f"{values[0] / values[1]:.2f}x".rjust(16)
        print(key.ljust(48) + "".join(f"{v:12.1f}" for v in values) + ratio)
    goals = [
        ("persisted and acknowledged (msg/s)", ">=", 300),
        ("paced 10/s: p99 (ms)", "<", 250),
        ("paced 10/s: deliveries missing", "==", 0),
    ]
    print(f"--- goals ({names[0]} layer)")
    for key, op, goal in goals:
        value = results[names[0]].get(key)
        if value is None:
            continue
        met = {">=": value >= goal, "<": value < goal, "==": value == goal}[op]
        print(f"{key.ljust(48)}{value:12.1f}  goal {op} {goal}: {'met' if met else 'NOT met'}")


def vacuum() -> str:
    """VACUUMs the chat tables of the bench tenant when autovacuum is off (it is on the shared
    test server): rewriting the same room and member rows leaves dead versions that later rounds
    would read through, which production's autovacuum clears."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        if cursor.fetchone()[0] == "on":
            return "autovacuum on"
        schema = Tenant.objects.get(slug="bench").schema_name
        for table in ("chat_room", "chat_roommember", "chat_message"):
            cursor.execute(f'VACUUM "{schema}"."{table}"')
    return "autovacuum off: chat tables vacuumed"


async def pump_for(ws, seconds: float, room_id: int, counts: list[int]) -> None:
    """Sends message.send frames one after the other, each when the previous one is acked."""
    stop_at = time.perf_counter() + seconds
    while time.perf_counter() < stop_at:
        client_id = f"tp-{uuid.uuid4().hex}"
        await ws.send(
            json.dumps(
                {"type": "message.send", "room_id": room_id, "body": "x", "client_id": client_id}
            )
        )
        while True:
            raw = await ws.recv()
            # The room's messages reach the senders too: decode only what may be the answer.
            if client_id not in raw and '"error"' not in raw:
                continue
            got = json.loads(raw)
            if got.get("type") == "error":
                raise RuntimeError(got)
            if got.get("type") == "message.ack" and got["message"]["client_id"] == client_id:
                break
        counts[0] += 1


async def senders_phase(args, ports, room_id: int, tokens: list[str]) -> dict[str, float]:
    """N senders in a room of their own, each sending when its previous message is acked.

    Against, on the same servers and interleaved: the bare echo consumer (no database) and the
    bare one-INSERT-per-message consumer (config/baseline_ws.py).
    """
    targets = {"echo": "/ws/bench/echo/", "insert": "/ws/bench/insert/", "chat": "/ws/chat/"}
    targets = {name: path for name, path in targets.items() if name in args.targets.split(",")}
    rates: dict[str, list[float]] = {name: [] for name in targets}
    for round_ in range(args.repeat):
        vacuumed = await asyncio.to_thread(vacuum)
        for name, path in targets.items():
            token = (lambda i: tokens[i]) if name == "chat" else (lambda i: None)
            sockets = [
                await connect(ports[i % len(ports)], token(i), path) for i in range(args.senders)
            ]
            if name == "chat":
                for ws in sockets:
                    joined = await request(
                        ws, {"type": "room.join", "room_id": room_id}, "room.joined"
                    )
                    assert joined["type"] == "room.joined", joined
            counts = [0]
            started = time.perf_counter()
            await asyncio.gather(*(pump_for(ws, args.seconds, room_id, counts) for ws in sockets))
            rates[name].append(counts[0] / (time.perf_counter() - started))
            for ws in sockets:
                await ws.close()
        print(
            f"round {round_ + 1}: {args.senders} senders, {args.seconds}s each, acked msg/s: "
            + ", ".join(f"{name} {rates[name][-1]:.0f}" for name in targets)
            + f"; {load()}; {vacuumed}",
            flush=True,
        )
    median = {name: sorted(v)[len(v) // 2] for name, v in rates.items()}
    if len(targets) < 3:
        return {"persisted and acknowledged (msg/s)": median["chat"]}
    print(
        f"{args.senders} senders (median of {args.repeat}): chat {median['chat']:.0f} msg/s "
        f"persisted and acknowledged = {median['chat'] / median['insert']:.2f}x the bare "
        f"one-INSERT consumer ({median['insert']:.0f}), "
        f"{median['chat'] / median['echo']:.2f}x the bare echo ({median['echo']:.0f})"
    )
    return {
        "persisted and acknowledged (msg/s)": median["chat"],
        "  bare one-INSERT consumer (msg/s)": median["insert"],
        "  bare echo consumer (msg/s)": median["echo"],
    }


async def room_phases(args, phases, ports, room_id: int, tokens: list[str]) -> dict[str, float]:
    figures: dict[str, float] = {}
    gate = asyncio.Semaphore(100)
    t0 = time.perf_counter()

    async def open_one(i):
        async with gate:
            return await connect(ports[i % len(ports)], tokens[i])

    sockets = await asyncio.gather(*(open_one(i) for i in range(args.connections)))
    opened = time.perf_counter() - t0
    print(f"{args.connections} connections on {len(ports)} processes in {opened:.1f}s")
    try:
        members = sockets[: args.room_size]
        for ws in members:
            joined = await request(ws, {"type": "room.join", "room_id": room_id}, "room.joined")
            assert joined["type"] == "room.joined", joined
        sender, receivers = members[0], [Receiver(ws) for ws in members[1:]]
        # The sender reads its own socket; the others are read by their receiver tasks.
        tasks = [asyncio.create_task(r.run()) for r in receivers]
        # 1. Latency: one message at a time, waiting until every member has it.
        per_delivery, until_last = [], []
        for n in range(args.messages if "latency" in phases else 0):
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
        if "latency" in phases:
            figures["latency per delivery p50 (ms)"] = pct(per_delivery, 0.5)
            figures["latency per delivery p99 (ms)"] = pct(per_delivery, 0.99)
            figures["latency until the last member p99 (ms)"] = pct(until_last, 0.99)

        # 2. Sustained: one member sends at a fixed rate; is every message delivered to every
        # member, and how late? The highest complete rate is what the room sustains.
        rates = [float(r) for r in args.rates.split(",") if r] if "paced" in phases else []
        for rate in rates:
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

        # 3. Fan-out capacity: the sender sends --burst messages back to back (they are stored
        # in group commits); how many deliveries per second reach the members until all are in.
        if "fanout" in phases:
            ids = [f"burst-{uuid.uuid4().hex}" for _ in range(args.burst)]
            started = time.perf_counter()
            for client_id in ids:
                await sender.send(
                    json.dumps(
                        {
                            "type": "message.send",
                            "room_id": room_id,
                            "body": "b",
                            "client_id": client_id,
                        }
                    )
                )
            expected = len(ids) * len(receivers)
            delivered, still, last_change = 0, 0.0, time.perf_counter()
            while delivered < expected and still < 3:
                await asyncio.sleep(0.05)
                now = sum(1 for r in receivers for c in ids if c in r.arrivals)
                if now != delivered:
                    last_change = time.perf_counter()
                still = time.perf_counter() - last_change
                delivered = now
            arrived = [r.arrivals[c] for r in receivers for c in ids if c in r.arrivals]
            drained = (max(arrived) if arrived else time.perf_counter()) - started
            print(
                f"fan-out: {len(ids)} messages sent back to back to {len(receivers)} members, "
                f"{delivered}/{expected} deliveries in {drained:.2f}s "
                f"({delivered / drained:.0f} deliveries/s)"
            )
            figures["fan-out deliveries (per s)"] = delivered / drained
            figures["fan-out deliveries missing"] = expected - delivered
        for task in tasks:
            task.cancel()
    finally:
        for ws in sockets:
            await ws.close()
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--room-size", type=int, default=500)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the senders phase")
    parser.add_argument("--rates", default="2,5,10", help="paced send rates (messages/s)")
    parser.add_argument("--paced-seconds", type=int, default=5)
    parser.add_argument("--burst", type=int, default=100, help="messages of the fan-out phase")
    parser.add_argument(
        "--deflate", default="on", choices=["on", "off"], help="permessage-deflate on the server"
    )
    parser.add_argument("--targets", default="echo,insert,chat", help="of the senders phase")
    parser.add_argument("--phases", default="throughput,latency,paced,fanout")
    parser.add_argument("--layers", default="pubsub,core", help="channel layers to compare")
    asyncio.run(main(parser.parse_args()))
