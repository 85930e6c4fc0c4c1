"""The embedded MongoDB-compatible server (secantusdb) that `make run` and the tests start when
MONGODB_URL is unset. Development and tests only: production points MONGODB_URL at MongoDB."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def start(*, port: int, storage: Path, host: str = "127.0.0.1", log=None) -> subprocess.Popen:
    """Starts `python -m secantus` on host:port with its files under `storage`; returns once it
    answers a ping (or raises)."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    storage.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "secantus",
            "--host",
            host,
            "--port",
            str(port),
            "--storage-path",
            str(storage),
        ],
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )
    client = MongoClient(f"mongodb://{host}:{port}", serverSelectionTimeoutMS=200)
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"the embedded MongoDB exited with {process.returncode}")
            try:
                client.admin.command("ping")
                return process
            except PyMongoError:
                time.sleep(0.1)
    finally:
        client.close()
    process.kill()
    raise RuntimeError("the embedded MongoDB did not answer within 30 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
