"""core.asgi: a request's sync work runs in one thread hop, on a bounded pool of threads, in a
context of its own; streamed bodies are read on the pool and closed, also when the client leaves.

The handler is driven in-process with ASGI messages, against the committed test workspaces (its
threads hold their own database connections, so nothing here runs inside a test transaction).
"""

import asyncio
import contextvars
import gc
import json
import threading

import pytest
from django.core import signals
from django.http import FileResponse, HttpResponse
from django.urls import include, path

from core.asgi import ASGIHandler

pytestmark = pytest.mark.usefixtures("django_db_setup")

_seen = contextvars.ContextVar("seen", default=None)
closed_files: list = []


class _Tracked:
    """A file-like body that records how much was read and whether it was closed."""

    def __init__(self, chunks: int):
        self.left = chunks
        self.reads = 0
        closed_files.append(self)
        self.closed = False

    def read(self, size=-1):
        if self.left == 0:
            return b""
        self.left -= 1
        self.reads += 1
        return b"x" * 1024

    def close(self):
        self.closed = True


def streamed(request):
    return FileResponse(_Tracked(int(request.GET.get("chunks", "3"))), filename="t.bin")


def plain(request):
    return HttpResponse(f"thread={threading.get_ident()}")


slow_started = threading.Event()
slow_release = threading.Event()
ran: list[str] = []


def slow(request):
    ran.append(request.GET.get("name", ""))
    slow_started.set()
    slow_release.wait(5)
    return HttpResponse("slow")


urlpatterns = [
    path("test-asgi/streamed/", streamed),
    path("test-asgi/plain/", plain),
    path("test-asgi/slow/", slow),
    path("", include("config.urls_tenant")),
]


def _scope(path: str, host: str = "alpha.localhost") -> dict:
    path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", host.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _call(handler, path: str, *, leave_after: int | None = None, **kw) -> list[dict]:
    """One request; with leave_after, the client disconnects after that many body messages."""
    sent: list[dict] = []
    gone = asyncio.Event()
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        bodies = sum(m["type"] == "http.response.body" for m in sent)
        if leave_after is not None and bodies >= leave_after:
            gone.set()
            await asyncio.sleep(0.05)  # the listener notices before the next chunk goes out

    await handler(_scope(path, **kw), receive, send)
    gone.set()
    return sent


def _body(sent: list[dict]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.fixture
def handler(settings, django_db_blocker):
    settings.ROOT_URLCONF = __name__
    settings.WEB_THREADS = 2
    settings.WEB_GC_FREEZE = False
    made = ASGIHandler()
    with django_db_blocker.unblock():
        yield made
        made.executor.shutdown(wait=True)


def test_start_chain_view_and_finish_run_on_one_pooled_thread_per_request(handler):
    events: list[tuple[str, int]] = []

    def started(**kwargs):
        events.append(("started", threading.get_ident()))

    def finished(**kwargs):
        events.append(("finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:

        async def run():
            loop_thread = threading.get_ident()
            answers = await asyncio.gather(
                *(_call(handler, "/test-asgi/plain/") for _ in range(12))
            )
            return loop_thread, answers

        loop_thread, answers = asyncio.run(run())
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)

    view_threads = {int(_body(a).decode().split("=")[1]) for a in answers}
    assert all(a[0]["status"] == 200 for a in answers)
    assert [kind for kind, _ in events].count("started") == 12
    assert [kind for kind, _ in events].count("finished") == 12
    threads = {ident for _, ident in events}
    assert loop_thread not in threads  # no sync work on the event loop
    assert view_threads <= threads
    assert len(threads) <= 2  # the pool's threads, reused: not one new thread per request


def test_answers_match_the_test_client_for_the_api(handler, client):
    sent = asyncio.run(_call(handler, "/api/v1/catalog/products/"))
    expected = client.get("/api/v1/catalog/products/", HTTP_HOST="alpha.localhost")
    assert sent[0]["status"] == expected.status_code == 401
    assert json.loads(_body(sent)) == expected.json()
    headers = dict(sent[0]["headers"])
    assert headers[b"Content-Type"] == b"application/json"


def test_a_context_variable_set_by_one_request_is_not_seen_by_the_next(handler):
    seen: list = []

    def started(**kwargs):
        seen.append(_seen.get())
        _seen.set("set by an earlier request")

    signals.request_started.connect(started)
    try:

        async def run():
            for _ in range(6):  # two threads: each thread serves several of these
                await _call(handler, "/test-asgi/plain/")

        asyncio.run(run())
    finally:
        signals.request_started.disconnect(started)
    assert seen == [None] * 6


def test_a_streamed_body_is_read_on_the_pool_and_closed(handler):
    closed_files.clear()
    sent = asyncio.run(_call(handler, "/test-asgi/streamed/?chunks=5"))
    assert sent[0]["status"] == 200
    assert (b"Content-Disposition", b'inline; filename="t.bin"') in sent[0]["headers"]
    assert _body(sent) == b"x" * 5 * 1024
    assert sent[-1] == {"type": "http.response.body"}
    assert closed_files[0].closed


def test_a_client_that_leaves_stops_the_stream_and_the_response_is_closed(handler):
    closed_files.clear()
    sent = asyncio.run(_call(handler, "/test-asgi/streamed/?chunks=1000", leave_after=2))
    tracked = closed_files[0]
    assert tracked.closed
    assert tracked.reads < 1000  # the rest of the file was never read
    assert len(_body(sent)) < 1000 * 1024


def test_a_request_whose_client_left_while_it_waited_for_a_thread_is_not_run(settings, handler):
    handler.executor.shutdown(wait=True)
    settings.WEB_THREADS = 1
    one = ASGIHandler()
    ran.clear()
    slow_started.clear()
    slow_release.clear()

    async def leaving_client():
        # the request is read, then the client hangs up while the only thread is busy
        messages = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive():
            if messages:
                return messages.pop()
            return {"type": "http.disconnect"}

        sent = []

        async def send(message):
            sent.append(message)

        await one(_scope("/test-asgi/slow/?name=left"), receive, send)
        return sent

    async def run():
        busy = asyncio.create_task(_call(one, "/test-asgi/slow/?name=first"))
        await asyncio.to_thread(slow_started.wait, 5)
        left = asyncio.create_task(leaving_client())
        await asyncio.sleep(0.2)
        slow_release.set()
        return await busy, await left

    try:
        first, left = asyncio.run(run())
    finally:
        slow_release.set()
        one.executor.shutdown(wait=True)
    assert first[0]["status"] == 200
    assert ran == ["first"]  # the request of the client that left never ran
    assert left == []


def test_the_start_up_heap_is_frozen_at_start_and_once_more_after_the_first_requests(
    settings, django_db_blocker
):
    settings.ROOT_URLCONF = __name__
    settings.WEB_THREADS = 1
    settings.WEB_GC_FREEZE = True
    settings.WEB_GC_FREEZE_AFTER = 3
    gc.unfreeze()
    try:
        made = ASGIHandler()
        counts = [gc.get_freeze_count()]
        with django_db_blocker.unblock():
            for _ in range(5):
                sent = asyncio.run(_call(made, "/test-asgi/plain/"))
                assert sent[0]["status"] == 200
                counts.append(gc.get_freeze_count())
        made.executor.shutdown(wait=True)
        assert counts[0] > 0
        # Frozen at start, then again at the third request only (frozen objects still go
        # when nothing refers to them, so the count may only fall in between).
        assert counts[2] <= counts[1] <= counts[0]
        assert counts[3] > counts[2]
        assert counts[5] <= counts[4] <= counts[3]
        # Cycles made after the freeze are still collected.
        cycle: list = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
