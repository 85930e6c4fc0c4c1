"""Helpers to run real server and worker processes against the test database."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    host = quote(s["HOST"] or "", safe="") if s["HOST"] else ""
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    from django.conf import settings

    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on port {port} within {timeout}s")


@contextmanager
def running(args: list[str], *, port: int | None = None, env: dict | None = None):
    """Starts a process (uvicorn, celery) in the project directory and stops it afterwards."""
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(
        args, cwd=ROOT, env=env or process_env(), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        if port is not None:
            wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.seek(0)
        output = log.read()
        log.close()
        if (process.returncode not in (0, -15, 143) or os.environ.get("LIVE_LOGS")) and output:
            sys.stderr.write(output[-4000:])


@contextmanager
def uvicorn_server():
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
    with running(args, port=port):
        yield port
