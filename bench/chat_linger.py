"""Batch closing of the chat's group commit: CHAT_BATCH_LINGER_MS values side by side.

    DATABASE_URL=... REDIS_URL=... python bench/chat_linger.py [--lingers 0,3] [--senders 20]
        [--seconds 5] [--repeat 5] [--processes 2]

Starts --processes uvicorn servers per value of CHAT_BATCH_LINGER_MS (all running at once) and,
in each of --repeat rounds, runs bench/chat.py's senders phase (--senders members of a room of
their own, each sending when its previous message is acknowledged) against each value in turn,
then the bare one-INSERT consumer (config/baseline_ws.py) on the first servers; the order of the
values rotates from round to round. Prints every round with the load average, then the medians
and their ratios to the first value and to the bare consumer.
"""

import argparse
import asyncio
import importlib.util
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0:1] = [str(ROOT)]  # the project's "chat" app, not bench/chat.py
_spec = importlib.util.spec_from_file_location("chat_bench", ROOT / "bench" / "chat.py")
bench = importlib.util.module_from_spec(_spec)  # bench/chat.py: set-up, servers, senders
_spec.loader.exec_module(bench)

from tenants.models import Tenant  # noqa: E402


async def rate(port_list, path, room_id, tokens, senders, seconds) -> float:
    sockets = [
        await bench.connect(port_list[i % len(port_list)], tokens[i] if tokens else None, path)
        for i in range(senders)
    ]
    if tokens:
        for ws in sockets:
            await bench.request(ws, {"type": "room.join", "room_id": room_id}, "room.joined")
    counts = [0]
    started = time.perf_counter()
    await asyncio.gather(*(bench.pump_for(ws, seconds, room_id, counts) for ws in sockets))
    elapsed = time.perf_counter() - started
    for ws in sockets:
        await ws.close()
    return counts[0] / elapsed


async def main(args) -> None:
    _, quiet_id, users = await asyncio.to_thread(
        bench.setup, args.senders, args.senders, args.senders
    )
    tenant = await asyncio.to_thread(Tenant.objects.get, slug="bench")
    tokens = await asyncio.to_thread(
        lambda: [bench.tokens_for_user(user=u, tenant=tenant)["access"] for u in users]
    )
    lingers = args.lingers.split(",")
    servers = {}
    for linger in lingers:
        os.environ["CHAT_BATCH_LINGER_MS"] = linger
        servers[linger] = bench.start_servers(args.processes, bench.LAYERS["pubsub"])
    rates: dict[str, list[float]] = {name: [] for name in [*lingers, "insert"]}
    try:
        for round_ in range(args.repeat):
            await asyncio.to_thread(bench.vacuum)
            order = lingers[round_ % len(lingers) :] + lingers[: round_ % len(lingers)]
            for linger in order:
                ports = [port for _, port in servers[linger]]
                rates[linger].append(
                    await rate(ports, "/ws/chat/", quiet_id, tokens, args.senders, args.seconds)
                )
            ports = [port for _, port in servers[lingers[0]]]
            rates["insert"].append(
                await rate(ports, "/ws/bench/insert/", quiet_id, None, args.senders, args.seconds)
            )
            print(
                f"round {round_ + 1}: "
                + ", ".join(f"linger {n} ms {rates[n][-1]:.0f}" for n in lingers)
                + f", bare one-INSERT {rates['insert'][-1]:.0f} msg/s; {bench.load()}",
                flush=True,
            )
    finally:
        for started in servers.values():
            for process, _ in started:
                process.terminate()
                process.wait(timeout=15)
    median = {name: sorted(v)[len(v) // 2] for name, v in rates.items()}
    print(f"--- {args.senders} senders, median of {args.repeat} rounds; {bench.load()}")
    for linger in lingers:
        print(
            f"linger {linger} ms: {median[linger]:.0f} msg/s persisted and acknowledged, "
            f"{median[linger] / median[lingers[0]]:.2f}x linger {lingers[0]} ms, "
            f"{median[linger] / median['insert']:.2f}x the bare one-INSERT consumer "
            f"({median['insert']:.0f})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--lingers", default="0,3")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--processes", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
