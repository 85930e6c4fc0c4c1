"""Catalog code run on a connection of its own, in a thread: autocommit, so its writes really
commit (the test's own transaction never does)."""

import threading

from django.db import connection
from django_tenants.utils import schema_context


def in_thread(schema: str, func, results: list, barrier: threading.Barrier | None = None):
    """Runs func on its own connection (autocommit, so its writes are really committed)."""

    def run():
        try:
            with schema_context(schema):
                if barrier:
                    barrier.wait()
                results.append(("ok", func()))
        except Exception as exc:  # collected for the assertions
            results.append(("error", exc))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def committed_in(schema, func):
    results: list = []
    in_thread(schema, func, results).join()
    status, value = results[0]
    if status == "error":
        raise value
    return value
