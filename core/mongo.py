"""The MongoDB client of the process and the name of each workspace's database.

One MongoClient per process (created lazily, again after a fork), with a bounded pool and a short
server-selection timeout, so a MongoDB that is down costs a request at most MONGODB_TIMEOUT_MS.
After a failure, `recently_failed()` lets callers skip optional work (publishing right after a
commit) for MONGODB_RETRY_SECONDS instead of waiting on every request.
"""

from __future__ import annotations

import os
import threading
import time

from django.conf import settings
from django.db import connection
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError

_lock = threading.Lock()
_client: MongoClient | None = None
_client_pid: int | None = None
_failed_at: float = 0.0

# What callers catch when MongoDB does not answer or refuses an operation.
MongoError = PyMongoError


def client() -> MongoClient:
    global _client, _client_pid
    pid = os.getpid()
    if _client is None or _client_pid != pid:
        with _lock:
            if _client is None or _client_pid != pid:
                timeout = settings.MONGODB_TIMEOUT_MS
                _client = MongoClient(
                    settings.MONGODB_URL,
                    maxPoolSize=settings.MONGODB_POOL_MAX,
                    serverSelectionTimeoutMS=timeout,
                    connectTimeoutMS=timeout,
                    socketTimeoutMS=settings.MONGODB_SOCKET_TIMEOUT_MS,
                    tz_aware=True,
                    connect=False,
                )
                _client_pid = pid
    return _client


def reset() -> None:
    """Closes the client (settings changed, e.g. in tests); the next call makes a new one."""
    global _client, _client_pid, _failed_at
    with _lock:
        if _client is not None and _client_pid == os.getpid():
            _client.close()
        _client, _client_pid, _failed_at = None, None, 0.0


def database_name(schema_name: str) -> str:
    return f"{settings.MONGODB_DB_PREFIX}{schema_name}"


def tenant_database(schema_name: str | None = None) -> Database:
    """The database of a workspace (default: the connection's current schema)."""
    return client()[database_name(schema_name or connection.schema_name)]


def mark_failed() -> None:
    global _failed_at
    _failed_at = time.monotonic()


def mark_ok() -> None:
    global _failed_at
    _failed_at = 0.0


def recently_failed() -> bool:
    return _failed_at and time.monotonic() - _failed_at < settings.MONGODB_RETRY_SECONDS


def ping() -> None:
    """Raises if MongoDB does not answer within the timeout."""
    try:
        client().admin.command("ping")
    except PyMongoError:
        mark_failed()
        raise
    mark_ok()
