"""Django over ASGI at the cost of WSGI: the middleware chain and the view in one thread hop.

Django's own ASGI handler starts a thread for every request (a ThreadSensitiveContext), runs the
middleware that can be async on the event loop and hops to a thread for every sync part of them
(process_request and process_response of each MiddlewareMixin, the view, the request_started and
request_finished receivers): a dozen thread switches per request, most of a bare view's time
(bench/http_baseline.py served it 4.8x faster with this handler, in the same run). No view or
middleware of the platform is async, so this handler loads the middleware in sync mode and runs,
for each request, in one call on a bounded pool of threads (WEB_THREADS):

    request_started -> the middleware chain and the view -> response.close() (request_finished)

as a WSGI worker thread would. The event loop only reads the body and writes the response. A
streaming response is read chunk by chunk on the same pool and closed after the last chunk. A
request whose client left while it waited for a thread is dropped unrun (under overload the
threads serve the clients still waiting).
Each call runs in a copy of the request's context, so nothing one request sets in a context
variable is seen by the next on the same thread.

The heap a worker holds once started (Django, the apps, the URL resolvers, what the first
WEB_GC_FREEZE_AFTER requests load lazily) is moved out of the garbage collector's sight
(gc.freeze): each request leaves reference cycles (DRF's request, view and response refer to
each other), so the collector runs every few requests, and its full collections scanned that
whole heap, stopping every thread for ~180 ms a few times a minute under load (the list page's
p99 at 16 clients fell from 301 to 129 ms with it frozen; bench/http_baseline.py, same run,
load average 1.6 to 2.3).
Frozen objects are never collected, so only the heap of start-up is frozen, plus whatever the
requests running at the second freeze hold (at most WEB_THREADS of them, once).
"""

import asyncio
import contextvars
import gc
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import asgi, base
from django.http import FileResponse
from django.urls import set_script_prefix

_END = object()


class ASGIHandler(asgi.ASGIHandler):
    def __init__(self):
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.executor = ThreadPoolExecutor(
            max_workers=settings.WEB_THREADS, thread_name_prefix="http"
        )
        self._requests = itertools.count(1)
        if settings.WEB_GC_FREEZE:
            freeze_heap()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def _in_thread(self, func, *args):
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, context.run, func, *args)

    def _respond(self, scope, body_file, gone: threading.Event):
        """The sync part of a request, on one thread: what a WSGI worker thread does. None when
        the client went away while the request waited for a thread (nothing is run for it)."""
        if gone.is_set():
            return None
        if settings.WEB_GC_FREEZE and next(self._requests) == settings.WEB_GC_FREEZE_AFTER:
            freeze_heap()
        set_script_prefix(asgi.get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            response.close()  # request_finished: the connection goes back to the pool here
        return response

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        # A client that goes away while its request waits for a thread is dropped; once the
        # request runs, leaving stops the sending, never the work, which finishes (and is
        # closed) on its thread.
        listener = asyncio.create_task(self.listen_for_disconnect(receive))
        gone = threading.Event()
        listener.add_done_callback(lambda _task: gone.set())
        try:
            response = await self._in_thread(self._respond, scope, body_file, gone)
            if response is None:
                return
            if not listener.done():
                sender = asyncio.create_task(self._send(response, send))
                await asyncio.wait([listener, sender], return_when=asyncio.FIRST_COMPLETED)
                if sender.done():
                    sender.result()
                else:
                    sender.cancel()
                    await asyncio.gather(sender, return_exceptions=True)
            if response.streaming:
                await self._in_thread(response.close)
        finally:
            if listener.done():
                if not listener.cancelled() and isinstance(listener.exception(), AssertionError):
                    raise listener.exception()
            else:
                listener.cancel()
            body_file.close()

    async def _send(self, response, send):
        if response.streaming and not response.is_async:
            # Django would read a sync stream whole (StreamingHttpResponse.__aiter__): read it
            # on the pool a chunk at a time instead, and let Django send it.
            response.streaming_content = self._on_pool(response.streaming_content)
        await self.send_response(response, send)

    async def _on_pool(self, chunks):
        chunks = iter(chunks)
        while (part := await self._in_thread(next, chunks, _END)) is not _END:
            yield part


def freeze_heap() -> None:
    """Collects what is garbage now, then keeps every object left out of later collections."""
    gc.collect()
    gc.freeze()


def get_asgi_application() -> ASGIHandler:
    import django

    django.setup(set_prefix=False)
    return ASGIHandler()
