"""ASGI guard on request body size: Django spools a whole request body to disk before any view
runs, so an over-long body is refused here, before it is read (per route: large for uploads)."""

import json
import re

from django.conf import settings

# The only routes whose bodies may be large: file uploads (multipart) on a workspace host.
# Everything else (JSON API, admin forms, webhooks) is small, so no other route can be made
# to read a large body, throttled or not.
UPLOAD_PATHS = re.compile(r"^/api/v1/files/?$")


def max_request_bytes(path: str = "") -> int:
    if UPLOAD_PATHS.match(path):
        return settings.UPLOADS_MAX_REQUEST_SIZE
    return settings.REQUEST_MAX_BODY_SIZE


class RequestBodyLimitMiddleware:
    """413 for bodies over the route's limit: at once from Content-Length, or as soon as a
    streamed body passes it (the application then sees the client disconnect and answers
    nothing). `max_bytes` fixes one limit for every route."""

    def __init__(self, app, max_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.max_bytes or max_request_bytes(scope.get("path", ""))
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _too_large(send, limit)
            return None

        received = 0
        exceeded = False
        started = False

        async def limited_receive():
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)
        if exceeded and not started:
            await _too_large(send, limit)
        return None


async def _too_large(send, limit: int) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "request_too_large",
                "message": f"The request body is larger than the limit of {limit:,} bytes.",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
