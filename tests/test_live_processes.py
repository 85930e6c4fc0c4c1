"""Real processes: uvicorn serving websockets per tenant, and a Celery worker running tasks."""

import asyncio
import json
import sys
import uuid

import httpx
import pytest
import websockets

from tests.live import process_env, running, uvicorn_server


async def _hello(port: int, host: str) -> tuple[dict, dict]:
    async with websockets.connect(
        f"ws://{host}:{port}/ws/health/", host="127.0.0.1", port=port, open_timeout=10
    ) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        await ws.send(json.dumps({"ping": host}))
        echo = json.loads(await asyncio.wait_for(ws.recv(), 10))
        await ws.send("not json")
        error = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert error == {"type": "error", "code": "invalid_json"}
        return hello, echo


async def _refused(port: int, host: str) -> int:
    try:
        async with websockets.connect(
            f"ws://{host}:{port}/ws/health/", host="127.0.0.1", port=port, open_timeout=10
        ) as ws:
            await ws.recv()
    except websockets.InvalidStatus as exc:
        return exc.response.status_code
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else -1
    return 0


@pytest.mark.slow
@pytest.mark.django_db
def test_websocket_on_two_tenant_hosts_sees_each_tenant(tenant_a, tenant_b):
    with uvicorn_server() as port:
        hello_a, echo_a = asyncio.run(_hello(port, "alpha.localhost"))
        hello_b, echo_b = asyncio.run(_hello(port, "beta.localhost"))
        refused = asyncio.run(_refused(port, "nobody.localhost"))
        http = httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": "alpha.localhost"})

    assert hello_a == {"type": "hello", "tenant": "alpha", "schema": "alpha", "db_schema": "alpha"}
    assert hello_b == {"type": "hello", "tenant": "beta", "schema": "beta", "db_schema": "beta"}
    assert echo_a == {"type": "echo", "tenant": "alpha", "data": {"ping": "alpha.localhost"}}
    assert echo_b["tenant"] == "beta"
    assert refused == 403  # the handshake of an unknown host is refused
    assert http.status_code == 200


@pytest.mark.slow
@pytest.mark.django_db
def test_celery_worker_runs_a_task_in_the_senders_tenant_schema(tenant_a):
    from django_tenants.utils import schema_context

    from tenants.tasks import health

    queue = f"test-{uuid.uuid4().hex[:8]}"
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        queue,
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with running(args, env=process_env()):
        with schema_context(tenant_a.schema_name):
            result = health.apply_async(args=["hello"], queue=queue)
        value = result.get(timeout=60)

    assert value == {"payload": "hello", "schema": "alpha", "db_schema": "alpha"}

    from django_celery_results.models import TaskResult

    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "tenants.health"
